// Stored settings of any version, and settings files, to current settings: each field checked (a bad
// one takes its default with a warning), the steps between versions, import and export. Pure.

import type { Parsed } from './parsed.js';
import { MODES, type Mode } from './protocol.js';
import {
  AUTO_SOCKS_PORT,
  clone,
  DEFAULT_SOCKS_PORT,
  defaultProfile,
  defaultSettings,
  FIELDS,
  isObj,
  PROFILE_FIELDS,
  patternProblems,
  SETTINGS_VERSION,
  type Profile,
  type Settings,
} from './settings.js';
import { checkPatternList } from './tunnel-config.js';

// ---------- migrations ----------

type Obj = Record<string, unknown>;

// A settings file is at most 1 MB, but its warnings are shown in the options page: a long name
// quoted in each of a thousand warnings must not become a gigabyte of text.
const MAX_QUOTE = 60;
const MAX_WARNING = 300;
const MAX_WARNINGS = 50;

function cut(t: string): string {
  return t.length > MAX_QUOTE ? `${t.slice(0, MAX_QUOTE)}…` : t;
}

/** A stored value for a message, cut short: scalars as JSON, a list or an object by its kind only
 * (String or JSON.stringify of one from a file may throw, or overflow the stack when deeply nested). */
function shown(v: unknown): string {
  return cut(
    v !== null && typeof v === 'object' ? (Array.isArray(v) ? 'a list' : 'an object') : (JSON.stringify(v) ?? 'none'),
  );
}

/** User text quoted in a message (a string as is), cut short. */
function quote(v: unknown): string {
  return typeof v === 'string' ? cut(v) : shown(v);
}

/** At most MAX_WARNINGS warnings, each cut to MAX_WARNING characters; the rest are counted. */
function boundWarnings(warnings: string[]): string[] {
  const out = warnings.slice(0, MAX_WARNINGS).map((w) => (w.length > MAX_WARNING ? `${w.slice(0, MAX_WARNING)}…` : w));
  if (warnings.length > MAX_WARNINGS) out.push(`…and ${warnings.length - MAX_WARNINGS} more warnings`);
  return out;
}

/**
 * A clean profile from stored data: a missing field takes its default quietly (an older save), a bad
 * one takes its default with a warning naming it. Bad pattern lines are kept (the options page shows
 * them) and warned about: a bad line never becomes a rule.
 */
function normalizeProfile(raw: Obj, where: string, warnings: string[]): Profile {
  const d = defaultProfile();
  const out = { ...d } as Record<keyof Profile, unknown>;
  for (const field of PROFILE_FIELDS) {
    const v = raw[field];
    if (v === undefined) continue;
    const problem = FIELDS[field].check(v);
    if (problem) warnings.push(`${where}: ${FIELDS[field].label} ${problem}; reset to ${JSON.stringify(d[field])}`);
    else out[field] = clone(v);
  }
  const p = out as unknown as Profile;
  for (const problem of patternProblems(p.patterns))
    warnings.push(`${where}: Patterns ${problem} (ignored until fixed)`);
  return p;
}

/**
 * From version 2 (and 1): the defaults that changed are taken when the stored value is the old
 * default, which cannot be told from a choice: the fixed port 1080 becomes automatic (a port of each
 * browser's own, never one another program holds), and unrestricted destinations become the pattern
 * hosts only.
 */
function upgradeDefaults(raw: Obj, p: Profile): Profile {
  if (raw.socksPort === undefined || raw.socksPort === DEFAULT_SOCKS_PORT) p.socksPort = AUTO_SOCKS_PORT;
  if (raw.restrictToPatterns === undefined || raw.restrictToPatterns === false) p.restrictToPatterns = true;
  return p;
}

/** Version 1: one flat profile, patterns as text, `autoStart`, `idleMinutes`. */
function fromV1(v1: Obj, warnings: string[]): Settings {
  const raw: Obj = {};
  const copy = (from: string, to: keyof Profile) => {
    if (v1[from] !== undefined) raw[to] = v1[from];
  };
  copy('login', 'user');
  copy('gateway', 'gateway');
  copy('port', 'port');
  copy('socksPort', 'socksPort');
  copy('identityFile', 'identityFile');
  if (typeof v1.patterns === 'string')
    raw.patterns = v1.patterns
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
  else if (v1.patterns !== undefined) raw.patterns = v1.patterns;
  if (v1.idleMinutes !== undefined)
    raw.idleTimeoutSec = typeof v1.idleMinutes === 'number' ? Math.round(v1.idleMinutes * 60) : v1.idleMinutes;
  const s = defaultSettings();
  const profile = upgradeDefaults(raw, normalizeProfile(raw, 'Settings', warnings));
  // v1 autoStart = tunnel ready when the browser starts: Auto mode (connects on first use, closes when idle).
  let startupMode: Mode = s.startupMode;
  if (typeof v1.autoStart === 'boolean') startupMode = v1.autoStart ? 'auto' : 'off';
  else if (v1.autoStart !== undefined)
    warnings.push(`Settings: Start automatically must be true or false; reset to true`);
  return { ...s, startupMode, profiles: [profile], activeProfileId: profile.id };
}

