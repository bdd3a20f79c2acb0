// Grid'5000 address ranges the options page offers to add (off by default), and the pattern-list edits
// behind its checkboxes and its "new default patterns" note. Pure: text in, text out.

import type { Settings } from '../../shared/settings.js';

interface Preset {
  /** The checkbox is `preset-<id>`. */
  id: 'kavlan' | 'ipv6';
  /** Pattern lines, each with a comment saying what it is. */
  lines: string[];
}

/**
 * Grid'5000's routed KaVLAN ranges, one /14 per site (`kavlan_ip_range` and the `kavlans` networks of
 * its reference repository): routed VLANs 4–9 and the site's global VLAN. Never all of 10.0.0.0/8,
 * which home and lab networks use too. Bordeaux has none. Nantes' range is 10.44.0.0/14 as its VLANs
 * say (its `kavlan_ip_range` field repeats Luxembourg's 10.40.0.0/14).
 */
const KAVLAN: [string, string][] = [
  ['10.4.0.0/14', 'Grenoble'],
  ['10.8.0.0/14', 'Lille'],
  ['10.12.0.0/14', 'Lyon'],
  ['10.16.0.0/14', 'Nancy'],
  ['10.24.0.0/14', 'Rennes'],
  ['10.28.0.0/14', 'Toulouse'],
  ['10.32.0.0/14', 'Sophia'],
  ['10.36.0.0/14', 'Strasbourg'],
  ['10.40.0.0/14', 'Luxembourg'],
  ['10.44.0.0/14', 'Nantes'],
  ['10.48.0.0/14', 'Louvain'],
];

export const PRESETS: Preset[] = [
  { id: 'kavlan', lines: KAVLAN.map(([range, site]) => `${range} # KaVLAN ${site}`) },
  { id: 'ipv6', lines: ["2001:660:4406::/48 # Grid'5000 IPv6"] },
];

/** What a line decides: the pattern without its comment, lowercase ('' for blank and comment lines). */
function ruleOf(line: string): string {
  const i = line.indexOf('#');
  return (i >= 0 ? line.slice(0, i) : line).trim().toLowerCase();
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** The `wanted` lines whose pattern the text lacks (comments and case aside). */
export function missingLines(text: string, wanted: string[]): string[] {
  const have = new Set(lines(text).map(ruleOf));
  return wanted.filter((w) => !have.has(ruleOf(w)));
}

/** The text with the missing `wanted` lines appended, one per line. */
export function addLines(text: string, wanted: string[]): string {
  return [...lines(text), ...missingLines(text, wanted)].join('\n');
}

/** The text without the lines whose pattern is one of `unwanted` (however they are commented). */
export function removeLines(text: string, unwanted: string[]): string {
  const drop = new Set(unwanted.map(ruleOf));
  return lines(text)
    .filter((l) => !drop.has(ruleOf(l)))
    .join('\n');
}

/** The entries the note offers for the active profile (those still missing from `text`), or none. */
export function noteEntries(s: Settings, text: string): string[] {
  const noted = s.newDefaultPatterns?.[s.activeProfileId] ?? [];
  return missingLines(text, noted);
}

/** The settings without the active profile's note: once dismissed, or once its entries are all in. */
export function dropNote(s: Settings): Settings {
  const { [s.activeProfileId]: _gone, ...rest } = s.newDefaultPatterns ?? {};
  const { newDefaultPatterns: _all, ...base } = s;
  return Object.keys(rest).length > 0 ? { ...base, newDefaultPatterns: rest } : base;
}

/** The settings to save: the note goes once the active profile's list holds every entry it offered. */
export function settleNote(s: Settings): Settings {
  const profile = s.profiles.find((p) => p.id === s.activeProfileId);
  if (!profile || !s.newDefaultPatterns?.[s.activeProfileId]) return s;
  return noteEntries(s, profile.patterns.join('\n')).length === 0 ? dropNote(s) : s;
}
