// Host rules: which hosts go through the tunnel. One language for the Firefox request listener, the
// Chromium PAC script and the SOCKS server's restriction, so the three always agree.
// Pure: never resolves a name (address ranges apply to IP literals only). See docs/PATTERNS.md.

import { gatewayName } from './g5k-names.js';

export interface Rule {
  /** The pattern as written (trimmed, comment removed), `!` included. */
  raw: string;
  exclude: boolean;
  kind: 'host' | 'cidr';
  /** host: lowercase glob; cidr: `address/prefix` (a bare address becomes /32 or /128). */
  pattern: string;
  /** cidr only: the network as 16-bit parts (2 for IPv4, 8 for IPv6). */
  net?: number[];
  /** cidr only: prefix length in bits. */
  prefix?: number;
}

interface RuleError {
  /** Index of the line in the input. */
  index: number;
  raw: string;
  /** What is wrong and what is expected. */
  message: string;
}

const MAX_PATTERN = 253;

// ---------- IP literals (hand-written; the PAC script carries the same logic) ----------

/** Dotted-decimal IPv4 as two 16-bit parts; only the canonical form browsers produce (no leading zeros). */
export function parseIPv4(s: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b: number[] = [];
  for (let i = 1; i <= 4; i++) {
    const t = m[i]!;
    if (t.length > 1 && t.charAt(0) === '0') return null;
    const n = Number(t);
    if (n > 255) return null;
    b.push(n);
  }
  return [b[0]! * 256 + b[1]!, b[2]! * 256 + b[3]!];
}

/** IPv6 (with `::` and an optional dotted IPv4 tail) as eight 16-bit parts. No brackets, no zone. */
export function parseIPv6(s: string): number[] | null {
  if (s.indexOf('.') >= 0) {
    // Rewrite the IPv4 tail as two hex groups, then parse as usual.
    const c = s.lastIndexOf(':');
    if (c < 0) return null;
    const v4 = parseIPv4(s.slice(c + 1));
    if (!v4) return null;
    s = `${s.slice(0, c + 1) + v4[0]!.toString(16)}:${v4[1]!.toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length < 2 || halves[1] === '' ? [] : halves[1]!.split(':');
  const groups = head.concat(tail);
  for (const g of groups) if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
  if (halves.length === 1 ? groups.length !== 8 : groups.length > 7) return null;
  const out: number[] = [];
  for (const g of head) out.push(parseInt(g, 16));
  while (out.length + tail.length < 8) out.push(0);
  for (const g of tail) out.push(parseInt(g, 16));
  return out;
}

/** An IP literal as 16-bit parts (2 = IPv4, 8 = IPv6), or null for a name. */
function parseIP(host: string): number[] | null {
  return host.indexOf(':') >= 0 ? parseIPv6(host) : parseIPv4(host);
}

function inNet(addr: number[], net: number[], prefix: number): boolean {
  if (addr.length !== net.length) return false;
  for (let i = 0; i < net.length; i++) {
    const bits = Math.min(16, prefix - 16 * i);
    if (bits <= 0) break;
    const mask = (0xffff << (16 - bits)) & 0xffff;
    if ((addr[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

function maskNet(net: number[], prefix: number): number[] {
  return net.map((p, i) => {
    const bits = Math.max(0, Math.min(16, prefix - 16 * i));
    return p & ((0xffff << (16 - bits)) & 0xffff);
  });
}

function formatIP(parts: number[]): string {
  if (parts.length === 2) return [parts[0]! >> 8, parts[0]! & 255, parts[1]! >> 8, parts[1]! & 255].join('.');
  // RFC 5952: compress the longest run (2+ groups) of zeros.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && parts[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = parts.map((p) => p.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

// ---------- host names ----------

/** The form every matcher compares: lowercase, no IPv6 brackets, no trailing dot. */
function normalizeHost(host: string): string {
  let h = String(host).toLowerCase();
  if (h.charAt(0) === '[' && h.charAt(h.length - 1) === ']') h = h.slice(1, -1);
  if (h.charAt(h.length - 1) === '.') h = h.slice(0, -1);
  return h;
}

/**
 * `*` = any run of characters (dots included), `?` = exactly one, case-sensitive. One backtrack
 * point and no regular expression built from user text, so no pattern can blow up.
 */
export function glob(p: string, s: string): boolean {
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p.charAt(pi) === '?' || p.charAt(pi) === s.charAt(si))) {
      pi++;
      si++;
    } else if (pi < p.length && p.charAt(pi) === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < p.length && p.charAt(pi) === '*') pi++;
  return pi === p.length;
}

/** `*.example.org` also matches `example.org` itself (see docs/PATTERNS.md). */
function hostMatches(pattern: string, host: string): boolean {
  return glob(pattern, host) || (pattern.slice(0, 2) === '*.' && host === pattern.slice(2));
}

function ruleMatches(r: Rule, host: string, ip: number[] | null): boolean {
  if (r.kind === 'cidr') return ip !== null && inNet(ip, r.net!, r.prefix!);
  return hostMatches(r.pattern, host);
}

// ---------- parsing ----------

/** Strips a trailing `# comment` (`#` never occurs in a host) and surrounding space. */
function stripComment(line: string): string {
  const i = line.indexOf('#');
  return (i >= 0 ? line.slice(0, i) : line).trim();
}

/** The host part of `scheme://user@host:port/path`, as written (brackets kept). */
function authorityHost(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\\]*)/i.exec(url);
  if (!m) return null;
  let auth = m[1]!;
  const at = auth.lastIndexOf('@');
  if (at >= 0) auth = auth.slice(at + 1);
  if (auth.charAt(0) === '[') {
    const end = auth.indexOf(']');
    return end < 0 ? null : auth.slice(0, end + 1);
  }
  const colon = auth.indexOf(':');
  return colon >= 0 ? auth.slice(0, colon) : auth;
}

