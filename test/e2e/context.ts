// The context shared by the end-to-end suites of both browsers: a real browser with the built
// extension, the real native host, a real sshd as the gateway (the only place where internal names
// resolve), an internal web server behind it and a "public" one the browser reaches directly; and
// the steps the suites use on it (seed settings, wait for a state, load a page, take a screenshot).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import {
  CHROMIUM_BIN,
  FIREFOX_BIN,
  launchBrowser,
  repoRoot,
  writeHostLauncher,
  type BrowserKind,
  type BrowserSession,
  type Page,
} from '../../testbed/browsers.js';
import type { Mode } from '../../shared/protocol.js';
import { defaultSettings, type Profile, type Settings } from '../../shared/settings.js';
import { peerUid, startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { freePort } from '../../testbed/ports.js';
import * as proc from '../../testbed/proc.js';
import { canRunSshd, startGateway, TEST_USER, type Gateway } from '../../testbed/sshd.js';

// Page-side code runs in the browser; the Node build has no DOM types (declarations only).
export interface El {
  hidden: boolean;
  textContent: string | null;
  getAttribute(n: string): string | null;
  closest(s: string): El | null;
}
declare const document: { querySelector(s: string): El | null; body: El };

export const PUBLIC_NAME = 'www.public.test';
export const ARTIFACTS = path.join(repoRoot(), 'artifacts', 'e2e');
export const WAIT = { timeoutMs: 30_000 };

/** Why this machine cannot run the suite, or null. */
export function cannotRun(kind: BrowserKind): string | null {
  const sshd = canRunSshd();
  if (sshd) return sshd;
  const bin = kind === 'chromium' ? CHROMIUM_BIN : FIREFOX_BIN;
  if (!fs.existsSync(bin)) return `${bin} missing: apt-get install ${kind === 'chromium' ? 'chromium' : 'firefox-esr'}`;
  if (!fs.existsSync(path.join(repoRoot(), 'dist', 'browser', kind, 'manifest.json')))
    return 'extension not built: npm run build:ext';
  if (!fs.existsSync(path.join(repoRoot(), 'dist', 'native-host', 'messaging', 'host-main.js')))
    return 'host not built: npm run build:host';
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
    res.end(
      `<!doctype html><title>Public</title><h1>Public page</h1><p id="via">${viaGateway ? 'via-gateway' : 'direct'}</p>`,
    );
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

export interface Ctx {
  kind: BrowserKind;
  gw: Gateway;
  web: InternalWeb;
  pub: PublicWeb;
  dir: string;
  socksPort: number;
  session: BrowserSession;
  popup: Page;
}

export function profileFor(c: { gw: Gateway; socksPort: number }, over: Partial<Profile> = {}): Settings {
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
export async function seed(c: Ctx, settings: Settings): Promise<void> {
  await c.session.evalBackground(async (value) => {
    const g = globalThis as unknown as { browser?: unknown; chrome?: unknown };
    const api = (g.browser ?? g.chrome) as { storage: { local: { set(v: object): Promise<void> } } };
    await api.storage.local.set({ settings: value });
  }, settings);
}

export async function storedSettings(c: Ctx): Promise<Settings> {
  return c.session.evalBackground(async () => {
    const g = globalThis as unknown as { browser?: unknown; chrome?: unknown };
    const api = (g.browser ?? g.chrome) as { storage: { local: { get(k: string): Promise<Record<string, unknown>> } } };
    return (await api.storage.local.get('settings')).settings as Settings;
  });
}

export const internalUrl = (c: Ctx, name: string, p = '/') => `http://${name}:${c.web.port}${p}`;

/** Waits for the popup's state pill to show one of `states`. */
export async function waitState(page: Page, states: string | string[], timeoutMs = 30_000): Promise<void> {
  const list = ([] as string[]).concat(states);
  await page.waitFor((l) => l.includes(document.querySelector('#state')?.getAttribute('data-state') ?? ''), list, {
    timeoutMs,
    what: `#state[data-state=${list.join('|')}]`,
  });
}

export async function waitVisible(page: Page, selector: string, timeoutMs = 30_000): Promise<void> {
  await page.waitFor(
    (sel) => {
      const el = document.querySelector(sel);
      return !!el && el.closest('[hidden]') === null;
    },
    selector,
    { timeoutMs, what: `${selector} to show` },
  );
}

export async function setMode(c: Ctx, mode: Mode, state: string): Promise<void> {
  await c.popup.click(`#mode-${mode}`);
  await c.popup.waitFor((id) => document.querySelector(id)?.getAttribute('aria-pressed') === 'true', `#mode-${mode}`, {
    ...WAIT,
    what: `#mode-${mode} to be pressed`,
  });
  await waitState(c.popup, state);
}

/** Saves a screenshot; the popup's is cropped to its content, as the toolbar shows it. */
export async function shot(
  c: Ctx,
  page: Page,
  name: string,
  opts: { fullPage?: boolean; selector?: string } = {},
): Promise<void> {
  await page.screenshot(path.join(ARTIFACTS, `${c.kind}-${name}.png`), opts);
}

export const POPUP = { selector: 'body' };

/** The toolbar button's badge text and tooltip. */
export async function badgeOf(c: Ctx): Promise<{ text: string; title: string }> {
  return c.session.evalBackground(async () => {
    const g = globalThis as unknown as { browser?: unknown; chrome?: unknown };
    const api = (g.browser ?? g.chrome) as {
      action: { getBadgeText(d: object): Promise<string>; getTitle(d: object): Promise<string> };
    };
    return { text: await api.action.getBadgeText({}), title: await api.action.getTitle({}) };
  });
}

/** Chromium's proxy setting as the extension left it. */
export async function chromiumProxyValue(
  c: Ctx,
): Promise<{ mode: string; pacScript?: { data?: string; mandatory?: boolean } }> {
  return c.session.evalBackground(async () => {
    const g = globalThis as unknown as {
      chrome: { proxy: { settings: { get(d: object): Promise<{ value: never }> } } };
    };
    return (await g.chrome.proxy.settings.get({})).value;
  });
}

/** Ids (or tag names) of the page's form controls that have no accessible name. */
export async function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const g = globalThis as unknown as {
      document: {
        querySelectorAll(s: string): Iterable<{
          id: string;
          tagName: string;
          labels: { length: number } | null;
          getAttribute(n: string): string | null;
        }>;
      };
    };
    return [...g.document.querySelectorAll('input:not([type=file]), select, textarea, button')]
      .filter(
        (el) =>
          el.tagName !== 'BUTTON' &&
          !el.labels?.length &&
          !el.getAttribute('aria-label') &&
          !el.getAttribute('aria-labelledby'),
      )
      .map((el) => el.id || el.tagName);
  });
}

