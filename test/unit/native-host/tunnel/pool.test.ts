// The pool's policy with fake connections: which connection a CONNECT gets, when another one is
// opened, when one is closed, and what a lost connection does to its channels.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { makeError } from '../../../../shared/errors.js';
import { silentLogger } from '../../../../native-host/log.js';
import { ConnectError } from '../../../../native-host/ssh/connect.js';
import {
  ConnectionPool,
  gatewayBusy,
  entryLoad,
  POOL_COOLDOWN_MAX_MS,
  POOL_COOLDOWN_MS,
  type PoolOptions,
  type PooledConnection,
} from '../../../../native-host/tunnel/pool.js';

class FakeConn extends EventEmitter implements PooledConnection {
  isOpen = true;
  closes = 0;
  constructor(readonly name: string) {
    super();
  }
  close(): void {
    this.isOpen = false;
    this.closes++;
  }
  lose(detail: string): void {
    this.isOpen = false;
    this.emit('lost', makeError('CONNECTION_LOST', detail));
  }
}

interface Opening {
  resolve(c: FakeConn): void;
  reject(e: Error): void;
  signal: AbortSignal;
}

function harness(over: { max?: number; lastIdleMs?: number; perConnection?: number } = {}) {
  const events: string[] = [];
  const extras: Opening[] = [];
  const o: PoolOptions<FakeConn> = {
    log: silentLogger,
    channelsPerConnection: over.perConnection ?? 2,
    poolIdleMs: 1000,
    maxConnections: () => over.max ?? 3,
    lastIdleMs: () => over.lastIdleMs ?? 0,
    openExtra: (signal) => new Promise<FakeConn>((resolve, reject) => extras.push({ resolve, reject, signal })),
    changed: () => events.push('changed'),
    counters: () => events.push('counters'),
    activity: () => events.push('activity'),
    lost: (e, remaining) => events.push(`lost ${e.detail} ${remaining}`),
    lastIdle: () => events.push('lastIdle'),
    extraSettled: (f) => events.push(f ? `extra failed: ${(f.error as Error).message}` : 'extra adopted'),
  };
  return { pool: new ConnectionPool<FakeConn>(o), events, extras };
}

const tick = () => new Promise((r) => setImmediate(r));

test('an empty pool has nothing to pick and opens nothing', () => {
  const { pool, extras } = harness();
  assert.equal(pool.pick(), null);
  assert.equal(extras.length, 0);
  assert.equal(pool.size, 0);
});

test('a CONNECT gets the least loaded open connection; claims count as load at once', () => {
  const { pool, events } = harness({ perConnection: 10 });
  const a = pool.adopt(new FakeConn('a'));
  const b = pool.adopt(new FakeConn('b'));
  assert.deepEqual(events, ['changed', 'changed']);
  assert.equal(pool.pick(), a, 'ties go to the older connection');
  pool.claim(a);
  assert.equal(pool.pick(), b);
  pool.claim(b);
  pool.claim(b);
  assert.equal(pool.pick(), a);
  assert.equal(entryLoad(b), 2);
  pool.release(b);
  assert.equal(entryLoad(b), 1);
  a.conn.isOpen = false;
  assert.equal(pool.pick(), b, 'a closing connection is never picked');
});

test('another connection is opened when every one is busy, one at a time, up to maxConnections', async () => {
  const { pool, extras, events } = harness({ max: 2, perConnection: 2 });
  const a = pool.adopt(new FakeConn('a'));
  pool.claim(pool.pick()!);
  assert.equal(extras.length, 0, 'not busy yet');
  pool.claim(pool.pick()!);
  assert.equal(pool.pick(), a, 'a busy connection still serves meanwhile');
  assert.equal(extras.length, 1, 'busy: an extra connection is on its way');
  pool.pick();
  assert.equal(extras.length, 1, 'no second extra while one is opening (max 2)');
  extras[0]!.resolve(new FakeConn('b'));
  await tick();
  assert.equal(pool.size, 2);
  assert.ok(events.includes('extra adopted'));
  assert.equal(pool.pick()?.conn.name, 'b');
  for (let i = 0; i < 4; i++) pool.claim(pool.pick()!);
  assert.equal(extras.length, 1, 'at maxConnections: no more extras');
});

