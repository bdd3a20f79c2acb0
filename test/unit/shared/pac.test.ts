// The Chromium PAC script must decide exactly as matchHost does (the Firefox listener and the SOCKS
// restriction use matchHost), without ever touching DNS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { buildPac } from '../../../shared/pac.js';
import { hostOfUrl, matchHost, matchUrl, parseRules, type Rule } from '../../../shared/patterns.js';
import { DEFAULT_PATTERNS } from '../../../shared/settings.js';

const PROXY = { host: '127.0.0.1', port: 1080 };
const TUNNEL = 'SOCKS5 127.0.0.1:1080';
const DNS_FUNCTIONS = [
  'isInNet',
  'isInNetEx',
  'dnsResolve',
  'dnsResolveEx',
  'isResolvable',
  'isResolvableEx',
  'myIpAddress',
  'myIpAddressEx',
  'dnsDomainIs',
  'localHostOrDomainIs',
  'sortIpAddressList',
];

type Pac = (url: string, host: string) => string;

/** Loads a PAC script in a fresh context where every DNS helper throws if called. */
function loadPac(source: string): Pac {
  const sandbox: Record<string, unknown> = {};
  for (const name of DNS_FUNCTIONS)
    sandbox[name] = () => {
      throw new Error(`the PAC script called ${name}`);
    };
  const ctx = vm.createContext(sandbox);
  vm.runInContext(source, ctx);
  const fn = ctx.FindProxyForURL as Pac;
  assert.equal(typeof fn, 'function');
  return fn;
}

function compile(lines: string[]): Rule[] {
  const { rules, errors } = parseRules(lines);
  assert.deepEqual(errors, []);
  return rules;
}

// A small seeded generator, so a failure reproduces.
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

const RICH_RULES = [
  '*.grid5000.fr',
  '!www.grid5000.fr',
  '!*.public.grid5000.fr',
  'node-??.lyon.*',
  'exact.example',
  '*a?b*z',
  '10.0.0.0/8',
  '!10.66.0.0/16',
  '172.16.0.0/12',
  '192.168.1.7',
  'fd00::/8',
  '!fd00:66::/32',
  '2001:660:4406::/48',
  '::1',
  '[2001:db8::1]',
  '::ffff:0:0/96',
];

// For each rule of RICH_RULES, a host it alone decides (removing the rule flips it).
const WITNESSES = [
  'graphite-3.nancy.grid5000.fr',
  'www.grid5000.fr',
  'x.public.grid5000.fr',
  'node-12.lyon.example',
  'exact.example',
  'qaxbz',
  '10.1.2.3',
  '10.66.1.1',
  '172.20.0.1',
  '192.168.1.7',
  'fd12::1',
  'fd00:66::1',
  '2001:660:4406:1::1',
  '::1',
  '2001:db8::1',
  '::ffff:1.2.3.4',
];

