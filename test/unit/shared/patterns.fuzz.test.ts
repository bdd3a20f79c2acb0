// Properties of host rules and the Chromium PAC script built from them: any rule text parses without
// an exception into rules and reasons, the PAC it gives always compiles, and the PAC decides every
// host and URL exactly as matchHost and matchUrl do (the Firefox listener and the SOCKS restriction).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { formatIPv6 } from '../../../native-host/socks/wire.js';
import { buildPac } from '../../../shared/pac.js';
import { hostOfUrl, matchHost, matchUrl, parseRules, validatePattern, type Rule } from '../../../shared/patterns.js';
import { check, fc } from '../../support/fuzz.js';

const PROXY = { host: '127.0.0.1', port: 1080 };
const TUNNEL = 'SOCKS5 127.0.0.1:1080';
// The PAC must decide without DNS: every resolver helper a browser offers throws here.
const DNS_FUNCTIONS = ['isInNet', 'dnsResolve', 'dnsResolveEx', 'isResolvable', 'myIpAddress', 'dnsDomainIs'];

type Pac = (url: string, host: string) => string;

function loadPac(source: string): Pac {
  const sandbox: Record<string, unknown> = {};
  for (const name of DNS_FUNCTIONS)
    sandbox[name] = () => {
      throw new Error(`the PAC script called ${name}`);
    };
  const ctx = vm.createContext(sandbox);
  new vm.Script(source, { filename: 'proxy.pac' }).runInContext(ctx, { timeout: 1000 });
  const fn = ctx.FindProxyForURL as Pac;
  assert.equal(typeof fn, 'function');
  return fn;
}

// ---------- generators ----------