test('in a burst, a connection with twice its share is overloaded only while an extra is opening', async () => {
  const { pool, extras } = harness({ max: 2, perConnection: 2 });
  const a = pool.adopt(new FakeConn('a'));
  for (let i = 0; i < 4; i++) pool.claim(pool.pick()!);
  assert.equal(extras.length, 1);
  assert.equal(pool.overloaded(a), true);
  pool.release(a);
  assert.equal(pool.overloaded(a), false, 'below twice its share');
  pool.claim(a);
  extras[0]!.reject(new Error('refused'));
  await tick();
  assert.equal(pool.overloaded(a), false, 'nothing on its way: the busy connection is all there is');
});

test('after an extra connection failed, none is tried again during the cooldown', async (t: TestContext) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  const { pool, extras, events } = harness({ perConnection: 1 });
  pool.claim(pool.adopt(new FakeConn('a')));
  pool.pick();
  assert.equal(extras.length, 1);
  extras[0]!.reject(new Error('refused'));
  await tick();
  assert.ok(events.includes('extra failed: refused'));
  pool.pick();
  t.mock.timers.tick(POOL_COOLDOWN_MS - 1);
  pool.pick();
  assert.equal(extras.length, 1, 'within the cooldown');
  t.mock.timers.tick(2);
  pool.pick();
  assert.equal(extras.length, 2, 'after the cooldown');
});

test('closeAll cancels the extra being opened; one that arrives anyway is closed, not adopted', async () => {
  const { pool, extras } = harness({ perConnection: 1 });
  pool.claim(pool.adopt(new FakeConn('a')));
  pool.pick();
  pool.closeAll();
  assert.equal(extras[0]!.signal.aborted, true);
  const late = new FakeConn('late');
  extras[0]!.resolve(late);
  await tick();
  assert.equal(pool.size, 0);
  assert.equal(late.closes, 1);
});

test('closeAll(false) keeps the extra being opened: it is adopted when it arrives', async () => {
  const { pool, extras } = harness({ perConnection: 1 });
  const a = pool.adopt(new FakeConn('a'));
  pool.claim(a);
  pool.pick();
  pool.closeAll(false);
  assert.equal(a.conn.closes, 1);
  assert.equal(extras[0]!.signal.aborted, false);
  extras[0]!.resolve(new FakeConn('b'));
  await tick();
  assert.equal(pool.size, 1);
});

test('a tracked channel counts until it closes; its close is activity', async () => {
  const { pool, events } = harness();
  const a = pool.adopt(new FakeConn('a'));
  pool.claim(a);
  const s = new PassThrough();
  pool.track(a, s);
  pool.release(a);
  assert.equal(pool.channels, 1);
  assert.equal(entryLoad(a), 1);
  events.length = 0;
  s.destroy();
  await tick();
  assert.equal(pool.channels, 0);
  assert.deepEqual(events, ['activity', 'counters']);
});

test('a connection beyond the first closes after poolIdleMs without a channel; the last one is left to its owner', (t: TestContext) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { pool, events } = harness({ lastIdleMs: 5000 });
  const a = pool.adopt(new FakeConn('a'));
  const b = pool.adopt(new FakeConn('b'));
  pool.claim(a);
  events.length = 0;
  t.mock.timers.tick(999);
  assert.equal(pool.size, 2);
  t.mock.timers.tick(1);
  assert.equal(pool.size, 1, 'the idle one closed');
  assert.equal(b.conn.closes, 1);
  assert.equal(a.conn.closes, 0, 'the busy one stays');
  assert.deepEqual(events, ['changed']);
  pool.release(a);
  pool.rearmIdle();
  t.mock.timers.tick(4999);
  assert.ok(!events.includes('lastIdle'));
  t.mock.timers.tick(1);
  assert.ok(events.includes('lastIdle'), 'the last connection is reported after lastIdleMs');
  assert.equal(a.conn.closes, 0, 'and not closed by the pool');
});