const FIXED_HOSTS = [
  ...WITNESSES,
  '',
  '.',
  '..',
  '[',
  ']',
  '[]',
  '[.]',
  '*',
  '?',
  '-',
  'a',
  'A',
  'localhost',
  'localhost.',
  'grid5000.fr',
  'GRID5000.FR',
  'grid5000.fr.',
  'grid5000.fr..',
  'evilgrid5000.fr',
  'grid5000.fr.evil.com',
  'WWW.Grid5000.fr',
  'www.grid5000.fr.',
  'public.grid5000.fr',
  'a.b.public.grid5000.fr',
  'node-1.lyon.example',
  'node-123.lyon.x',
  'node-ab.lyon.',
  'exact.example.',
  'x.exact.example',
  'azbz',
  'ab',
  '10.0.0.0',
  '10.255.255.255',
  '9.255.255.255',
  '11.0.0.0',
  '10.66.0.0',
  '10.66.255.255',
  '10.65.255.255',
  '10.67.0.0',
  '010.1.2.3',
  '10.1.2',
  '10.1.2.3.4',
  '10.1.2.256',
  '10.1.2.3.',
  '[10.1.2.3]',
  ' 10.1.2.3',
  '172.15.255.255',
  '172.16.0.0',
  '172.31.255.255',
  '172.32.0.0',
  '192.168.1.6',
  '192.168.1.8',
  '192.168.1.07',
  'fd00::',
  'FD00::',
  'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fe00::',
  'fcff::',
  '[fd00::1]',
  '[FD00::1]',
  'fd00:66::',
  'fd00:66:ffff::',
  'fd00:65::1',
  'fd00:67::1',
  'fd00:0066::1',
  '2001:660:4406::',
  '2001:660:4407::',
  '2001:660:4405:ffff::',
  '::',
  '::0',
  '::2',
  '0:0:0:0:0:0:0:1',
  '0000:0000:0000:0000:0000:0000:0000:0001',
  '2001:db8:0::1',
  '2001:0db8::0001',
  '2001:db8::1.2.3.4',
  '2001:db8::2',
  '::ffff:10.1.2.3',
  '::ffff:a01:203',
  '::ffff:1.2.3',
  '::ffff:1.2.3.256',
  '::1.2.3.4',
  '1.2.3.4::',
  ':::',
  '1::2::3',
  '12345::1',
  'fd00:::1',
  ':fd00::1',
  'fd00::1:',
  'fd00:1:2:3:4:5:6:7',
  'fd00:1:2:3:4:5:6',
  'fd00:1:2:3:4:5:6:7:8',
  'fd00::1%eth0',
  'fd00::g',
  '[fd00::1',
  'fd00::1]',
  '[[fd00::1]]',
  'fd00::1.',
  '[fd00::1].',
  'x:80',
  'grid5000.fr:443',
];

/** Hosts built from pieces that come close to the rules, plus random noise. */
function generatedHosts(count: number, seed: number): string[] {
  const r = rng(seed);
  const labels = [
    'a',
    'b',
    'z',
    'ab',
    'qaxbz',
    'www',
    'public',
    'node-12',
    'node-1',
    'lyon',
    'nancy',
    'grid5000',
    'fr',
    'exact',
    'example',
    'xn--caf-dma',
    '_srv',
    '-',
    '10',
    '66',
  ];
  const suffixes = ['.grid5000.fr', '.public.grid5000.fr', '.fr', '.example', '', '.', '.lyon.x', 'grid5000.fr'];
  const noise = 'abfdz019.:[]*?-_ GRIDXF%';
  const hex = () => r.int(0x10000).toString(16);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let h: string;
    switch (r.int(6)) {
      case 0: {
        const n = 1 + r.int(3);
        h = Array.from({ length: n }, () => r.pick(labels)).join('.') + r.pick(suffixes);
        break;
      }
      case 1: {
        const first = r.pick([10, 172, 192, 9, 11, r.int(256)]);
        const second =
          first === 10
            ? r.pick([66, 65, 67, r.int(256)])
            : first === 172
              ? 14 + r.int(20)
              : first === 192
                ? 168
                : r.int(256);
        const third = first === 192 ? r.pick([1, 0, r.int(256)]) : r.int(256);
        const fourth = first === 192 ? 5 + r.int(4) : r.pick([0, 255, r.int(256), 256 + r.int(50)]);
        h = `${first}.${second}.${third}.${fourth}`;
        break;
      }
      case 2: {
        const first = r.pick(['fd00', 'fd12', 'fe80', 'fcff', '2001', '0', 'fdff', hex()]);
        const second =
          first === 'fd00' ? r.pick(['66', '65', '0066', hex()]) : first === '2001' ? r.pick(['660', 'db8']) : hex();
        let groups = [first, second, ...Array.from({ length: 6 }, () => (r.next() < 0.4 ? '0' : hex()))];
        if (r.next() < 0.2)
          groups = groups.slice(0, 6).concat([`${r.int(256)}.${r.int(256)}.${r.int(300)}.${r.int(256)}`]);
        let s = groups.join(':');
        if (r.next() < 0.5) {
          const from = r.int(groups.length);
          const to = from + 1 + r.int(groups.length - from);
          s = `${groups.slice(0, from).join(':')}::${groups.slice(to).join(':')}`;
        }
        if (r.next() < 0.2) s = s.toUpperCase();
        if (r.next() < 0.3) s = `[${s}]`;
        h = s;
        break;
      }
      case 3:
        h = Array.from({ length: r.int(16) }, () => r.pick(noise.split(''))).join('');
        break;
      default: {
        // Mutate a known host: drop, duplicate or change one character; change case; add a dot.
        const base = r.pick(FIXED_HOSTS);
        const at = r.int(base.length + 1);
        const op = r.int(4);
        h =
          op === 0
            ? base.slice(0, at) + base.slice(at + 1)
            : op === 1
              ? base.slice(0, at) + r.pick(noise.split('')) + base.slice(at)
              : op === 2
                ? base.toUpperCase()
                : `${base}.`;
      }
    }
    out.push(h);
  }
  return out;
}

