import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, DEFAULT_BACKOFF, PORT_BACKOFF, type BackoffPolicy } from '../../../shared/backoff.js';

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
