import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOwnPage, parseUiRequest } from '../../../../extension/lib/messages.js';
import { toTunnelConfig, defaultProfile } from '../../../../shared/settings.js';

describe('page messages', () => {
  it('accepts the known requests', () => {
    assert.deepEqual(parseUiRequest({ type: 'set-mode', mode: 'auto' }), {
      ok: true,
      value: { type: 'set-mode', mode: 'auto' },
    });
    assert.deepEqual(parseUiRequest({ type: 'answer', promptId: 'p', value: true }), {
      ok: true,
      value: { type: 'answer', promptId: 'p', value: true },
    });
    assert.deepEqual(parseUiRequest({ type: 'retry', extra: 1 }), { ok: true, value: { type: 'retry' } });
    assert.deepEqual(parseUiRequest({ type: 'propose-profile' }), { ok: true, value: { type: 'propose-profile' } });
    const config = { ...toTunnelConfig(defaultProfile()), user: 'jdoe' };
    assert.deepEqual(parseUiRequest({ type: 'test-connection', config }), {
      ok: true,
      value: { type: 'test-connection', config },
    });
  });

  it('refuses malformed ones, saying what is wrong', () => {
    const bad = (v: unknown) => {
      const r = parseUiRequest(v);
      assert.equal(r.ok, false, JSON.stringify(v));
      return r.ok ? '' : r.error;
    };
    assert.match(bad({ type: 'set-mode', mode: 'always' }), /mode must be one of off, auto, on/);
    assert.match(bad({ type: 'answer', promptId: 'p', value: 3 }), /value must be/);
    assert.match(bad({ type: 'shutdown' }), /unknown/);
    assert.match(bad('set-mode'), /object/);
    // the host would refuse it too, but the page learns why at once, and the background never
    // reads fields that are not there
    assert.match(
      bad({ type: 'test-connection', config: { gateway: 'access.grid5000.fr' } }),
      /test-connection: config\.port/,
    );
    assert.match(bad({ type: 'test-connection' }), /config must be an object/);
  });

  it('never quotes a value back: an answer may carry a passphrase', () => {
    for (const v of [
      { type: 'answer', promptId: 7, value: 'hunter2-secret' },
      { type: 'answer', promptId: 'p', value: ['hunter2-secret'] },
      { type: 'hunter2-secret' },
    ]) {
      const r = parseUiRequest(v);
      assert.ok(!r.ok && !r.error.includes('hunter2'), JSON.stringify(r));
    }
  });
});

describe('isOwnPage', () => {
  const own = { id: 'g5k-tunnel@example', baseUrl: 'moz-extension://1234/' };

  it('lets the popup, the options page and the error page in', () => {
    for (const url of [
      'moz-extension://1234/popup.html',
      'moz-extension://1234/error.html?url=http%3A%2F%2Fa.grid5000.fr%2F',
    ])
      assert.equal(isOwnPage({ id: own.id, url }, own), true);
  });

  it('keeps out content scripts, other extensions and senders without an address', () => {
    assert.equal(isOwnPage({ id: own.id, url: 'https://evil.example/moz-extension://1234/' }, own), false);
    assert.equal(isOwnPage({ id: 'other@example', url: 'moz-extension://1234/popup.html' }, own), false);
    assert.equal(isOwnPage({ id: 'other@example', url: 'moz-extension://5678/popup.html' }, own), false);
    assert.equal(isOwnPage({ id: own.id }, own), false);
    assert.equal(isOwnPage({}, own), false);
  });
});
