// Where each browser looks for native-messaging host manifests, per OS and scope, and what the
// manifest must say. Pure: every function takes the OS, home folder and environment it needs, so
// the paths of all three OSes are computed (and tested) on any of them.
// Facts: Chromium-family browsers on Linux read `$XDG_CONFIG_HOME/<dir>/NativeMessagingHosts`
// (`~/.config` by default); Firefox reads `~/.mozilla/native-messaging-hosts` only; on Windows
// every browser reads a registry key whose default value is the manifest's path.

import path from 'node:path';
import { CHROMIUM_ALLOWED_IDS, GECKO_ID } from '../../shared/ids.js';
import type { Parsed } from '../../shared/parsed.js';
import { NATIVE_HOST_NAME } from '../../shared/protocol.js';

export const BROWSERS = ['firefox', 'chrome', 'chromium', 'brave', 'edge', 'vivaldi'] as const;
export type Browser = (typeof BROWSERS)[number];
export type Family = 'gecko' | 'chromium';
export type Os = 'linux' | 'darwin' | 'win32';
export type Scope = 'user' | 'system';

export const BROWSER_NAMES: Record<Browser, string> = {
  firefox: 'Firefox',
  chrome: 'Google Chrome',
  chromium: 'Chromium',
  brave: 'Brave',
  edge: 'Microsoft Edge',
  vivaldi: 'Vivaldi',
};

export const familyOf = (b: Browser): Family => (b === 'firefox' ? 'gecko' : 'chromium');

const MANIFEST_FILE = `${NATIVE_HOST_NAME}.json`;

export interface Env {
  [name: string]: string | undefined;
}

/** The OS this process runs on, reduced to the three we support (other Unixes follow Linux). */
export function currentOs(platform: string): Os {
  if (platform === 'darwin' || platform === 'win32') return platform;
  return 'linux';
}

const pathFor = (os: Os) => (os === 'win32' ? path.win32 : path.posix);

// Linux: per-user folder under ~/.config (Chromium family) and system folder, per browser.
const LINUX_USER: Record<Exclude<Browser, 'firefox'>, string> = {
  chrome: 'google-chrome',
  chromium: 'chromium',
  brave: 'BraveSoftware/Brave-Browser',
  edge: 'microsoft-edge',
  vivaldi: 'vivaldi',
};
const LINUX_SYSTEM: Record<Browser, string> = {
  firefox: '/usr/lib/mozilla/native-messaging-hosts',
  chrome: '/etc/opt/chrome/native-messaging-hosts',
  chromium: '/etc/chromium/native-messaging-hosts',
  brave: '/etc/opt/brave/native-messaging-hosts',
  edge: '/etc/opt/edge/native-messaging-hosts',
  vivaldi: '/etc/opt/vivaldi/native-messaging-hosts',
};

// macOS: relative to ~/Library/Application Support (user) and absolute (system).
const MAC_USER: Record<Browser, string> = {
  firefox: 'Mozilla/NativeMessagingHosts',
  chrome: 'Google/Chrome/NativeMessagingHosts',
  chromium: 'Chromium/NativeMessagingHosts',
  brave: 'BraveSoftware/Brave-Browser/NativeMessagingHosts',
  edge: 'Microsoft Edge/NativeMessagingHosts',
  vivaldi: 'Vivaldi/NativeMessagingHosts',
};
const MAC_SYSTEM: Record<Browser, string> = {
  firefox: '/Library/Application Support/Mozilla/NativeMessagingHosts',
  chrome: '/Library/Google/Chrome/NativeMessagingHosts',
  chromium: '/Library/Application Support/Chromium/NativeMessagingHosts',
  brave: '/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts',
  edge: '/Library/Microsoft/Edge/NativeMessagingHosts',
  vivaldi: '/Library/Application Support/Vivaldi/NativeMessagingHosts',
};

// Windows: registry key (under HKCU or HKLM) whose default value is the manifest path.
const WIN_KEY: Record<Browser, string> = {
  firefox: 'Software\\Mozilla\\NativeMessagingHosts',
  chrome: 'Software\\Google\\Chrome\\NativeMessagingHosts',
  chromium: 'Software\\Chromium\\NativeMessagingHosts',
  brave: 'Software\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts',
  edge: 'Software\\Microsoft\\Edge\\NativeMessagingHosts',
  vivaldi: 'Software\\Vivaldi\\NativeMessagingHosts',
};

/** `$XDG_CONFIG_HOME` when set to an absolute path (as the XDG spec asks), else ~/.config. */
function xdgConfigHome(home: string, env: Env): string {
  const x = env.XDG_CONFIG_HOME;
  return x?.startsWith('/') ? x : path.posix.join(home, '.config');
}

