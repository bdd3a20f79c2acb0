// End-to-end routing: mode On sends internal pages through the gateway and the rest direct, and in
// Auto the first internal page starts the tunnel.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chromiumProxyValue,
  type Ctx,
  type El,
  internalUrl,
  loadPage,
  POPUP,
  PUBLIC_NAME,
  setMode,
  shot,
  until,
  WAIT,
  waitState,
} from './context.js';

// Page-side code runs in the browser; the Node build has no DOM types (declarations only).
declare const document: { querySelector(s: string): El | null; body: El };

export function routingTests(ctx: () => Ctx): void {
  describe('routing: On, Off and Auto start', () => {
    it('mode On: an internal page loads through the gateway, a public page goes direct', async () => {
      const c = ctx();
      await setMode(c, 'on', 'connected');
      if (c.kind === 'chromium') {
        // the PAC: the host's HTTP proxy (the gateway resolves names), mandatory, never a DIRECT fallback
        const v = await chromiumProxyValue(c);
        assert.equal(v.mode, 'pac_script');
        assert.equal(v.pacScript?.mandatory, true);
        assert.ok(v.pacScript?.data?.includes(`"PROXY 127.0.0.1:${c.socksPort}"`), v.pacScript?.data);
        assert.doesNotMatch(v.pacScript?.data ?? '', /PROXY[^"]*;\s*DIRECT/);
      }
      const internal = await loadPage(c, internalUrl(c, 'graphite-3.nancy.grid5000.fr', '/on'));
      assert.ok(internal.ok, `internal page failed: ${internal.error}`);
      assert.equal(await internal.page.text('#via'), 'via-gateway');
      assert.ok(
        c.web.hits.some((h) => h.path === '/on' && h.viaGateway && h.host.startsWith('graphite-3.nancy.grid5000.fr')),
      );

      const pub = await loadPage(c, `http://${PUBLIC_NAME}:${c.pub.port}/`);
      assert.ok(pub.ok, `public page failed: ${pub.error}`);
      assert.equal(await pub.page.text('#via'), 'direct');
      assert.ok(c.pub.hits.length > 0 && c.pub.hits.every((h) => !h.viaGateway));

      // the popup shows the live figures
      await c.popup.waitFor(
        () =>
          document.querySelector('#bytes')?.textContent?.includes('↓') &&
          !document.querySelector('#bytes')?.textContent?.includes('↓ 0 B'),
        undefined,
        WAIT,
      );
      assert.match(await c.popup.text('#gateway'), new RegExp(`${c.gw.user}@127\\.0\\.0\\.1:${c.gw.port}`));
      assert.match(await c.popup.text('#uptime'), /\d+ s|min/);
      assert.match(await c.popup.text('#channels'), /^\d+$/);
      await shot(c, c.popup, 'popup-connected', POPUP);
      await internal.page.close();
      await pub.page.close();
    });

    it('Auto: the first internal navigation starts the tunnel and loads at once', async () => {
      const c = ctx();
      await setMode(c, 'off', 'off');
      if (c.kind === 'chromium') assert.equal((await chromiumProxyValue(c)).mode, 'system', 'Off gives the proxy back');
      await until('the SSH session to close', () => c.gw.sessionPids().length === 0);
      await setMode(c, 'auto', 'idle');
      assert.equal(c.gw.sessionPids().length, 0, 'Auto must not connect before a page needs it');
      const r = await loadPage(c, internalUrl(c, 'intranet.grid5000.fr', '/auto'));
      assert.ok(r.ok, `first load failed: ${r.error}`);
      assert.equal(await r.page.text('#via'), 'via-gateway');
      await waitState(c.popup, 'connected');
      await r.page.close();
    });
  });
}