/** Random rule sets drawn from valid patterns, to vary the mix of includes and excludes. */
function generatedRuleSets(count: number, seed: number): string[][] {
  const r = rng(seed);
  const pool = [
    ...RICH_RULES,
    '*',
    '?',
    '*.fr',
    'grid5000.*',
    '*5000*',
    '*.*.*',
    'a*b',
    '*a',
    '10.0.0.0/7',
    '0.0.0.0/0',
    '::/0',
    '10.1.2.3',
    '::/1',
    'fc00::/7',
    '172.16.0.0/16',
    'localhost',
    '*.*.', // a wildcard before the trailing dot (`*.` alone is refused)
    'GRID5000.FR.',
    '2001:db8::/32',
    '255.255.255.255/32',
    '0.0.0.0/1',
    '128.0.0.0/1',
    '::ffff:10.0.0.0/104',
    'fd00:0066::/31',
  ];
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + r.int(6) }, () => (r.next() < 0.3 ? '!' : '') + r.pick(pool).replace(/^!/, '')),
  );
}

const CORPUS = [...FIXED_HOSTS, ...generatedHosts(10000, 5000)];

test('the PAC script agrees with matchHost on every host of a large corpus', () => {
  const sets = [['*.grid5000.fr'], RICH_RULES, [], ...generatedRuleSets(25, 42)];
  let proxied = 0;
  let direct = 0;
  for (const lines of sets) {
    const rules = compile(lines);
    const pac = loadPac(buildPac(rules, PROXY));
    for (const host of CORPUS) {
      const expected = matchHost(rules, host) ? TUNNEL : 'DIRECT';
      const got = pac(`https://${host}/path`, host);
      if (got !== expected)
        assert.fail(`rules ${JSON.stringify(lines)}, host ${JSON.stringify(host)}: PAC ${got}, matchHost ${expected}`);
      if (expected === TUNNEL) proxied++;
      else direct++;
    }
  }
  // The corpus must exercise both answers heavily, or agreement would prove little.
  assert.ok(proxied > 5000 && direct > 5000, `proxied ${proxied}, direct ${direct}`);
});

test('every rule counts: removing any one changes the answer for its witness host', () => {
  const full = compile(RICH_RULES);
  const fullPac = loadPac(buildPac(full, PROXY));
  RICH_RULES.forEach((line, i) => {
    const without = full.filter((_, j) => j !== i);
    const pac = loadPac(buildPac(without, PROXY));
    const host = WITNESSES[i]!;
    assert.notEqual(pac('http://x/', host), fullPac('http://x/', host), `removing ${line} must change ${host}`);
    assert.notEqual(matchHost(without, host), matchHost(full, host), `matchHost: removing ${line} must change ${host}`);
  });
});

