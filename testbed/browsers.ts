// Launches headless Chromium (playwright-core) or Firefox ESR (puppeteer-core over WebDriver BiDi)
// with the unpacked extension loaded and the native-messaging host registered where each browser
// looks for it. Used by the end-to-end tests and by the demo.
//
// Facts that shaped it (measured on Debian 12, Chromium 156, Firefox ESR 153):
// - Chromium with a custom --user-data-dir reads <user-data-dir>/NativeMessagingHosts/<name>.json only.
// - Firefox reads $HOME/.mozilla/native-messaging-hosts/<name>.json only: HOME points at a test folder.
// - Firefox never resolves `page.goto` for moz-extension:// pages: start the navigation and poll.
// - A browser does not kill, at exit, a host that ignores stdin EOF; every process started for a
//   session carries a marker in its environment so that leftovers can be found and killed.

import { hostManifest as installedManifest, type HostManifest } from '../native-host/setup/browser-paths.js';
import { writeLauncher } from '../native-host/setup/launcher.js';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page as PwPage, type Worker } from 'playwright-core';
import puppeteer, { type Browser as PpBrowser, type Page as PpPage } from 'puppeteer-core';
import { CHROMIUM_ID, GECKO_ID } from '../shared/ids.js';
import { NATIVE_HOST_NAME } from '../shared/protocol.js';
import * as proc from './proc.js';

export type BrowserKind = 'chromium' | 'firefox';

// Functions passed to `evaluate` run in the page; the Node build has no DOM types, so the little
// they use is declared here (types only, nothing is emitted).
interface PageElement {
  value: string;
  checked: boolean;
  type: string;
  hidden: boolean;
  innerText?: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  dispatchEvent(e: unknown): boolean;
  closest(selector: string): PageElement | null;
}
declare const document: { readyState: string; querySelector(selector: string): PageElement | null };
declare const location: { href: string };
declare const Event: new (type: string, init?: { bubbles?: boolean }) => unknown;

export const CHROMIUM_BIN = '/usr/lib/chromium/chromium';
export const FIREFOX_BIN = '/usr/bin/firefox-esr';

interface LaunchOptions {
  /** The unpacked build: dist/browser/chromium or dist/browser/firefox. */
  extensionDir: string;
  /** Other unpacked extensions, installed after ours (so that they win where precedence matters). */
  extraExtensions?: string[];
  /** A fresh folder for this session (browser profile, and for Firefox the HOME it sees). */
  profileDir: string;
  /** The executable the browser starts as native host; omit to launch without a host manifest. */
  nativeHost?: { launcherPath: string };
  headless?: boolean;
  /** Extra environment for the browser and the host it starts. */
  env?: Record<string, string>;
  executablePath?: string;
  /** Firefox only: let the extensions run in private windows (as the user allows in about:addons). */
  privateBrowsing?: boolean;
  /**
   * Host names the browser itself resolves to 127.0.0.1 (Chromium: --host-resolver-rules; Firefox:
   * network.dns.localDomains): a "public" site on loopback that, unlike `localhost`, no proxy bypasses.
   */
  localNames?: string[];
  /**
   * The browser's UI language (`fr`), which the extension's words follow. Chromium needs its
   * chromium-l10n package, Firefox the langpack of firefox-esr-l10n-<lang>.
   */
  locale?: string;
  /** Viewport of new pages (default 1000x700). With a window, the window's size instead. */
  viewport?: { width: number; height: number };
}

interface NavResult {
  /** True when the main document loaded with an HTTP status below 400. */
  ok: boolean;
  status?: number;
  /** The browser's network error (net::ERR_..., NS_ERROR_...) when the load failed. */
  error?: string;
}

