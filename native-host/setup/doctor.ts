// `g5k-tunnel doctor`: checks every link from the browser to the gateway and says what to fix,
// one line each: ✓ fine, ! worth a look, ✗ broken (exit 1 when anything is ✗).
// Every check is bounded in time and reads the environment it is given, so it can run (and be
// tested) against any HOME.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import {
  BROWSER_NAMES,
  BROWSERS,
  type Browser,
  chromiumOrigin,
  currentOs,
  type Env,
  familyOf,
  manifestPath,
  type Os,
  registryKey,
} from './browser-paths.js';
import { entryMatches, fingerprint, hostKeyFromBlob, knownHostsName, type HostKey } from '../ssh/known-hosts.js';
import { checkHostKeyInFiles, readKnownHostsFiles } from '../ssh/known-hosts-store.js';
import { DEFAULT_IDENTITY_NAMES } from '../ssh/auth.js';
import { parseLauncher } from './launcher.js';
import {
  destinationReason,
  formatDestination,
  parseDestination,
  parseJumpList,
  type Destination,
} from '../../shared/destination.js';
import { homeDir } from '../home.js';
import { defaultLogFile, type Logger } from '../log.js';
import { resolveRoute, type Route } from '../ssh/route.js';
import type { Hop } from '../ssh/connect.js';
import { CHROMIUM_ALLOWED_IDS, GECKO_ID } from '../../shared/ids.js';
import { HOST_NAME } from '../../shared/protocol.js';
import { DEFAULT_SOCKS_PORT, defaultProfile, toTunnelConfig } from '../../shared/settings.js';

export type Mark = 'ok' | 'warn' | 'fail';
export interface Check {
  mark: Mark;
  /** What was checked and what was found. */
  text: string;
  /** What to do about it (for ! and ✗). */
  fix?: string;
}

export interface DoctorOptions {
  env: Env;
  platform: string;
  /** Host name or ~/.ssh/config alias, as in the options page. */
  gateway: string;
  /** 0 = from ~/.ssh/config, else 22 (as the settings' port). */
  port: number;
  /** '' = from ~/.ssh/config, else the local user. */
  user?: string;
  /** Jump hosts, as the options page's list (like -J). */
  jumps?: string[];
  /** Like ssh -F: this file instead of ~/.ssh/config and /etc/ssh/ssh_config. */
  sshConfigFile?: string;
  /** The system-wide ssh_config; null skips it (default /etc/ssh/ssh_config). */
  systemSshConfigFile?: string | null;
  socksPort: number;
  /** Identity files to check (like -i); [] = the ssh config's IdentityFile lines, else OpenSSH's defaults. */
  identities: string[];
  /** known_hosts files (like the options page's); [] = the ssh config's, else OpenSSH's defaults. */
  knownHosts: string[];
  timeoutMs: number;
}

export const MIN_NODE = [20, 19] as const;
const SYMBOL: Record<Mark, string> = { ok: '✓', warn: '!', fail: '✗' };

const ok = (text: string): Check => ({ mark: 'ok', text });
const warn = (text: string, fix?: string): Check => ({ mark: 'warn', text, ...(fix ? { fix } : {}) });
const fail = (text: string, fix?: string): Check => ({ mark: 'fail', text, ...(fix ? { fix } : {}) });

const tilde = (p: string, env: Env) => {
  const h = homeDir(env);
  return p === h ? '~' : p.startsWith(`${h}/`) ? `~${p.slice(h.length)}` : p;
};

// ---------- node ----------

export function nodeVersionOk(version: string): boolean {
  const [maj = 0, min = 0] = version.replace(/^v/, '').split('.').map(Number);
  return maj > MIN_NODE[0] || (maj === MIN_NODE[0] && min >= MIN_NODE[1]);
}

