// ssh_config(5) as OpenSSH 9 reads it: parse into Host/Match blocks, then resolve one host the way
// `ssh -G` does (first value wins, command-line -o lines first). Pure: files are read by
// ssh-config-files.ts, which also expands Include.

import { createHash } from 'node:crypto';
import { parseJumpList } from '../../shared/destination.js';
import { matchHostList, matchPatternList } from './pattern.js';

export interface SshConfigBlock {
  kind: 'host' | 'match';
  /** Host patterns, or Match criteria and their arguments, as split words. */
  patterns: string[];
  /** Keyword (lower case) and the raw rest of the line (quotes kept; see splitArgs). */
  options: [key: string, value: string][];
  file: string;
  /** Line of the Host/Match keyword; 0 for the lines before the first one. */
  line: number;
  /** Line of each option, parallel to `options`. */
  optionLines?: number[];
  /** Blocks that must apply too: the Host/Match blocks an Include sat in (see ssh-config-files.ts). */
  within?: SshConfigBlock[];
}

export interface SshConfigIssue {
  file: string;
  line: number;
  message: string;
}

export interface SshConfigInclude {
  line: number;
  /** The Include arguments, unexpanded (globs, `~`, relative paths). */
  paths: string[];
}

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

// ---------------------------------------------------------------------------------------------
// Words and values

/** OpenSSH's argv_split: words split on blanks, '…' and "…" quoting, \-escapes, `#` word ends the line. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    let word = '';
    let quote = '';
    for (; i < s.length; i++) {
      const ch = s[i]!;
      const next = s[i + 1];
      if (ch === '\\' && (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' '))) {
        word += next;
        i++;
      } else if (quote === '' && (ch === ' ' || ch === '\t')) {
        break;
      } else if (quote === '' && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (quote !== '' && ch === quote) {
        quote = '';
      } else {
        word += ch;
      }
    }
    if (quote !== '') throw new Error('unbalanced quotes');
    out.push(word);
  }
  return out;
}

/** OpenSSH's convtime: `90`, `1m30s`, `2h` → seconds; null when malformed. */
export function convtime(s: string): number | null {
  if (!/^(\d+[sSmMhHdDwW]?)+$/.test(s)) return null;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  for (const m of s.matchAll(/(\d+)([a-zA-Z]?)/g)) total += Number(m[1]) * (m[2] ? unit[m[2].toLowerCase()]! : 1);
  return Number.isSafeInteger(total) ? total : null;
}

const STRICT: Record<string, HostConfig['strictHostKeyChecking']> = {
  yes: 'yes',
  true: 'yes',
  no: 'no',
  false: 'no',
  off: 'no',
  ask: 'ask',
  'accept-new': 'accept-new',
};
const FLAG: Record<string, boolean> = { yes: true, true: true, no: false, false: false };

const SINGLE_ARG = new Set([
  'hostname',
  'user',
  'port',
  'identityfile',
  'identitiesonly',
  'identityagent',
  'proxyjump',
  'stricthostkeychecking',
  'hostkeyalias',
  'serveraliveinterval',
  'serveralivecountmax',
  'connecttimeout',
  'hashknownhosts',
]);

/** Checks the value of an option this project uses; null if fine (other keywords pass unchecked). */
function checkValue(key: string, args: string[]): string | null {
  if (SINGLE_ARG.has(key) && args.length > 1) return `keyword ${key}: extra arguments at end of line`;
  const a = args[0] ?? '';
  switch (key) {
    case 'port':
      return /^\d{1,5}$/.test(a) && +a >= 1 && +a <= 65535 ? null : `bad port "${a}": use a number from 1 to 65535`;
    case 'stricthostkeychecking':
      return STRICT[a.toLowerCase()] ? null : `StrictHostKeyChecking "${a}": use yes, no, ask or accept-new`;
    case 'identitiesonly':
    case 'hashknownhosts':
      return a.toLowerCase() in FLAG ? null : `${key} "${a}": use yes or no`;
    case 'serveraliveinterval':
      return convtime(a) !== null ? null : `ServerAliveInterval "${a}": use seconds, e.g. 15 or 1m`;
    case 'connecttimeout':
      return a.toLowerCase() === 'none' || convtime(a) !== null ? null : `ConnectTimeout "${a}": use seconds or none`;
    case 'serveralivecountmax':
      return /^\d+$/.test(a) ? null : `ServerAliveCountMax "${a}": use a whole number`;
    case 'proxyjump':
      try {
        parseJumpList(a);
        return null;
      } catch (e) {
        return `ProxyJump: ${(e as Error).message}`;
      }
    default:
      return null;
  }
}

export interface OptionLine {
  key: string;
  /** Raw rest of the line. */
  value: string;
  args: string[];
}

/**
 * One config line → keyword and value (`Key Value`, `Key=Value`, `Key = "quoted value"`).
 * null for blank and comment lines; throws on a malformed line.
 */