/** A page, the same for both browsers. Functions passed to `evaluate` run inside the page. */
export interface Page {
  goto(url: string, opts?: { timeoutMs?: number }): Promise<NavResult>;
  url(): Promise<string>;
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Polls `fn` in the page until it returns a truthy value; throws after `timeoutMs`. */
  waitFor<A = undefined>(fn: (arg: A) => unknown, arg?: A, opts?: { timeoutMs?: number; what?: string }): Promise<void>;
  click(selector: string): Promise<void>;
  /** Sets an input's value and fires `input` and `change`, as typing would. */
  fill(selector: string, value: string): Promise<void>;
  text(selector: string): Promise<string>;
  /** An attribute's value (null when absent); throws when there is no such element. */
  attr(selector: string, name: string): Promise<string | null>;
  /** True when the element exists and neither it nor an ancestor is `hidden`. */
  visible(selector: string): Promise<boolean>;
  setViewport(width: number, height: number): Promise<void>;
  /** The viewport, the whole page (`fullPage`), or one element (`selector`: `body` crops a popup to its content). */
  screenshot(file: string, opts?: { fullPage?: boolean; selector?: string }): Promise<void>;
  close(): Promise<void>;
}

export interface BrowserSession {
  kind: BrowserKind;
  extensionId: string;
  /** `chrome-extension://<id>/` or `moz-extension://<uuid>/`. */
  baseUrl: string;
  /** Where this session's native-messaging host manifest is (written only when `nativeHost` was given). */
  nativeManifestPath: string;
  newPage(): Promise<Page>;
  /** Opens an extension page (`popup.html`, `options.html?x=1`) in a tab and waits until it has loaded. */
  openExtensionPage(pathAndQuery: string, opts?: { timeoutMs?: number }): Promise<Page>;
  /**
   * Runs code with the extension's privileges: in the Chromium service worker, or in a Firefox
   * extension page (same storage, same messaging; the Firefox event page itself is unreachable).
   */
  evalBackground<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /**
   * Chromium: terminates the extension's service worker, as the browser does to an idle one; the next
   * event starts it afresh. Firefox cannot do this from outside: resolves false.
   */
  stopBackground(): Promise<boolean>;
  /** Pids of every live process started for this session (browser, helpers, native host). */
  pids(): number[];
  close(): Promise<void>;
}

/** Writes the sh launcher a browser starts, with `g5k-tunnel install`'s writer (plus test variables). */
export function writeHostLauncher(
  dir: string,
  opts: { hostMain?: string; node?: string; env?: Record<string, string>; name?: string } = {},
): string {
  const hostMain = opts.hostMain ?? path.join(repoRoot(), 'dist', 'native-host', 'messaging', 'host-main.js');
  const file = path.join(dir, opts.name ?? 'g5k-tunnel-host.sh');
  writeLauncher(file, 'linux', opts.node ?? process.execPath, hostMain, opts.env ?? {});
  return file;
}

/** The native-messaging host manifest for one browser: the one `g5k-tunnel install` writes. */
function hostManifest(kind: BrowserKind, launcherPath: string): HostManifest {
  return installedManifest(kind === 'chromium' ? 'chromium' : 'gecko', launcherPath);
}

