// Doctor's SSH checks: the route (from the ssh config), ssh-agent, the key files, and known_hosts.
// Nothing here goes on the network; the first hop's key comes from probes.ts.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { currentOs } from '../browser-paths.js';
import { entryMatches, fingerprint, hostKeyFromBlob, knownHostsName, type HostKey } from '../../ssh/known-hosts.js';
import { checkHostKeyInFiles, readKnownHostsFiles } from '../../ssh/known-hosts-store.js';
import { agentFor, WINDOWS_AGENT_PIPE } from '../../ssh/agent.js';
import { DEFAULT_IDENTITY_NAMES } from '../../ssh/auth.js';
import { checkKeyPermissions, type LocalUser } from '../../ssh/key-permissions.js';
import { homeDir } from '../../home.js';
import type { Logger } from '../../log.js';
import { resolveRoute, type Route } from '../../ssh/route.js';
import type { Hop } from '../../ssh/connect.js';
import { defaultProfile, toTunnelConfig } from '../../../shared/settings.js';
import { fail, ok, tilde, warn, type Check, type DoctorOptions } from './check.js';

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
export async function checkAgent(o: DoctorOptions, sock: string | null): Promise<{ check: Check; keys: number }> {
  if (!sock && o.env.SSH_AUTH_SOCK)
    return { check: ok('ssh-agent not used for this gateway (IdentityAgent none in your ssh config)'), keys: 0 };
  const windows = currentOs(o.platform) === 'win32';
  // OpenSSH for Windows' agent is a service, started once by an administrator
  const startWindowsAgent =
    'start the OpenSSH Authentication Agent service (administrator PowerShell: Get-Service ssh-agent | Set-Service -StartupType Automatic; Start-Service ssh-agent), then ssh-add';
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
        agentFor(sock, o.platform as NodeJS.Platform).getIdentities((err, k) =>
          err ? reject(err) : resolve((k ?? []).filter((x): x is ssh2.ParsedKey => 'getPublicSSH' in x)),
        ),
      ),
      o.timeoutMs,
      'ssh-agent',
    );
    if (keys.length === 0)
      return {
        check: warn(
          `ssh-agent at ${sock} holds no key`,
          `load your Grid'5000 key: ssh-add ${windows ? '%USERPROFILE%\\.ssh\\id_ed25519' : '~/.ssh/id_ed25519'}`,
        ),
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
        windows && sock === WINDOWS_AGENT_PIPE
          ? startWindowsAgent
          : 'start a new agent: eval "$(ssh-agent)" && ssh-add, or unset SSH_AUTH_SOCK',
      ),
      keys: 0,
    };
  }
}

interface KeyFile {
  file: string;
  /** What a missing file is: a failure (named by the user), worth a look (ssh config), or nothing. */
  ifMissing: 'fail' | 'warn' | null;
  /** Does the tunnel try it for this gateway? (OpenSSH's default names are checked either way) */
  tried: boolean;
}

/** The key files the tunnel would try: --identity, else the gateway's IdentityFile lines, else
 *  OpenSSH's default names that exist; then the default names that exist and are not among them
 *  (ssh on the command line may use them). A missing file named by the user is a failure; one
 *  named in ssh config is worth a look (ssh skips it too). */
function identityFiles(o: DoctorOptions, hop: Hop | null): KeyFile[] {
  const sshDir = path.join(homeDir(o.env), '.ssh');
  const defaults = DEFAULT_IDENTITY_NAMES.map((f) => path.join(sshDir, f));
  const planned: KeyFile[] = o.identities.length
    ? o.identities.map((file) => ({ file, ifMissing: 'fail', tried: true }))
    : (hop ? hop.auth.files.map((f) => f.path) : defaults)
        .map((file): KeyFile => ({ file, ifMissing: defaults.includes(file) ? null : 'warn', tried: true }))
        .filter((f) => f.ifMissing !== null || fs.existsSync(f.file));
  const others = defaults
    .filter((file) => !planned.some((p) => p.file === file) && fs.existsSync(file))
    .map((file): KeyFile => ({ file, ifMissing: null, tried: false }));
  return [...planned, ...others];
}

