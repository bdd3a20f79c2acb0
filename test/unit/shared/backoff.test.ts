import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  EARLY_RETRY_GAP_MS,
  earlyRetryAt,
  PORT_BACKOFF,
  sleptThrough,
  type BackoffPolicy,
} from '../../../shared/backoff.js';

const noJitter: BackoffPolicy = { baseMs: 1000, capMs: 30_000, factor: 2, jitter: 0 };

test('delays grow exponentially from the base', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((a) => backoffDelay(a, noJitter)),
    [1000, 2000, 4000, 8000, 16000],
  );
});

test('delays never exceed the cap, even for huge attempt numbers', () => {
  assert.equal(backoffDelay(6, noJitter), 30_000);
  assert.equal(backoffDelay(1e9, noJitter), 30_000);
  assert.equal(
    backoffDelay(1e9, { ...noJitter, jitter: 1 }, () => 0),
    30_000,
  );
});

test('jitter takes off at most its fraction of the delay', () => {
  const p = { ...noJitter, jitter: 0.5 };
  assert.equal(
    backoffDelay(3, p, () => 0),
    4000,
  );
  assert.equal(
    backoffDelay(3, p, () => 1),
    2000,
  );
  assert.equal(
    backoffDelay(3, p, () => 0.5),
    3000,
  );
});

test('different random draws give different delays (no lock-step retries)', () => {
  const seen = new Set([0.1, 0.3, 0.6, 0.9].map((r) => backoffDelay(4, DEFAULT_BACKOFF, () => r)));
  assert.equal(seen.size, 4);
});

test('nonsense attempts and random values are clamped', () => {
  assert.equal(backoffDelay(0, noJitter), 1000);
  assert.equal(backoffDelay(-3, noJitter), 1000);
  assert.equal(backoffDelay(Number.NaN, noJitter), 1000);
  assert.equal(
    backoffDelay(2, { ...noJitter, jitter: 0.5 }, () => 7),
    1000,
  );
  assert.equal(
    backoffDelay(2, { ...noJitter, jitter: 0.5 }, () => -1),
    2000,
  );
});

test('the default policy starts near a second and stays under a minute', () => {
  const first = backoffDelay(1, DEFAULT_BACKOFF, () => 0);
  assert.ok(first >= 500 && first <= 1000);
  for (let a = 1; a < 40; a++) assert.ok(backoffDelay(a) <= DEFAULT_BACKOFF.capMs);
});

test("the extension's port policy doubles from half a second, stops at a minute, without jitter", () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffDelay(n, PORT_BACKOFF)),
    [500, 1000, 2000, 4000],
  );
  assert.equal(backoffDelay(8, PORT_BACKOFF), 60_000);
  assert.equal(backoffDelay(1000, PORT_BACKOFF), 60_000);
  assert.equal(backoffDelay(-3, PORT_BACKOFF), 500);
  for (const r of [0, 0.5, 1])
    assert.equal(
      backoffDelay(3, PORT_BACKOFF, () => r),
      2000,
    );
});

test('an early retry runs at once when the last attempt started at least a gap ago (or never)', () => {
  assert.equal(earlyRetryAt(10_000, undefined, 60_000, 2000), 10_000);
  assert.equal(earlyRetryAt(10_000, 8000, 60_000, 2000), 10_000);
  assert.equal(earlyRetryAt(10_000, 1000, 60_000, 2000), 10_000);
});

test('an early retry within the gap waits for the gap to end: one early attempt per gap, whatever the burst', () => {
  assert.equal(earlyRetryAt(10_000, 9000, 60_000, 2000), 11_000);
  // a burst: every request within the gap lands on the same time, not one attempt each
  const at = [9001, 9500, 10_000, 10_999].map((now) => earlyRetryAt(now, 9000, 60_000, 2000));
  assert.deepEqual(at, [11_000, 11_000, 11_000, 11_000]);
});

test('an early retry changes nothing when the timer comes as soon or sooner', () => {
  assert.equal(earlyRetryAt(10_000, 9000, 11_000, 2000), null);
  assert.equal(earlyRetryAt(10_000, 9000, 10_500, 2000), null);
  assert.equal(earlyRetryAt(10_000, undefined, 10_000, 2000), null);
  assert.equal(earlyRetryAt(10_000, undefined, 10_001, 2000), 10_000);
});

test('the default gap is between one and two seconds', () => {
  assert.ok(EARLY_RETRY_GAP_MS >= 1000 && EARLY_RETRY_GAP_MS <= 2000);
  assert.equal(earlyRetryAt(10_000, 9000, 60_000), 9000 + EARLY_RETRY_GAP_MS);
});

test('a tick far later than due means a sleep; a little late does not', () => {
  assert.equal(sleptThrough(10_000, 10_050, 10_000), false);
  assert.equal(sleptThrough(10_000, 20_000, 10_000), false);
  assert.equal(sleptThrough(10_000, 20_001, 10_000), true);
  assert.equal(sleptThrough(10_000, 10_000 + 3_600_000, 10_000), true);
  // a clock set back is no sleep
  assert.equal(sleptThrough(10_000, 5000, 10_000), false);
});
