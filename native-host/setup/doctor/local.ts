// Doctor's checks of this machine: Node.js, the browsers' native-messaging manifests, the launcher
// they name, and the host log. Read the given environment only, so tests can point them anywhere.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BROWSER_NAMES,
  BROWSERS,
  type Browser,
  chromiumOrigin,
  type Env,
  familyOf,
  manifestPath,
  type Os,
  registryKey,
} from '../browser-paths.js';
import { realRunner } from '../host-io.js';
import { parseLauncher } from '../launcher.js';
import { regQueryDefault } from '../registry.js';
import { homeDir } from '../../home.js';
import { defaultLogFile } from '../../log.js';
import { CHROMIUM_ALLOWED_IDS, GECKO_ID } from '../../../shared/ids.js';
import { NATIVE_HOST_NAME } from '../../../shared/protocol.js';
import { fail, ok, tilde, warn, type Check, type DoctorOptions } from './check.js';

const MIN_NODE = [20, 19] as const;

// ---------- node ----------

export function nodeVersionOk(version: string): boolean {
  const [maj = 0, min = 0] = version.replace(/^v/, '').split('.').map(Number);
  return maj > MIN_NODE[0] || (maj === MIN_NODE[0] && min >= MIN_NODE[1]);
}

export function checkNode(version: string, what: string): Check {
  return nodeVersionOk(version)
    ? ok(`${what} ${version}`)
    : fail(
        `${what} ${version} is too old (needs ${MIN_NODE.join('.')} or later)`,
        'install a current Node.js LTS, then run `g5k-tunnel install` again',
      );
}

// ---------- browsers and manifests ----------

const LINUX_BINARIES: Record<Browser, string[]> = {
  firefox: ['firefox', 'firefox-esr'],
  chrome: ['google-chrome', 'google-chrome-stable'],
  chromium: ['chromium', 'chromium-browser'],
  brave: ['brave-browser', 'brave'],
  edge: ['microsoft-edge', 'microsoft-edge-stable'],
  vivaldi: ['vivaldi', 'vivaldi-stable'],
};
const MAC_APPS: Record<Browser, string> = {
  firefox: 'Firefox.app',
  chrome: 'Google Chrome.app',
  chromium: 'Chromium.app',
  brave: 'Brave Browser.app',
  edge: 'Microsoft Edge.app',
  vivaldi: 'Vivaldi.app',
};

const isExecutable = (file: string) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

/** Is the browser installed? (a binary on PATH, or the app on macOS) */
function browserInstalled(b: Browser, osName: Os, env: Env): boolean {
  if (osName === 'darwin')
    return [path.join('/Applications', MAC_APPS[b]), path.join(homeDir(env), 'Applications', MAC_APPS[b])].some((p) =>
      fs.existsSync(p),
    );
  if (osName === 'win32') return false; // Windows: only what the registry says (see findManifests)
  const dirs = (env.PATH ?? '').split(':').filter(Boolean);
  return LINUX_BINARIES[b].some((bin) => dirs.some((d) => isExecutable(path.join(d, bin))));
}

/** Manifests present for a browser, user scope first. */
function findManifests(b: Browser, osName: Os, o: DoctorOptions): string[] {
  const env = o.env;
  if (osName === 'win32') {
    const out: string[] = [];
    for (const scope of ['user', 'system'] as const) {
      const file = regQueryDefault(o.run ?? realRunner, registryKey(b, scope));
      if (file) out.push(file);
    }
    return out;
  }
  return (['user', 'system'] as const)
    .map((s) => manifestPath(b, osName, s, homeDir(env), env))
    .filter((f) => fs.existsSync(f));
}

interface ManifestVerdict {
  check: Check;
  launcher?: string;
}

