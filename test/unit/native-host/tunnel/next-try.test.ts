// The reconnecting tunnel's next try: the backoff timer, early tries (at once, or moved to the end of
// the gap, never more than one per gap), and the sleep watch that retries after a resume.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  type AttemptReason,
  type EarlyReason,
  NextTry,
  type NextTryOptions,
} from '../../../../native-host/tunnel/next-try.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const long = { baseMs: 60_000, capMs: 60_000, factor: 2, jitter: 0 };

/** A NextTry whose fired tries are recorded (and count as attempts, as the tunnel does). */
function nextTry(t: TestContext, over: Partial<NextTryOptions> = {}) {
  const fired: AttemptReason[] = [];
  const moved: EarlyReason[] = [];
  const n: NextTry = new NextTry({
    backoff: long,
    earlyGapMs: 200,
    fire: (reason) => {
      fired.push(reason);
      n.started();
    },
    moved: (reason) => moved.push(reason),
    ...over,
  });
  t.after(() => n.cancel());
  return { n, fired, moved };
}

test('the timer fires after the backoff delay, and reports when', async (t) => {
  const { n, fired } = nextTry(t, { backoff: { baseMs: 50, capMs: 50, factor: 2, jitter: 0 } });
  const before = Date.now();
  assert.equal(n.schedule(1), 50);
  assert.ok(n.pending);
  assert.ok(n.nextAt! >= before + 50 && n.nextAt! <= Date.now() + 50);
  await sleep(120);
  assert.deepEqual(fired, ['timer']);
  assert.equal(n.pending, false);
  assert.equal(n.nextAt, undefined);
});

test('an early try with nothing scheduled does nothing', (t) => {
  const { n, fired } = nextTry(t);
  assert.equal(n.early('connect'), 'unchanged');
  assert.deepEqual(fired, []);
});

test('an early try runs at once when no attempt started within the gap', (t) => {
  const { n, fired } = nextTry(t);
  n.schedule(1);
  assert.equal(n.early('network'), 'now');
  assert.deepEqual(fired, ['network']);
  assert.equal(n.pending, false, 'the backoff timer is gone');
});

test('a burst of early tries: one at once, the rest move the timer to the gap end, one more try there', async (t) => {
  const { n, fired, moved } = nextTry(t);
  n.schedule(1);
  assert.equal(n.early('connect'), 'now');
  n.schedule(2); // that try failed: the next waits a minute
  const outcomes = Array.from({ length: 50 }, () => n.early('connect'));
  assert.deepEqual(new Set(outcomes), new Set(['sooner']));
  assert.deepEqual(fired, ['connect'], 'nothing more at once');
  assert.equal(moved.length, 50, 'each said the try moved (the status shows the new time)');
  assert.ok(n.nextAt! <= Date.now() + 200, 'moved to the gap end, not a minute away');
  await sleep(300);
  assert.deepEqual(fired, ['connect', 'connect']);
});

test("the gap counts from any attempt, the timer's included", async (t) => {
  const { n, fired } = nextTry(t, { backoff: { baseMs: 20, capMs: 60_000, factor: 1000, jitter: 0 } });
  n.schedule(1);
  await sleep(60);
  assert.deepEqual(fired, ['timer']);
  n.schedule(2); // 20 s
  assert.equal(n.early('connect'), 'sooner', 'the timer attempt just started: wait for the gap');
  assert.deepEqual(fired, ['timer']);
  n.schedule(1); // 20 ms: sooner than the gap end
  assert.equal(n.early('connect'), 'unchanged');
});

test('a wake from sleep (the wall clock far ahead of the timers) tries at once', async (t) => {
  let offset = 0;
  const { n, fired } = nextTry(t, { wakeTickMs: 30, wakeToleranceMs: 1000, now: () => Date.now() + offset });
  n.schedule(1);
  await sleep(100);
  assert.deepEqual(fired, [], 'ticks on time are no sleep');
  offset += 3_600_000;
  await sleep(100);
  assert.deepEqual(fired, ['wake']);
});

test('cancel() stops the timer and the sleep watch', async (t) => {
  let offset = 0;
  const { n, fired } = nextTry(t, {
    backoff: { baseMs: 30, capMs: 30, factor: 2, jitter: 0 },
    wakeTickMs: 10,
    wakeToleranceMs: 100,
    now: () => Date.now() + offset,
  });
  n.schedule(1);
  n.cancel();
  offset += 3_600_000;
  await sleep(80);
  assert.deepEqual(fired, []);
  assert.equal(n.pending, false);
});
