// End-to-end errors and recovery: a killed SSH session, a refused key (the error page and Retry), a
// restarted background and a missing host, each said to the user and recovered from.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import type { BrowserKind } from '../../testbed/browsers.js';
import { describe as words } from '../../shared/errors.js';
import {
  type Ctx,
  type El,
  internalUrl,
  killAll,
  hostPids,
  loadPage,
  POPUP,
  profileFor,
  PUBLIC_NAME,
  seed,
  setMode,
  shot,
  until,
  WAIT,
  waitState,
  waitVisible,
} from './context.js';

// Page-side code runs in the browser; the Node build has no DOM types (declarations only).
declare const document: { querySelector(s: string): El | null; body: El };
declare const location: { href: string };
declare const history: { back(): void };

export function recoveryTests(kind: BrowserKind, ctx: () => Ctx): void {
  describe('errors and recovery', () => {
    it('the tunnel comes back after its SSH session is killed', async () => {
      const c = ctx();
      const killed = c.gw.sessionPids();
      assert.ok(killed.length > 0, 'a session should be open');
      killAll(killed);
      await until('a new SSH session', () => c.gw.sessionPids().some((p) => !killed.includes(p)));
      const r = await loadPage(c, internalUrl(c, 'dashboard.nancy.grid5000.fr', '/after-kill'));
      assert.ok(r.ok, `load after reconnection failed: ${r.error}`);
      assert.equal(await r.page.text('#via'), 'via-gateway');
      await waitState(c.popup, 'connected');
      await r.page.close();
    });

    it('a refused key: the error page and the popup say why, Retry recovers', async () => {
      const c = ctx();
      await seed(c, profileFor(c, { identityFile: c.gw.keys.wrong }));
      // new login settings: the host drops the connection and, in Auto, waits for the next page
      await waitState(c.popup, 'idle');
      const url = internalUrl(c, 'graphite-3.nancy.grid5000.fr', '/refused');
      const r = await loadPage(c, url);
      assert.equal(r.ok, false, 'the page cannot load with a refused key');
      await r.page.waitFor((base) => location.href.startsWith(base), `${c.session.baseUrl}error-page/error.html`, {
        ...WAIT,
        what: 'the error page',
      });
      const authFailed = words('AUTH_FAILED');
      await r.page.waitFor(
        () => document.querySelector('#error-box')?.getAttribute('data-code') === 'AUTH_FAILED',
        undefined,
        WAIT,
      );
      assert.equal(await r.page.text('#error-message'), authFailed.message);
      assert.equal(await r.page.text('#error-url'), url);
      await r.page.setViewport(900, 520);
      await shot(c, r.page, 'error-page');

      await waitState(c.popup, 'error');
      await waitVisible(c.popup, '#error');
      assert.equal(await c.popup.attr('#error', 'data-code'), 'AUTH_FAILED');
      assert.equal(await c.popup.text('#error-message'), authFailed.message);
      // the table's `commands` show as code
      assert.equal(await c.popup.text('#error-hint'), authFailed.hint.replaceAll('`', ''));
      assert.equal(await c.popup.text('#error-hint code'), 'ssh-add');
      await shot(c, c.popup, 'popup-auth-failed', POPUP);

      // Back leaves the error page: Chromium keeps the failed entry behind it, which must not trap.
      // (Firefox replaces the failed entry; under load its history sometimes still holds it for a
      // moment, which this step cannot tell from a trap: it runs where the trap exists.)
      if (kind === 'chromium') {
        const before = `http://${PUBLIC_NAME}:${c.pub.port}/before-failure`;
        const tab = await c.session.newPage();
        assert.ok((await tab.goto(before)).ok, 'the public page loads');
        await tab.goto(url);
        await tab.waitFor((base) => location.href.startsWith(base), `${c.session.baseUrl}error-page/error.html`, {
          ...WAIT,
          what: 'the error page',
        });
        await tab.evaluate(() => history.back());
        await tab.waitFor((u) => location.href === u, before, { ...WAIT, what: 'Back to return to the page before' });
        await tab.close();
      }

      // fix the key, then Retry on the error page reloads the page through the tunnel
      await seed(c, profileFor(c));
      await r.page.click('#retry');
      await r.page.waitFor(
        (u) => location.href === u && document.querySelector('#via')?.textContent === 'via-gateway',
        url,
        {
          ...WAIT,
          what: 'the page to load after Retry',
        },
      );
      await waitState(c.popup, 'connected');
      await r.page.close();
    });

    it('after the background restarts, the mode and the tunnel come back from storage', {
      skip: kind === 'firefox' ? 'Firefox cannot stop an event page from outside' : false,
    }, async () => {
      const c = ctx();
      await setMode(c, 'on', 'connected');
      const before = hostPids(c);
      assert.ok(await c.session.stopBackground(), 'the service worker should stop');
      // the old worker's port closed: its host exits on EOF
      await until('the old host to exit', () => hostPids(c).every((p) => !before.includes(p)));
      // any event wakes a fresh worker (here the popup reconnecting): nothing survives but storage
      await until('a new host', () => hostPids(c).length > 0);
      // the popup showed "starting" when its worker went away; this is the new worker's View
      await waitState(c.popup, 'connected');
      assert.equal(await c.popup.attr('#mode-on', 'aria-pressed'), 'true');
      const r = await loadPage(c, internalUrl(c, 'intranet.grid5000.fr', '/after-restart'));
      assert.ok(r.ok, `load after the restart failed: ${r.error}`);
      assert.equal(await r.page.text('#via'), 'via-gateway');
      await r.page.close();
      await setMode(c, 'auto', 'connected');
    });

    it('a missing host is named in the popup with the install command; the extension recovers', async () => {
      const c = ctx();
      const aside = `${c.session.nativeManifestPath}.aside`;
      fs.renameSync(c.session.nativeManifestPath, aside);
      try {
        const pids = hostPids(c);
        assert.ok(pids.length > 0, 'the host should be running');
        killAll(pids);
        await waitVisible(c.popup, '#host-problem');
        await c.popup.waitFor(
          () => document.querySelector('#host-problem')?.getAttribute('data-code') === 'HOST_MISSING',
          undefined,
          WAIT,
        );
        assert.equal(await c.popup.text('#install-command'), 'npm run install-host');
        assert.equal(await c.popup.text('#install-alternative'), 'g5k-tunnel install');
        assert.equal(await c.popup.attr('#state', 'data-state'), 'host-problem');
        await shot(c, c.popup, 'popup-host-missing', POPUP);
      } finally {
        fs.renameSync(aside, c.session.nativeManifestPath);
      }
      // the extension retries the port by itself; it may have recovered before the click lands
      await c.popup.click('#host-retry').catch(async (e: unknown) => {
        if (await c.popup.visible('#host-problem')) throw e;
      });
      // a new host process, configured again from storage, in the mode kept for the session (Auto)
      await waitState(c.popup, ['idle', 'connected']);
      assert.equal(await c.popup.attr('#mode-auto', 'aria-pressed'), 'true');
      assert.equal(await c.popup.visible('#host-problem'), false);
      const r = await loadPage(c, internalUrl(c, 'graphite-3.nancy.grid5000.fr', '/new-host'));
      assert.ok(r.ok, `load through the new host failed: ${r.error}`);
      assert.equal(await r.page.text('#via'), 'via-gateway');
      await r.page.close();
    });
  });
}