function parseCidr(body: string): { net: number[]; prefix: number; pattern: string } | string {
  const slash = body.indexOf('/');
  let addrText = body.slice(0, slash);
  const lenText = body.slice(slash + 1);
  if (addrText.charAt(0) === '[' && addrText.charAt(addrText.length - 1) === ']') addrText = addrText.slice(1, -1);
  if (!/^\d{1,3}$/.test(lenText))
    return `“${body}”: a prefix length is expected after “/”, e.g. 10.0.0.0/8 or fd00::/8`;
  const net = parseIP(addrText);
  if (!net) return `“${addrText}” is not an IP address: an address range needs one, e.g. 10.0.0.0/8 or fd00::/8`;
  const max = net.length * 16;
  const prefix = Number(lenText);
  if (prefix > max) return `“${body}”: the prefix length must be 0-${max} for an IPv${net.length === 2 ? 4 : 6} range`;
  const masked = maskNet(net, prefix);
  if (masked.some((p, i) => p !== net[i]))
    return `“${body}” has bits set past the /${prefix} prefix: did you mean ${formatIP(masked)}/${prefix}?`;
  return { net, prefix, pattern: `${addrText}/${prefix}` };
}

const PORT_HINT = 'a rule covers every port of its hosts, so write the host alone';

/** Compiles one pattern (no comment, not blank) into a rule, or explains what is wrong. */
function compile(text: string): Rule | string {
  const raw = text;
  let body = text;
  const exclude = body.charAt(0) === '!';
  if (exclude) body = body.slice(1).trim();
  if (body === '') return '“!” alone excludes nothing: write the host after it, e.g. !www.grid5000.fr';
  if (body.indexOf('!') >= 0) return '“!” goes only at the start of a pattern, e.g. !www.grid5000.fr';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(body)) {
    const host = authorityHost(body);
    const example = host ? `, e.g. ${normalizeHost(host)}` : '';
    return `This is a URL: write only the host name${example} (patterns match hosts, not URLs)`;
  }
  if (/\s/.test(body)) return `“${body}” contains a space: write one pattern per line`;
  if (body.length > MAX_PATTERN) return `The pattern is too long (over ${MAX_PATTERN} characters)`;

  const slash = body.indexOf('/');
  if (slash >= 0) {
    const before = body.slice(0, slash);
    if (/^\d*$/.test(body.slice(slash + 1)) && /^[0-9a-f.:[\]]+$/i.test(before) && /[.:]/.test(before)) {
      const c = parseCidr(body.toLowerCase());
      if (typeof c === 'string') return c;
      return { raw, exclude, kind: 'cidr', pattern: c.pattern, net: c.net, prefix: c.prefix };
    }
    const hostOnly = before.replace(/:\d*$/, '') || 'host.example';
    return `“${body}” has a path: patterns match host names only, write “${hostOnly}”`;
  }

  let host = body.toLowerCase();
  // `*.` would otherwise lose its dot below and become `*`, which matches every host
  if (/^\*+\.$/.test(host)) return '*. needs a domain after it, e.g. *.grid5000.fr';
  if (host.length > 1 && host.charAt(host.length - 1) === '.') host = host.slice(0, -1); // `a.example.` = `a.example`
  if (host.charAt(0) === '[') {
    const m = /^\[([^\]]*)\](.*)$/.exec(host);
    if (m && /^:\d+$/.test(m[2]!)) return `Ports are not part of patterns: ${PORT_HINT} ([${m[1]}])`;
    if (m?.[2] !== '' || !parseIPv6(m[1]!)) return `“${body}” is not a valid IPv6 address, e.g. [fd00::1]`;
    host = m[1]!;
  }
  if (host.indexOf(':') >= 0) {
    const v6 = parseIPv6(host);
    if (v6) return { raw, exclude, kind: 'cidr', pattern: `${host}/128`, net: v6, prefix: 128 };
    const m = /^([^:]+):(\d*|\*)$/.exec(host);
    if (m) return `Ports are not part of patterns: ${PORT_HINT} (${m[1]})`;
    return `“${body}” is not a valid IPv6 address (a host name has no “:”)`;
  }
  const v4 = parseIPv4(host);
  if (v4) return { raw, exclude, kind: 'cidr', pattern: `${host}/32`, net: v4, prefix: 32 };
  if (/^[\d.]+$/.test(host)) return `“${body}” is not a valid IPv4 address: four numbers 0-255, e.g. 10.0.0.1`;

  const bad = /[^a-z0-9*?._-]/.exec(host);
  if (bad) {
    if (bad[0].charCodeAt(0) > 127)
      return `“${body}” has non-ASCII characters: write the name in its xn-- form, as the address bar shows it`;
    return `“${bad[0]}” cannot appear in a host pattern: use letters, digits, “-”, “.”, and the wildcards “*” and “?”`;
  }
  if (host === '.' || host.indexOf('..') >= 0) return `“${body}” has an empty label (“..”): check the dots`;
  if (host.charAt(0) === '.') return `“${body}” starts with a dot: write *${host} for the domain and its subdomains`;
  host = host.replace(/\*+/g, '*');
  return { raw, exclude, kind: 'host', pattern: host };
}

