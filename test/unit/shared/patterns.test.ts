import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  catchAllLines,
  explainMatch,
  hostOfUrl,
  isCatchAll,
  matchHost,
  matchUrl,
  parseIPv4,
  parseIPv6,
  parseRules,
  validatePattern,
  type Rule,
} from '../../../shared/patterns.js';

function rules(...lines: string[]): Rule[] {
  const { rules, errors } = parseRules(lines);
  assert.deepEqual(errors, [], `unexpected errors for ${lines.join(', ')}`);
  return rules;
}

test('blank lines and # comments are ignored; bad lines are reported with their index', () => {
  const { rules: r, errors } = parseRules([
    '',
    '  # internal services',
    '*.grid5000.fr  # all sites',
    'http://x/',
    '   ',
  ]);
  assert.equal(r.length, 1);
  assert.equal(r[0]!.raw, '*.grid5000.fr');
  assert.equal(r[0]!.kind, 'host');
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.index, 3);
  assert.equal(errors[0]!.raw, 'http://x/');
});

test('*.domain matches every subdomain and the bare domain, nothing that merely ends alike', () => {
  const r = rules('*.grid5000.fr');
  for (const h of ['graphite-3.nancy.grid5000.fr', 'intranet.grid5000.fr', 'a.b.c.d.grid5000.fr', 'grid5000.fr'])
    assert.equal(matchHost(r, h), true, h);
  for (const h of ['evilgrid5000.fr', 'grid5000.fr.evil.com', 'grid5000.org', 'fr', 'grid5000.f'])
    assert.equal(matchHost(r, h), false, h);
});

test('matching is case-insensitive and ignores a trailing dot, on both sides', () => {
  const r = rules('*.Grid5000.FR');
  assert.equal(matchHost(r, 'INTRANET.grid5000.fr'), true);
  assert.equal(matchHost(r, 'intranet.grid5000.fr.'), true);
  assert.equal(matchHost(rules('host.example.'), 'HOST.example'), true);
});

test('exact hosts, ? for one character, * anywhere (dots included)', () => {
  assert.equal(matchHost(rules('api.grid5000.fr'), 'api.grid5000.fr'), true);
  assert.equal(matchHost(rules('api.grid5000.fr'), 'x.api.grid5000.fr'), false);
  const q = rules('node-?.lyon.grid5000.fr');
  assert.equal(matchHost(q, 'node-7.lyon.grid5000.fr'), true);
  assert.equal(matchHost(q, 'node-12.lyon.grid5000.fr'), false);
  assert.equal(matchHost(q, 'node-.lyon.grid5000.fr'), false);
  const mid = rules('graphite-*.grid5000.fr');
  assert.equal(matchHost(mid, 'graphite-3.nancy.grid5000.fr'), true);
  assert.equal(matchHost(mid, 'graphite.nancy.grid5000.fr'), false);
  assert.equal(matchHost(rules('*'), 'anything.example'), true);
});

test('a pathological wildcard pattern against a long host stays fast (no backtracking blow-up)', () => {
  const r = rules('*a*a*a*a*a*a*a*a*a*a*b');
  assert.equal(matchHost(r, 'a'.repeat(250)), false);
  assert.equal(matchHost(r, `${'a'.repeat(249)}b`), true);
});

test('an exclude wins over an include, whatever the order', () => {
  for (const r of [rules('*.grid5000.fr', '!www.grid5000.fr'), rules('!www.grid5000.fr', '*.grid5000.fr')]) {
    assert.equal(matchHost(r, 'www.grid5000.fr'), false);
    assert.equal(matchHost(r, 'api.grid5000.fr'), true);
  }
  assert.equal(matchHost(rules('!www.grid5000.fr'), 'api.grid5000.fr'), false, 'excludes alone proxy nothing');
  assert.equal(matchHost([], 'api.grid5000.fr'), false);
});

test('IPv4 ranges and addresses apply to IPv4 literals, boundaries included', () => {
  const r = rules('172.16.0.0/12', '192.168.1.7');
  assert.equal(r[0]!.kind, 'cidr');
  assert.equal(r[1]!.kind, 'cidr');
  for (const h of ['172.16.0.0', '172.31.255.255', '172.20.1.2', '192.168.1.7']) assert.equal(matchHost(r, h), true, h);
  for (const h of ['172.15.255.255', '172.32.0.0', '192.168.1.8', '172.16.0.0.example', '0172.16.0.1'])
    assert.equal(matchHost(r, h), false, h);
  assert.equal(matchHost(rules('0.0.0.0/0'), '8.8.8.8'), true);
  assert.equal(matchHost(rules('0.0.0.0/0'), '::1'), false, 'an IPv4 range never matches IPv6');
});

test('address ranges never resolve names: localhost is not in 127.0.0.0/8', () => {
  const r = rules('127.0.0.0/8', '::1');
  assert.equal(matchHost(r, '127.0.0.1'), true);
  assert.equal(matchHost(r, 'localhost'), false);
  assert.equal(matchHost(r, 'ip6-localhost'), false);
});