export function repoRoot(): string {
  // this file runs from dist/testbed/
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

const DEFAULT_VIEWPORT = { width: 1000, height: 700 };
const SESSION_MARKER = 'G5K_BROWSER_SESSION';

export async function launchChromium(opts: LaunchOptions): Promise<BrowserSession> {
  const ext = path.resolve(opts.extensionDir);
  const all = [ext, ...(opts.extraExtensions ?? []).map((d) => path.resolve(d))].join(',');
  fs.mkdirSync(opts.profileDir, { recursive: true });
  const nativeManifestPath = path.join(opts.profileDir, 'NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`);
  if (opts.nativeHost) writeJson(nativeManifestPath, hostManifest('chromium', opts.nativeHost.launcherPath));
  // the toolbar button in sight, not behind the extensions menu (a fresh profile pins nothing)
  const prefs = path.join(opts.profileDir, 'Default', 'Preferences');
  if (!fs.existsSync(prefs)) writeJson(prefs, { extensions: { pinned_extensions: [CHROMIUM_ID] } });
  const marker = randomBytes(8).toString('hex');
  const headless = opts.headless ?? true;
  const size = opts.viewport ?? DEFAULT_VIEWPORT;
  const context = await chromium.launchPersistentContext(opts.profileDir, {
    executablePath: opts.executablePath ?? CHROMIUM_BIN,
    headless,
    ignoreDefaultArgs: ['--disable-extensions'],
    // a window keeps its own size, so that resizing it works as for any window
    viewport: headless ? size : null,
    // the caller owns the signals: it must run its own clean-up (and exit code) on Ctrl-C
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    env: {
      ...process.env,
      ...(opts.locale ? { LANGUAGE: opts.locale } : {}),
      ...opts.env,
      [SESSION_MARKER]: marker,
    } as Record<string, string>,
    args: [
      ...(opts.locale ? [`--lang=${opts.locale}`] : []),
      `--disable-extensions-except=${all}`,
      `--load-extension=${all}`,
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...(headless ? [] : [`--window-size=${size.width},${size.height}`]),
      ...(opts.localNames?.length
        ? [`--host-resolver-rules=${opts.localNames.map((n) => `MAP ${n} 127.0.0.1`).join(', ')}`]
        : []),
    ],
  });
  const baseUrl = `chrome-extension://${CHROMIUM_ID}/`;
  const worker = async (): Promise<Worker> => {
    const found = context.serviceWorkers().find((w) => w.url().startsWith(baseUrl));
    if (found) return found;
    return context.waitForEvent('serviceworker', { predicate: (w) => w.url().startsWith(baseUrl), timeout: 15_000 });
  };
  try {
    await worker();
  } catch (e) {
    await closeSession(() => context.close(), marker);
    throw new Error(`the extension's service worker did not start (is ${ext} a Chromium build?): ${String(e)}`);
  }
  const used = new WeakSet<PwPage>();
  return {
    kind: 'chromium',
    extensionId: CHROMIUM_ID,
    baseUrl,
    nativeManifestPath,
    // the first page takes the blank tab the browser opened with, so that no empty tab stays
    newPage: async () => {
      const blank = context.pages().find((pg) => pg.url() === 'about:blank' && !used.has(pg));
      const page = blank ?? (await context.newPage());
      used.add(page);
      return wrapPlaywright(page);
    },
    async openExtensionPage(p, o) {
      const page = wrapPlaywright(await context.newPage());
      await page.goto(baseUrl + p, o);
      await page.waitFor(() => document.readyState === 'complete', undefined, { ...o, what: `${p} to load` });
      return page;
    },
    evalBackground: async (fn, arg) => (await worker()).evaluate(fn as never, arg) as never,
    async stopBackground() {
      const page = await context.newPage();
      try {
        const cdp = await context.newCDPSession(page);
        const { targetInfos } = await cdp.send('Target.getTargets');
        const sw = targetInfos.find((t) => t.type === 'service_worker' && t.url.startsWith(baseUrl));
        if (!sw) return false;
        await cdp.send('Target.closeTarget', { targetId: sw.targetId });
        return true;
      } finally {
        await page.close();
      }
    },
    pids: () => markedPids(marker),
    close: () => closeSession(() => context.close(), marker),
  };
}

async function launchFirefox(opts: LaunchOptions): Promise<BrowserSession> {
  const ext = path.resolve(opts.extensionDir);
  const home = path.join(opts.profileDir, 'home');
  const profile = path.join(opts.profileDir, 'profile');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(profile, { recursive: true });
  const nativeManifestPath = path.join(home, '.mozilla', 'native-messaging-hosts', `${NATIVE_HOST_NAME}.json`);
  if (opts.nativeHost) writeJson(nativeManifestPath, hostManifest('firefox', opts.nativeHost.launcherPath));
  const extras = (opts.extraExtensions ?? []).map((d) => path.resolve(d));
  if (opts.privateBrowsing) {
    const ids = [GECKO_ID, ...extras.map(geckoIdOf)];
    const allowed = { permissions: ['internal:privateBrowsingAllowed'], origins: [] };
    writeJson(path.join(profile, 'extension-preferences.json'), Object.fromEntries(ids.map((id) => [id, allowed])));
  }
  const uuid = randomUUID();
  const marker = randomBytes(8).toString('hex');
  const browser: PpBrowser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: opts.executablePath ?? FIREFOX_BIN,
    headless: opts.headless ?? true,
    args: ['--remote-allow-system-access'],
    userDataDir: profile,
    defaultViewport: opts.viewport ?? DEFAULT_VIEWPORT,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    env: { ...process.env, ...opts.env, HOME: home, [SESSION_MARKER]: marker },
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: uuid }),
      'extensions.webextOptionalPermissionPrompts': false,
      ...(opts.localNames?.length ? { 'network.dns.localDomains': opts.localNames.join(',') } : {}),
      ...(opts.locale ? { 'intl.locale.requested': opts.locale } : {}),
    },
  });
  const baseUrl = `moz-extension://${uuid}/`;
  try {
    await browser.installExtension(ext);
    for (const extra of extras) await browser.installExtension(extra);
  } catch (e) {
    await closeSession(() => browser.close(), marker);
    throw new Error(`Firefox refused the extension in ${ext}: ${String(e)}`);
  }
  const openExtensionPage = async (p: string, o: { timeoutMs?: number } = {}): Promise<Page> => {
    const raw = await browser.newPage();
    const page = wrapPuppeteer(raw);
    // goto never settles for moz-extension:// pages: start it and poll the document instead
    raw.goto(baseUrl + p).catch(() => {});
    await page.waitFor((u) => location.href === u && document.readyState === 'complete', baseUrl + p, {
      timeoutMs: o.timeoutMs ?? 15_000,
      what: `${p} to load`,
    });
    return page;
  };
  let evalPage: Page | null = null;
  return {
    kind: 'firefox',
    extensionId: GECKO_ID,
    baseUrl,
    nativeManifestPath,
    newPage: async () => wrapPuppeteer(await browser.newPage()),
    openExtensionPage,
    async evalBackground(fn, arg) {
      // options.html: an extension page that acts only when clicked
      evalPage ??= await openExtensionPage('options/options.html');
      return evalPage.evaluate(fn, arg);
    },
    stopBackground: async () => false,
    pids: () => markedPids(marker),
    close: () => closeSession(() => browser.close(), marker),
  };
}

