// The queue of CONNECTs waiting for a connection: served oldest first, dropped when the client
// leaves, timed out (or handed a busy connection), and given more time while the user answers.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { WaitingConnects } from '../../../../native-host/tunnel/waiting.js';
import type { Interaction } from '../../../../native-host/ssh/connect.js';
import type { Logger } from '../../../../native-host/log.js';

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return { lines, debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

function queue(fallback: () => string | null = () => null, hardCapMs?: number) {
  const log = logger();
  const q = new WaitingConnects<string>({
    log,
    fallback,
    timeoutError: (ms) => new Error(`timed out after ${ms} ms`),
    ...(hardCapMs !== undefined ? { hardCapMs } : {}),
  });
  return { q, log };
}

/** What a promise has come to so far. */
function outcome<T>(p: Promise<T>): { value?: T; error?: Error } {
  const o: { value?: T; error?: Error } = {};
  p.then(
    (v) => (o.value = v),
    (e: Error) => (o.error = e),
  );
  return o;
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

const user = (over: Partial<Interaction> = {}): Interaction => ({
  askPassphrase: async () => 'secret',
  confirmHostKey: async () => true,
  ...over,
});

test('waiters are served oldest first, until there is nothing left to give', async () => {
  const { q } = queue();
  const ac = new AbortController();
  const first = q.wait(ac.signal, 10_000);
  const second = q.wait(ac.signal, 10_000);
  const third = outcome(q.wait(ac.signal, 10_000));
  const give = ['a', 'b'];
  q.serve(() => give.shift() ?? null);
  assert.equal(await first, 'a');
  assert.equal(await second, 'b');
  await flush();
  assert.deepEqual(third, {}, 'still waiting');
  assert.equal(q.size, 1);
  q.rejectAll(() => new Error('off'));
  await flush();
  assert.equal(third.error?.message, 'off');
  assert.equal(q.size, 0);
});

test('a waiter whose client leaves is dropped', async () => {
  const { q } = queue();
  const ac = new AbortController();
  const p = q.wait(ac.signal, 10_000);
  ac.abort();
  await assert.rejects(p, /the SOCKS client went away/);
  assert.equal(q.size, 0);
  q.serve(() => assert.fail('nobody is waiting'));
});

test('at its bound a waiter fails, or takes the fallback when there is one', async (t: TestContext) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  let busy: string | null = null;
  const { q } = queue(() => busy);
  const ac = new AbortController();
  const failing = outcome(q.wait(ac.signal, 5000));
  t.mock.timers.tick(4999);
  await flush();
  assert.deepEqual(failing, {});
  t.mock.timers.tick(1);
  await flush();
  assert.equal(failing.error?.message, 'timed out after 5000 ms');
  busy = 'busy';
  const served = outcome(q.wait(ac.signal, 5000));
  t.mock.timers.tick(5000);
  await flush();
  assert.equal(served.value, 'busy');
  assert.equal(q.size, 0);
});

test('while the user answers a question, waiters wait on; then they get their bound again', async (t: TestContext) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  const { q } = queue();
  let answer!: (v: string | null) => void;
  const asking = q.counting(user({ askPassphrase: () => new Promise((r) => (answer = r)) }));
  const w = outcome(q.wait(new AbortController().signal, 5000));
  const asked = asking.askPassphrase('/k', 1);
  t.mock.timers.tick(30_000);
  await flush();
  assert.deepEqual(w, {}, 'not timed out while the question is open');
  answer('pass');
  assert.equal(await asked, 'pass');
  t.mock.timers.tick(1000); // the next look, at most a second later
  t.mock.timers.tick(3999);
  await flush();
  assert.deepEqual(w, {}, 'a full bound after the answer');
  t.mock.timers.tick(1000);
  await flush();
  assert.match(w.error?.message ?? '', /timed out/);
});

test('an open question never holds a waiter past the hard cap', async (t: TestContext) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  const { q } = queue(() => null, 20_000);
  const asking = q.counting(user({ confirmHostKey: () => new Promise(() => {}) }));
  void asking.confirmHostKey({
    host: 'h',
    port: 22,
    keyType: 'ssh-ed25519',
    fingerprint: 'SHA256:x',
    knownHostsFile: '/k',
  } as Parameters<Interaction['confirmHostKey']>[0]);
  const w = outcome(q.wait(new AbortController().signal, 5000));
  for (let i = 0; i < 19; i++) t.mock.timers.tick(1000);
  await flush();
  assert.deepEqual(w, {});
  for (let i = 0; i < 2; i++) t.mock.timers.tick(1000);
  await flush();
  assert.match(w.error?.message ?? '', /timed out after 2\d000 ms/);
});

test('a question that fails is declined (null, false) with a warning', async () => {
  const { q, log } = queue();
  const asking = q.counting(
    user({
      askPassphrase: async () => {
        throw new Error('port closed');
      },
      confirmHostKey: async () => {
        throw new Error('port closed');
      },
    }),
  );
  assert.equal(await asking.askPassphrase('/k', 1), null);
  assert.equal(await asking.confirmHostKey({} as Parameters<Interaction['confirmHostKey']>[0]), false);
  assert.deepEqual(log.lines, ['warn question not answered: port closed', 'warn question not answered: port closed']);
});