function checkNode(version: string, what: string): Check {
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
export function browserInstalled(b: Browser, osName: Os, env: Env): boolean {
  if (osName === 'darwin')
    return [path.join('/Applications', MAC_APPS[b]), path.join(homeDir(env), 'Applications', MAC_APPS[b])].some((p) =>
      fs.existsSync(p),
    );
  if (osName === 'win32') return false; // Windows: only what the registry says (see findManifests)
  const dirs = (env.PATH ?? '').split(':').filter(Boolean);
  return LINUX_BINARIES[b].some((bin) => dirs.some((d) => isExecutable(path.join(d, bin))));
}

/** Manifests present for a browser, user scope first. */
function findManifests(b: Browser, osName: Os, env: Env): string[] {
  if (osName === 'win32') {
    const out: string[] = [];
    for (const scope of ['user', 'system'] as const) {
      try {
        const text = execFileSync('reg', ['query', registryKey(b, scope), '/ve'], { encoding: 'utf8', timeout: 5000 });
        const m = /REG_SZ\s+(.+)$/m.exec(text);
        if (m) out.push(m[1]!.trim());
      } catch {
        /* no key */
      }
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
export function checkManifest(b: Browser, file: string, env: Env): ManifestVerdict {
  const name = BROWSER_NAMES[b];
  const where = tilde(file, env);
  const reinstall = `run \`g5k-tunnel install --browser ${b}\``;
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    return { check: fail(`${name}: ${where} is not valid JSON (${(e as Error).message})`, reinstall) };
  }
  if (m.name !== HOST_NAME)
    return { check: fail(`${name}: ${where} names "${String(m.name)}", not "${HOST_NAME}"`, reinstall) };
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

function checkBrowsers(o: DoctorOptions, osName: Os): { checks: Check[]; launchers: Set<string> } {
  const checks: Check[] = [];
  const launchers = new Set<string>();
  for (const b of BROWSERS) {
    const installed = browserInstalled(b, osName, o.env);
    const files = findManifests(b, osName, o.env);
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
  if (checks.length === 0)
    checks.push(
      warn(
        `no supported browser found (${BROWSERS.join(', ')})`,
        'install Firefox or a Chromium-based browser, then `g5k-tunnel install`',
      ),
    );
  return { checks, launchers };
}

function checkLauncher(file: string, env: Env): Check[] {
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

// ---------- SSH keys ----------

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** `sock`: the agent the tunnel would use (SSH_AUTH_SOCK, or IdentityAgent from ~/.ssh/config). */
async function checkAgent(o: DoctorOptions, sock: string | null): Promise<{ check: Check; keys: number }> {
  if (!sock && o.env.SSH_AUTH_SOCK)
    return { check: ok('ssh-agent not used for this gateway (IdentityAgent none in your ssh config)'), keys: 0 };
  if (!sock)
    return {
      check: warn(
        'no ssh-agent (SSH_AUTH_SOCK is not set)',
        'start one and load your key: eval "$(ssh-agent)" && ssh-add (or set an identity file in the options)',
      ),
      keys: 0,
    };
  try {
    const keys = await withTimeout(
      new Promise<ssh2.ParsedKey[]>((resolve, reject) =>
        new ssh2.OpenSSHAgent(sock).getIdentities((err, k) =>
          err ? reject(err) : resolve((k ?? []).filter((x): x is ssh2.ParsedKey => 'getPublicSSH' in x)),
        ),
      ),
      o.timeoutMs,
      'ssh-agent',
    );
    if (keys.length === 0)
      return {
        check: warn(`ssh-agent at ${sock} holds no key`, "load your Grid'5000 key: ssh-add ~/.ssh/id_ed25519"),
        keys: 0,
      };
    const list = keys
      .map((k) => `${k.type} ${fingerprint(k.getPublicSSH())}${k.comment ? ` ${k.comment}` : ''}`)
      .join('; ');
    return { check: ok(`ssh-agent holds ${keys.length} key${keys.length > 1 ? 's' : ''}: ${list}`), keys: keys.length };
  } catch (e) {
    return {
      check: fail(
        `ssh-agent at ${sock} cannot be reached (${(e as Error).message})`,
        'start a new agent: eval "$(ssh-agent)" && ssh-add, or unset SSH_AUTH_SOCK',
      ),
      keys: 0,
    };
  }
}

/** The key files the tunnel would try: --identity, else the gateway's IdentityFile lines, else
 *  OpenSSH's default names that exist. A missing file named by the user is a failure; one named in
 *  ssh config is worth a look (ssh skips it too). */
function identityFiles(o: DoctorOptions, hop: Hop | null): { file: string; ifMissing: 'fail' | 'warn' | null }[] {
  if (o.identities.length) return o.identities.map((file) => ({ file, ifMissing: 'fail' as const }));
  const sshDir = path.join(homeDir(o.env), '.ssh');
  const defaults = new Set(DEFAULT_IDENTITY_NAMES.map((f) => path.join(sshDir, f)));
  const planned = hop ? hop.auth.files.map((f) => f.path) : [...defaults];
  return planned
    .map((file) => ({ file, ifMissing: defaults.has(file) ? null : ('warn' as const) }))
    .filter((f) => f.ifMissing !== null || fs.existsSync(f.file));
}

function checkIdentities(o: DoctorOptions, hop: Hop | null, agentKeys: number): Check[] {
  const out: Check[] = [];
  const sshDir = path.join(homeDir(o.env), '.ssh');
  const posix = currentOs(o.platform) !== 'win32';
  if (fs.existsSync(sshDir)) {
    const mode = fs.statSync(sshDir).mode & 0o777;
    if (posix && mode & 0o077)
      out.push(warn(`~/.ssh is open to other users (mode ${mode.toString(8)})`, 'chmod 700 ~/.ssh'));
    else out.push(ok(`~/.ssh (mode ${mode.toString(8)})`));
  }
  const files = identityFiles(o, hop);
  if (files.length === 0) {
    if (agentKeys > 0) out.push(ok('no identity file in ~/.ssh: the ssh-agent keys will be used'));
    else
      out.push(
        fail(
          'no SSH key: no identity file in ~/.ssh and none in ssh-agent',
          "create one (ssh-keygen -t ed25519), upload the .pub on your Grid'5000 account page, and ssh-add it",
        ),
      );
    return out;
  }
  for (const { file: f, ifMissing } of files) {
    const where = tilde(f, o.env);
    if (!fs.existsSync(f)) {
      if (ifMissing === 'fail')
        out.push(fail(`identity file ${where} does not exist`, 'fix the identity file path in the options'));
      else
        out.push(
          warn(
            `identity file ${where}, named in your ssh config, does not exist`,
            'fix or remove that IdentityFile line',
          ),
        );
      continue;
    }
    const mode = fs.statSync(f).mode & 0o777;
    if (posix && mode & 0o077) {
      // OpenSSH refuses such a key ("UNPROTECTED PRIVATE KEY FILE"), and so does the tunnel.
      out.push(fail(`identity file ${where} is readable by other users (mode ${mode.toString(8)})`, `chmod 600 ${f}`));
      continue;
    }
    let parsed: ReturnType<typeof ssh2.utils.parseKey>;
    try {
      parsed = ssh2.utils.parseKey(fs.readFileSync(f));
    } catch (e) {
      parsed = e as Error;
    }
    if (parsed instanceof Error) {
      if (/encrypted|passphrase/i.test(parsed.message))
        out.push(ok(`identity file ${where} (passphrase-protected: load it with ssh-add, or the tunnel will ask)`));
      else
        out.push(
          fail(
            `identity file ${where} cannot be read as an SSH private key (${parsed.message})`,
            'check the file, or pick another key',
          ),
        );
      continue;
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    out.push(ok(`identity file ${where} (${key?.type ?? '?'}, mode ${mode.toString(8)})`));
  }
  return out;
}

// ---------- the route ----------

/**
 * The machines the tunnel would go through, read from ~/.ssh/config (HostName, Port, User,
 * ProxyJump, IdentityFile, IdentityAgent, UserKnownHostsFile, HostKeyAlias) exactly as the tunnel
 * reads it, so that the checks below look at what the tunnel will use.
 */
function routeFor(o: DoctorOptions): { route: Route | null; checks: Check[] } {
  const config = {
    ...toTunnelConfig(defaultProfile()),
    gateway: o.gateway,
    port: o.port,
    user: o.user ?? '',
    jumps: o.jumps ?? [],
  };
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
  let route: Route;
  try {
    route = resolveRoute(config, {
      home: homeDir(o.env),
      localUser: os.userInfo().username,
      env: o.env as NodeJS.ProcessEnv,
      log,
      ...(o.sshConfigFile !== undefined ? { sshConfigFile: o.sshConfigFile } : {}),
      ...(o.systemSshConfigFile !== undefined ? { systemConfigFile: o.systemSshConfigFile } : {}),
    });
  } catch (e) {
    return {
      route: null,
      checks: [
        fail(`SSH route to ${o.gateway}: ${(e as Error).message}`, 'fix your ssh config or the gateway settings'),
      ],
    };
  }
  // --known-hosts stands for the options page's known_hosts file: every hop reads it
  if (o.knownHosts.length) for (const hop of route.hops) hop.userKnownHostsFiles = [...o.knownHosts];
  const chain = [...route.jumps, route.gateway].join(' → ');
  return {
    route,
    checks: [
      ok(`SSH route to ${o.gateway}: ${chain}`),
      ...[...new Set(warnings)].map((w) => warn(w, 'fix that line of your ssh config')),
    ],
  };
}

// ---------- known_hosts ----------

/** A hop's known_hosts files, as the tunnel reads them (UserKnownHostsFile, then the global ones). */
function knownHostsFiles(hop: Hop): string[] {
  return [...hop.userKnownHostsFiles, ...hop.globalKnownHostsFiles];
}

/**
 * Compares what known_hosts holds for a hop with the key it presented, when it was reached
 * (`presented`); else only looks for an entry and says why (`notCompared`). `sshCommand` is what
 * the user runs once to add the key.
 */
function checkKnownHosts(
  o: DoctorOptions,
  hop: Hop,
  presented: Buffer | null,
  sshCommand: string,
  notCompared = 'gateway not reached',
): Check {
  const name = hop.hostKeyAlias ?? knownHostsName(hop.host, hop.port);
  const files = knownHostsFiles(hop);
  const shown = files.map((f) => tilde(f, o.env)).join(', ');
  const addIt = `check the fingerprint Grid'5000 publishes, then run \`${sshCommand}\` once and answer yes`;
  const at = (file: string, line: number) => `${tilde(file, o.env)}:${line}`;
  if (!presented) {
    const { entries } = readKnownHostsFiles(files);
    const plain = entries.filter((e) => e.marker === '' && entryMatches(e, name));
    return plain.length
      ? ok(
          `known_hosts holds ${plain.length} key${plain.length > 1 ? 's' : ''} for ${name} (${at(plain[0]!.file, plain[0]!.line)}); not compared (${notCompared})`,
        )
      : warn(`known_hosts has no key for ${name} (looked in ${shown})`, addIt);
  }
  let key: HostKey;
  try {
    key = hostKeyFromBlob(presented);
  } catch (e) {
    return fail(`${name} presented a host key that cannot be read (${(e as Error).message})`);
  }
  const fp = fingerprint(key.blob);
  const bad: string[] = [];
  const r = checkHostKeyInFiles(files, hop.host, hop.port, key, {
    ...(hop.hostKeyAlias ? { alias: hop.hostKeyAlias } : {}),
    warn: (w) => bad.push(w),
  });
  const note = bad.length ? ` (also: ${bad.length} unreadable line${bad.length > 1 ? 's' : ''}, first ${bad[0]})` : '';
  switch (r.status) {
    case 'known':
      return ok(`known_hosts matches ${name}'s host key ${key.type} ${fp} (${at(r.file, r.line)})${note}`);
    case 'revoked':
      return fail(
        `${name} presented a key marked @revoked in ${at(r.file, r.line)} (${key.type} ${fp})`,
        "do not connect; tell the Grid'5000 staff",
      );
    case 'changed':
      return fail(
        `${name}'s host key CHANGED: it presents ${key.type} ${fp}, ${at(r.file, r.line)} holds ${r.knownFingerprint}`,
        `do not connect until the Grid'5000 staff confirm the new key; then ssh-keygen -R '${name}'`,
      );
    case 'unknown':
      return warn(`known_hosts has no key for ${name}; it presents ${key.type} ${fp}${note}`, addIt);
  }
}

// ---------- network ----------

/** TCP connect and read the SSH identification line (RFC 4253 §4.2), bounded. */
export function readBanner(host: string, port: number, timeoutMs: number): Promise<{ banner: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = net.connect({ host, port });
    let buf = '';
    const done = (err: Error | null, banner?: string) => {
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve({ banner: banner!, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    s.on('error', (e) => done(e));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      // servers may send other lines before the identification line
      for (const line of buf.split('\n')) if (line.startsWith('SSH-')) return done(null, line.replace(/\r$/, ''));
      if (buf.length > 8192) done(new Error('no SSH identification line: not an SSH server'));
    });
    s.on('end', () => done(new Error('closed the connection without an SSH identification line')));
  });
}

/** The gateway's host key, from a key exchange that stops before authentication. */
export function fetchHostKey(host: string, port: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    let key: Buffer | null = null;
    const timer = setTimeout(() => finish(), timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      c.removeAllListeners();
      c.on('error', () => {});
      c.end();
      if (key) resolve(key);
      else reject(new Error('no host key received'));
    };
    c.on('error', finish);
    c.on('close', finish);
    c.connect({
      host,
      port,
      username: 'g5k-tunnel-doctor',
      readyTimeout: timeoutMs,
      hostVerifier: (k: Buffer) => {
        key = Buffer.from(k);
        setImmediate(finish);
        return false; // never authenticate: the doctor only looks
      },
    });
  });
}

/** The first machine of the route (the gateway, or the first jump host) answers SSH. */
async function checkFirstHop(
  o: DoctorOptions,
  hop: Hop,
  what: 'gateway' | 'jump host',
): Promise<{ checks: Check[]; key: Buffer | null }> {
  const target = `${hop.host}:${hop.port}`;
  try {
    const { banner, ms } = await readBanner(hop.host, hop.port, o.timeoutMs);
    const checks = [ok(`${what} ${target} answers: ${banner} (${ms} ms)`)];
    let key: Buffer | null = null;
    try {
      key = await fetchHostKey(hop.host, hop.port, o.timeoutMs);
    } catch (e) {
      checks.push(warn(`${what} ${target} did not complete a key exchange (${(e as Error).message})`));
    }
    return { checks, key };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
        ? `the name ${hop.host} does not resolve`
        : err.code === 'ECONNREFUSED'
          ? 'connection refused'
          : err.message;
    return {
      checks: [
        fail(
          `${what} ${target} unreachable: ${why}`,
          `check your network (outbound SSH allowed?) and the ${what} name and port in the options`,
        ),
      ],
      key: null,
    };
  }
}

/** Is the SOCKS port free on loopback? If not, is it a SOCKS5 server (a running tunnel)? */
export async function checkSocksPort(port: number, timeoutMs: number): Promise<Check> {
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e) => resolve(e));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(null)));
  });
  if (!err) return ok(`SOCKS port 127.0.0.1:${port} is free`);
  if (err.code !== 'EADDRINUSE')
    return fail(
      `SOCKS port ${port} cannot be used (${err.code ?? err.message})`,
      'choose a port above 1024 in the options',
    );
  const socks5 = await new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => end(false), timeoutMs);
    const end = (v: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    s.on('error', () => end(false));
    s.on('connect', () => s.write(Buffer.from([5, 1, 0])));
    s.on('data', (d) => end(d[0] === 5));
  });
  return socks5
    ? warn(
        `SOCKS port ${port} is taken by a SOCKS5 server (a running g5k-tunnel, or an ssh -D?)`,
        'fine if it is g5k-tunnel; else stop the other one or choose another port',
      )
    : fail(
        `SOCKS port ${port} is taken by another program`,
        `choose another SOCKS port in the options (and --socks-port here), or stop what listens on ${port}`,
      );
}

