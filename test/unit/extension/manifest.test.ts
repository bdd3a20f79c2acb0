import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { manifestFor } from '../../../extension/manifest.js';
import { CHROMIUM_ID, CHROMIUM_KEY, GECKO_ID } from '../../../shared/ids.js';

/** Chromium's id: sha256 of the DER public key, first 32 hex digits mapped 0-f → a-p. */
function idFromKey(key: string): string {
  const hex = createHash('sha256').update(Buffer.from(key, 'base64')).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
}

describe('manifests', () => {
  it('gives Chromium a module service worker and the key behind the fixed id', () => {
    const m = manifestFor('chromium', '1.2.3');
    assert.equal(m.manifest_version, 3);
    assert.equal(m.version, '1.2.3');
    assert.deepEqual(m.background, { service_worker: 'background.js', type: 'module' });
    assert.equal(m.key, CHROMIUM_KEY);
    assert.equal(idFromKey(m.key as string), CHROMIUM_ID);
    assert.equal(m.browser_specific_settings, undefined);
  });

  it('gives Firefox background scripts and its add-on id', () => {
    const m = manifestFor('firefox', '1.2.3') as {
      background: unknown;
      browser_specific_settings: { gecko: { id: string } };
      key?: string;
    };
    assert.deepEqual(m.background, { scripts: ['background.js'] });
    assert.equal(m.browser_specific_settings.gecko.id, GECKO_ID);
    assert.equal(m.key, undefined);
  });

  it('asks for the same, minimal permissions in both, and Chromium for the proxy auth answer', () => {
    const base = ['proxy', 'storage', 'nativeMessaging', 'webNavigation'];
    for (const target of ['chromium', 'firefox'] as const) {
      const m = manifestFor(target, '1.0.0');
      // Chromium has no SOCKS auth: it answers the local HTTP proxy's 407 in webRequest.onAuthRequired
      assert.deepEqual(m.permissions, target === 'chromium' ? [...base, 'webRequest', 'webRequestAuthProvider'] : base);
      assert.deepEqual(m.host_permissions, ['<all_urls>']);
    }
  });
});