/** Checks one manifest: readable JSON, our name, an executable absolute path, our extension ids. */
function checkManifest(b: Browser, file: string, env: Env): ManifestVerdict {
  const name = BROWSER_NAMES[b];
  const where = tilde(file, env);
  const reinstall = `run \`g5k-tunnel install --browser ${b}\``;
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    return { check: fail(`${name}: ${where} is not valid JSON (${(e as Error).message})`, reinstall) };
  }
  if (m.name !== NATIVE_HOST_NAME)
    return { check: fail(`${name}: ${where} names "${String(m.name)}", not "${NATIVE_HOST_NAME}"`, reinstall) };
  if (m.type !== 'stdio')
    return { check: fail(`${name}: ${where} has type "${String(m.type)}", not "stdio"`, reinstall) };
  const launcher = typeof m.path === 'string' ? m.path : '';
  if (!path.isAbsolute(launcher)) return { check: fail(`${name}: ${where} has no absolute launcher path`, reinstall) };
  if (!fs.existsSync(launcher))
    return { check: fail(`${name}: launcher ${tilde(launcher, env)} is missing`, reinstall), launcher };
  if (!isExecutable(launcher) && !launcher.endsWith('.bat'))
    return {
      check: fail(
        `${name}: launcher ${tilde(launcher, env)} is not executable`,
        `chmod 755 ${launcher}, or ${reinstall.slice(5, -1)}`,
      ),
      launcher,
    };
  const want = familyOf(b) === 'gecko' ? [GECKO_ID] : CHROMIUM_ALLOWED_IDS.map(chromiumOrigin);
  const key = familyOf(b) === 'gecko' ? 'allowed_extensions' : 'allowed_origins';
  const have = Array.isArray(m[key]) ? (m[key] as unknown[]) : [];
  const missing = want.filter((id) => !have.includes(id));
  if (missing.length)
    return {
      check: fail(`${name}: ${where} does not allow the extension (${key} lacks ${missing.join(', ')})`, reinstall),
      launcher,
    };
  return { check: ok(`${name}: host manifest ${where} allows the extension`), launcher };
}

export function checkBrowsers(o: DoctorOptions, osName: Os): { checks: Check[]; launchers: Set<string> } {
  const checks: Check[] = [];
  const launchers = new Set<string>();
  for (const b of BROWSERS) {
    const installed = browserInstalled(b, osName, o.env);
    const files = findManifests(b, osName, o);
    if (files.length === 0) {
      if (installed)
        checks.push(fail(`${BROWSER_NAMES[b]}: no host manifest`, `run \`g5k-tunnel install --browser ${b}\``));
      continue;
    }
    for (const f of files) {
      const v = checkManifest(b, f, o.env);
      checks.push(v.check);
      if (v.launcher && fs.existsSync(v.launcher)) launchers.add(v.launcher);
    }
  }
  if (checks.length === 0 && osName === 'win32')
    checks.push(
      fail(
        `no browser has the host registered (reg query ${registryKey('chrome', 'user')} /ve and the other browsers' keys find nothing)`,
        'run `g5k-tunnel install`',
      ),
    );
  else if (checks.length === 0)
    checks.push(
      warn(
        `no supported browser found (${BROWSERS.join(', ')})`,
        'install Firefox or a Chromium-based browser, then `g5k-tunnel install`',
      ),
    );
  return { checks, launchers };
}

export function checkLauncher(file: string, env: Env): Check[] {
  const parsed = parseLauncher(fs.readFileSync(file, 'utf8'));
  const where = tilde(file, env);
  if (!parsed) return [warn(`launcher ${where} was not written by g5k-tunnel install; not checked`)];
  const out: Check[] = [];
  if (!isExecutable(parsed.nodePath) && !parsed.nodePath.endsWith('.exe'))
    out.push(
      fail(
        `launcher ${where} runs ${parsed.nodePath}, which is gone (Node.js moved or was upgraded?)`,
        'run `g5k-tunnel install` again with the current node',
      ),
    );
  else {
    try {
      const v = execFileSync(parsed.nodePath, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
      out.push(checkNode(v, `launcher's node ${parsed.nodePath}`));
    } catch (e) {
      out.push(
        fail(
          `launcher's node ${parsed.nodePath} does not run (${(e as Error).message.split('\n')[0]})`,
          'run `g5k-tunnel install` again with a working node',
        ),
      );
    }
  }
  if (!fs.existsSync(parsed.hostMain))
    out.push(
      fail(
        `launcher ${where} starts ${parsed.hostMain}, which is missing`,
        'run `npm run build`, then `g5k-tunnel install` again',
      ),
    );
  else out.push(ok(`launcher ${where} starts ${tilde(parsed.hostMain, env)}`));
  return out;
}

export function checkLog(env: Env): Check {
  const file = defaultLogFile(env as NodeJS.ProcessEnv);
  try {
    const st = fs.statSync(file);
    return ok(`host log: ${file} (${Math.ceil(st.size / 1024)} kB, last written ${st.mtime.toISOString()})`);
  } catch {
    return warn(
      `no host log yet at ${file}: the browser has not started the host`,
      'open the extension popup; if it says the host is missing, run `g5k-tunnel install`',
    );
  }
}
