// What one tunnel needs (TunnelConfig) and the one table of its fields: the user-facing label and
// the check (with its limits) of each. The protocol validates a `configure` with it, the settings
// derive their profile fields from it, the options page labels its inputs with it. Pure.

import { destinationReason, hostProblem, loginProblem, parseDestination } from './destination.js';

export const HOST_KEY_POLICIES = ['ask', 'accept-new', 'yes', 'no'] as const;
export type HostKeyPolicy = (typeof HOST_KEY_POLICIES)[number];

/** Everything the host needs to run one tunnel. Built from a settings profile (shared/settings). */
export interface TunnelConfig {
  /** Gateway host name or ~/.ssh/config alias, e.g. access.grid5000.fr. */
  gateway: string;
  /** 0 = from ~/.ssh/config, else 22. */
  port: number;
  /** '' = from ~/.ssh/config, else the local user name. */
  user: string;
  /** Jump hosts, outermost first, each `[user@]host[:port]` (like ssh -J). */
  jumps: string[];
  /** '' = ssh-agent, then OpenSSH's default identity files. */
  identityFile: string;
  useAgent: boolean;
  /** The local proxy port; 0 = a free port chosen when the listener opens (status.socks says which). */
  socksPort: number;
  /** Seconds without any open channel before Auto mode closes SSH; 0 = never. */
  idleTimeoutSec: number;
  keepaliveIntervalSec: number;
  keepaliveCountMax: number;
  connectTimeoutSec: number;
  strictHostKeyChecking: HostKeyPolicy;
  /** '' = ~/.ssh/known_hosts. */
  knownHostsFile: string;
  /**
   * Empty: every destination is served. Non-empty: only destinations these rules match; lines that
   * compile to no rule (comments, mistakes) then allow nothing.
   */
  restrictTo: string[];
  /** Maximum SSH connections to spread channels over (1 = one connection, like ssh -D). */
  maxConnections: number;
}

/** A field's check: null when the value is good, else what is wrong (to follow the label). */
type Check = (v: unknown) => string | null;

export interface FieldSpec {
  label: string;
  check: Check;
}

const int =
  (min: number, max: number, unit = ''): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? null
      : `must be a whole number from ${min} to ${max}${unit}`;

export const bool: Check = (v) => (typeof v === 'boolean' ? null : 'must be true or false');

/** The longest pattern list, and pattern line, anything accepts (settings and `restrictTo` alike). */
const MAX_PATTERNS = 1000;
const MAX_PATTERN_LENGTH = 1024;
const MAX_JUMPS = 16;

/** Pattern lines: only their shape (each line's own problem is reported by shared/settings). */
export const checkPatternList: Check = (v) =>
  Array.isArray(v) &&
  v.length <= MAX_PATTERNS &&
  v.every((x) => typeof x === 'string' && x.length <= MAX_PATTERN_LENGTH)
    ? null
    : 'must be a list of patterns, one per line';

function checkPath(v: unknown): string | null {
  if (typeof v !== 'string') return 'must be a file path (or empty)';
  if (v.length > 4096 || /[\0\n\r]/.test(v)) return 'must be a single-line file path';
  return null;
}

/** The gateway alone: a host of shared/destination's grammar, the login and port in their own fields. */
function checkGateway(v: unknown): string | null {
  if (typeof v !== 'string' || v.trim() === '') return 'is required, e.g. access.grid5000.fr';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return 'must be a host name, not a URL, e.g. access.grid5000.fr';
  if (v.includes('@')) return 'must not include the login: put it in the Login field';
  if (/\s/.test(v)) return 'must not contain spaces';
  if (v.split(':').length - 1 === 1) return 'must not include a port: put it in the Port field';
  const problem = hostProblem(v);
  return problem ? `must be a host name or an ~/.ssh/config alias (${problem})` : null;
}

function checkLogin(v: unknown): string | null {
  const what = "must be your Grid'5000 login, or empty to use ~/.ssh/config";
  if (typeof v !== 'string') return what;
  const problem = v === '' ? null : loginProblem(v);
  return problem ? `${what} (${problem})` : null;
}

/** One jump host as ssh -J writes it: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
function jumpProblem(j: string): string | null {
  const d = parseDestination(j);
  if (d.ok) return null;
  // quoted short: a settings file may hold very long lines, and each becomes a warning
  const shown = j.length > 60 ? `${j.slice(0, 60)}…` : j;
  return `“${shown}” must be written [login@]host[:port], e.g. login@access.grid5000.fr (${destinationReason(d.error)})`;
}

function checkJumps(v: unknown): string | null {
  if (!Array.isArray(v) || v.length > MAX_JUMPS || !v.every((x) => typeof x === 'string'))
    return `must be a list of at most ${MAX_JUMPS} hosts`;
  for (const j of v as string[]) {
    const problem = jumpProblem(j);
    if (problem) return problem;
  }
  return null;
}

/** The table: one entry per TunnelConfig field (a missing or extra one is a compile error), in the
 * interface's order, which is the order problems are reported in. */
export const TUNNEL_FIELDS: Record<keyof TunnelConfig, FieldSpec> = {
  gateway: { label: 'Gateway', check: checkGateway },
  port: { label: 'Port', check: int(0, 65535, ' (0 = from ~/.ssh/config, else 22)') },
  user: { label: 'Login', check: checkLogin },
  jumps: { label: 'Jump hosts', check: checkJumps },
  identityFile: { label: 'Identity file', check: checkPath },
  useAgent: { label: 'Use ssh-agent', check: bool },
  socksPort: { label: 'SOCKS port', check: int(0, 65535, ' (0 = automatic)') },
  idleTimeoutSec: { label: 'Idle timeout', check: int(0, 604800, ' seconds (0 = never)') },
  keepaliveIntervalSec: { label: 'Keepalive interval', check: int(0, 3600, ' seconds (0 = off)') },
  keepaliveCountMax: { label: 'Keepalive count', check: int(1, 100) },
  connectTimeoutSec: { label: 'Connect timeout', check: int(1, 600, ' seconds') },
  strictHostKeyChecking: {
    label: 'Host key checking',
    check: (v) =>
      (HOST_KEY_POLICIES as readonly unknown[]).includes(v) ? null : `must be one of ${HOST_KEY_POLICIES.join(', ')}`,
  },
  knownHostsFile: { label: 'Known hosts file', check: checkPath },
  restrictTo: { label: 'Allowed hosts', check: checkPatternList },
  maxConnections: { label: 'SSH connections', check: int(1, 16) },
};

export const TUNNEL_CONFIG_FIELDS = Object.keys(TUNNEL_FIELDS) as (keyof TunnelConfig)[];

/** Checks a TunnelConfig field by field; returns the first problem found, e.g. `config.port must be…`. */
export function checkTunnelConfig(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'config must be an object';
  const o = v as Record<string, unknown>;
  for (const field of TUNNEL_CONFIG_FIELDS) {
    const problem = TUNNEL_FIELDS[field].check(o[field]);
    if (problem) return `config.${field} ${problem}`;
  }
  return null;
}
