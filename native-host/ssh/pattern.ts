// OpenSSH's host patterns (match.c), shared by known_hosts and ssh_config: `*` and `?` globs,
// comma-separated lists where a matching `!pattern` vetoes the whole list. Pure.

import { glob } from '../../shared/patterns.js';

/** Glob match with `*` (any run, even empty) and `?` (one character); no other special characters. */
export function matchPattern(s: string, pattern: string): boolean {
  return glob(pattern, s);
}

/**
 * OpenSSH `match_pattern_list`: 1 if some pattern matches and no negated one does, -1 if a negated
 * pattern matches (a veto, wherever it stands), 0 otherwise. `lower` folds both sides to lower case.
 */
export function matchPatternList(s: string, patterns: readonly string[], lower: boolean): 1 | 0 | -1 {
  const subject = lower ? s.toLowerCase() : s;
  let positive = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    let p = negated ? raw.slice(1) : raw;
    if (lower) p = p.toLowerCase();
    if (!matchPattern(subject, p)) continue;
    if (negated) return -1;
    positive = true;
  }
  return positive ? 1 : 0;
}

/** A host name against a comma list (known_hosts host field, `Match host a,b,!c`): case-insensitive. */
export function matchHostList(host: string, list: string): boolean {
  return matchPatternList(host, list.split(','), true) === 1;
}
