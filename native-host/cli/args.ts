// The `g5k-tunnel` command line, parsed the way ssh parses it (getopt clusters like `-ND1080`, option
// arguments attached or separate, options also after the destination, `ssh://user@host:port`), so
// that `g5k-tunnel -N -D 1080 login@access.grid5000.fr` works wherever `ssh -N -D` did. Pure.

import type { TunnelConfig } from '../../shared/protocol.js';
import { defaultProfile } from '../../shared/settings.js';
import {
  destinationReason,
  formatDestination,
  loginProblem,
  parseCommandDestination,
  parseJumpList,
} from '../../shared/destination.js';
import type { Parsed } from '../../shared/parsed.js';
import { TUNNEL_FIELDS } from '../../shared/tunnel-config.js';

const SUBCOMMANDS = ['install', 'uninstall', 'doctor'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export const USAGE = `usage: g5k-tunnel [-Nqv] -D [bind_address:]port [-F configfile] [-i identity_file]
                  [-J destination] [-l login_name] [-o option] [-p port]
                  [--connections n] [--socks-auth-file file] destination
       g5k-tunnel install | uninstall | doctor [options]
       g5k-tunnel --help | --version`;

/** -o keys the command understands (matched without regard to case, as ssh does). */
const SSH_OPTION_KEYS = [
  'Port',
  'User',
  'IdentityFile',
  'IdentitiesOnly',
  'ProxyJump',
  'ProxyCommand',
  'StrictHostKeyChecking',
  'UserKnownHostsFile',
  'ServerAliveInterval',
  'ServerAliveCountMax',
  'ConnectTimeout',
  'BatchMode',
  'HostName',
  'HostKeyAlias',
  'HashKnownHosts',
  'GlobalKnownHostsFile',
  'IdentityAgent',
] as const;

/** Addresses the SOCKS listener may use: other machines must never reach it (by default it has no password). */
const LOOPBACK_BIND = ['127.0.0.1', '::1', 'localhost'];

export interface RunArgs {
  /** Where the SOCKS listener binds (a loopback address). */
  bindAddress: string;
  socksPort: number;
  /** Destination host or ~/.ssh/config alias. */
  host: string;
  /** '' = from the config file or the local user (like ssh). */
  user: string;
  /** 0 = from the config file, else 22. */
  port: number;
  identityFiles: string[];
  jumps: string[];
  configFile: string | null;
  /** `Key=Value` lines from -o, keys in canonical case; they win over everything. */
  sshOptions: string[];
  /** True with -o BatchMode=yes: never ask anything on the terminal. */
  batchMode: boolean;
  verbosity: number;
  quiet: boolean;
  /** Most SSH connections to spread channels over (`--connections`); more open only under load. */
  maxConnections: number;
  /** `--socks-auth-file`: a file whose first line is `user:password` the port then requires; null = open port. */
  socksAuthFile: string | null;
}

type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'subcommand'; name: Subcommand; args: string[] }
  | { kind: 'run'; args: RunArgs };

/** A mistake on the command line: printed (with the usage when `showUsage`), exit status 2. */
export interface UsageProblem {
  message: string;
  showUsage: boolean;
}

type Result<T> = Parsed<T, UsageProblem>;

function mistake(message: string, showUsage = true): UsageProblem {
  return { message, showUsage };
}

const refuse = (message: string, showUsage = true): { ok: false; error: UsageProblem } => ({
  ok: false,
  error: mistake(message, showUsage),
});

const WITH_ARG = new Set(['D', 'p', 'l', 'i', 'J', 'F', 'o']);
/** Flags ssh users pass along with -N -D that change nothing here. */
const NO_OP = new Set(['N', 'T', 'n']);
const REFUSED: Record<string, string> = {
  f: 'g5k-tunnel stays in the foreground; start it with `&`, nohup or a service manager instead of -f',
  L: 'only dynamic forwarding (-D) is supported; point your tools at the SOCKS port instead of -L',
  R: 'remote forwarding (-R) is not supported',
  W: 'stdio forwarding (-W) is not supported',
};

