// One host's effective options from parsed ssh_config blocks, the way `ssh -G` works them out
// (first value wins, command-line -o lines first, Match criteria, %-tokens and ~). Pure: the
// blocks come from config-parse.ts.

import { createHash } from 'node:crypto';
import {
  convtime,
  FLAG,
  parseCriteria,
  parseOptionLine,
  splitArgs,
  STRICT,
  unsupportedCriteria,
  type Criterion,
  type OptionLine,
  type SshConfigBlock,
} from './config-parse.js';
import { matchHostList, matchPatternList } from './pattern.js';
import { systemKnownHostsFiles } from './known-hosts-store.js';

export interface HostConfig {
  hostName: string;
  port?: number;
  user?: string;
  identityFiles: string[];
  identitiesOnly?: boolean;
  identityAgent?: string;
  proxyJump?: string;
  proxyCommand?: string;
  strictHostKeyChecking?: 'ask' | 'accept-new' | 'yes' | 'no';
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  hostKeyAlias?: string;
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  connectTimeout?: number;
  hashKnownHosts?: boolean;
  /** The host as given, before HostName. */
  originalHost: string;
  /** False when no IdentityFile applied and identityFiles holds OpenSSH's default key paths. */
  identityFilesFromConfig: boolean;
  /** Things the resolver skipped: unexpanded Include lines (unsupported Match criteria are parse errors). */
  warnings: string[];
}

export interface ResolveContext {
  localUser: string;
  home: string;
  /** Local host name, for %l, %L and %C. */
  localHost?: string;
  /** Local uid, for %i. */
  uid?: number;
  /** `-o` lines, applied before the files (so they win). */
  overrides?: string[];
}

interface Setting {
  value: string;
  args: string[];
  where: string;
}

/** First-wins store of option values, with OpenSSH's special cases. */
class Collected {
  readonly values = new Map<string, Setting>();
  readonly identityFiles: Setting[] = [];
  readonly warnings: string[] = [];

  apply(key: string, value: string, where: string): void {
    const args = splitArgs(value);
    const s: Setting = { value, args, where };
    if (key === 'identityfile') {
      // OpenSSH keeps every IdentityFile, in order, skipping exact duplicates.
      if (!this.identityFiles.some((f) => f.args[0] === args[0])) this.identityFiles.push(s);
      return;
    }
    if (key === 'include') {
      this.warnings.push(`${where}: Include not expanded (load the configuration with loadSshConfig)`);
      return;
    }
    // ProxyJump and ProxyCommand exclude each other: whichever comes first wins, except that
    // `ProxyJump none` leaves room for a later ProxyCommand (as OpenSSH 9 resolves it).
    if (key === 'proxyjump' && this.values.has('proxycommand')) return;
    if (key === 'proxycommand' && this.values.has('proxyjump') && this.arg('proxyjump')!.toLowerCase() !== 'none')
      return;
    if (!this.values.has(key)) this.values.set(key, s);
  }

  arg(key: string): string | undefined {
    return this.values.get(key)?.args[0];
  }
}

function where(b: SshConfigBlock, i: number): string {
  return `${b.file} line ${b.optionLines?.[i] ?? b.line}`;
}

/** %-tokens: each letter from `tokens`; an unknown one is an error, as in OpenSSH. */
function expandTokens(s: string, tokens: Record<string, string | undefined>, what: string): string {
  return s.replace(/%(.?)/g, (_, k: string) => {
    if (k === '%') return '%';
    const v = tokens[k];
    if (k === '' || v === undefined) throw new Error(`${what}: unknown or unavailable token "%${k}" in "${s}"`);
    return v;
  });
}

function expandTilde(p: string, ctx: ResolveContext, what: string): string {
  if (p === '~') return ctx.home;
  if (p.startsWith('~/')) return ctx.home + p.slice(1);
  const m = /^~([^/]+)(\/.*)?$/.exec(p);
  if (m) {
    if (m[1] === ctx.localUser) return ctx.home + (m[2] ?? '');
    throw new Error(`${what}: "~${m[1]}" (another user's home) is not supported; write the full path`);
  }
  return p;
}