/** Chooses `text` as a file in the options page's import input, as the file picker would. */
export async function importText(page: Page, text: string): Promise<void> {
  await page.evaluate((body) => {
    const g = globalThis as unknown as {
      DataTransfer: new () => { items: { add(f: unknown): void }; files: unknown };
      File: new (parts: string[], name: string, o: object) => unknown;
      Event: new (type: string) => unknown;
      document: { querySelector(s: string): { files: unknown; dispatchEvent(e: unknown): void } };
    };
    const dt = new g.DataTransfer();
    dt.items.add(new g.File([body], 'g5k-tunnel-settings.json', { type: 'application/json' }));
    const input = g.document.querySelector('#import-file');
    input.files = dt.files;
    input.dispatchEvent(new g.Event('change'));
  }, text);
}

/** Loads `url` in a fresh tab (a tab whose load failed is not reused) and returns the tab. */
export async function loadPage(c: Ctx, url: string): Promise<{ page: Page; ok: boolean; error?: string }> {
  const page = await c.session.newPage();
  const r = await page.goto(url, { timeoutMs: 45_000 });
  return { page, ok: r.ok, ...(r.error ? { error: r.error } : {}) };
}

export function hostPids(c: Ctx): number[] {
  return c.session.pids().filter((pid) => proc.cmdline(pid).includes('host-main.js'));
}

export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

export async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * For one browser's suite (call it inside its describe): starts the gateway, the web servers and the
 * browser with the extension before the suite's tests, closes them after; returns the context.
 */
export function useBrowserContext(kind: BrowserKind): () => Ctx {
  let c: Ctx | null = null;
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
    const popup = await session.openExtensionPage('popup/popup.html');
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
  return () => {
    if (!c) throw new Error('the browser context is not started');
    return c;
  };
}
