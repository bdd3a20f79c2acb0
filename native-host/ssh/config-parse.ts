// ssh_config(5) as OpenSSH 9 reads it: lines into Host/Match blocks, each value checked as ssh
// checks it. Pure: files are read by config-files.ts (which also expands Include); one host's
// effective options are worked out by config-resolve.ts.

import { parseJumpList } from '../../shared/destination.js';
import type { HostKeyPolicy } from '../../shared/tunnel-config.js';

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

interface SshConfigInclude {
  line: number;
  /** The Include arguments, unexpanded (globs, `~`, relative paths). */
  paths: string[];
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

export const STRICT: Record<string, HostKeyPolicy> = {
  yes: 'yes',
  true: 'yes',
  no: 'no',
  false: 'no',
  off: 'no',
  ask: 'ask',
  'accept-new': 'accept-new',
};
export const FLAG: Record<string, boolean> = { yes: true, true: true, no: false, false: false };

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
    case 'proxyjump': {
      const jumps = parseJumpList(a);
      return jumps.ok ? null : `ProxyJump: ${jumps.error}`;
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

export interface Criterion {
  name: string;
  negate: boolean;
  arg?: string;
}

/** Splits Match words into criteria; throws on a malformed line, as OpenSSH refuses it. */
export function parseCriteria(words: string[]): Criterion[] {
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

export function unsupportedCriteria(c: Criterion[]): string[] {
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
