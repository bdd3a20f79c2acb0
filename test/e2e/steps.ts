// End-to-end steps shared by the Chromium and Firefox suites: a real browser with the built
// extension, the real native host, a real sshd as the gateway (the only place where internal names
// resolve), an internal web server behind it and a "public" one the browser reaches directly.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CHROMIUM_BIN,
  FIREFOX_BIN,
  launchBrowser,
  repoRoot,
  writeHostLauncher,
  type BrowserKind,
  type BrowserSession,
  type Page,
} from '../../scripts/lib/browsers.js';
import { describe as words } from '../../shared/errors.js';
import type { Mode } from '../../shared/protocol.js';
import { defaultSettings, type Profile, type Settings } from '../../shared/settings.js';
import { peerUid, startInternalWeb, type InternalWeb } from '../helpers/internal-web.js';
import { freePort } from '../helpers/ports.js';
import { canRunSshd, KEY_PASSPHRASE, startGateway, TEST_USER, type Gateway } from '../helpers/sshd.js';

// Page-side code runs in the browser; the Node build has no DOM types (declarations only).
interface El {
  hidden: boolean;
  textContent: string | null;
  getAttribute(n: string): string | null;
  closest(s: string): El | null;
}
declare const document: { querySelector(s: string): El | null; body: El };
declare const location: { href: string };

const PUBLIC_NAME = 'www.public.test';
const ARTIFACTS = path.join(repoRoot(), 'artifacts', 'e2e');
const WAIT = { timeoutMs: 30_000 };

/** Why this machine cannot run the suite, or null. */
function cannotRun(kind: BrowserKind): string | null {
  const sshd = canRunSshd();
  if (sshd) return sshd;
  const bin = kind === 'chromium' ? CHROMIUM_BIN : FIREFOX_BIN;
  if (!fs.existsSync(bin)) return `${bin} missing: apt-get install ${kind === 'chromium' ? 'chromium' : 'firefox-esr'}`;
  if (!fs.existsSync(path.join(repoRoot(), 'dist', 'browser', kind, 'manifest.json'))) return 'extension not built: npm run build:ext';
  if (!fs.existsSync(path.join(repoRoot(), 'dist', 'native-host', 'host-main.js'))) return 'host not built: npm run build:host';
  return null;
}

interface PublicWeb {
  port: number;
  hits: { viaGateway: boolean }[];
  close(): Promise<void>;
}

