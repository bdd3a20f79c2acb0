// The attempt under way: at most one is tracked, a teardown aborts it, and the result of any
// attempt started before a teardown is stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attempts } from '../../../../native-host/tunnel/attempts.js';

test('busy from start until settled', () => {
  const a = new Attempts();
  assert.equal(a.busy, false);
  const t = a.start();
  assert.equal(a.busy, true);
  assert.equal(t.stale(), false);
  a.settled();
  assert.equal(a.busy, false);
  assert.equal(t.stale(), false, 'settling does not make it stale');
});

test('a teardown aborts the attempt under way and makes it, and only it and older ones, stale', () => {
  const a = new Attempts();
  const old = a.start();
  a.cancel();
  assert.equal(old.signal.aborted, true);
  assert.equal(old.stale(), true);
  assert.equal(a.busy, false);
  const next = a.start();
  assert.equal(next.stale(), false);
  assert.equal(next.signal.aborted, false);
  assert.equal(old.stale(), true);
});

test('a teardown with nothing under way still makes settled attempts stale', () => {
  const a = new Attempts();
  const t = a.start();
  a.settled();
  a.cancel();
  assert.equal(t.signal.aborted, false, 'a settled attempt is not aborted');
  assert.equal(t.stale(), true);
});