function checkLog(env: Env): Check {
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

// ---------- all together ----------

export async function runDoctor(o: DoctorOptions): Promise<Check[]> {
  const osName = currentOs(o.platform);
  const checks: Check[] = [checkNode(process.version, 'node')];
  const { checks: browserChecks, launchers } = checkBrowsers(o, osName);
  checks.push(...browserChecks);
  for (const l of launchers) checks.push(...checkLauncher(l, o.env));
  const { route, checks: routeChecks } = routeFor(o);
  checks.push(...routeChecks);
  const gateway = route?.hops.at(-1) ?? null;
  const agent = await checkAgent(o, gateway ? gateway.auth.agentSocket : (o.env.SSH_AUTH_SOCK ?? null));
  checks.push(agent.check, ...checkIdentities(o, gateway, agent.keys));
  if (route) checks.push(...(await checkHops(o, route)));
  checks.push(await checkSocksPort(o.socksPort, o.timeoutMs), checkLog(o.env));
  return checks;
}

/** The first hop is reached and its key compared; hops behind it can only be looked up. */
async function checkHops(o: DoctorOptions, route: Route): Promise<Check[]> {
  const [first, ...behind] = route.hops;
  if (!first) return [];
  const last = route.hops.length - 1;
  // what to type once to add a key: ssh reads the same config, so the gateway keeps its alias
  const jumps = o.jumps?.length ? `-J ${o.jumps.join(',')} ` : '';
  const sshCommand = (hop: Hop, i: number) =>
    i === last
      ? `ssh ${o.port && o.port !== 22 ? `-p ${o.port} ` : ''}${jumps}${o.gateway}`
      : `ssh ${hop.port !== 22 ? `-p ${hop.port} ` : ''}${hop.user}@${hop.host}`;
  const reached = await checkFirstHop(o, first, behind.length ? 'jump host' : 'gateway');
  const out = [checkKnownHosts(o, first, reached.key, sshCommand(first, 0)), ...reached.checks];
  behind.forEach((hop, i) =>
    out.push(checkKnownHosts(o, hop, null, sshCommand(hop, i + 1), `reached only through ${first.label}`)),
  );
  return out;
}

export function formatCheck(c: Check): string {
  return `${SYMBOL[c.mark]} ${c.text}${c.fix ? ` → ${c.fix}` : ''}`;
}

const USAGE = `usage: g5k-tunnel doctor [--gateway [USER@]HOST[:PORT]] [--port N] [--jump HOSTS] [-F FILE]
                         [--socks-port N] [--identity FILE] [--known-hosts FILE] [--timeout SEC]
  Checks the browser manifests, the launcher, Node.js, the SSH route (from ~/.ssh/config), ssh-agent,
  keys, known_hosts, the gateway and the SOCKS port.`;

export function parseDoctorArgs(args: string[], env: Env, platform: string): DoctorOptions | string {
  const o: DoctorOptions = {
    env,
    platform,
    gateway: 'access.grid5000.fr',
    port: 0,
    socksPort: DEFAULT_SOCKS_PORT,
    identities: [],
    knownHosts: [],
    timeoutMs: 5000,
  };
  const int = (v: string | undefined, min: number, max: number) => {
    const n = Number(v);
    return Number.isInteger(n) && n >= min && n <= max ? n : null;
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] =
      args[i]!.startsWith('--') && args[i]!.includes('=') ? args[i]!.split(/=(.*)/s, 2) : [args[i]!, undefined];
    const value = () => inline ?? args[++i];
    switch (flag) {
      case '--gateway': {
        const v = value();
        if (!v) return '--gateway needs a host name';
        // user@host:port and ssh:// too: the destination grammar of shared/destination
        let d: Destination;
        try {
          d = parseDestination(v);
        } catch (e) {
          return `--gateway ${v}: ${destinationReason(e)}`;
        }
        if (d.user !== undefined) o.user = d.user;
        o.gateway = d.host;
        if (d.port !== undefined) o.port = d.port;
        break;
      }
      case '--jump':
      case '-J': {
        const v = value();
        if (!v) return '--jump needs a host list: [user@]host[:port],...';
        try {
          o.jumps = parseJumpList(v).map(formatDestination);
        } catch (e) {
          return `--jump ${v}: ${(e as Error).message}`;
        }
        break;
      }
      case '--ssh-config':
      case '-F': {
        const v = value();
        if (!v) return '-F needs a file (or none)';
        o.sshConfigFile = v === 'none' ? v : path.resolve(v);
        break;
      }
      case '--port': {
        const n = int(value(), 0, 65535);
        if (n === null) return '--port needs a number 1-65535 (0: from your ssh config, else 22)';
        o.port = n;
        break;
      }
      case '--socks-port': {
        const n = int(value(), 1, 65535);
        if (n === null) return '--socks-port needs a number 1-65535';
        o.socksPort = n;
        break;
      }
      case '--identity':
      case '-i': {
        const v = value();
        if (!v) return '--identity needs a file';
        o.identities.push(path.resolve(v));
        break;
      }
      case '--known-hosts': {
        const v = value();
        if (!v) return '--known-hosts needs a file';
        o.knownHosts.push(path.resolve(v));
        break;
      }
      case '--timeout': {
        const n = int(value(), 1, 120);
        if (n === null) return '--timeout needs a number of seconds 1-120';
        o.timeoutMs = n * 1000;
        break;
      }
      default:
        return `unknown option ${args[i]}`;
    }
  }
  return o;
}

export async function main(
  args: string[],
  env: Env = process.env,
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    print(USAGE);
    return 0;
  }
  const o = parseDoctorArgs(args, env, process.platform);
  if (typeof o === 'string') {
    process.stderr.write(`g5k-tunnel doctor: ${o}\n${USAGE}\n`);
    return 2;
  }
  const checks = await runDoctor(o);
  for (const c of checks) print(formatCheck(c));
  const failures = checks.filter((c) => c.mark === 'fail').length;
  const warnings = checks.filter((c) => c.mark === 'warn').length;
  print(
    failures
      ? `${failures} problem${failures > 1 ? 's' : ''} to fix (✗), ${warnings} to look at (!)`
      : `no problem found${warnings ? ` (${warnings} to look at: !)` : ''}`,
  );
  return failures ? 1 : 0;
}