export function launchBrowser(kind: BrowserKind, opts: LaunchOptions): Promise<BrowserSession> {
  return kind === 'chromium' ? launchChromium(opts) : launchFirefox(opts);
}

// ---------- pages ----------

async function poll<T>(probe: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e; // the page may be navigating: its context comes and goes
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function netError(e: unknown): string {
  const m = String((e as Error)?.message ?? e);
  return /(net::ERR_[A-Z_]+|NS_ERROR_[A-Z_]+|NS_BINDING_[A-Z_]+)/.exec(m)?.[1] ?? m.split('\n')[0]!;
}

function fillInPage(a: { selector: string; value: string }): void {
  const el = document.querySelector(a.selector);
  if (!el) throw new Error(`no element ${a.selector}`);
  if (el.type === 'checkbox') el.checked = a.value === 'true';
  else el.value = a.value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
}

function textInPage(selector: string): string {
  const el = document.querySelector(selector);
  if (!el) throw new Error(`no element ${selector}`);
  return el.innerText ?? el.textContent ?? '';
}

function attrInPage(a: { selector: string; name: string }): string | null {
  const el = document.querySelector(a.selector);
  if (!el) throw new Error(`no element ${a.selector}`);
  return el.getAttribute(a.name);
}

/** Present and not inside a `hidden` element. */
function visibleInPage(selector: string): boolean {
  const el = document.querySelector(selector);
  return !!el && el.closest('[hidden]') === null;
}

function wrapPlaywright(page: PwPage): Page {
  const self: Page = {
    async goto(url, o = {}) {
      try {
        const res = await page.goto(url, { timeout: o.timeoutMs ?? 30_000, waitUntil: 'load' });
        const status = res?.status();
        return { ok: status === undefined || status < 400, ...(status !== undefined ? { status } : {}) };
      } catch (e) {
        return { ok: false, error: netError(e) };
      }
    },
    url: async () => page.url(),
    evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
    async waitFor(fn, arg, o = {}) {
      await poll(() => page.evaluate(fn as never, arg), o.timeoutMs ?? 15_000, o.what ?? 'a condition in the page');
    },
    click: (selector) => page.click(selector, { timeout: 10_000 }),
    fill: (selector, value) => page.evaluate(fillInPage, { selector, value }),
    text: (selector) => page.evaluate(textInPage, selector),
    attr: (selector, name) => page.evaluate(attrInPage, { selector, name }),
    visible: (selector) => page.evaluate(visibleInPage, selector),
    setViewport: (width, height) => page.setViewportSize({ width, height }),
    screenshot: async (file, o = {}) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (o.selector) await page.locator(o.selector).screenshot({ path: file });
      else await page.screenshot({ path: file, fullPage: o.fullPage ?? false });
    },
    close: () => page.close(),
  };
  return self;
}