/** Compiles pattern lines. Blank lines and `#` comments are ignored; bad lines are reported, not kept. */
export function parseRules(lines: string[]): { rules: Rule[]; errors: RuleError[] } {
  const rules: Rule[] = [];
  const errors: RuleError[] = [];
  lines.forEach((line, index) => {
    const text = stripComment(String(line));
    if (text === '') return;
    const r = compile(text);
    if (typeof r === 'string') errors.push({ index, raw: text, message: r });
    else rules.push(r);
  });
  return { rules, errors };
}

/** null when `raw` is a valid pattern line (blank lines and comments are valid: they are ignored). */
export function validatePattern(raw: string): string | null {
  const text = stripComment(String(raw));
  if (text === '') return null;
  const r = compile(text);
  return typeof r === 'string' ? r : null;
}

/**
 * True for an include rule that catches every host rather than a domain: an address range of prefix
 * 0 (`0.0.0.0/0`, `::/0`), or a host pattern made only of wildcards and dots (`*`, `*.*`, `?*`): every site
 * would then go through Grid'5000. Such a rule is valid (it may be meant); callers warn about it.
 */
export function isCatchAll(r: Rule): boolean {
  if (r.exclude) return false;
  if (r.kind === 'cidr') return r.prefix === 0;
  return r.pattern.indexOf('*') >= 0 && /^[*?.]+$/.test(r.pattern);
}

