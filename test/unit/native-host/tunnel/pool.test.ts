// The pool's policy with fake connections: which connection a CONNECT gets, when another one is
// opened, when one is closed, and what a lost connection does to its channels.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { makeError } from '../../../../shared/errors.js';
import { silentLogger } from '../../../../native-host/log.js';
import {
  ConnectionPool,
  load,
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
  assert.equal(load(b), 2);
  pool.release(b);
  assert.equal(load(b), 1);
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
  assert.equal(load(a), 1);
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