/** A site on 127.0.0.1 under a name only the browser resolves: it must be reached directly. */
function startPublicWeb(): Promise<PublicWeb> {
  const gatewayUid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim());
  const hits: PublicWeb['hits'] = [];
  const server = http.createServer((req, res) => {
    const viaGateway = peerUid(req.socket) === gatewayUid;
    hits.push({ viaGateway });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Public</title><h1>Public page</h1><p id="via">${viaGateway ? 'via-gateway' : 'direct'}</p>`);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        hits,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

interface Ctx {
  kind: BrowserKind;
  gw: Gateway;
  web: InternalWeb;
  pub: PublicWeb;
  dir: string;
  socksPort: number;
  session: BrowserSession;
  popup: Page;
}

function profileFor(c: { gw: Gateway; socksPort: number }, over: Partial<Profile> = {}): Settings {
  const s = defaultSettings();
  const p: Profile = {
    ...s.profiles[0]!,
    user: c.gw.user,
    gateway: c.gw.host,
    port: c.gw.port,
    identityFile: c.gw.keys.plain,
    useAgent: false,
    knownHostsFile: c.gw.knownHosts,
    socksPort: c.socksPort,
    connectTimeoutSec: 15,
    ...over,
  };
  return { ...s, startupMode: 'auto', profiles: [p], activeProfileId: p.id };
}

/** Writes storage.local as the options page does; the background reconfigures the host from it. */
async function seed(c: Ctx, settings: Settings): Promise<void> {
  await c.session.evalBackground(async (value) => {
    const g = globalThis as unknown as { browser?: unknown; chrome?: unknown };
    const api = (g.browser ?? g.chrome) as { storage: { local: { set(v: object): Promise<void> } } };
    await api.storage.local.set({ settings: value });
  }, settings);
}

async function storedSettings(c: Ctx): Promise<Settings> {
  return c.session.evalBackground(async () => {
    const g = globalThis as unknown as { browser?: unknown; chrome?: unknown };
    const api = (g.browser ?? g.chrome) as { storage: { local: { get(k: string): Promise<Record<string, unknown>> } } };
    return (await api.storage.local.get('settings')).settings as Settings;
  });
}

const internalUrl = (c: Ctx, name: string, p = '/') => `http://${name}:${c.web.port}${p}`;

/** Waits for the popup's state pill to show one of `states`. */
async function waitState(page: Page, states: string | string[], timeoutMs = 30_000): Promise<void> {
  const list = ([] as string[]).concat(states);
  await page.waitFor((l) => l.includes(document.querySelector('#state')?.getAttribute('data-state') ?? ''), list, {
    timeoutMs,
    what: `#state[data-state=${list.join('|')}]`,
  });
}

async function waitVisible(page: Page, selector: string, timeoutMs = 30_000): Promise<void> {
  await page.waitFor(
    (sel) => {
      const el = document.querySelector(sel);
      return !!el && el.closest('[hidden]') === null;
    },
    selector,
    { timeoutMs, what: `${selector} to show` },
  );
}

async function setMode(c: Ctx, mode: Mode, state: string): Promise<void> {
  await c.popup.click(`#mode-${mode}`);
  await c.popup.waitFor((id) => document.querySelector(id)?.getAttribute('aria-pressed') === 'true', `#mode-${mode}`, {
    ...WAIT,
    what: `#mode-${mode} to be pressed`,
  });
  await waitState(c.popup, state);
}

async function shot(c: Ctx, page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot(path.join(ARTIFACTS, `${c.kind}-${name}.png`), { fullPage });
}

/** Loads `url` in a fresh tab (a tab whose load failed is not reused) and returns the tab. */
async function load(c: Ctx, url: string): Promise<{ page: Page; ok: boolean; error?: string }> {
  const page = await c.session.newPage();
  const r = await page.goto(url, { timeoutMs: 45_000 });
  return { page, ok: r.ok, ...(r.error ? { error: r.error } : {}) };
}

function hostPids(c: Ctx): number[] {
  return c.session.pids().filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('host-main.js');
    } catch {
      return false;
    }
  });
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Another extension holds the proxy settings: the popup says so. A browser of its own, no host. */
function conflictSuite(kind: BrowserKind, why: string | null): void {
  it('another extension taking the proxy settings is reported in the popup', { skip: why ?? false, timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `g5k-e2e-${kind}-conflict-`));
    let session: BrowserSession | null = null;
    try {
      session = await launchBrowser(kind, {
        extensionDir: path.join(repoRoot(), 'dist', 'browser', kind),
        extraExtensions: [path.join(repoRoot(), 'test', 'e2e', 'fixtures', 'proxy-taker')],
        profileDir: path.join(dir, 'browser'),
        privateBrowsing: true, // Firefox lets an extension set the proxy only then
      });
      const popup = await session.openExtensionPage('popup.html');
      await popup.setViewport(380, 640);
      await waitVisible(popup, '#proxy-conflict');
      assert.match(await popup.text('#proxy-conflict'), /Another extension controls the proxy/);
      await shot({ kind } as Ctx, popup, 'popup-proxy-conflict');
    } finally {
      await session?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

export function browserSuite(kind: BrowserKind): void {
  const why = cannotRun(kind);
  conflictSuite(kind, why);
  describe(`${kind}: the extension with the native host and a real gateway`, { skip: why ?? false, timeout: 180_000 }, () => {
    let c: Ctx;
    const closers: (() => Promise<void> | void)[] = [];

    before(async () => {
      const gw = await startGateway();
      closers.push(() => gw.stop());
      const web = await startInternalWeb();
      closers.push(() => web.close());
      const pub = await startPublicWeb();
      closers.push(() => pub.close());
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `g5k-e2e-${kind}-`));
      closers.push(() => {
        // keep the host's log next to the screenshots: it tells what the tunnel did
        const log = path.join(dir, 'state', 'g5k-tunnel', 'host.log');
        if (fs.existsSync(log)) fs.copyFileSync(log, path.join(ARTIFACTS, `${kind}-host.log`));
        fs.rmSync(dir, { recursive: true, force: true });
      });
      // the host gets a HOME of its own: no ~/.ssh of the machine, no agent
      const hostHome = path.join(dir, 'host-home');
      fs.mkdirSync(hostHome, { recursive: true });
      const launcherPath = writeHostLauncher(path.join(dir, 'bin'), {
        env: { HOME: hostHome, XDG_STATE_HOME: path.join(dir, 'state'), SSH_AUTH_SOCK: '' },
      });
      const socksPort = await freePort();
      const session = await launchBrowser(kind, {
        extensionDir: path.join(repoRoot(), 'dist', 'browser', kind),
        profileDir: path.join(dir, 'browser'),
        nativeHost: { launcherPath },
        localNames: [PUBLIC_NAME],
      });
      closers.push(() => session.close());
      const popup = await session.openExtensionPage('popup.html');
      await popup.setViewport(380, 640);
      c = { kind, gw, web, pub, dir, socksPort, session, popup };
      await seed(c, profileFor(c));
      // start-up mode Auto: the host listens, no SSH yet
      await waitState(popup, 'idle');
    });

    after(async () => {
      // the browser first (its host exits on stdin EOF), then the servers
      for (const close of closers.reverse()) await close();
    });

    it('mode On: an internal page loads through the gateway, a public page goes direct', async () => {
      await setMode(c, 'on', 'connected');
      const internal = await load(c, internalUrl(c, 'graphite-3.nancy.grid5000.fr', '/on'));
      assert.ok(internal.ok, `internal page failed: ${internal.error}`);
      assert.equal(await internal.page.text('#via'), 'via-gateway');
      assert.ok(c.web.hits.some((h) => h.path === '/on' && h.viaGateway && h.host.startsWith('graphite-3.nancy.grid5000.fr')));

      const pub = await load(c, `http://${PUBLIC_NAME}:${c.pub.port}/`);
      assert.ok(pub.ok, `public page failed: ${pub.error}`);
      assert.equal(await pub.page.text('#via'), 'direct');
      assert.ok(c.pub.hits.length > 0 && c.pub.hits.every((h) => !h.viaGateway));

      // the popup shows the live figures
      await c.popup.waitFor(() => document.querySelector('#bytes')?.textContent?.includes('↓') && !document.querySelector('#bytes')?.textContent?.includes('↓ 0 B'), undefined, WAIT);
      assert.match(await c.popup.text('#gateway'), new RegExp(`${c.gw.user}@127\\.0\\.0\\.1:${c.gw.port}`));
      assert.match(await c.popup.text('#uptime'), /\d+ s|min/);
      assert.match(await c.popup.text('#channels'), /^\d+$/);
      await shot(c, c.popup, 'popup-connected');
      await internal.page.close();
      await pub.page.close();
    });

    it('Auto: the first internal navigation starts the tunnel and loads at once', async () => {
      await setMode(c, 'off', 'off');
      await until('the SSH session to close', () => c.gw.sessionPids().length === 0);
      await setMode(c, 'auto', 'idle');
      assert.equal(c.gw.sessionPids().length, 0, 'Auto must not connect before a page needs it');
      const r = await load(c, internalUrl(c, 'intranet.grid5000.fr', '/auto'));
      assert.ok(r.ok, `first load failed: ${r.error}`);
      assert.equal(await r.page.text('#via'), 'via-gateway');
      await waitState(c.popup, 'connected');
      await r.page.close();
    });

    it('the tunnel comes back after its SSH session is killed', async () => {
      const killed = c.gw.sessionPids();
      assert.ok(killed.length > 0, 'a session should be open');
      killAll(killed);
      await until('a new SSH session', () => c.gw.sessionPids().some((p) => !killed.includes(p)));
      const r = await load(c, internalUrl(c, 'dashboard.nancy.grid5000.fr', '/after-kill'));
      assert.ok(r.ok, `load after reconnection failed: ${r.error}`);
      assert.equal(await r.page.text('#via'), 'via-gateway');
      await waitState(c.popup, 'connected');
      await r.page.close();
    });

    it('a refused key: the error page and the popup say why, Retry recovers', async () => {
      await seed(c, profileFor(c, { identityFile: c.gw.keys.wrong }));
      // new login settings: the host drops the connection and, in Auto, waits for the next page
      await waitState(c.popup, 'idle');
      const url = internalUrl(c, 'graphite-3.nancy.grid5000.fr', '/refused');
      const r = await load(c, url);
      assert.equal(r.ok, false, 'the page cannot load with a refused key');
      await r.page.waitFor((base) => location.href.startsWith(base), `${c.session.baseUrl}error.html`, { ...WAIT, what: 'the error page' });
      const authFailed = words('AUTH_FAILED');
      await r.page.waitFor(() => document.querySelector('#error-box')?.getAttribute('data-code') === 'AUTH_FAILED', undefined, WAIT);
      assert.equal(await r.page.text('#error-message'), authFailed.message);
      assert.equal(await r.page.text('#error-url'), url);
      await r.page.setViewport(900, 520);
      await shot(c, r.page, 'error-page');

      await waitState(c.popup, 'error');
      await waitVisible(c.popup, '#error');
      assert.equal(await c.popup.attr('#error', 'data-code'), 'AUTH_FAILED');
      assert.equal(await c.popup.text('#error-message'), authFailed.message);
      assert.equal(await c.popup.text('#error-hint'), authFailed.hint);
      await shot(c, c.popup, 'popup-auth-failed');

      // fix the key, then Retry on the error page reloads the page through the tunnel
      await seed(c, profileFor(c));
      await r.page.click('#retry');
      await r.page.waitFor((u) => location.href === u && document.querySelector('#via')?.textContent === 'via-gateway', url, {
        ...WAIT,
        what: 'the page to load after Retry',
      });
      await waitState(c.popup, 'connected');
      await r.page.close();
    });

    it('asks for an unknown host key and a passphrase in the popup, then loads the page', async () => {
      const emptyKnownHosts = path.join(c.dir, 'known_hosts.empty');
      fs.writeFileSync(emptyKnownHosts, '');
      await seed(c, profileFor(c, { identityFile: c.gw.keys.encrypted, knownHostsFile: emptyKnownHosts, strictHostKeyChecking: 'ask' }));
      await waitState(c.popup, 'idle');
      const page = await c.session.newPage();
      const url = internalUrl(c, 'intranet.grid5000.fr', '/asked');
      const loading = page.goto(url, { timeoutMs: 60_000 });

      await waitVisible(c.popup, '#prompt-hostkey');
      await waitState(c.popup, 'connecting');
      await waitVisible(c.popup, '#stage');
      assert.match(await c.popup.text('#stage'), /host key/i);
      const fingerprint = execFileSync('ssh-keygen', ['-lf', '-'], { input: c.gw.hostKeyPublic, encoding: 'utf8' }).split(/\s+/)[1];
      assert.equal(await c.popup.text('#fingerprint'), fingerprint);
      await shot(c, c.popup, 'popup-hostkey');
      await c.popup.click('#hostkey-accept');

      await waitVisible(c.popup, '#prompt-passphrase');
      await waitState(c.popup, 'connecting');
      assert.match(await c.popup.text('#stage'), /Logging in/);
      await shot(c, c.popup, 'popup-passphrase');
      await c.popup.fill('#passphrase', KEY_PASSPHRASE);
      await c.popup.click('#passphrase-submit');

      const r = await loading;
      assert.ok(r.ok, `page failed after the answers: ${r.error}`);
      assert.equal(await page.text('#via'), 'via-gateway');
      assert.match(fs.readFileSync(emptyKnownHosts, 'utf8'), /ssh-ed25519/, 'the accepted key is remembered');
      await waitState(c.popup, 'connected');
      assert.equal(await c.popup.visible('#prompt-passphrase'), false);
      await page.close();
      await seed(c, profileFor(c));
    });

    it('options page: fields, pattern tester, per-field checks, test connection, save', async () => {
      const o = await c.session.openExtensionPage('options.html');
      await o.waitFor(() => document.body.getAttribute('data-ready') === 'true', undefined, WAIT);
      assert.equal(await o.evaluate(() => (document.querySelector('#port') as unknown as { value: string }).value), String(c.gw.port));

      await o.fill('#tester-url', 'http://graphite-3.nancy.grid5000.fr:8888/');
      assert.equal(await o.attr('#tester-result', 'data-proxied'), 'true');
      await o.fill('#tester-url', `http://${PUBLIC_NAME}/`);
      assert.equal(await o.attr('#tester-result', 'data-proxied'), 'false');
      await o.fill('#tester-url', 'http://graphite-3.nancy.grid5000.fr:8888/');

      await o.fill('#socksPort', 'eighty');
      await o.click('#save');
      await waitVisible(o, '#error-socksPort');
      assert.match(await o.text('#error-socksPort'), /SOCKS port must be a whole number/);
      assert.equal((await storedSettings(c)).profiles[0]!.socksPort, c.socksPort, 'nothing saved while a field is wrong');

      await o.fill('#socksPort', String(c.socksPort));
      await o.click('#test-connection');
      await o.waitFor(() => document.querySelector('#test-result')?.getAttribute('data-ok') === 'true', undefined, WAIT);
      assert.match(await o.text('#test-result'), /accepted/);
      assert.match(await o.text('#test-result'), /\d+ ms/);

      await o.fill('#idleTimeoutSec', '300');
      await o.click('#save');
      await o.waitFor(() => document.querySelector('#saved')?.textContent === 'Saved.', undefined, WAIT);
      assert.equal((await storedSettings(c)).profiles[0]!.idleTimeoutSec, 300);
      assert.equal(await o.visible('#error-socksPort'), false);
      await o.setViewport(1000, 1400);
      await shot(c, o, 'options', true);
      await o.close();
    });

    it('after the background restarts, the mode and the tunnel come back from storage', { skip: kind === 'firefox' ? 'Firefox cannot stop an event page from outside' : false }, async () => {
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
      const r = await load(c, internalUrl(c, 'intranet.grid5000.fr', '/after-restart'));
      assert.ok(r.ok, `load after the restart failed: ${r.error}`);
      assert.equal(await r.page.text('#via'), 'via-gateway');
      await r.page.close();
      await setMode(c, 'auto', 'connected');
    });

    it('a missing host is named in the popup with the install command; the extension recovers', async () => {
      const aside = `${c.session.nativeManifestPath}.aside`;
      fs.renameSync(c.session.nativeManifestPath, aside);
      try {
        const pids = hostPids(c);
        assert.ok(pids.length > 0, 'the host should be running');
        killAll(pids);
        await waitVisible(c.popup, '#host-problem');
        await c.popup.waitFor(() => document.querySelector('#host-problem')?.getAttribute('data-code') === 'HOST_MISSING', undefined, WAIT);
        assert.equal(await c.popup.text('#install-command'), 'npm run install-host');
        assert.equal(await c.popup.text('#install-alternative'), 'g5k-tunnel install');
        assert.equal(await c.popup.attr('#state', 'data-state'), 'host-problem');
        await shot(c, c.popup, 'popup-host-missing');
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
      const r = await load(c, internalUrl(c, 'graphite-3.nancy.grid5000.fr', '/new-host'));
      assert.ok(r.ok, `load through the new host failed: ${r.error}`);
      assert.equal(await r.page.text('#via'), 'via-gateway');
      await r.page.close();
    });
  });
}
