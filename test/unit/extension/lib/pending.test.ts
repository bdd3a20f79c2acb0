import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PendingRequests, RequestError } from '../../../../extension/lib/pending.js';
import { makeError } from '../../../../shared/errors.js';

describe('PendingRequests', () => {
  it('matches each response to its request by id', async () => {
    const p = new PendingRequests();
    const a = p.add('status', 5000);
    const b = p.add('hello', 5000);
    assert.notEqual(a.id, b.id);
    assert.equal(p.settle({ type: 'response', id: b.id, ok: true, result: 'B' }), true);
    assert.equal(p.settle({ type: 'response', id: a.id, ok: true, result: 'A' }), true);
    assert.equal(await a.promise, 'A');
    assert.equal(await b.promise, 'B');
    assert.equal(p.size, 0);
  });

  it('rejects with the host error, and ignores unknown or late ids', async () => {
    const p = new PendingRequests();
    const a = p.add('set-mode', 5000);
    assert.equal(p.settle({ type: 'response', id: a.id + 100, ok: true, result: null }), false);
    assert.equal(p.settle({ type: 'response', id: null, ok: false, error: makeError('BAD_FRAME') }), false);
    p.settle({ type: 'response', id: a.id, ok: false, error: makeError('NOT_CONFIGURED', 'configure first') });
    await assert.rejects(a.promise, (e: unknown) => e instanceof RequestError && e.code === 'NOT_CONFIGURED');
    assert.equal(p.settle({ type: 'response', id: a.id, ok: true, result: null }), false);
  });

  it('fails a request that gets no answer in time', async () => {
    const p = new PendingRequests();
    const a = p.add('configure', 20);
    await assert.rejects(a.promise, (e: unknown) => e instanceof RequestError && e.code === 'TIMEOUT');
    assert.equal(p.size, 0);
  });

  it('fails every open request when the port closes', async () => {
    const p = new PendingRequests();
    const all = [p.add('hello', 5000), p.add('status', 5000)];
    p.failAll(makeError('HOST_CRASHED', 'exited'));
    for (const r of all)
      await assert.rejects(r.promise, (e: unknown) => e instanceof RequestError && e.code === 'HOST_CRASHED');
    assert.equal(p.size, 0);
  });

  it('never reuses an id', () => {
    const p = new PendingRequests();
    const ids = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const r = p.add('status', 5000);
      ids.add(r.id);
      p.settle({ type: 'response', id: r.id, ok: true, result: null });
    }
    assert.equal(ids.size, 50);
  });
});