test('IPv6 ranges and addresses: any spelling, with or without brackets', () => {
  const r = rules('fd00::/8', '[2001:db8::1]', '2001:660:4406::/48');
  for (const h of [
    'fd12:3456::1',
    '[fd00::]',
    'FDFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF',
    '2001:db8:0:0:0:0:0:1',
    '2001:db8::0.0.0.1',
    '2001:660:4406:abcd::9',
  ])
    assert.equal(matchHost(r, h), true, h);
  for (const h of ['fe00::1', '2001:db8::2', '2001:660:4407::1', 'fd00::1::2', 'fd00:::1'])
    assert.equal(matchHost(r, h), false, h);
  assert.equal(matchHost(rules('::ffff:0:0/96'), '::ffff:10.1.2.3'), true);
});

test('IP literal parsers accept canonical forms only', () => {
  assert.deepEqual(parseIPv4('10.1.2.3'), [0x0a01, 0x0203]);
  for (const s of ['10.1.2', '10.1.2.3.4', '256.1.1.1', '01.1.1.1', '1.1.1.1 ', 'a.b.c.d', ''])
    assert.equal(parseIPv4(s), null, s);
  assert.deepEqual(parseIPv6('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(parseIPv6('1::'), [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(parseIPv6('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
  for (const s of [
    ':::',
    '1::2::3',
    '12345::',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7::8',
    'g::1',
    '::1.2.3',
  ])
    assert.equal(parseIPv6(s), null, s);
});

test('bad patterns get a message that says what is wrong and what to write', () => {
  const cases: [string, RegExp][] = [
    ['http://graphite-3.nancy.grid5000.fr:8888/x', /URL.*graphite-3\.nancy\.grid5000\.fr/],
    ['https://user@[fd00::1]:443/', /URL.*fd00::1/],
    ['grid5000.fr/path', /path.*grid5000\.fr/],
    ['grid5000.fr:8080/path', /path.*“grid5000\.fr”/],
    ['*.grid5000.fr *.inria.fr', /space.*one pattern per line/],
    ['10.0.0.0/33', /prefix length must be 0-32/],
    ['fd00::/129', /prefix length must be 0-128/],
    ['10.1.0.0/8', /did you mean 10\.0\.0\.0\/8/],
    ['fd12::/8', /did you mean fd00::\/8/],
    ['10.0.0.0/', /prefix length is expected/],
    ['10.0.0.300/8', /not an IP address/],
    ['10.0.0.256', /not a valid IPv4 address/],
    ['host.example:8080', /Ports are not part of patterns.*host\.example/],
    ['[fd00::1]:8080', /Ports are not part of patterns/],
    ['fd00::g', /not a valid IPv6 address/],
    ['!', /“!” alone/],
    ['a!b', /only at the start/],
    ['café.fr', /xn--/],
    ['.grid5000.fr', /\*\.grid5000\.fr/],
    ['a..b', /empty label/],
    ['host,other', /“,” cannot appear/],
    ['a'.repeat(300), /too long/],
    ['*.', /^\*\. needs a domain after it, e.g\. \*\.grid5000\.fr$/],
    ['!*.', /\*\. needs a domain after it/],
    ['**.', /\*\. needs a domain after it/],
  ];
  for (const [raw, expected] of cases) {
    const message = validatePattern(raw);
    assert.ok(message, `${raw} should be rejected`);
    assert.match(message, expected, raw);
    const { rules: r, errors } = parseRules([raw]);
    assert.equal(r.length, 0);
    assert.equal(errors[0]!.message, message);
  }
});

test('valid patterns, blank lines and comments validate as null', () => {
  for (const raw of [
    '*.grid5000.fr',
    '!www.grid5000.fr',
    '! www.grid5000.fr',
    'Host.Example.',
    '10.0.0.0/8',
    'fd00::/8',
    '[::1]',
    '::1',
    '',
    '# note',
    'node-??.*.grid5000.fr',
    '*',
  ])
    assert.equal(validatePattern(raw), null, raw);
});

test('matchUrl takes the host out of any URL with an authority', () => {
  const r = rules('*.grid5000.fr', 'fd00::/8', '10.0.0.0/8');
  const yes = [
    'http://graphite-3.nancy.grid5000.fr:8888/render?x=1',
    'https://user:pw@INTRANET.Grid5000.fr./wiki',
    'ws://dashboard.nancy.grid5000.fr/socket',
    'http://[fd00::5]:8080/',
    'http://10.1.2.3/',
    'https://grid5000.fr#frag',
  ];
  const no = [
    'http://www.example.com/grid5000.fr',
    'about:blank',
    'data:text/plain,grid5000.fr',
    'file:///grid5000.fr',
    'http://evil.com/?h=x.grid5000.fr',
    'http://x.grid5000.fr@evil.com/',
    'not a url',
  ];
  for (const u of yes) assert.equal(matchUrl(r, u), true, u);
  for (const u of no) assert.equal(matchUrl(r, u), false, u);
  assert.equal(hostOfUrl('http://[FD00::5]:80/'), 'fd00::5');
  assert.equal(hostOfUrl('about:blank'), null);
});

test('explainMatch names the deciding rule and says why', () => {
  const r = rules('*.grid5000.fr', '!www.grid5000.fr', '10.0.0.0/8');
  const inc = explainMatch(r, 'http://graphite-3.nancy.grid5000.fr:8888/');
  assert.equal(inc.proxied, true);
  assert.equal(inc.rule, '*.grid5000.fr');
  assert.match(inc.reason, /tunnel.*gateway resolves/);

  const exc = explainMatch(r, 'www.grid5000.fr:443');
  assert.equal(exc.proxied, false);
  assert.equal(exc.rule, '!www.grid5000.fr');
  assert.match(exc.reason, /excluded by !www\.grid5000\.fr/);

  const none = explainMatch(r, 'localhost');
  assert.equal(none.proxied, false);
  assert.equal(none.rule, undefined);
  assert.match(none.reason, /no pattern.*never resolved/);

  const ip = explainMatch(r, '[10.2.3.4]');
  assert.equal(ip.proxied, true);
  assert.equal(ip.rule, '10.0.0.0/8');
  assert.equal(explainMatch(r, '[fd00::1]:80').proxied, false);

  assert.match(explainMatch(r, '   ').reason, /Type a host name or a URL/);
});

test('explainMatch and matchUrl agree', () => {
  const r = rules('*.grid5000.fr', '!www.grid5000.fr', '10.0.0.0/8', 'fd00::/8');
  for (const u of [
    'http://a.grid5000.fr/',
    'http://www.grid5000.fr/',
    'http://10.0.0.1/',
    'http://[fd00::1]/',
    'http://x.org/',
  ])
    assert.equal(explainMatch(r, u).proxied, matchUrl(r, u), u);
});

test('explainMatch says what a .g5k name becomes at the gateway', () => {
  const r = rules('*.grid5000.fr', '*.g5k', '172.16.0.0/16');
  const g5k = explainMatch(r, 'http://graphite-3.nancy.g5k:8888/');
  assert.equal(g5k.proxied, true);
  assert.equal(g5k.rule, '*.g5k');
  assert.match(g5k.reason, /graphite-3\.nancy\.g5k matches \*\.g5k: it goes through the tunnel\./);
  assert.match(g5k.reason, /sent to the gateway as graphite-3\.nancy\.$/);
  assert.match(explainMatch(r, 'Graphite-3.Nancy.G5K.').reason, /as graphite-3\.nancy\./);
  // other names are resolved by the gateway as they are; addresses need no resolving
  assert.match(explainMatch(r, 'graphite-3.nancy.grid5000.fr').reason, /gateway resolves the name/);
  const node = explainMatch(r, 'http://172.16.64.5:8888/');
  assert.equal(node.rule, '172.16.0.0/16');
  assert.doesNotMatch(node.reason, /sent to the gateway as|resolves/);
  // not routed: nothing to say about the gateway
  assert.doesNotMatch(explainMatch(rules('*.grid5000.fr'), 'a.nancy.g5k').reason, /gateway/);
});

test('*. is refused, never read as * (which would match every host)', () => {
  const { rules: r, errors } = parseRules(['*.', '*.grid5000.fr']);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.index, 0);
  assert.deepEqual(
    r.map((x) => x.raw),
    ['*.grid5000.fr'],
  );
  assert.equal(matchHost(r, 'www.google.com'), false);
  // a trailing dot after a real domain is still the same domain
  assert.equal(validatePattern('*.grid5000.fr.'), null);
});

test('rules that match every host are valid but flagged; domains, narrow ranges and exclusions are not', () => {
  const all = ['*', '**', '*.*', '*.*.*', '?*', '*?', '0.0.0.0/0', '::/0', '[::]/0'];
  for (const raw of all) {
    assert.equal(validatePattern(raw), null, `${raw} is accepted`);
    const { rules: r } = parseRules([raw]);
    assert.equal(isCatchAll(r[0]!), true, raw);
  }
  assert.equal(matchHost(rules('*'), 'www.google.com'), true);
  assert.equal(matchHost(rules('0.0.0.0/0'), '8.8.8.8'), true);
  assert.equal(matchHost(rules('::/0'), '2001:db8::1'), true);
  const narrow = [
    '*.grid5000.fr',
    '*.g5k',
    'node-?',
    '?',
    '*a*',
    '0.0.0.0/1',
    '::/1',
    '172.16.0.0/16',
    '!*',
    '!0.0.0.0/0',
  ];
  for (const raw of narrow) {
    const { rules: r } = parseRules([raw]);
    assert.equal(r.length, 1, raw);
    assert.equal(isCatchAll(r[0]!), false, raw);
  }
});

test('catchAllLines names the catch-all lines as written, without comments, and skips bad lines', () => {
  assert.deepEqual(catchAllLines(['*.grid5000.fr', '*  # everything', '::/0', '*.', 'http://x/', '!*']), ['*', '::/0']);
  assert.deepEqual(catchAllLines(['*.grid5000.fr', '*.g5k', '172.16.0.0/16']), []);
  assert.deepEqual(catchAllLines([]), []);
});