function wrapPuppeteer(page: PpPage): Page {
  const self: Page = {
    async goto(url, o = {}) {
      let settled = false;
      const nav = page.goto(url, { timeout: o.timeoutMs ?? 30_000, waitUntil: 'load' }).then(
        (res): NavResult => {
          const status = res?.status();
          return { ok: status === undefined || status < 400, ...(status !== undefined ? { status } : {}) };
        },
        (e): NavResult => ({ ok: false, error: netError(e) }),
      );
      // a failed load that an extension replaces with its own page never settles `goto` in Firefox
      const replaced = (async (): Promise<NavResult> => {
        while (!settled) {
          await new Promise((r) => setTimeout(r, 100));
          // page.url() does not follow this navigation; the document does
          const now = await Promise.race([
            page.evaluate(() => location.href).catch(() => ''),
            new Promise<string>((r) => setTimeout(() => r(''), 1000)),
          ]);
          if (now.startsWith('moz-extension://')) return { ok: false, error: `replaced by ${now.split('?')[0]}` };
        }
        return { ok: false };
      })();
      try {
        return await Promise.race([nav, replaced]);
      } finally {
        settled = true;
      }
    },
    url: async () => page.evaluate(() => location.href),
    evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
    async waitFor(fn, arg, o = {}) {
      await poll(() => page.evaluate(fn as never, arg), o.timeoutMs ?? 15_000, o.what ?? 'a condition in the page');
    },
    async click(selector) {
      await poll(() => page.$(selector), 10_000, selector);
      await page.click(selector);
    },
    fill: (selector, value) => page.evaluate(fillInPage, { selector, value }),
    text: (selector) => page.evaluate(textInPage, selector),
    attr: (selector, name) => page.evaluate(attrInPage, { selector, name }),
    visible: (selector) => page.evaluate(visibleInPage, selector),
    setViewport: (width, height) => page.setViewport({ width, height }),
    screenshot: async (file, o = {}) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const target = o.selector ? await page.$(o.selector) : page;
      if (!target) throw new Error(`no element ${o.selector} to screenshot`);
      await target.screenshot({
        path: file as `${string}.png`,
        ...(o.selector ? {} : { fullPage: o.fullPage ?? false }),
      });
    },
    close: () => page.close(),
  };
  return self;
}

// ---------- processes ----------

/** Live processes whose environment carries this session's marker. */
function markedPids(marker: string): number[] {
  return proc.livePids((pid) => proc.environHas(pid, `${SESSION_MARKER}=${marker}`));
}

/** Closes politely (bounded), then kills whatever the session left running. */
async function closeSession(close: () => Promise<void>, marker: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([close().catch(() => {}), new Promise((r) => (timer = setTimeout(r, 15_000)))]);
  clearTimeout(timer);
  for (let round = 0; round < 30; round++) {
    const left = markedPids(marker);
    if (left.length === 0) return;
    for (const pid of left) {
      try {
        process.kill(pid, round < 10 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function geckoIdOf(extensionDir: string): string {
  const m = JSON.parse(fs.readFileSync(path.join(extensionDir, 'manifest.json'), 'utf8')) as {
    browser_specific_settings?: { gecko?: { id?: string } };
  };
  const id = m.browser_specific_settings?.gecko?.id;
  if (!id) throw new Error(`${extensionDir}/manifest.json has no browser_specific_settings.gecko.id`);
  return id;
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}