function blockMatches(b: SshConfigBlock, host: string, st: Collected, ctx: ResolveContext): boolean {
  // Host: each word is one glob against the host as typed (case-sensitive); a matching !word vetoes.
  if (b.kind === 'host') return matchPatternList(host, b.patterns, false) === 1;
  let criteria: Criterion[];
  try {
    criteria = parseCriteria(b.patterns);
  } catch {
    return false; // reported when parsed
  }
  if (unsupportedCriteria(criteria).length) return false; // likewise
  // As OpenSSH: Match host sees HostName as set so far (with %h), Match user the User so far.
  const hn = st.values.get('hostname');
  const matchHost = hn ? expandTokens(hn.args[0]!, { h: host }, `${hn.where} (HostName)`) : host;
  const user = st.arg('user') ?? ctx.localUser;
  return criteria.every((c) => {
    let hit: boolean;
    switch (c.name) {
      case 'all':
        hit = true;
        break;
      case 'host':
        hit = matchHostList(matchHost, c.arg!);
        break;
      case 'originalhost':
        hit = matchHostList(host, c.arg!);
        break;
      case 'user':
        hit = matchPatternList(user, c.arg!.split(','), false) === 1;
        break;
      default: // localuser
        hit = matchPatternList(ctx.localUser, c.arg!.split(','), false) === 1;
    }
    return hit !== c.negate;
  });
}

const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];

/**
 * Resolves the configuration for `host` like `ssh -G`: `-o` overrides first, then the blocks in
 * order, first value wins. Throws on a bad `-o` line or a bad %-token, as ssh refuses them.
 */
export function resolveHostConfig(blocks: SshConfigBlock[], host: string, ctx: ResolveContext): HostConfig {
  const st = new Collected();
  for (const line of ctx.overrides ?? []) {
    let opt: OptionLine | null;
    try {
      opt = parseOptionLine(line);
    } catch (e) {
      throw new Error(`-o "${line}": ${(e as Error).message}`);
    }
    if (!opt) continue;
    if (opt.key === 'host' || opt.key === 'match' || opt.key === 'include') {
      throw new Error(`-o "${line}": ${opt.key} is not allowed on the command line`);
    }
    st.apply(opt.key, opt.value, `-o "${line}"`);
  }

  const active = new Map<SshConfigBlock, boolean>();
  const isActive = (b: SshConfigBlock): boolean => {
    let a = active.get(b);
    if (a === undefined) {
      a = (b.within ?? []).every(isActive) && blockMatches(b, host, st, ctx);
      active.set(b, a);
    }
    return a;
  };
  for (const b of blocks) {
    if (!isActive(b)) continue;
    b.options.forEach(([k, v], i) => st.apply(k, v, where(b, i)));
  }
  return finish(st, host, ctx);
}

