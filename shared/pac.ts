// The PAC script Chromium runs to pick the proxy: the host rules of shared/patterns compiled into
// an ES5 script (Chromium's PAC runtime) with no DNS function, so names are never resolved locally.
// Pure. See docs/PATTERNS.md.

import type { Rule } from './patterns.js';

// The PAC runtime mirrors normalizeHost, parseIPv4, parseIPv6, inNet and hostMatches of shared/patterns, in ES5,
// with no DNS function: test/unit/shared/pac.test.ts checks that both agree over a large corpus.
const PAC_RUNTIME = String.raw`
function FindProxyForURL(url, host) {
  var h = normHost(host);
  if (h === "") return "DIRECT";
  var ip = parseIp(h);
  return matchAny(INCLUDE, h, ip) && !matchAny(EXCLUDE, h, ip) ? TUNNEL : "DIRECT";
}

function matchAny(rules, h, ip) {
  for (var i = 0; i < rules.length; i++) {
    var r = rules[i];
    if (r.net ? ip !== null && inNet(ip, r.net, r.prefix) : hostMatches(r.pattern, h)) return true;
  }
  return false;
}

function compile(patterns) {
  var out = [];
  for (var i = 0; i < patterns.length; i++) {
    var p = patterns[i], slash = p.indexOf("/");
    if (slash < 0) out.push({ pattern: p });
    else out.push({ net: parseIp(p.slice(0, slash)), prefix: Number(p.slice(slash + 1)) });
  }
  return out;
}

function normHost(host) {
  var h = String(host).toLowerCase();
  if (h.charAt(0) === "[" && h.charAt(h.length - 1) === "]") h = h.slice(1, -1);
  if (h.charAt(h.length - 1) === ".") h = h.slice(0, -1);
  return h;
}

// "*" = any run of characters, "?" = one; "*.example.org" also matches "example.org".
function hostMatches(p, s) {
  return glob(p, s) || (p.slice(0, 2) === "*." && s === p.slice(2));
}

function glob(p, s) {
  var pi = 0, si = 0, star = -1, mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p.charAt(pi) === "?" || p.charAt(pi) === s.charAt(si))) { pi++; si++; }
    else if (pi < p.length && p.charAt(pi) === "*") { star = pi++; mark = si; }
    else if (star >= 0) { pi = star + 1; si = ++mark; }
    else return false;
  }
  while (pi < p.length && p.charAt(pi) === "*") pi++;
  return pi === p.length;
}

// IP literals only, parsed by hand: a name is never resolved.
function parseIp(s) {
  return s.indexOf(":") >= 0 ? parseIPv6(s) : parseIPv4(s);
}

function parseIPv4(s) {
  var m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  var b = [];
  for (var i = 1; i <= 4; i++) {
    if (m[i].length > 1 && m[i].charAt(0) === "0") return null;
    var n = Number(m[i]);
    if (n > 255) return null;
    b.push(n);
  }
  return [b[0] * 256 + b[1], b[2] * 256 + b[3]];
}

function parseIPv6(s) {
  if (s.indexOf(".") >= 0) {
    var c = s.lastIndexOf(":");
    if (c < 0) return null;
    var v4 = parseIPv4(s.slice(c + 1));
    if (!v4) return null;
    s = s.slice(0, c + 1) + v4[0].toString(16) + ":" + v4[1].toString(16);
  }
  var halves = s.split("::");
  if (halves.length > 2) return null;
  var head = halves[0] === "" ? [] : halves[0].split(":");
  var tail = halves.length < 2 || halves[1] === "" ? [] : halves[1].split(":");
  var groups = head.concat(tail);
  for (var i = 0; i < groups.length; i++) if (!/^[0-9a-f]{1,4}$/i.test(groups[i])) return null;
  if (halves.length === 1 ? groups.length !== 8 : groups.length > 7) return null;
  var out = [];
  for (i = 0; i < head.length; i++) out.push(parseInt(head[i], 16));
  while (out.length + tail.length < 8) out.push(0);
  for (i = 0; i < tail.length; i++) out.push(parseInt(tail[i], 16));
  return out;
}

function inNet(addr, net, prefix) {
  if (!net || addr.length !== net.length) return false;
  for (var i = 0; i < net.length; i++) {
    var bits = Math.min(16, prefix - 16 * i);
    if (bits <= 0) break;
    var mask = (0xffff << (16 - bits)) & 0xffff;
    if ((addr[i] & mask) !== (net[i] & mask)) return false;
  }
  return true;
}
`;

/**
 * A PAC script for Chromium: matching hosts get `<scheme> host:port`, all others `DIRECT`. Never
 * `…; DIRECT`: a dead tunnel must fail visibly, not leak around it. Both schemes leave names to the
 * far side: `SOCKS5` makes the proxy resolve them, and Chromium never resolves a name it sends to an
 * HTTP proxy (`PROXY`, the scheme whose credentials Chromium can give: it has no SOCKS auth).
 */
export function buildPac(
  rules: Rule[],
  proxy: { host: string; port: number },
  scheme: 'PROXY' | 'SOCKS5' = 'SOCKS5',
): string {
  if (!/^[a-z0-9.:-]+$/i.test(proxy.host)) throw new Error(`buildPac: bad proxy host ${JSON.stringify(proxy.host)}`);
  if (!Number.isInteger(proxy.port) || proxy.port < 1 || proxy.port > 65535)
    throw new Error(`buildPac: bad proxy port ${proxy.port}`);
  if (scheme !== 'PROXY' && scheme !== 'SOCKS5') throw new Error(`buildPac: bad scheme ${String(scheme)}`);
  const hostPart = proxy.host.indexOf(':') >= 0 ? `[${proxy.host}]` : proxy.host;
  const list = (exclude: boolean) => JSON.stringify(rules.filter((r) => r.exclude === exclude).map((r) => r.pattern));
  return (
    `// g5k-tunnel: hosts matching INCLUDE and not EXCLUDE go through the SSH tunnel (${scheme}: the gateway\n` +
    '// resolves names); everything else goes DIRECT. Address ranges apply to IP literals only (no DNS).\n' +
    `var TUNNEL = ${JSON.stringify(`${scheme} ${hostPart}:${proxy.port}`)};\n` +
    `var INCLUDE = compile(${list(false)});\n` +
    `var EXCLUDE = compile(${list(true)});\n` +
    PAC_RUNTIME
  );
}