/** One key file: present, protected as OpenSSH wants (checkKeyPermissions, as the tunnel), readable. */
function checkKeyFile(o: DoctorOptions, k: KeyFile, agentKeys: number): Check {
  const where = tilde(k.file, o.env);
  // a key the tunnel does not try, or one an agent key can stand in for, cannot stop the login
  const agentStandsIn = agentKeys > 0;
  const problem = k.tried && !agentStandsIn ? fail : warn;
  const why = !k.tried
    ? ' (an OpenSSH default key, not tried by the tunnel for this gateway)'
    : agentStandsIn
      ? ' (the ssh-agent keys may still log in)'
      : '';
  if (!fs.existsSync(k.file)) {
    if (k.ifMissing === 'fail')
      return fail(`identity file ${where} does not exist`, 'fix the identity file path in the options');
    return warn(
      `identity file ${where}, named in your ssh config, does not exist`,
      'fix or remove that IdentityFile line',
    );
  }
  const st = fs.statSync(k.file);
  const me: LocalUser = { platform: o.platform as NodeJS.Platform, uid: process.getuid?.() };
  const perm = checkKeyPermissions(k.file, { mode: st.mode, uid: st.uid }, me);
  if (!perm.ok)
    // OpenSSH refuses such a key ("UNPROTECTED PRIVATE KEY FILE"), and so does the tunnel.
    return problem(
      `identity file ${where} is readable by other users (mode ${perm.mode.toString(8)}): ssh ignores it${why}`,
      perm.fix,
    );
  const mode = st.mode & 0o777;
  let parsed: ReturnType<typeof ssh2.utils.parseKey>;
  try {
    parsed = ssh2.utils.parseKey(fs.readFileSync(k.file));
  } catch (e) {
    parsed = e as Error;
  }
  const tail = k.tried ? '' : ', not tried by the tunnel for this gateway';
  if (parsed instanceof Error) {
    if (/encrypted|passphrase/i.test(parsed.message))
      return ok(`identity file ${where} (passphrase-protected: load it with ssh-add, or the tunnel will ask${tail})`);
    return problem(
      `identity file ${where} cannot be read as an SSH private key (${parsed.message})${why}`,
      'check the file, or pick another key',
    );
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return ok(`identity file ${where} (${key?.type ?? '?'}, mode ${mode.toString(8)}${tail})`);
}

export function checkIdentities(o: DoctorOptions, hop: Hop | null, agentKeys: number): Check[] {
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
  if (!files.some((f) => f.tried)) {
    if (agentKeys > 0) out.push(ok('no identity file in ~/.ssh: the ssh-agent keys will be used'));
    else
      out.push(
        fail(
          'no SSH key: no identity file in ~/.ssh and none in ssh-agent',
          "create one (ssh-keygen -t ed25519), upload the .pub on your Grid'5000 account page, and ssh-add it",
        ),
      );
  }
  for (const k of files) out.push(checkKeyFile(o, k, agentKeys));
  return out;
}

// ---------- the route ----------

/**
 * The machines the tunnel would go through, read from ~/.ssh/config (HostName, Port, User,
 * ProxyJump, IdentityFile, IdentityAgent, UserKnownHostsFile, HostKeyAlias) exactly as the tunnel
 * reads it, so that the checks below look at what the tunnel will use.
 */
export function routeFor(o: DoctorOptions): { route: Route | null; checks: Check[] } {
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
      platform: o.platform as NodeJS.Platform,
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
  // the first hop only: the tunnel ignores (and warns about) a ProxyCommand further on
  const proxy = route.hops[0]?.proxyCommand;
  return {
    route,
    checks: [
      ok(`SSH route to ${o.gateway}: ${chain}${proxy ? `, reached through ProxyCommand: ${proxy}` : ''}`),
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
export function checkKnownHosts(
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
  // a port other than 22 with no `[host]:port` line: OpenSSH falls back to the bare host name
  const bare = hop.hostKeyAlias ? '' : hop.host;
  switch (r.status) {
    case 'known':
      if (r.withoutPort)
        return ok(
          `known_hosts matches ${name}'s host key ${key.type} ${fp} under the bare name ${bare} (${at(r.file, r.line)}): no ${name} line, which ssh accepts too${note}`,
        );
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
      if (r.mismatchWithoutPort)
        return warn(
          `known_hosts has no key for ${name}; it presents ${key.type} ${fp}, and the line for the bare name ${bare} (${at(r.mismatchWithoutPort.file, r.mismatchWithoutPort.line)}) holds another key: unknown, as ssh treats it (another server on port 22 of the same machine?)${note}`,
          addIt,
        );
      return warn(`known_hosts has no key for ${name}; it presents ${key.type} ${fp}${note}`, addIt);
  }
}