function finish(st: Collected, host: string, ctx: ResolveContext): HostConfig {
  const hn = st.values.get('hostname');
  const hostName = (hn ? expandTokens(hn.args[0]!, { h: host }, `${hn.where} (HostName)`) : host).toLowerCase();
  const portRaw = st.arg('port');
  const port = portRaw !== undefined ? Number(portRaw) : undefined;
  const user = st.arg('user');
  const hostKeyAlias = st.arg('hostkeyalias')?.toLowerCase();

  const l = ctx.localHost;
  const r = user ?? ctx.localUser;
  const p = String(port ?? 22);
  const tokens: Record<string, string | undefined> = {
    h: hostName,
    p,
    r,
    u: ctx.localUser,
    n: host,
    k: hostKeyAlias ?? host,
    d: ctx.home,
    i: ctx.uid !== undefined ? String(ctx.uid) : undefined,
    l,
    L: l?.split('.')[0],
    C: l !== undefined ? createHash('sha1').update(`${l}${hostName}${p}${r}`).digest('hex') : undefined,
  };
  const path = (s: string, what: string) => expandTokens(expandTilde(s, ctx, what), tokens, what);

  const identityFiles = st.identityFiles.map((f) => path(f.args[0]!, f.where));
  const fromConfig = identityFiles.length > 0;
  if (!fromConfig) identityFiles.push(...DEFAULT_IDENTITIES.map((n) => `${ctx.home}/.ssh/${n}`));

  const userKh = st.values.get('userknownhostsfile');
  const userKnownHostsFiles = userKh
    ? userKh.args.filter((a) => a.toLowerCase() !== 'none').map((a) => path(a, userKh.where))
    : [`${ctx.home}/.ssh/known_hosts`, `${ctx.home}/.ssh/known_hosts2`];
  // OpenSSH expands neither ~ nor tokens in GlobalKnownHostsFile.
  const globalKh = st.values.get('globalknownhostsfile');
  const globalKnownHostsFiles = globalKh
    ? globalKh.args.filter((a) => a.toLowerCase() !== 'none')
    : systemKnownHostsFiles();

  const agent = st.values.get('identityagent');
  let identityAgent: string | undefined;
  if (agent) {
    const a = agent.args[0]!;
    // 'none', 'SSH_AUTH_SOCK' and $VARIABLE are names, not paths: the caller interprets them.
    identityAgent = a === 'none' || a === 'SSH_AUTH_SOCK' || a.startsWith('$') ? a : path(a, agent.where);
  }

  const jump = st.arg('proxyjump');
  const command = st.values.get('proxycommand')?.value.replace(/^[ \t=]+/, '');
  const time = (k: string) => {
    const v = st.arg(k);
    return v === undefined || v.toLowerCase() === 'none' ? undefined : convtime(v)!;
  };
  const flag = (k: string) => {
    const v = st.arg(k);
    return v === undefined ? undefined : FLAG[v.toLowerCase()];
  };
  const strict = st.arg('stricthostkeychecking');
  const countMax = st.arg('serveralivecountmax');

  const cfg: HostConfig = {
    hostName,
    identityFiles,
    userKnownHostsFiles,
    globalKnownHostsFiles,
    originalHost: host,
    identityFilesFromConfig: fromConfig,
    warnings: st.warnings,
  };
  if (port !== undefined) cfg.port = port;
  if (user !== undefined) cfg.user = user;
  if (flag('identitiesonly') !== undefined) cfg.identitiesOnly = flag('identitiesonly')!;
  if (identityAgent !== undefined) cfg.identityAgent = identityAgent;
  if (jump !== undefined && jump.toLowerCase() !== 'none') cfg.proxyJump = jump;
  if (command !== undefined && command !== '' && command.toLowerCase() !== 'none') cfg.proxyCommand = command;
  if (strict !== undefined) cfg.strictHostKeyChecking = STRICT[strict.toLowerCase()]!;
  if (hostKeyAlias !== undefined) cfg.hostKeyAlias = hostKeyAlias;
  if (time('serveraliveinterval') !== undefined) cfg.serverAliveInterval = time('serveraliveinterval')!;
  if (countMax !== undefined) cfg.serverAliveCountMax = Number(countMax);
  if (time('connecttimeout') !== undefined) cfg.connectTimeout = time('connecttimeout')!;
  if (flag('hashknownhosts') !== undefined) cfg.hashKnownHosts = flag('hashknownhosts')!;
  return cfg;
}

/** ProxyCommand with its tokens (%h %p %r %n %%) filled in, ready for `sh -c`. */
export function expandProxyCommand(cfg: HostConfig, localUser: string): string | undefined {
  if (!cfg.proxyCommand) return undefined;
  return expandTokens(
    cfg.proxyCommand,
    { h: cfg.hostName, p: String(cfg.port ?? 22), r: cfg.user ?? localUser, n: cfg.originalHost },
    'ProxyCommand',
  );
}