test('the last connection with lastIdleMs 0 is never reported idle', (t: TestContext) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { pool, events } = harness({ lastIdleMs: 0 });
  pool.adopt(new FakeConn('a'));
  t.mock.timers.tick(3_600_000);
  assert.ok(!events.includes('lastIdle'));
});

test('a lost connection leaves the pool and resets its channels with the reason', async () => {
  const { pool, events } = harness();
  const a = pool.adopt(new FakeConn('a'));
  pool.adopt(new FakeConn('b'));
  const s = new PassThrough();
  pool.track(a, s);
  let error: Error | null = null;
  s.on('error', (e) => (error = e));
  (a.conn as FakeConn).lose('keepalive timeout');
  assert.equal(pool.size, 1);
  assert.equal(pool.has(a), false);
  assert.equal(a.conn.closes, 1);
  assert.equal((error as Error | null)?.message, 'keepalive timeout', 'the channel ends as failed, not cleanly');
  assert.equal(s.destroyed, true);
  assert.ok(events.includes('lost keepalive timeout 1'));
});

test('closeAll resets every channel', () => {
  const { pool } = harness();
  const a = pool.adopt(new FakeConn('a'));
  const s = new PassThrough();
  pool.track(a, s);
  let error: Error | null = null;
  s.on('error', (e) => (error = e));
  pool.closeAll();
  assert.equal((error as Error | null)?.message, 'the SSH connection was closed');
  assert.equal(pool.size, 0);
});

/** What openConnection rejects with when sshd (MaxStartups) closes a new connection before login. */
const closedDuringHandshake = () =>
  new ConnectError(
    makeError('CONNECTION_LOST', 'gateway: the server closed the connection during the key exchange'),
    false,
  );

/** Loads every connection of the pool to its share, so that the next pick wants another one. */
function fill(pool: ConnectionPool<FakeConn>, perConnection: number): void {
  for (let i = 0; i < pool.size * perConnection; i++) {
    const e = pool.pick();
    if (e) pool.claim(e);
  }
}

test('the pool opens its extra connections one at a time: never two handshakes in flight', async () => {
  const { pool, extras } = harness({ max: 4, perConnection: 1 });
  pool.claim(pool.adopt(new FakeConn('a')));
  for (let i = 0; i < 20; i++) pool.pick();
  assert.equal(extras.length, 1, 'busy, room for three more: still one handshake at a time');
  assert.equal(pool.opening, 1);
  extras[0]!.resolve(new FakeConn('b'));
  await tick();
  assert.equal(pool.opening, 0);
  fill(pool, 1);
  for (let i = 0; i < 20; i++) pool.pick();
  assert.equal(extras.length, 2, 'the next one only after the first settled');
  assert.equal(pool.opening, 1);
});

test('the pool never opens more than maxConnections, counting the one being opened', async () => {
  const max = 4;
  const { pool, extras } = harness({ max, perConnection: 1 });
  pool.claim(pool.adopt(new FakeConn('a')));
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 10; i++) {
      const e = pool.pick();
      if (e) pool.claim(e);
    }
    assert.ok(pool.size + pool.opening <= max, `${pool.size} open + ${pool.opening} opening`);
    const pending = extras.at(-1);
    if (pending && extras.length + 1 > pool.size) pending.resolve(new FakeConn(`x${round}`));
    await tick();
  }
  assert.equal(pool.size, max);
  assert.equal(extras.length, max - 1, 'exactly the extras needed, not one more');
});

test('the maximum is read at each decision: lowered, no extra is opened beyond it', () => {
  const over = { max: 3, perConnection: 1 };
  const { pool, extras } = harness(over);
  pool.claim(pool.adopt(new FakeConn('a')));
  over.max = 1;
  pool.pick();
  assert.equal(extras.length, 0);
  over.max = 2;
  pool.pick();
  assert.equal(extras.length, 1);
});