/** Versions 2 to 4 share their shape; version 2 still has the old port and restriction defaults. */
function fromV2(v2: Obj, warnings: string[]): Settings {
  const old = v2.version === 2;
  const s = defaultSettings();
  if (!Array.isArray(v2.profiles) || v2.profiles.length === 0) {
    warnings.push('Settings: no profiles found; using the default profile');
    return s;
  }
  const profiles: Profile[] = [];
  const ids = new Set<string>();
  v2.profiles.slice(0, 50).forEach((raw, i) => {
    const where = `Profile ${i + 1}${isObj(raw) && typeof raw.name === 'string' ? ` (${quote(raw.name)})` : ''}`;
    if (!isObj(raw)) {
      warnings.push(`${where}: not a profile; dropped`);
      return;
    }
    const p = normalizeProfile(raw, where, warnings);
    if (old) upgradeDefaults(raw, p);
    if (ids.has(p.id)) {
      let n = 2;
      while (ids.has(`${p.id}-${n}`)) n++;
      warnings.push(`${where}: Profile id “${p.id}” is used twice; renamed ${p.id}-${n}`);
      p.id = `${p.id}-${n}`;
    }
    ids.add(p.id);
    profiles.push(p);
  });
  if (v2.profiles.length > 50) warnings.push(`Settings: only the first 50 of ${v2.profiles.length} profiles were kept`);
  if (profiles.length === 0) return s;
  let startupMode = s.startupMode;
  if (MODES.includes(v2.startupMode as Mode)) startupMode = v2.startupMode as Mode;
  else if (v2.startupMode !== undefined)
    warnings.push(`Settings: Startup mode must be one of ${MODES.join(', ')}; reset to ${s.startupMode}`);
  let activeProfileId = profiles[0]!.id;
  if (typeof v2.activeProfileId === 'string' && ids.has(v2.activeProfileId)) activeProfileId = v2.activeProfileId;
  else if (v2.activeProfileId !== undefined)
    warnings.push(
      `Settings: the active profile “${quote(v2.activeProfileId)}” does not exist; using ${activeProfileId}`,
    );
  const notes = readNewDefaultPatterns(v2.newDefaultPatterns, ids);
  return {
    version: SETTINGS_VERSION,
    activeProfileId,
    startupMode,
    profiles,
    ...(notes ? { newDefaultPatterns: notes } : {}),
  };
}

/** The stored “new default patterns” notes, kept for existing profiles only; anything else dropped. */
function readNewDefaultPatterns(v: unknown, ids: Set<string>): Record<string, string[]> | null {
  if (!isObj(v)) return null;
  const out: Record<string, string[]> = {};
  for (const [id, lines] of Object.entries(v))
    if (ids.has(id) && Array.isArray(lines) && lines.length > 0 && checkPatternList(lines) === null)
      out[id] = lines.slice() as string[];
  return Object.keys(out).length > 0 ? out : null;
}

// ---------- version steps ----------

/** The default pattern list before version 3. */
const V2_DEFAULT_PATTERNS = ['*.grid5000.fr'];
/** What version 3 added to the defaults. */
export const V3_NEW_PATTERNS = ['*.g5k', '172.16.0.0/16'];

function samePatterns(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x.trim().toLowerCase() === b[i]!.toLowerCase());
}

/**
 * Version 2 → 3, Grid'5000 `.g5k` names and node addresses: a profile still on the old default list
 * gets the new entries; a list the user changed is left as it is, and the profile is noted in
 * `newDefaultPatterns` so that the options page can offer the entries it lacks.
 */
export function addG5kNamesAndNodes(s: Settings): Settings {
  const notes: Record<string, string[]> = { ...s.newDefaultPatterns };
  const profiles = s.profiles.map((p) => {
    const have = new Set(p.patterns.map((x) => x.trim().toLowerCase()));
    const missing = V3_NEW_PATTERNS.filter((x) => !have.has(x));
    if (missing.length === 0) return p;
    if (samePatterns(p.patterns, V2_DEFAULT_PATTERNS)) return { ...p, patterns: [...p.patterns, ...missing] };
    notes[p.id] = missing;
    return p;
  });
  const out: Settings = { ...s, profiles };
  if (Object.keys(notes).length > 0) out.newDefaultPatterns = notes;
  return out;
}