/** The lines (as written, comment removed) whose rule catches every host; bad lines are not listed. */
export function catchAllLines(lines: string[]): string[] {
  return parseRules(lines)
    .rules.filter(isCatchAll)
    .map((r) => r.raw);
}

// ---------- matching ----------

/** True = through the tunnel: the host matches an include rule and no exclude rule. */
export function matchHost(rules: Rule[], host: string): boolean {
  const h = normalizeHost(host);
  if (h === '') return false;
  const ip = parseIP(h);
  return (
    rules.some((r) => !r.exclude && ruleMatches(r, h, ip)) && !rules.some((r) => r.exclude && ruleMatches(r, h, ip))
  );
}

/** The normalized host of a URL with an authority (`http://…`, `ws://…`), or null (`about:`, `data:`…). */
export function hostOfUrl(url: string): string | null {
  const h = authorityHost(String(url));
  if (h === null) return null;
  const n = normalizeHost(h);
  return n === '' ? null : n;
}

export function matchUrl(rules: Rule[], url: string): boolean {
  const host = hostOfUrl(url);
  return host !== null && matchHost(rules, host);
}

/** Host of what someone typed in the tester: a URL, `host`, `host:port`, `[v6]:port`, a bare IPv6. */
function hostOfInput(input: string): string | null {
  const s = input.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return hostOfUrl(s);
  let h = s.split(/[/?#]/)[0]!;
  const at = h.lastIndexOf('@');
  if (at >= 0) h = h.slice(at + 1);
  if (h.charAt(0) === '[') h = h.slice(0, h.indexOf(']') + 1 || undefined);
  else if (h.split(':').length === 2) h = h.slice(0, h.indexOf(':'));
  h = normalizeHost(h);
  return h === '' ? null : h;
}

/** Why a URL or host is (not) proxied, in words for the options page tester. */
export function explainMatch(rules: Rule[], urlOrHost: string): { proxied: boolean; rule?: string; reason: string } {
  const host = hostOfInput(String(urlOrHost));
  if (host === null)
    return { proxied: false, reason: 'Type a host name or a URL, e.g. http://graphite-3.nancy.grid5000.fr:8888/' };
  const ip = parseIP(host);
  const include = rules.find((r) => !r.exclude && ruleMatches(r, host, ip));
  if (!include) {
    const rangeNote =
      ip === null && rules.some((r) => r.kind === 'cidr' && !r.exclude)
        ? ' Address ranges apply to IP addresses only: names are never resolved to test them.'
        : '';
    return {
      proxied: false,
      reason: `${host} matches no pattern: it goes direct, not through the tunnel.${rangeNote}`,
    };
  }
  const exclude = rules.find((r) => r.exclude && ruleMatches(r, host, ip));
  if (exclude)
    return {
      proxied: false,
      rule: exclude.raw,
      reason: `${host} matches ${include.raw} but is excluded by ${exclude.raw}: it goes direct.`,
    };
  // a `.g5k` name is Grid'5000's SSH-guide shorthand: the host sends it without the suffix
  const short = ip === null ? gatewayName(host) : host;
  const dns =
    ip !== null ? '' : short !== host ? ` It is sent to the gateway as ${short}.` : ' The gateway resolves the name.';
  return {
    proxied: true,
    rule: include.raw,
    reason: `${host} matches ${include.raw}: it goes through the tunnel.${dns}`,
  };
}