test('the PAC answers only "SOCKS5 host:port" or "DIRECT": no SOCKS4 keyword, no fallback list', () => {
  const rules = compile(RICH_RULES);
  const pac = loadPac(buildPac(rules, PROXY));
  const answers = new Set(CORPUS.map((h) => pac('http://x/', h)));
  assert.deepEqual([...answers].sort(), ['DIRECT', TUNNEL]);
  const v6 = loadPac(buildPac(rules, { host: '::1', port: 1081 }));
  assert.equal(v6('http://x/', 'www1.grid5000.fr'), 'SOCKS5 [::1]:1081');
});

test('the PAC source names no DNS function and stays small', () => {
  const source = buildPac(compile(RICH_RULES), PROXY);
  for (const name of DNS_FUNCTIONS) assert.ok(!new RegExp(`\\b${name}\\b`).test(source), `PAC mentions ${name}`);
  assert.ok(!/;\s*DIRECT/.test(source), 'no "…; DIRECT" fallback');
  assert.ok(source.includes('"*.grid5000.fr"'), 'patterns appear as written, for reading in chrome://net-internals');
  assert.ok(source.length < 6000, `PAC is ${source.length} characters`);
});

test('buildPac refuses a proxy address it cannot write safely', () => {
  assert.throws(() => buildPac([], { host: '127.0.0.1"; x', port: 1080 }), /bad proxy host/);
  assert.throws(() => buildPac([], { host: '127.0.0.1', port: 0 }), /bad proxy port/);
});

test('with the PROXY scheme (Chromium, HTTP proxy) matching hosts get "PROXY host:port", others DIRECT', () => {
  const rules = compile(RICH_RULES);
  const pac = loadPac(buildPac(rules, { host: '127.0.0.1', port: 40123 }, 'PROXY'));
  const answers = new Set(CORPUS.map((h) => pac('http://x/', h)));
  assert.deepEqual([...answers].sort(), ['DIRECT', 'PROXY 127.0.0.1:40123']);
  assert.equal(pac('https://intranet.grid5000.fr/', 'intranet.grid5000.fr'), 'PROXY 127.0.0.1:40123');
  assert.throws(() => buildPac(rules, PROXY, 'HTTPS' as 'PROXY'), /bad scheme/);
});

test('the blackhole PAC sends matching hosts to port 9, never DIRECT, and others DIRECT', () => {
  const rules = compile(['*.grid5000.fr']);
  const pac = loadPac(buildPac(rules, { host: '127.0.0.1', port: 9 }, 'PROXY'));
  assert.equal(pac('https://intranet.grid5000.fr/', 'intranet.grid5000.fr'), 'PROXY 127.0.0.1:9');
  assert.equal(pac('https://www.example.org/', 'www.example.org'), 'DIRECT');
});

test('the default patterns: .g5k names and node addresses go through the tunnel, Docker bridges do not', () => {
  const rules = compile(DEFAULT_PATTERNS);
  const pac = loadPac(buildPac(rules, PROXY));
  const cases: [string, boolean][] = [
    ['http://graphite-3.nancy.g5k:8888/', true],
    ['http://graphite-3.nancy.grid5000.fr/', true],
    ['http://172.16.64.5:8888/', true], // a Nancy node
    ['http://172.16.208.1/', true], // Louvain, the last /20 of the range
    ['http://172.17.0.1/', false], // docker0
    ['http://172.31.255.1/', false], // still in 172.16.0.0/12, not Grid'5000's
    ['http://172.15.0.1/', false],
    ['http://g5k.example.org/', false],
    ['http://nancy.g5k.example.org/', false],
  ];
  for (const [url, through] of cases) {
    const host = hostOfUrl(url)!;
    assert.equal(pac(url, host), through ? TUNNEL : 'DIRECT', `PAC for ${url}`);
    // the Firefox listener decides with matchUrl: the same answer
    assert.equal(matchUrl(rules, url), through, `matchUrl for ${url}`);
  }
});
