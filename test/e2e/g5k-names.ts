// Grid'5000's own names and addresses, end to end with the default patterns: a `.g5k` name loads
// through the tunnel (the gateway resolves it without the suffix, as the SSH guide's ProxyCommand
// does), a node address (172.16.0.0/16) is sent to the tunnel while a Docker bridge address is not,
// and the options page offers the new defaults and the Grid'5000 range presets.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import vm from 'node:vm';
import { after, before, describe, it } from 'node:test';
import type { BrowserKind } from '../../testbed/browsers.js';
import { INTERNAL_SHORT_NAME, startGateway, type Gateway } from '../../testbed/sshd.js';
import { DEFAULT_PATTERNS, defaultProfile } from '../../shared/settings.js';
import {
  cannotRun,
  chromiumProxyValue,
  type Ctx,
  type El,
  internalUrl,
  loadPage,
  profileFor,
  seed,
  setMode,
  shot,
  storedSettings,
  until,
  useBrowserContext,
  WAIT,
  waitState,
  waitVisible,
} from './context.js';

// Page-side code runs in the browser; the Node build has no DOM types (declarations only).
declare const document: { querySelector(s: string): El | null; body: El };

const G5K_NAME = `${INTERNAL_SHORT_NAME}.g5k`;
/** A Nancy node's address: in 172.16.0.0/16, which the test machine does not have. */
const NODE_IP = '172.16.64.5';

/** What the Chromium PAC script answers for a URL, run in node with no DNS function at all. */
function pacAnswer(source: string, url: string): string {
  const ctx = vm.createContext({});
  vm.runInContext(source, ctx);
  return (ctx.FindProxyForURL as (u: string, h: string) => string)(url, new URL(url).hostname);
}