const char = (chars: string) => fc.constantFrom(...chars.split(''));
const label = fc.string({ unit: char('abcxyz019-_'), minLength: 1, maxLength: 6 });
/** A label of a host pattern: plain, a wildcard, or with wildcards inside. */
const globLabel = fc.oneof(
  { weight: 4, arbitrary: label },
  { weight: 1, arbitrary: fc.constantFrom('*', '?', '*?', '**') },
  { weight: 1, arbitrary: fc.string({ unit: char('abx1-*?'), minLength: 1, maxLength: 5 }) },
);
const hostPattern = fc
  .tuple(fc.constantFrom('', '', '*.'), fc.array(globLabel, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.boolean())
  .map(([domain, labels, upper, dot]) => {
    const p = domain + labels.join('.');
    return `${upper ? p.toUpperCase() : p}${dot ? '.' : ''}`;
  })
  .filter((p) => validatePattern(p) === null);

/** 16-bit words of an address: mostly small or zero, so ranges and hosts meet often. */
const word = fc.oneof(fc.constant(0), fc.nat(3), fc.constant(0xffff), fc.nat(0xffff));
const ipv4Words = fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map((w) => [...w]);
const ipv6Words = fc.array(word, { minLength: 8, maxLength: 8 });

/** The bits of word i that a /prefix network fixes. */
const netMask = (prefix: number, i: number) => (0xffff << (16 - Math.max(0, Math.min(16, prefix - 16 * i)))) & 0xffff;
const mask = (words: number[], prefix: number) => words.map((w, i) => w & netMask(prefix, i));
const v4Text = (w: number[]) => [w[0]! >> 8, w[0]! & 255, w[1]! >> 8, w[1]! & 255].join('.');
const bytesOf = (w: number[]) => Uint8Array.from(w.flatMap((x) => [x >> 8, x & 255]));
/** IPv6 text in one of the forms people and browsers write. */
const v6Text = (w: number[], form: number) => {
  if (form === 0) return formatIPv6(bytesOf(w)); // compressed, maybe with an IPv4 tail
  if (form === 1) return w.map((x) => x.toString(16)).join(':');
  if (form === 2) return w.map((x) => x.toString(16).padStart(4, '0').toUpperCase()).join(':');
  return `${w
    .slice(0, 6)
    .map((x) => x.toString(16))
    .join(':')}:${v4Text(w.slice(6))}`;
};

const cidrRule = fc.oneof(
  fc.tuple(ipv4Words, fc.integer({ min: 0, max: 32 }), fc.boolean()).map(([w, prefix, bare]) => ({
    words: mask(w, prefix),
    prefix: bare ? 32 : prefix,
    text: bare ? v4Text(w) : `${v4Text(mask(w, prefix))}/${prefix}`,
  })),
  fc
    .tuple(ipv6Words, fc.integer({ min: 0, max: 128 }), fc.boolean(), fc.nat(3), fc.boolean())
    .map(([w, prefix, bare, form, brackets]) => {
      const words = bare ? w : mask(w, prefix);
      const addr = brackets ? `[${v6Text(words, form)}]` : v6Text(words, form);
      return { words, prefix: bare ? 128 : prefix, text: bare ? addr : `${addr}/${prefix}` };
    }),
);

/** One valid rule line: a host pattern or an address range, maybe excluded, maybe commented. */
const ruleLine = fc
  .tuple(
    fc.oneof(
      hostPattern,
      cidrRule.map((c) => c.text),
    ),
    fc.boolean(),
    fc.constantFrom('', '', ' # note', '  '),
  )
  .map(([body, exclude, tail]) => `${exclude ? '!' : ''}${body}${tail}`);

/** A host that a pattern matches: each wildcard filled in, or the pattern itself near-missed. */
const hostFromPattern = (p: string) =>
  fc.tuple(fc.infiniteStream(fc.oneof(fc.constant(''), label, fc.constant('a.b'))), fc.nat(3)).map(([fill, twist]) => {
    const it = fill[Symbol.iterator]();
    // "*.example.org" also covers "example.org" itself
    const base = twist === 3 ? p.replace(/^!?\*\./, '') : p.replace(/^!/, '');
    let h = base.replace(/[*?]/g, (c) => (c === '?' ? 'q' : (it.next().value as string)));
    if (twist === 1) h = h.toUpperCase();
    if (twist === 2) h = `x${h}`;
    return h;
  });

/** A host near an address range: inside it, or off by a bit, in any text form. */
const hostNearRange = fc
  .tuple(cidrRule, ipv4Words, ipv6Words, fc.nat(3), fc.boolean(), fc.nat(128))
  .map(([c, r4, r6, form, brackets, flip]) => {
    const v4 = c.words.length === 2;
    const random = v4 ? r4 : r6;
    // the network's bits, then random ones; sometimes one bit of the network flipped
    const words = c.words.map((w, i) => (w & netMask(c.prefix, i)) | (random[i]! & ~netMask(c.prefix, i) & 0xffff));
    if (flip < c.prefix) words[flip >> 4] = words[flip >> 4]! ^ (0x8000 >> (flip & 15));
    if (v4) return v4Text(words);
    const text = v6Text(words, form);
    return brackets ? `[${text}]` : text;
  });

/** An address text broken in the ways that must not parse: a leading zero, a group too many or too few. */
const brokenAddress = fc.tuple(hostNearRange, fc.nat(4), fc.nat(20)).map(([text, how, at]) => {
  const sep = text.includes(':') ? ':' : '.';
  const parts = text.split(sep);
  const i = at % parts.length;
  if (how === 0) parts[i] = `0${parts[i]}`;
  else if (how === 1) parts.splice(i, 1);
  else if (how === 2) parts.splice(i, 0, parts[i]!);
  else if (how === 3) parts[i] = `${parts[i]}${sep}`;
  else return `${text}${sep}1`;
  return parts.join(sep);
});

const noiseHost = fc.string({ unit: char('abxz019.:-_[]*?%AB'), maxLength: 20 });

const rulesAndHosts = fc.array(ruleLine, { maxLength: 6 }).chain((lines) => {
  const near = lines.map((l) => hostFromPattern(l.replace(/ .*$/, '')));
  const host =
    near.length > 0
      ? fc.oneof(fc.oneof(...near), hostNearRange, brokenAddress, noiseHost)
      : fc.oneof(hostNearRange, brokenAddress, noiseHost);
  return fc.tuple(fc.constant(lines), fc.array(host, { minLength: 1, maxLength: 12 }));
});

// ---------- properties ----------

test('for valid rules, the PAC decides every host as matchHost does', () => {
  let tunnel = 0;
  let direct = 0;
  check(
    fc.property(rulesAndHosts, ([lines, hosts]) => {
      const { rules, errors } = parseRules(lines);
      assert.deepEqual(errors, [], lines.join('\n'));
      const pac = loadPac(buildPac(rules, PROXY));
      for (const host of hosts) {
        const expected = matchHost(rules, host) ? TUNNEL : 'DIRECT';
        assert.equal(pac(`https://${host}/`, host), expected, `host ${JSON.stringify(host)}`);
        if (expected === TUNNEL) tunnel++;
        else direct++;
      }
    }),
  );
  // both answers must come up often, or agreement proves little
  assert.ok(tunnel > 100 && direct > 100, `tunnel ${tunnel}, direct ${direct}`);
});

const url = fc
  .tuple(
    fc.constantFrom('http', 'https', 'ws', 'ftp', 'HTTP'),
    fc.option(fc.constantFrom('user', 'u:p', 'a@b')),
    fc.option(fc.nat(65535)),
    fc.constantFrom('', '/', '/path?q=1', '#frag', '?x'),
  )
  .map(([scheme, userinfo, port, rest]) => (host: string) => {
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return `${scheme}://${userinfo ? `${userinfo}@` : ''}${h}${port === null ? '' : `:${port}`}${rest}`;
  });

test('for valid rules, the PAC decides every URL as matchUrl does, given the host the browser passes', () => {
  check(
    fc.property(rulesAndHosts, url, ([lines, hosts], toUrl) => {
      const { rules } = parseRules(lines);
      const pac = loadPac(buildPac(rules, PROXY));
      for (const host of hosts) {
        const u = toUrl(host);
        const h = hostOfUrl(u);
        if (h === null) {
          assert.equal(matchUrl(rules, u), false);
          continue;
        }
        assert.equal(pac(u, h), matchUrl(rules, u) ? TUNNEL : 'DIRECT', `url ${JSON.stringify(u)}`);
      }
    }),
    { scale: 0.5 },
  );
});

/** Text that often looks like a rule, and text that is anything at all. */
const ruleText = fc.oneof(
  fc.string({ unit: char('abz09.*?-_:/[]!# \tAZé'), maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  ruleLine.chain((l) =>
    fc.tuple(fc.nat(l.length), fc.string({ maxLength: 3 })).map(([at, s]) => l.slice(0, at) + s + l.slice(at)),
  ),
  fc.constantFrom(
    'http://x.grid5000.fr/',
    '[fd00::1]:443',
    'x:80',
    '10.0.0.1/33',
    '10.0.0.1/8',
    '::/129',
    '!',
    '! ',
    '#',
  ),
);

test('any rule text parses into rules and reasons without an exception, and its PAC compiles and agrees', () => {
  check(
    fc.property(
      fc.array(ruleText, { maxLength: 8 }),
      fc.array(fc.oneof(noiseHost, hostNearRange, brokenAddress), { maxLength: 6 }),
      (lines, hosts) => {
        const { rules, errors } = parseRules(lines);
        const meaningful = lines.filter((l) => l.replace(/#.*/s, '').trim() !== '').length;
        assert.equal(rules.length + errors.length, meaningful, 'every line is a rule or a reason');
        for (const e of errors) {
          assert.ok(e.message.length > 0);
          assert.equal(validatePattern(lines[e.index]!), e.message);
        }
        for (const r of rules) assert.equal(validatePattern(r.raw), null);
        const pac = loadPac(buildPac(rules, PROXY));
        for (const host of [...hosts, ...rules.map((r: Rule) => r.pattern.replace(/\/.*$/, ''))]) {
          const got = pac('http://x/', host);
          assert.equal(got, matchHost(rules, host) ? TUNNEL : 'DIRECT', `host ${JSON.stringify(host)}`);
        }
      },
    ),
  );
});