export function parseOptionLine(text: string): OptionLine | null {
  const line = text.replace(/[ \t\r\f\n]+$/, '');
  const m = /^[ \t]*([^ \t=]*)[ \t]*(?:=[ \t]*)?(.*)$/.exec(line)!;
  const key = m[1]!.toLowerCase();
  if (key === '' || key.startsWith('#')) return null;
  const value = m[2]!;
  if (value === '') throw new Error(`no argument after keyword "${m[1]}"`);
  let args: string[];
  try {
    args = splitArgs(value);
  } catch {
    throw new Error(`invalid quotes after keyword "${m[1]}"`);
  }
  if (args.length === 0 && key !== 'proxycommand') throw new Error(`no argument after keyword "${m[1]}"`);
  const bad = checkValue(key, args);
  if (bad) throw new Error(bad);
  return { key, value, args };
}

// ---------------------------------------------------------------------------------------------
// Match criteria

const MATCH_WITH_ARG = new Set(['host', 'originalhost', 'user', 'localuser', 'exec', 'localnetwork', 'tagged']);
const MATCH_SUPPORTED = new Set(['all', 'host', 'originalhost', 'user', 'localuser']);

interface Criterion {
  name: string;
  negate: boolean;
  arg?: string;
}

/** Splits Match words into criteria; throws on a malformed line, as OpenSSH refuses it. */
function parseCriteria(words: string[]): Criterion[] {
  if (words.length === 0) throw new Error('Match needs criteria, e.g. "Match host *.grid5000.fr"');
  const out: Criterion[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const negate = w.startsWith('!');
    const name = (negate ? w.slice(1) : w).toLowerCase();
    if (name === 'all' || name === 'canonical' || name === 'final') {
      out.push({ name, negate });
    } else if (MATCH_WITH_ARG.has(name)) {
      const arg = words[++i];
      if (arg === undefined || arg === '') throw new Error(`Match ${name} needs an argument`);
      out.push({ name, negate, arg });
    } else {
      throw new Error(`unknown Match criterion "${w}"`);
    }
  }
  if (out.some((c) => c.name === 'all') && out.some((c) => !['all', 'canonical', 'final'].includes(c.name))) {
    throw new Error("Match 'all' cannot be combined with other criteria");
  }
  return out;
}

function unsupportedCriteria(c: Criterion[]): string[] {
  return c.filter((x) => !MATCH_SUPPORTED.has(x.name)).map((x) => x.name);
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parses one config file's text. Bad lines are reported in `errors` and left out. */
export function parseSshConfig(
  text: string,
  file: string,
): { blocks: SshConfigBlock[]; includes: SshConfigInclude[]; errors: SshConfigIssue[] } {
  const errors: SshConfigIssue[] = [];
  const includes: SshConfigInclude[] = [];
  // Lines before the first Host/Match apply to every host.
  let current: SshConfigBlock = { kind: 'host', patterns: ['*'], options: [], optionLines: [], file, line: 0 };
  const blocks: SshConfigBlock[] = [current];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    let opt: OptionLine | null;
    try {
      opt = parseOptionLine(raw);
    } catch (e) {
      errors.push({ file, line, message: (e as Error).message });
      // A broken Host/Match line still opens a block (that never applies), so that the options
      // below it do not fall into the previous block.
      if (/^[ \t]*(host|match)\b/i.test(raw)) {
        current = {
          kind: /^[ \t]*host/i.test(raw) ? 'host' : 'match',
          patterns: [],
          options: [],
          optionLines: [],
          file,
          line,
        };
        blocks.push(current);
      }
      return;
    }
    if (!opt) return;
    if (opt.key === 'host' || opt.key === 'match') {
      current = { kind: opt.key, patterns: opt.args, options: [], optionLines: [], file, line };
      blocks.push(current);
      if (opt.key === 'host' && opt.args.some((a) => a === '' || a === '!')) {
        errors.push({ file, line, message: 'empty Host pattern' });
        current.patterns = [];
      }
      if (opt.key === 'match') {
        try {
          const unsupported = unsupportedCriteria(parseCriteria(opt.args));
          if (unsupported.length) {
            errors.push({
              file,
              line,
              message: `Match ${unsupported.join(', ')}: not supported, this block never applies`,
            });
          }
        } catch (e) {
          errors.push({ file, line, message: (e as Error).message });
        }
      }
      return;
    }
    if (opt.key === 'include') includes.push({ line, paths: opt.args });
    current.options.push([opt.key, opt.value]);
    current.optionLines!.push(line);
  });
  return { blocks: blocks.filter((b) => b.line !== 0 || b.options.length > 0), includes, errors };
}

// ---------------------------------------------------------------------------------------------
// Resolution

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
export function expandTokens(s: string, tokens: Record<string, string | undefined>, what: string): string {
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
    : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

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
