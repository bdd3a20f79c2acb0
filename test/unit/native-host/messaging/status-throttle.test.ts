// The status throttle: the first change goes out at once, a burst gives one more call after the
// interval, and the last change is never lost.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { StatusThrottle } from '../../../../native-host/messaging/status-throttle.js';

function throttle(t: TestContext) {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  let value = 0;
  const sent: number[] = [];
  const at: number[] = [];
  const th = new StatusThrottle(() => {
    sent.push(value);
    at.push(Date.now());
  }, 250);
  const change = (v: number) => {
    value = v;
    th.poke();
  };
  return { th, sent, at, change };
}

test('a change after a quiet spell goes out at once', (t: TestContext) => {
  const { sent, change } = throttle(t);
  change(1);
  assert.deepEqual(sent, [1]);
  t.mock.timers.tick(250);
  change(2);
  assert.deepEqual(sent, [1, 2]);
});

test('a burst gives one more call, after the interval, with the last value', (t: TestContext) => {
  const { sent, change } = throttle(t);
  for (let i = 1; i <= 100; i++) change(i);
  assert.deepEqual(sent, [1]);
  t.mock.timers.tick(249);
  assert.deepEqual(sent, [1]);
  t.mock.timers.tick(1);
  assert.deepEqual(sent, [1, 100]);
  t.mock.timers.tick(10_000);
  assert.deepEqual(sent, [1, 100], 'nothing more without a change');
});

test('calls are at least the interval apart', (t: TestContext) => {
  const { at, change } = throttle(t);
  for (let ms = 0; ms < 2000; ms += 10) {
    change(ms);
    t.mock.timers.tick(10);
  }
  for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! >= 250, `calls at ${at.join(', ')}`);
  assert.ok(at.length >= 7 && at.length <= 9, `${at.length} calls in 2 s`);
});

test('stop drops the pending call', (t: TestContext) => {
  const { th, sent, change } = throttle(t);
  change(1);
  change(2);
  th.stop();
  t.mock.timers.tick(1000);
  assert.deepEqual(sent, [1]);
});