/** The command line (without node and the script): what to do, or the mistake to report. */
export function parseCommandLine(argv: string[]): Result<Command> {
  const done = (value: Command): Result<Command> => ({ ok: true, value });
  const first = argv[0];
  if (first === '--help' || first === '-h' || first === 'help') return done({ kind: 'help' });
  if (first === '--version' || first === '-V') return done({ kind: 'version' });
  if ((SUBCOMMANDS as readonly string[]).includes(first ?? ''))
    return done({ kind: 'subcommand', name: first as Subcommand, args: argv.slice(1) });

  const o: RunArgs = {
    bindAddress: '127.0.0.1',
    socksPort: 0,
    host: '',
    user: '',
    port: 0,
    identityFiles: [],
    jumps: [],
    configFile: null,
    sshOptions: [],
    batchMode: false,
    verbosity: 0,
    quiet: false,
    maxConnections: 1,
    socksAuthFile: null,
  };
  let destination: string | null = null;
  const extra: string[] = [];
  let onlyOperands = false;

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (onlyOperands || a === '-' || !a.startsWith('-')) {
      if (destination === null) destination = a;
      else extra.push(a);
      continue;
    }
    if (a === '--') {
      onlyOperands = true;
      continue;
    }
    if (a.startsWith('--')) {
      if (a === '--help') return done({ kind: 'help' });
      if (a === '--version') return done({ kind: 'version' });
      const m = /^--connections(?:=(.*))?$/.exec(a);
      if (m) {
        const value = m[1] ?? argv[++i];
        const n = value !== undefined && /^\d+$/.test(value) ? Number(value) : Number.NaN;
        // the limit of the settings' "SSH connections" (shared/tunnel-config)
        const problem = TUNNEL_FIELDS.maxConnections.check(n);
        if (problem) return refuse(`--connections takes a ${problem.replace(/^must be a /, '')}`);
        o.maxConnections = n;
        continue;
      }
      const auth = /^--socks-auth-file(?:=(.*))?$/.exec(a);
      if (auth) {
        // a file, not the password itself: a command line is visible to every user in `ps`
        const file = auth[1] ?? argv[++i];
        if (!file) return refuse('--socks-auth-file needs a file holding user:password');
        o.socksAuthFile = file;
        continue;
      }
      return refuse(`unknown option ${a}`);
    }
    for (let j = 1; j < a.length; j++) {
      const f = a[j]!;
      if (WITH_ARG.has(f)) {
        let value = a.slice(j + 1);
        if (value === '') {
          if (i + 1 >= argv.length) return refuse(`option requires an argument -- ${f}`);
          value = argv[++i]!;
        }
        const problem = applyOption(o, f, value);
        if (problem) return { ok: false, error: problem };
        break;
      }
      if (NO_OP.has(f)) continue;
      if (f === 'v') o.verbosity++;
      else if (f === 'q') o.quiet = true;
      else if (f === 'h') return done({ kind: 'help' });
      else if (f === 'V') return done({ kind: 'version' });
      else if (REFUSED[f]) return refuse(REFUSED[f], false);
      else return refuse(`unknown option -- ${f}`);
    }
  }

  if (destination === null) return refuse('no destination given (the gateway, e.g. login@access.grid5000.fr)');
  if (extra.length)
    return refuse(`g5k-tunnel runs no remote command, only the SOCKS forward (unexpected: ${extra.join(' ')})`);
  if (o.socksPort === 0) return refuse('-D [bind_address:]port is required: it is the local SOCKS port to open');
  const problem = applyDestination(o, destination);
  return problem ? { ok: false, error: problem } : done({ kind: 'run', args: o });
}

/** Applies one option with its argument to `o`; the mistake, or null. */
function applyOption(o: RunArgs, flag: string, value: string): UsageProblem | null {
  switch (flag) {
    case 'D': {
      const d = parseDynamic(value);
      if (!d.ok) return d.error;
      o.bindAddress = d.value.bind;
      o.socksPort = d.value.port;
      return null;
    }
    case 'p': {
      const port = parsePort(value, `Bad port '${value}'`);
      if (!port.ok) return port.error;
      o.port = port.value;
      return null;
    }
    case 'l': {
      if (value === '') return mistake('-l needs a login name');
      const problem = loginProblem(value);
      if (problem) return mistake(`Bad login '${value}' (${problem})`, false);
      o.user = value;
      return null;
    }
    case 'i':
      o.identityFiles.push(value);
      return null;
    case 'J': {
      const jumps = parseJumpList(value);
      if (!jumps.ok) return mistake(`Bad jump host in -J ${value}: ${jumps.error}`, false);
      o.jumps = jumps.value.map(formatDestination);
      return null;
    }
    case 'F':
      o.configFile = value;
      return null;
    case 'o': {
      const line = parseSshOption(value);
      if (!line.ok) return line.error;
      if (/^BatchMode=/.test(line.value)) o.batchMode = line.value.endsWith('=yes');
      o.sshOptions.push(line.value);
      return null;
    }
  }
  return null;
}

function parsePort(s: string, message: string): Result<number> {
  if (!/^\d{1,5}$/.test(s)) return refuse(message, false);
  const n = Number(s);
  if (n < 1 || n > 65535) return refuse(message, false);
  return { ok: true, value: n };
}