test('a connection closed by the gateway during its handshake while others are up means busy: no failure reported, a cooldown, then another try', async (t: TestContext) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  const { pool, extras, events } = harness({ max: 4, perConnection: 1 });
  const a = pool.adopt(new FakeConn('a'));
  pool.claim(a);
  pool.pick();
  assert.equal(extras.length, 1);
  events.length = 0;
  extras[0]!.reject(closedDuringHandshake());
  await tick();
  assert.deepEqual(events, ['extra adopted'], 'settled (held CONNECTs can go on) without a failure to report');
  assert.ok(!events.some((e) => e.startsWith('extra failed')));
  assert.equal(pool.size, 1, 'the connection that was up stays');
  assert.equal(a.conn.closes, 0);
  assert.equal(pool.pick(), a, 'the busy connection keeps serving');
  t.mock.timers.tick(POOL_COOLDOWN_MS - 1);
  pool.pick();
  assert.equal(extras.length, 1, 'nothing tried during the cooldown');
  t.mock.timers.tick(1);
  pool.pick();
  assert.equal(extras.length, 2, 'tried again after the cooldown');
  extras[1]!.reject(closedDuringHandshake());
  await tick();
  t.mock.timers.tick(2 * POOL_COOLDOWN_MS - 1);
  pool.pick();
  assert.equal(extras.length, 2, 'still busy: the cooldown doubled');
  t.mock.timers.tick(1);
  pool.pick();
  assert.equal(extras.length, 3);
  extras[2]!.resolve(new FakeConn('b'));
  await tick();
  assert.equal(pool.size, 2);
  fill(pool, 1);
  pool.pick();
  assert.equal(extras.length, 4, 'a success ends the cooldown');
  extras[3]!.reject(closedDuringHandshake());
  await tick();
  t.mock.timers.tick(POOL_COOLDOWN_MS);
  pool.pick();
  assert.equal(extras.length, 5, 'and its growth: back to the first cooldown');
});

test('the cooldown after failures in a row is capped', async (t: TestContext) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  const { pool, extras } = harness({ perConnection: 1 });
  pool.claim(pool.adopt(new FakeConn('a')));
  for (let i = 0; i < 8; i++) {
    pool.pick();
    assert.equal(extras.length, i + 1, `try ${i + 1}`);
    extras[i]!.reject(closedDuringHandshake());
    await tick();
    t.mock.timers.tick(POOL_COOLDOWN_MAX_MS);
  }
});

test('other failures of an extra connection are reported to the owner (and cool down too)', async (t: TestContext) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  const { pool, extras, events } = harness({ perConnection: 1 });
  pool.claim(pool.adopt(new FakeConn('a')));
  pool.pick();
  extras[0]!.reject(new ConnectError(makeError('AUTH_FAILED', 'gateway: no key accepted'), true));
  await tick();
  assert.ok(events.some((e) => e.startsWith('extra failed')));
  pool.pick();
  assert.equal(extras.length, 1);
});

test('a handshake-time close with no other connection up is a failure, not a busy gateway', async () => {
  const { pool, extras, events } = harness({ perConnection: 1 });
  const a = pool.adopt(new FakeConn('a'));
  pool.claim(a);
  pool.pick();
  a.conn.isOpen = false;
  extras[0]!.reject(closedDuringHandshake());
  await tick();
  assert.ok(events.some((e) => e.startsWith('extra failed')));
});

test('gatewayBusy: only a non-fatal lost connection before login', () => {
  assert.equal(gatewayBusy(closedDuringHandshake()), true);
  assert.equal(gatewayBusy(new ConnectError(makeError('TIMEOUT', 'slow'), false)), false);
  assert.equal(gatewayBusy(new ConnectError(makeError('AUTH_FAILED', 'no'), true)), false);
  assert.equal(gatewayBusy(new Error('the server closed the connection')), false);
});