/**
 * The folder holding `g5k_tunnel.json` for `browser`, or null on Windows (where the manifest sits
 * beside the launcher and the registry points at it: see `registryKey`).
 */
export function manifestDir(browser: Browser, os: Os, scope: Scope, home: string, env: Env = {}): string | null {
  if (os === 'win32') return null;
  if (os === 'darwin')
    return scope === 'system'
      ? MAC_SYSTEM[browser]
      : path.posix.join(home, 'Library/Application Support', MAC_USER[browser]);
  if (scope === 'system') return LINUX_SYSTEM[browser];
  if (browser === 'firefox') return path.posix.join(home, '.mozilla/native-messaging-hosts');
  return path.posix.join(xdgConfigHome(home, env), LINUX_USER[browser], 'NativeMessagingHosts');
}

/** Windows registry key for `browser`, e.g. `HKCU\Software\Mozilla\NativeMessagingHosts\g5k_tunnel`. */
export function registryKey(browser: Browser, scope: Scope): string {
  return `${scope === 'system' ? 'HKLM' : 'HKCU'}\\${WIN_KEY[browser]}\\${NATIVE_HOST_NAME}`;
}

/** Where the launcher (and, on Windows, the manifests) are installed. */
export function installDir(os: Os, scope: Scope, home: string, env: Env = {}): string {
  if (os === 'win32') {
    if (scope === 'system') return path.win32.join(env.ProgramFiles || 'C:\\Program Files', 'g5k-tunnel');
    return path.win32.join(env.LOCALAPPDATA || path.win32.join(home, 'AppData', 'Local'), 'g5k-tunnel');
  }
  if (os === 'darwin')
    return scope === 'system'
      ? '/Library/Application Support/g5k-tunnel'
      : path.posix.join(home, 'Library/Application Support/g5k-tunnel');
  if (scope === 'system') return '/usr/local/lib/g5k-tunnel';
  const data = env.XDG_DATA_HOME?.startsWith('/') ? env.XDG_DATA_HOME : path.posix.join(home, '.local/share');
  return path.posix.join(data, 'g5k-tunnel');
}

/** File name of the launcher script the manifests point at. */
function launcherName(os: Os): string {
  return os === 'win32' ? 'g5k-tunnel-host.bat' : 'g5k-tunnel-host';
}

export function launcherPath(os: Os, scope: Scope, home: string, env: Env = {}): string {
  return pathFor(os).join(installDir(os, scope, home, env), launcherName(os));
}

/**
 * Full path of the manifest for `browser`. On Windows one manifest per family sits beside the
 * launcher (Firefox and Chromium need different keys), and the registry points at it.
 */
export function manifestPath(browser: Browser, os: Os, scope: Scope, home: string, env: Env = {}): string {
  const dir = manifestDir(browser, os, scope, home, env);
  if (dir !== null) return path.posix.join(dir, MANIFEST_FILE);
  return path.win32.join(installDir(os, scope, home, env), `${NATIVE_HOST_NAME}.${familyOf(browser)}.json`);
}

export interface HostManifest {
  name: string;
  description: string;
  path: string;
  type: 'stdio';
  allowed_extensions?: string[];
  allowed_origins?: string[];
}

/** Chromium wants `chrome-extension://ID/` with the trailing slash, no wildcards. */
export const chromiumOrigin = (id: string): string => `chrome-extension://${id}/`;

/** The manifest for one browser family, pointing at the launcher (absolute path). */
export function hostManifest(family: Family, launcher: string): HostManifest {
  const base = {
    name: NATIVE_HOST_NAME,
    description: "g5k-tunnel: SSH SOCKS tunnel into Grid'5000",
    path: launcher,
    type: 'stdio' as const,
  };
  return family === 'gecko'
    ? { ...base, allowed_extensions: [GECKO_ID] }
    : { ...base, allowed_origins: CHROMIUM_ALLOWED_IDS.map(chromiumOrigin) };
}

/** Parses `--browser` values: a comma list of names, or `all`; a bad name is refused with what to write. */
export function parseBrowserList(value: string): Parsed<Browser[]> {
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0 || names.includes('all')) return { ok: true, value: [...BROWSERS] };
  const aliases: Record<string, Browser> = {
    'google-chrome': 'chrome',
    'firefox-esr': 'firefox',
    'microsoft-edge': 'edge',
    msedge: 'edge',
  };
  const out: Browser[] = [];
  for (const n of names) {
    const b = (BROWSERS as readonly string[]).includes(n) ? (n as Browser) : aliases[n];
    if (!b) return { ok: false, error: `unknown browser "${n}": use one of ${BROWSERS.join(', ')} or all` };
    if (!out.includes(b)) out.push(b);
  }
  return { ok: true, value: out };
}
