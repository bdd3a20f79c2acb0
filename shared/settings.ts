// Settings: the stored shape (versioned, a list of profiles), defaults, the field checks and the
// profile → tunnel config mapping. Pure: no storage API here; the extension reads and writes, this
// module checks. Older versions, import and export: settings-migrate.ts.

import type { Mode } from './protocol.js';
import {
  bool,
  checkPatternList,
  TUNNEL_CONFIG_FIELDS,
  TUNNEL_FIELDS,
  type FieldSpec,
  type TunnelConfig,
} from './tunnel-config.js';
import { parseRules } from './patterns.js';

export const SETTINGS_VERSION = 4;
/**
 * Grid'5000's web names, the `.g5k` names of its SSH guide (the host strips `.g5k`), and the nodes'
 * addresses: 172.16.0.0/16, a /20 per site. Never 172.16.0.0/12: Docker's bridges live in 172.17–172.31.
 */
export const DEFAULT_PATTERNS = ['*.grid5000.fr', '*.g5k', '172.16.0.0/16'];
/** The customary fixed SOCKS port (`ssh -D 1080`): the default of settings version 2 and of `doctor`. */
export const DEFAULT_SOCKS_PORT = 1080;
/** A browser profile's port: 0, a free port chosen by the host each time it starts its listener. */
export const AUTO_SOCKS_PORT = 0;

/**
 * A named set of tunnel settings: the TunnelConfig fields (same meaning, same limits, see
 * shared/tunnel-config), with the host rules kept as `patterns` (`*.grid5000.fr`, `host.example`,
 * `10.0.0.0/8`, `!excluded.grid5000.fr`) and `restrictToPatterns` standing for `restrictTo`.
 */
export interface Profile extends Omit<TunnelConfig, 'restrictTo'> {
  id: string;
  name: string;
  patterns: string[];
  /** Refuse proxy destinations that match none of the patterns (the browser never needs others). */
  restrictToPatterns: boolean;
}

export interface Settings {
  version: typeof SETTINGS_VERSION;
  activeProfileId: string;
  /** Mode the tunnel takes when the browser starts. */
  startupMode: Mode;
  profiles: Profile[];
  /**
   * Per profile id: default patterns that came with an update but that profile's own (modified) list
   * lacks. The options page offers to add them until they are added or the note is dismissed.
   */
  newDefaultPatterns?: Record<string, string[]>;
}

export function defaultProfile(): Profile {
  return {
    id: 'grid5000',
    name: "Grid'5000",
    user: '',
    gateway: 'access.grid5000.fr',
    port: 22,
    jumps: [],
    identityFile: '',
    useAgent: true,
    socksPort: AUTO_SOCKS_PORT,
    patterns: [...DEFAULT_PATTERNS],
    idleTimeoutSec: 600,
    keepaliveIntervalSec: 15,
    keepaliveCountMax: 3,
    connectTimeoutSec: 20,
    strictHostKeyChecking: 'ask',
    knownHostsFile: '',
    restrictToPatterns: true,
    maxConnections: 1,
  };
}

export function defaultSettings(): Settings {
  const profile = defaultProfile();
  return { version: SETTINGS_VERSION, activeProfileId: profile.id, startupMode: 'auto', profiles: [profile] };
}

export function activeProfile(s: Settings): Profile {
  return s.profiles.find((p) => p.id === s.activeProfileId) ?? s.profiles[0] ?? defaultProfile();
}

/** Restricted with no pattern line at all: one comment line, a list that allows nothing. */
const NOTHING_ALLOWED = ['# no pattern: no destination is allowed'];

export function toTunnelConfig(p: Profile): TunnelConfig {
  // restrictTo [] would mean "unrestricted": a restricted profile always sends lines
  const restrictTo = p.restrictToPatterns ? (p.patterns.length ? [...p.patterns] : [...NOTHING_ALLOWED]) : [];
  const c = { restrictTo } as Record<keyof TunnelConfig, unknown>;
  for (const field of TUNNEL_CONFIG_FIELDS) if (field !== 'restrictTo') c[field] = clone(p[field]);
  return c as TunnelConfig;
}

// ---------- validation ----------

const { restrictTo: _restrictTo, ...SHARED_FIELDS } = TUNNEL_FIELDS;

/** The profile's fields: the tunnel's own (one table) and the profile's. */
export const FIELDS: Record<keyof Profile, FieldSpec> = {
  id: {
    label: 'Profile id',
    check: (v) =>
      typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v) ? null : 'must be 1-64 letters, digits, “-” or “_”',
  },
  name: {
    label: 'Profile name',
    check: (v) => (typeof v === 'string' && v.trim() !== '' && v.length <= 64 ? null : 'must be 1-64 characters'),
  },
  ...SHARED_FIELDS,
  patterns: { label: 'Patterns', check: checkPatternList },
  restrictToPatterns: { label: 'Only allow pattern hosts', check: bool },
};

export const PROFILE_FIELDS = Object.keys(FIELDS) as (keyof Profile)[];

/** The user-facing name of a profile field, as the options page labels it. */
export function fieldLabel(field: keyof Profile): string {
  return FIELDS[field].label;
}

/** One message per bad pattern line: `line 3: …`. */
export function patternProblems(patterns: string[]): string[] {
  return parseRules(patterns).errors.map((e) => `line ${e.index + 1}: ${e.message}`);
}

/** What is wrong with each field, keyed by field (for showing next to the input). Empty = valid. */
export function profileFieldErrors(p: unknown): Partial<Record<keyof Profile, string>> {
  const out: Partial<Record<keyof Profile, string>> = {};
  const o = isObj(p) ? p : {};
  for (const field of PROFILE_FIELDS) {
    const problem = FIELDS[field].check(o[field]);
    if (problem) out[field] = problem;
  }
  if (!out.patterns && Array.isArray(o.patterns)) {
    const lines = o.patterns as string[];
    const problems = patternProblems(lines);
    if (problems.length > 0) out.patterns = problems.join('; ');
    else if (!parseRules(lines).rules.some((r) => !r.exclude))
      out.patterns = 'none of them routes a host through the tunnel: add one, e.g. *.grid5000.fr';
  }
  return out;
}

/** Per-field messages for the options page, e.g. `SOCKS port: must be a whole number from 1 to 65535`. */
export function validateProfile(p: unknown): string[] {
  if (!isObj(p)) return ['The profile must be an object'];
  return Object.entries(profileFieldErrors(p)).map(([field, msg]) => `${FIELDS[field as keyof Profile].label}: ${msg}`);
}

export function clone<T>(v: T): T {
  return Array.isArray(v) ? (v.slice() as T) : v;
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