function g5kNamesTests(ctx: () => Ctx): void {
  it(`a .g5k name (${G5K_NAME}) loads through the tunnel, resolved by the gateway without .g5k`, async () => {
    const c = ctx();
    const r = await loadPage(c, internalUrl(c, G5K_NAME, '/g5k-name'));
    assert.ok(r.ok, `${G5K_NAME} failed: ${r.error}`);
    assert.equal(await r.page.text('#via'), 'via-gateway');
    // the page itself still sees the name the browser asked for
    assert.ok(c.web.hits.some((h) => h.path === '/g5k-name' && h.viaGateway && h.host === `${G5K_NAME}:${c.web.port}`));
    await r.page.close();
  });

  describe('a node address goes to the tunnel, a Docker bridge address does not', () => {
    // A gateway that refuses every forward (and logs it): the node address must reach it, and no
    // connection to 172.16.64.5 ever leaves this machine.
    let refusing: Gateway;
    before(async () => {
      refusing = await startGateway({ extraConfig: ['PermitOpen none'] });
    });
    after(async () => {
      const c = ctx();
      await seed(c, profileFor(c));
      // back to Auto with working settings, as every theme leaves it
      await c.popup.click('#mode-auto');
      await waitState(c.popup, ['idle', 'connected']);
      await refusing.stop();
    });

    it(`${NODE_IP} is sent to the gateway, which is asked to connect to it`, async () => {
      const c = ctx();
      await seed(c, profileFor({ gw: refusing, socksPort: c.socksPort }));
      await setMode(c, 'on', 'connected');
      if (c.kind === 'chromium') {
        const pac = (await chromiumProxyValue(c)).pacScript?.data ?? '';
        const tunnel = `PROXY 127.0.0.1:${c.socksPort}`; // the host port's HTTP proxy: Chromium cannot authenticate to SOCKS
        assert.equal(pacAnswer(pac, `http://${NODE_IP}:8888/`), tunnel);
        assert.equal(pacAnswer(pac, `http://${G5K_NAME}/`), tunnel);
        assert.equal(pacAnswer(pac, 'http://172.17.0.1/'), 'DIRECT', 'docker0 stays direct');
      }
      const port = c.web.port;
      const r = await loadPage(c, `http://${NODE_IP}:${port}/node`);
      assert.equal(r.ok, false, 'the refusing gateway cannot have served it');
      const denied = new RegExp(
        `connect to host ${NODE_IP.replace(/\./g, '\\.')} port ${port}, but the request was denied`,
      );
      await until('the gateway to be asked for the node address', () =>
        denied.test(fs.readFileSync(refusing.logFile, 'utf8')),
      );
      await r.page.close();
    });
  });

  it('options page: the tester names the gateway-side name; new defaults are offered to a changed list', async () => {
    const c = ctx();
    // version 2 settings with a list the user changed: left alone, and the page offers the new entries
    const { patterns: _p, ...rest } = { ...defaultProfile(), ...profileFor(c).profiles[0]! };
    const mine = ['*.grid5000.fr', 'intranet.example'];
    await seed(c, {
      version: 2,
      activeProfileId: rest.id,
      startupMode: 'auto',
      profiles: [{ ...rest, patterns: mine }],
    } as never);
    const o = await c.session.openExtensionPage('options/options.html');
    await o.waitFor(() => document.body.getAttribute('data-ready') === 'true', undefined, WAIT);
    assert.equal(
      await o.evaluate(() => (document.querySelector('#patterns') as unknown as { value: string }).value),
      mine.join('\n'),
    );
    await waitVisible(o, '#new-defaults');
    assert.match(await o.text('#new-defaults'), /\*\.g5k[\s\S]*172\.16\.0\.0\/16/);

    await o.fill('#tester-url', `http://${G5K_NAME}:8888/`);
    assert.equal(await o.attr('#tester-result', 'data-proxied'), 'false', 'not in this list yet');

    // the presets are off; ticking one adds its lines to the list (saved only with Save)
    assert.equal(
      await o.evaluate(() => (document.querySelector('#preset-kavlan') as unknown as { checked: boolean }).checked),
      false,
    );
    assert.equal(
      await o.evaluate(() => (document.querySelector('#preset-ipv6') as unknown as { checked: boolean }).checked),
      false,
    );
    assert.match(await o.text('.presets'), /10\.0\.0\.0\/8/, 'the warning about 10.0.0.0/8');
    await o.click('#preset-ipv6');
    assert.match(
      await o.evaluate(() => (document.querySelector('#patterns') as unknown as { value: string }).value),
      /^2001:660:4406::\/48 # Grid'5000 IPv6$/m,
    );
    await o.setViewport(1000, 900);
    await shot(c, o, 'options-g5k-presets', { fullPage: true });
    await o.click('#preset-ipv6');

    // "Add them": added and saved at once, and the note goes
    await o.click('#new-defaults-add');
    await o.waitFor(() => document.querySelector('#saved')?.textContent === 'Saved.', undefined, WAIT);
    const saved = await storedSettings(c);
    assert.deepEqual(saved.profiles[0]!.patterns, [...mine, '*.g5k', '172.16.0.0/16']);
    assert.equal(saved.newDefaultPatterns, undefined);
    assert.equal(saved.version, profileFor(c).version);
    assert.equal(await o.visible('#new-defaults'), false);

    await o.fill('#tester-url', `http://${G5K_NAME}:8888/`);
    assert.equal(await o.attr('#tester-result', 'data-proxied'), 'true');
    assert.match(
      await o.text('#tester-result'),
      new RegExp(`sent to the gateway as ${INTERNAL_SHORT_NAME.replace('.', '\\.')}`),
    );
    await o.close();
    await seed(c, profileFor(c));
    assert.deepEqual(profileFor(c).profiles[0]!.patterns, DEFAULT_PATTERNS);
  });
}

/** The steps above in a browser of their own, on the shared context (context.ts). */
export function g5kNamesSuite(kind: BrowserKind): void {
  const why = cannotRun(kind);
  describe(`${kind}: Grid'5000 names and node addresses`, { skip: why ?? false, timeout: 180_000 }, () => {
    g5kNamesTests(useBrowserContext(kind));
  });
}
