// OpenSSH's host patterns (match.c), shared by known_hosts and ssh_config: `*` and `?` globs,
// comma-separated lists where a matching `!pattern` vetoes the whole list. Pure.

/** Glob match with `*` (any run, even empty) and `?` (one character); no other special characters. */
export function matchPattern(s: string, pattern: string): boolean {
  // Greedy two-pointer walk with one backtrack point: linear-ish, and no regex built from
  // user text (a pattern like `*a*a*a*b` cannot blow up).
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const pc = pattern[pi];
    if (pc === '*') {
      starP = pi++;
      starS = si;
    } else if (pc !== undefined && (pc === '?' || pc === s[si])) {
      si++;
      pi++;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pattern[pi] === '*') pi++;
  return pi === pattern.length;
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
