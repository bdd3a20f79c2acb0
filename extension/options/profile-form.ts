// The options form ⇄ settings. Pure: the page reads its inputs into a ProfileForm and shows the
// per-field errors this returns; checks themselves live in shared/settings (one set of rules).

import { parseDestination } from '../../shared/destination.js';
import { MODES, type Mode } from '../../shared/protocol.js';
import { activeProfile, fieldLabel, profileFieldErrors, type Profile, type Settings } from '../../shared/settings.js';
import { t } from '../i18n/t.js';

/** Every input of the form, as text (checkboxes as booleans). The keys are the inputs' ids. */
export interface ProfileForm {
  user: string;
  gateway: string;
  port: string;
  jumps: string;
  identityFile: string;
  useAgent: boolean;
  knownHostsFile: string;
  socksPort: string;
  patterns: string;
  restrictToPatterns: boolean;
  idleTimeoutSec: string;
  maxConnections: string;
  startupMode: string;
}

export type FormErrors = Partial<Record<keyof ProfileForm, string>>;

export function settingsToForm(s: Settings): ProfileForm {
  const p = activeProfile(s);
  return {
    user: p.user,
    gateway: p.gateway,
    port: String(p.port),
    jumps: p.jumps.join(', '),
    identityFile: p.identityFile,
    useAgent: p.useAgent,
    knownHostsFile: p.knownHostsFile,
    socksPort: String(p.socksPort),
    patterns: p.patterns.join('\n'),
    restrictToPatterns: p.restrictToPatterns,
    idleTimeoutSec: String(p.idleTimeoutSec),
    maxConnections: String(p.maxConnections),
    startupMode: s.startupMode,
  };
}

/** A whole number as typed, else NaN (which the shared check words as “must be a whole number…”). */
function toInt(text: string): number {
  return /^\s*\d{1,9}\s*$/.test(text) ? Number(text) : NaN;
}

/** Pattern lines as typed, blank lines dropped (comments are kept: they document the rules). */
export function patternLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/**
 * The Gateway input read with the destination grammar: `login@host:port` and `ssh://login@host:port`
 * are accepted and fill the Login and Port the way they say, unless those inputs say otherwise.
 * Text the grammar refuses is kept whole, for the settings check to word the problem.
 */
function readGateway(f: ProfileForm): { gateway: string; user: string; port: number; error?: string } {
  // `error` is the whole message, in the UI language
  const text = f.gateway.trim();
  const user = f.user.trim();
  const port = toInt(f.port);
  const parsed = parseDestination(text);
  if (!parsed.ok) return { gateway: text, user, port };
  const d = parsed.value;
  if (d.user !== undefined && user !== '' && user !== d.user)
    return { gateway: text, user, port, error: t('form_gateway_login_conflict', d.user, user) };
  // 22 and 0 are what the Port input holds when nobody chose a port
  if (d.port !== undefined && port !== d.port && port !== 22 && port !== 0 && f.port.trim() !== '')
    return { gateway: text, user, port, error: t('form_gateway_port_conflict', d.port, f.port.trim()) };
  return { gateway: d.host, user: d.user ?? user, port: d.port ?? port };
}

/**
 * The form applied to the active profile of `base`. `errors` is keyed by input id, each message
 * starting with the field's label; the settings are only to be saved when it is empty.
 */
export function formToSettings(f: ProfileForm, base: Settings): { settings: Settings; errors: FormErrors } {
  const current = activeProfile(base);
  const gw = readGateway(f);
  const profile: Profile = {
    ...current,
    user: gw.user,
    gateway: gw.gateway,
    port: gw.port,
    // like ssh -J: comma-separated (spaces and line breaks accepted too)
    jumps: f.jumps.split(/[\s,]+/).filter((j) => j !== ''),
    identityFile: f.identityFile.trim(),
    useAgent: f.useAgent,
    knownHostsFile: f.knownHostsFile.trim(),
    socksPort: toInt(f.socksPort),
    patterns: patternLines(f.patterns),
    restrictToPatterns: f.restrictToPatterns,
    idleTimeoutSec: toInt(f.idleTimeoutSec),
    maxConnections: toInt(f.maxConnections),
  };
  const errors: FormErrors = {};
  const problems = profileFieldErrors(profile);
  for (const key of Object.keys(problems) as (keyof Profile)[]) {
    if (key in f) errors[key as keyof ProfileForm] = `${fieldLabel(key)} ${problems[key]}`;
  }
  if (gw.error) errors.gateway = gw.error;
  let startupMode: Mode = base.startupMode;
  if ((MODES as readonly string[]).includes(f.startupMode)) startupMode = f.startupMode as Mode;
  else errors.startupMode = t('form_startup_mode', MODES.join(', '));
  const profiles = base.profiles.some((p) => p.id === current.id)
    ? base.profiles.map((p) => (p.id === current.id ? profile : p))
    : [profile];
  return { settings: { ...base, activeProfileId: profile.id, startupMode, profiles }, errors };
}
