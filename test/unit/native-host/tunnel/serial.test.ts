// Control operations one at a time, in order, a failure not stopping the next; close runs once,
// and after it every operation answers without running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Serial } from '../../../../native-host/tunnel/serial.js';

const tick = () => new Promise((r) => setImmediate(r));

test('operations run one at a time, in the order given', async () => {
  const s = new Serial();
  const log: string[] = [];
  const op = (name: string) => async () => {
    log.push(`${name} start`);
    await tick();
    log.push(`${name} end`);
    return name;
  };
  const results = await Promise.all([s.run(op('a'), () => 'closed'), s.run(op('b'), () => 'closed')]);
  assert.deepEqual(results, ['a', 'b']);
  assert.deepEqual(log, ['a start', 'a end', 'b start', 'b end']);
});

test('a failing operation rejects its own promise only', async () => {
  const s = new Serial();
  const failing = s.run(
    async () => {
      throw new Error('boom');
    },
    () => 'closed',
  );
  const next = s.run(
    async () => 'next',
    () => 'closed',
  );
  await assert.rejects(failing, /boom/);
  assert.equal(await next, 'next');
});

test('close runs once, after what was queued before it; afterwards operations answer without running', async () => {
  const s = new Serial();
  const log: string[] = [];
  const before = s.run(
    async () => {
      await tick();
      log.push('before');
      return 'before';
    },
    () => 'closed',
  );
  const closing = s.close(async () => {
    assert.equal(s.closed, false, 'not closed while the close runs');
    log.push('close');
  });
  const after = s.run(
    async () => {
      log.push('after ran');
      return 'after';
    },
    () => 'closed',
  );
  await closing;
  assert.equal(s.closed, true);
  await s.close(async () => void log.push('close again'));
  assert.equal(await before, 'before');
  assert.equal(await after, 'closed');
  assert.deepEqual(log, ['before', 'close']);
});