/** The steps from each older stored version, applied in order after the settings are read. */
const VERSION_STEPS: { from: number; step: (s: Settings) => Settings }[] = [{ from: 3, step: addG5kNamesAndNodes }];

function stepsFrom(version: number, s: Settings): Settings {
  return VERSION_STEPS.filter((x) => x.from >= version).reduce((acc, x) => x.step(acc), s);
}

/** Current settings made from stored ones, with what could not be used. */
interface MigratedSettings {
  settings: Settings;
  /** The older version converted, or null. */
  migratedFrom: number | null;
  warnings: string[];
}

/**
 * Stored settings of any version → current settings. Never throws: anything unusable becomes its
 * default with a warning (at most MAX_WARNINGS of them, each of bounded length). `migratedFrom` is
 * the older version converted, or null.
 */
export function migrateSettings(stored: unknown): MigratedSettings {
  const r = migrate(stored);
  return { ...r, warnings: boundWarnings(r.warnings) };
}

function migrate(stored: unknown): { settings: Settings; migratedFrom: number | null; warnings: string[] } {
  const warnings: string[] = [];
  if (stored === undefined || stored === null || (isObj(stored) && Object.keys(stored).length === 0))
    return { settings: defaultSettings(), migratedFrom: null, warnings };
  if (!isObj(stored)) {
    warnings.push('Settings: the stored settings are not an object; using defaults');
    return { settings: defaultSettings(), migratedFrom: null, warnings };
  }
  // version 1 becomes the version 2 shape, then every step from version 2 on applies
  if (stored.version === 1) return { settings: stepsFrom(2, fromV1(stored, warnings)), migratedFrom: 1, warnings };
  if (
    Number.isInteger(stored.version) &&
    (stored.version as number) >= 2 &&
    (stored.version as number) < SETTINGS_VERSION
  )
    return {
      settings: stepsFrom(stored.version as number, fromV2(stored, warnings)),
      migratedFrom: stored.version as number,
      warnings,
    };
  if (stored.version === SETTINGS_VERSION) return { settings: fromV2(stored, warnings), migratedFrom: null, warnings };
  if (typeof stored.version === 'number' && stored.version > SETTINGS_VERSION)
    warnings.push(
      `Settings: saved by a newer g5k-tunnel (settings version ${stored.version}); using defaults. Update the extension to get them back`,
    );
  else warnings.push(`Settings: unknown settings version ${shown(stored.version)}; using defaults`);
  return { settings: defaultSettings(), migratedFrom: null, warnings };
}

// ---------- import / export ----------

/** The settings as a file: pretty JSON, the same shape as stored (no secret is ever in settings). */
export function exportSettings(s: Settings): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}

const V1_FIELDS = ['login', 'gateway', 'port', 'socksPort', 'patterns', 'identityFile', 'autoStart', 'idleMinutes'];

/** A settings file (any version up to the current one) → settings. Never throws; an unusable file gives an error to show. */
export function importSettings(text: string): Parsed<MigratedSettings> {
  if (typeof text !== 'string') return { ok: false, error: 'Nothing to import: choose a settings file.' };
  if (text.length > 1_000_000)
    return { ok: false, error: 'This file is too large (over 1 MB) to be g5k-tunnel settings.' };
  const body = text.replace(/^\uFEFF/, '').trim();
  if (body === '') return { ok: false, error: 'This file is empty: choose a file saved with “Export settings”.' };
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (e) {
    return {
      ok: false,
      error: `This file is not valid JSON (${(e as Error).message}): choose a file saved with “Export settings”.`,
    };
  }
  if (!isObj(data) || data.version === undefined)
    return { ok: false, error: 'This is not a g5k-tunnel settings file (no “version” field).' };
  if (typeof data.version === 'number' && data.version > SETTINGS_VERSION)
    return {
      ok: false,
      error: `This file comes from a newer g5k-tunnel (settings version ${data.version}): update the extension first.`,
    };
  if (data.version === 1 && !V1_FIELDS.some((f) => data[f] !== undefined))
    return { ok: false, error: 'This version 1 settings file holds no setting.' };
  const known = data.version === 1 || (Number.isInteger(data.version) && (data.version as number) >= 2);
  if (known && data.version !== 1 && (!Array.isArray(data.profiles) || data.profiles.length === 0))
    return { ok: false, error: 'This settings file holds no profile.' };
  if (!known)
    return { ok: false, error: `Unknown settings version ${shown(data.version)}: this file cannot be imported.` };
  return { ok: true, value: migrateSettings(data) };
}
