// End-to-end questions to the user: host key and passphrase prompts in the popup, the options page
// (its checks, test connection, imports) and Firefox's site access.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { BrowserKind } from '../../testbed/browsers.js';
import { KEY_PASSPHRASE } from '../../testbed/sshd.js';
import {
  badgeOf,
  type Ctx,
  type El,
  importText,
  internalUrl,
  loadPage,
  POPUP,
  profileFor,
  PUBLIC_NAME,
  seed,
  shot,
  storedSettings,
  unlabelled,
  WAIT,
  waitState,
  waitVisible,
} from './context.js';

// Page-side code runs in the browser; the Node build has no DOM types (declarations only).
declare const document: { querySelector(s: string): El | null; body: El };

export function questionTests(kind: BrowserKind, ctx: () => Ctx): void {
  describe('questions in the popup and the options page', () => {
    it('asks for an unknown host key and a passphrase in the popup, then loads the page', async () => {
      const c = ctx();
      const emptyKnownHosts = path.join(c.dir, 'known_hosts.empty');
      fs.writeFileSync(emptyKnownHosts, '');
      await seed(
        c,
        profileFor(c, {
          identityFile: c.gw.keys.encrypted,
          knownHostsFile: emptyKnownHosts,
          strictHostKeyChecking: 'ask',
        }),
      );
      await waitState(c.popup, 'idle');
      const page = await c.session.newPage();
      const url = internalUrl(c, 'intranet.grid5000.fr', '/asked');
      const loading = page.goto(url, { timeoutMs: 60_000 });

      await waitVisible(c.popup, '#prompt-hostkey');
      await waitState(c.popup, 'connecting');
      await waitVisible(c.popup, '#stage');
      assert.match(await c.popup.text('#stage'), /host key/i);
      const fingerprint = execFileSync('ssh-keygen', ['-lf', '-'], {
        input: c.gw.hostKeyPublic,
        encoding: 'utf8',
      }).split(/\s+/)[1];
      assert.equal(await c.popup.text('#fingerprint'), fingerprint);
      // the toolbar button says a question waits, for when the popup is closed
      const asking = await badgeOf(c);
      assert.equal(asking.text, '?');
      assert.match(asking.title, /host key; click to answer/);
      await shot(c, c.popup, 'popup-hostkey', POPUP);
      await c.popup.click('#hostkey-accept');

      await waitVisible(c.popup, '#prompt-passphrase');
      await waitState(c.popup, 'connecting');
      assert.match(await c.popup.text('#stage'), /Logging in/);
      assert.deepEqual(await unlabelled(c.popup), [], 'every popup field has a label');
      await shot(c, c.popup, 'popup-passphrase', POPUP);
      await c.popup.fill('#passphrase', KEY_PASSPHRASE);
      await c.popup.click('#passphrase-submit');
      // the passphrase went to the host and nowhere else: not even the field keeps it
      assert.equal(
        await c.popup.evaluate(() => (document.querySelector('#passphrase') as unknown as { value: string }).value),
        '',
      );

      const r = await loading;
      assert.ok(r.ok, `page failed after the answers: ${r.error}`);
      assert.equal(await page.text('#via'), 'via-gateway');
      assert.match(fs.readFileSync(emptyKnownHosts, 'utf8'), /ssh-ed25519/, 'the accepted key is remembered');
      await waitState(c.popup, 'connected');
      assert.equal(await c.popup.visible('#prompt-passphrase'), false);
      assert.equal((await badgeOf(c)).text, 'on');
      await page.close();
      await seed(c, profileFor(c));
    });

    it('options page: fields, pattern tester, per-field checks, test connection, save', async () => {
      const c = ctx();
      const o = await c.session.openExtensionPage('options/options.html');
      await o.waitFor(() => document.body.getAttribute('data-ready') === 'true', undefined, WAIT);
      assert.equal(
        await o.evaluate(() => (document.querySelector('#port') as unknown as { value: string }).value),
        String(c.gw.port),
      );
      assert.deepEqual(await unlabelled(o), [], 'every options field has a label');

      await o.fill('#tester-url', 'http://graphite-3.nancy.grid5000.fr:8888/');
      assert.equal(await o.attr('#tester-result', 'data-proxied'), 'true');
      await o.fill('#tester-url', `http://${PUBLIC_NAME}/`);
      assert.equal(await o.attr('#tester-result', 'data-proxied'), 'false');
      await o.fill('#tester-url', 'http://graphite-3.nancy.grid5000.fr:8888/');

      await o.fill('#socksPort', 'eighty');
      await o.click('#save');
      await waitVisible(o, '#error-socksPort');
      assert.match(await o.text('#error-socksPort'), /SOCKS port must be a whole number/);
      assert.equal(
        (await storedSettings(c)).profiles[0]!.socksPort,
        c.socksPort,
        'nothing saved while a field is wrong',
      );

      await o.fill('#socksPort', String(c.socksPort));
      await o.click('#test-connection');
      await o.waitFor(
        () => document.querySelector('#test-result')?.getAttribute('data-ok') === 'true',
        undefined,
        WAIT,
      );
      assert.match(await o.text('#test-result'), /accepted/);
      assert.match(await o.text('#test-result'), /\d+ ms/);

      await o.fill('#idleTimeoutSec', '300');
      await o.click('#save');
      await o.waitFor(() => document.querySelector('#saved')?.textContent === 'Saved.', undefined, WAIT);
      assert.equal((await storedSettings(c)).profiles[0]!.idleTimeoutSec, 300);
      assert.equal(await o.visible('#error-socksPort'), false);
      await o.setViewport(1000, 700);
      await shot(c, o, 'options', { fullPage: true });
      await o.close();
    });

    it('options page: says what it could not use in the stored settings or in an imported file', async () => {
      const c = ctx();
      // a bad stored field (as an older version or a hand edit may leave) takes its default
      await seed(c, { ...profileFor(c), profiles: [{ ...profileFor(c).profiles[0]!, idleTimeoutSec: -5 }] });
      const o = await c.session.openExtensionPage('options/options.html');
      await o.waitFor(() => document.body.getAttribute('data-ready') === 'true', undefined, WAIT);
      assert.equal(await o.visible('#settings-warnings'), true);
      assert.match(await o.text('#settings-warnings'), /Idle timeout.*reset to/);

      // a file whose start-up mode is unknown: imported, saved, and the change named
      await importText(o, JSON.stringify({ ...profileFor(c), startupMode: 'sometimes' }));
      await o.waitFor(
        () => document.querySelector('#import-result')?.getAttribute('data-ok') === 'true',
        undefined,
        WAIT,
      );
      assert.match(
        await o.text('#import-result'),
        /Imported and saved, with changes:[\s\S]*Startup mode must be one of off, auto, on/,
      );
      assert.equal(await o.visible('#settings-warnings'), false, 'the stored settings are clean now');
      const saved = await storedSettings(c);
      assert.equal(saved.startupMode, 'auto');
      assert.equal(saved.profiles[0]!.idleTimeoutSec, profileFor(c).profiles[0]!.idleTimeoutSec);

      // a file that is not settings at all: nothing saved, and why
      await importText(o, '{"hello": 1}');
      await o.waitFor(
        () => document.querySelector('#import-result')?.getAttribute('data-ok') === 'false',
        undefined,
        WAIT,
      );
      assert.match(await o.text('#import-result'), /not a g5k-tunnel settings file/);
      await o.close();
      await seed(c, profileFor(c));
    });

    it('Firefox: access to websites withdrawn is said in the popup, and granted again from it', {
      skip: kind === 'chromium' ? 'a PAC needs no site access' : false,
    }, async () => {
      const c = ctx();
      await c.session.evalBackground(async () => {
        const g = globalThis as unknown as { browser: { permissions: { remove(p: object): Promise<boolean> } } };
        await g.browser.permissions.remove({ origins: ['<all_urls>'] });
      });
      // proxy.onRequest no longer sees any request: pages would go direct, silently but for this
      await waitVisible(c.popup, '#site-access');
      await shot(c, c.popup, 'popup-site-access', POPUP);
      await c.popup.click('#site-access-grant');
      await c.popup.waitFor(() => document.querySelector('#site-access')?.closest('[hidden]') !== null, undefined, {
        ...WAIT,
        what: '#site-access to hide once access is granted',
      });
      const r = await loadPage(c, internalUrl(c, 'intranet.grid5000.fr', '/access-granted'));
      assert.ok(r.ok, `load after granting access failed: ${r.error}`);
      assert.equal(await r.page.text('#via'), 'via-gateway');
      await r.page.close();
    });
  });
}