/** `-D` argument: `port`, `bind:port`, `bind/port` or `[v6]:port`; the bind must be loopback. */
export function parseDynamic(spec: string): Result<{ bind: string; port: number }> {
  const bad = `Bad dynamic forwarding specification '${spec}'`;
  let bind = '127.0.0.1';
  let portText = spec;
  const v6 = /^\[([^\]]*)\][:/](.*)$/.exec(spec);
  if (v6) {
    bind = v6[1]!;
    portText = v6[2]!;
  } else {
    const sep = Math.max(spec.lastIndexOf(':'), spec.lastIndexOf('/'));
    if (sep >= 0) {
      bind = spec.slice(0, sep);
      portText = spec.slice(sep + 1);
    }
  }
  const port = parsePort(portText, bad);
  if (!port.ok) return port;
  if (!LOOPBACK_BIND.includes(bind))
    return refuse(
      `refusing to listen on '${bind || '*'}' (from -D ${spec}): the SOCKS proxy has no password, so it ` +
        `listens on the loopback only; use 127.0.0.1, ::1 or localhost (e.g. -D ${port.value})`,
      false,
    );
  return { ok: true, value: { bind, port: port.value } };
}

const YES_NO = /^(yes|no)$/i;
/** ssh's time format: `30`, `1m30s`, `2h`. */
const TIME = /^(\d+[smhdw]?)+$/i;
const LOWERCASE_VALUES = new Set(['IdentitiesOnly', 'BatchMode', 'StrictHostKeyChecking', 'HashKnownHosts']);
const CHECKS: Record<string, (v: string) => boolean> = {
  Port: (v) => /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535,
  IdentitiesOnly: (v) => YES_NO.test(v),
  BatchMode: (v) => YES_NO.test(v),
  HashKnownHosts: (v) => YES_NO.test(v),
  StrictHostKeyChecking: (v) => /^(yes|no|ask|accept-new|off)$/i.test(v),
  ServerAliveInterval: (v) => TIME.test(v),
  ServerAliveCountMax: (v) => /^\d+$/.test(v) && Number(v) >= 1,
  ConnectTimeout: (v) => TIME.test(v) || /^none$/i.test(v),
};

/** One `-o` argument (`Key=Value` or `Key Value`) → `Key=Value` with the key in canonical case. */
export function parseSshOption(arg: string): Result<string> {
  const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(arg);
  const rawKey = m?.[1] ?? arg.trim().split(/[\s=]/)[0] ?? '';
  const key = SSH_OPTION_KEYS.find((k) => k.toLowerCase() === rawKey.toLowerCase());
  if (!key)
    return refuse(
      `command-line: line 0: Bad configuration option: ${rawKey.toLowerCase()} (supported: ${SSH_OPTION_KEYS.join(', ')})`,
      false,
    );
  // the value travels as written: quotes and several words keep their ssh meaning
  const raw = m?.[2] ?? '';
  const value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (value === '') return refuse(`command-line: line 0: Missing argument for ${key}.`, false);
  const check = CHECKS[key];
  if (check && !check(value)) return refuse(`command-line: line 0: Bad value for ${key}: ${value}`, false);
  return { ok: true, value: `${key}=${LOWERCASE_VALUES.has(key) ? value.toLowerCase() : raw}` };
}

/** `[user@]host` or `ssh://[user@]host[:port]` (shared/destination); -l and -p win over what it says. */
function applyDestination(o: RunArgs, dest: string): UsageProblem | null {
  const d = parseCommandDestination(dest);
  if (!d.ok) return mistake(`Bad destination '${dest}' (${destinationReason(d.error)})`, false);
  o.host = d.value.host;
  if (!o.user) o.user = d.value.user ?? '';
  if (!o.port) o.port = d.value.port ?? 0;
  return null;
}

/** The tunnel settings the parsed command asks for (mode On, the rest from ssh's defaults). */
export function commandTunnelConfig(a: RunArgs): TunnelConfig {
  const d = defaultProfile();
  return {
    gateway: a.host,
    port: a.port,
    user: a.user,
    jumps: [...a.jumps],
    // like -i; further -i files travel as IdentityFile lines (see sshOptionsFor)
    identityFile: a.identityFiles[0] ?? '',
    useAgent: true,
    socksPort: a.socksPort,
    idleTimeoutSec: 0,
    keepaliveIntervalSec: d.keepaliveIntervalSec,
    keepaliveCountMax: d.keepaliveCountMax,
    connectTimeoutSec: d.connectTimeoutSec,
    strictHostKeyChecking: 'ask',
    knownHostsFile: '',
    restrictTo: [],
    maxConnections: a.maxConnections,
  };
}

/** The -o lines for the tunnel: the user's, then the -i files after the first (ssh tries them all). */
export function sshOptionsFor(a: RunArgs): string[] {
  const quote = (f: string) => (/[\s"\\]/.test(f) ? `"${f.replace(/(["\\])/g, '\\$1')}"` : f);
  return [...a.sshOptions, ...a.identityFiles.slice(1).map((f) => `IdentityFile=${quote(f)}`)];
}
