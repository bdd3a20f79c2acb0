// Properties of the HTTP proxy parser over arbitrary bytes: a defined verdict for any input, the same
// whatever the chunking, bounded buffering; valid requests round-trip and are forwarded without the
// proxy's headers or any byte past their body; bad hosts, wrong credentials and origin-form refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  MAX_HEAD_BYTES,
  httpResponse,
  parseProxyHead,
  type ProxyRequest,
} from '../../../../native-host/socks/http-wire.js';
import { basicAuthorization, basicMatches, credentialsMatch } from '../../../../native-host/socks/credentials.js';
import { formatIPv6, type SocksTarget, type WireParse } from '../../../../native-host/socks/wire.js';
import { check, chunked, fc, splitBytes, splitPoints } from '../../../support/fuzz.js';

const BAD_REQUEST = httpResponse(400, 'Bad Request');
const TOO_LARGE = httpResponse(431, 'Request Header Fields Too Large');
const HOP = new Set(['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive']);
const b = (s: string) => Buffer.from(s, 'latin1');

// ---------- generators ----------

const tokenChar = fc.constantFrom(..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
const token = (maxLength: number) => fc.string({ unit: tokenChar, minLength: 1, maxLength });
/** Visible ASCII with inner spaces: a header value as the parser keeps it (trimmed). */
const fieldValue = fc
  .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 })
  .map((s) => s.trim());
const randomCase = (s: string) =>
  fc
    .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((up) => [...s].map((ch, i) => (up[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));
const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t ');

/** An end-to-end header the proxy keeps: not hop-by-hop, not Host, nor one about the body. */
const keptHeader = fc
  .tuple(
    fc.oneof(
      fc.constantFrom('Accept', 'User-Agent', 'Cookie', 'Referer', 'Authorization', 'X-Forwarded-For'),
      token(20),
    ),
    fieldValue,
  )
  .filter(
    ([k]) => !HOP.has(k.toLowerCase()) && !['host', 'content-length', 'transfer-encoding'].includes(k.toLowerCase()),
  );

interface Authority {
  text: string;
  dest: SocksTarget;
}
const portText = (p: number) => fc.constantFrom(String(p), String(p).padStart(5, '0'));
const domainHost = fc
  .oneof(fc.domain(), fc.constantFrom('localhost', 'intranet.grid5000.fr', 'a', 'node-1.nancy.grid5000.fr'))
  .filter((h) => /^[A-Za-z0-9._-]{1,253}$/.test(h) && !net.isIPv4(h))
  .chain(randomCase)
  .map((h) => ({ text: h, host: h, type: 'domain' as const }));
const ipv4Host = fc
  .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
  .map((p) => ({ text: p.join('.'), host: p.join('.'), type: 'ipv4' as const }));
/** IPv6 text in the forms clients write: full, compressed anywhere, any case, leading zeros, dotted tail. */
const ipv6Host = fc
  .tuple(
    fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0xffff), fc.nat(0xffff)), {
      minLength: 8,
      maxLength: 8,
    }),
    fc.nat(7),
    fc.nat(8),
    fc.boolean(),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([words, at, len, upper, pad, dotted]) => {
    const bytes = Uint8Array.from(words.flatMap((w) => [w >> 8, w & 0xff]));
    const hex = (w: number) => {
      const t = pad ? w.toString(16).padStart(4, '0') : w.toString(16);
      return upper ? t.toUpperCase() : t;
    };
    const groups = dotted
      ? [...words.slice(0, 6).map(hex), `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`]
      : words.map(hex);
    // "::" over any run of zero groups, starting at `at`
    let end = at;
    while (end < groups.length && end - at < len && groups[end] !== undefined && /^0+$/.test(groups[end]!)) end++;
    const text = end - at >= 1 ? `${groups.slice(0, at).join(':')}::${groups.slice(end).join(':')}` : groups.join(':');
    return { text: `[${text}]`, host: formatIPv6(bytes), type: 'ipv6' as const };
  });
const host = fc.oneof(domainHost, ipv4Host, ipv6Host);

/** `host:port`, as CONNECT needs it. */
const connectAuthority: fc.Arbitrary<Authority> = fc
  .tuple(host, fc.integer({ min: 1, max: 65535 }))
  .chain(([h, p]) =>
    portText(p).map((pt) => ({ text: `${h.text}:${pt}`, dest: { host: h.host, port: p, type: h.type } })),
  );
/** `host[:port]`, as an http URL has it. */
const urlAuthority: fc.Arbitrary<Authority> = fc
  .tuple(host, fc.option(fc.integer({ min: 1, max: 65535 })))
  .chain(([h, p]) =>
    p === null
      ? fc.constant({ text: h.text, dest: { host: h.host, port: 80, type: h.type } })
      : portText(p).map((pt) => ({ text: `${h.text}:${pt}`, dest: { host: h.host, port: p, type: h.type } })),
  );

const pathChar = fc.constantFrom(..."abcXYZ0189-._~!$&'()*+,;=:@%/".split(''));
const pathText = fc.string({ unit: pathChar, maxLength: 30 });
/** The target's path and query, and what origin-form makes of them. */
const pathAndQuery = fc.tuple(fc.option(pathText), fc.option(pathText), fc.option(pathText)).map(([p, q, frag]) => {
  const raw = `${p === null ? '' : `/${p}`}${q === null ? '' : `?${q}`}`;
  const path = raw === '' ? '/' : raw.startsWith('/') ? raw : `/${raw}`;
  return { raw: `${raw}${frag === null ? '' : `#${frag}`}`, path };
});

const creds = fc.record({
  username: fc
    .string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 30,
    })
    .filter((u) => !u.includes(':')),
  password: fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 40,
  }),
});

/** Hop-by-hop headers a client may add, any case; the rewrite must drop each of them. */
const hopHeaders = fc
  .subarray([
    ['Proxy-Connection', 'keep-alive'],
    ['Connection', 'keep-alive'],
    ['Keep-Alive', 'timeout=5'],
    ['Proxy-Authorization', 'Basic c2VjcmV0OnNlY3JldA=='],
  ] as [string, string][])
  .chain((hs) => fc.tuple(...hs.map(([k, v]) => randomCase(k).map((kk) => [kk, v] as [string, string]))));

/** Joins header pairs at random places among `kept` (keeping kept's order). */
function interleave(kept: [string, string][], extra: [string, string][], at: number[]): [string, string][] {
  const out = [...kept];
  extra.forEach((h, i) => out.splice((at[i] ?? 0) % (out.length + 1), 0, h));
  return out;
}

interface ForwardCase {
  wire: Buffer;
  head: string;
  expected: { method: string; dest: SocksTarget; head: string; body: Buffer; authorization: string | null };
}

/** A valid absolute-form request, its body, then a second request carrying credentials. */
const forwardRequest: fc.Arbitrary<ForwardCase> = fc
  .record({
    method: fc.oneof(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ-_'), minLength: 1, maxLength: 16 }),
    ),
    scheme: fc.constantFrom('http', 'HTTP', 'Http'),
    authority: urlAuthority,
    target: pathAndQuery,
    version: fc.constantFrom('0', '1'),
    kept: fc.array(keptHeader, { maxLength: 6 }),
    hop: hopHeaders,
    withHost: fc.boolean(),
    body: fc.option(fc.uint8Array({ maxLength: 80 })),
    at: fc.array(fc.nat(20), { minLength: 6, maxLength: 6 }),
    spaces: fc.array(fc.tuple(ows, ows), { minLength: 16, maxLength: 16 }),
    trailing: fc.uint8Array({ maxLength: 20 }),
  })
  .map((r) => {
    const kept = [...r.kept];
    if (r.withHost) kept.splice(r.at[0]! % (kept.length + 1), 0, ['Host', r.authority.text]);
    const bodyHeader: [string, string][] = r.body === null ? [] : [['Content-Length', String(r.body.length)]];
    const keptAll = interleave(kept, bodyHeader, r.at.slice(1));
    const all = interleave(keptAll, r.hop, r.at.slice(2));
    const lines = all.map(([k, v], i) => {
      const [s1, s2] = r.spaces[i % r.spaces.length]!;
      return `${k}:${s1}${v}${s2}\r\n`;
    });
    const head = `${r.method} ${r.scheme}://${r.authority.text}${r.target.raw} HTTP/1.${r.version}\r\n${lines.join('')}\r\n`;
    const originHeaders = r.withHost ? keptAll : [['Host', r.authority.text] as [string, string], ...keptAll];
    const origin = `${r.method} ${r.target.path} HTTP/1.${r.version}\r\n${originHeaders.map(([k, v]) => `${k}: ${v}\r\n`).join('')}Connection: close\r\n\r\n`;
    const body = Buffer.from(r.body ?? []);
    const pa = r.hop.filter(([k]) => k.toLowerCase() === 'proxy-authorization');
    const smuggled = `GET http://${r.authority.text}/ HTTP/1.1\r\nProxy-Authorization: Basic c2VjcmV0OnNlY3JldA==\r\n\r\n`;
    return {
      wire: Buffer.concat([b(head), body, b(smuggled), r.trailing]),
      head,
      expected: {
        method: r.method,
        dest: r.authority.dest,
        head: origin,
        body,
        authorization: pa.length ? pa[0]![1] : null,
      },
    };
  });

/** A valid CONNECT, with or without credentials, then the tunnel's first bytes. */
const connectRequest = fc
  .record({
    authority: connectAuthority,
    version: fc.constantFrom('0', '1'),
    kept: fc.array(keptHeader, { maxLength: 4 }),
    auth: fc.option(creds),
    at: fc.nat(10),
    early: fc.uint8Array({ maxLength: 30 }),
  })
  .map((r) => {
    const headers = [...r.kept];
    const authorization = r.auth ? basicAuthorization(r.auth) : null;
    if (authorization) headers.splice(r.at % (headers.length + 1), 0, ['Proxy-Authorization', authorization]);
    const head = `CONNECT ${r.authority.text} HTTP/1.${r.version}\r\nHost: ${r.authority.text}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    return { head, early: Buffer.from(r.early), dest: r.authority.dest, authorization, auth: r.auth };
  });

/** A valid request with a few bytes changed, cut short or followed by noise. */
const mutated: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.oneof(
      forwardRequest.map((f) => f.wire),
      connectRequest.map((c) => Buffer.concat([b(c.head), c.early])),
    ),
    fc.array(fc.tuple(fc.nat(400), fc.oneof(fc.nat(255), fc.constantFrom(0x0d, 0x0a, 0x20, 0x3a, 0x40, 0x00))), {
      maxLength: 3,
    }),
    fc.option(fc.nat(400)),
  )
  .map(([wire, flips, cut]) => {
    const bytes = Uint8Array.from(wire);
    for (const [at, v] of flips) if (bytes.length) bytes[at % bytes.length] = v;
    return bytes.subarray(0, cut ?? bytes.length);
  });

/** A valid request with a CR, LF or NUL put inside one of its header lines. */
const lineBreakInHeader: fc.Arbitrary<Uint8Array> = fc
  .tuple(forwardRequest, fc.nat(1000), fc.constantFrom('\n', '\r', '\0', '\nProxy-Authorization: Basic eDp5'))
  .map(([f, at, insert]) => {
    const lines = f.head.split('\r\n');
    const i = 1 + (at % Math.max(1, lines.length - 3));
    if (lines.length < 4) lines.splice(1, 0, 'X-Extra: v');
    const line = lines[i]!;
    const colon = line.indexOf(':') + 1;
    const where = colon + (at % (line.length - colon + 1));
    lines[i] = `${line.slice(0, where)}${insert}${line.slice(where)}`;
    return Uint8Array.from(b(lines.join('\r\n')));
  });

/** Bytes that look like an HTTP proxy request often enough to get past the first checks. */
const httpish: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(
      fc.constantFrom('', 'GET ', 'CONNECT ', 'GET http://', 'CONNECT a:1 HTTP/1.1\r\n', 'POST http://a/ HTTP/1.1\r\n'),
      fc.string({
        unit: fc.constantFrom('a', ':', '/', ' ', '\r\n', '\r', '\n', 'H', 'T', 'P', '1', '.', '@', '['),
        maxLength: 60,
      }),
    )
    .map(([h, t]) => Uint8Array.from(b(h + t))),
  mutated,
  lineBreakInHeader,
);

// ---------- checks ----------

/** One verdict against `buf`: a defined kind, a defined answer, nothing kept past the limit. */
function wellFormed(r: WireParse<ProxyRequest>, buf: Buffer): void {
  assert.ok(r.kind === 'more' || r.kind === 'done' || r.kind === 'error', JSON.stringify(r));
  if (r.kind === 'more') {
    assert.ok(buf.length <= MAX_HEAD_BYTES, `waits for more with ${buf.length} bytes held`);
    return;
  }
  if (r.kind === 'error') {
    assert.ok(typeof r.reason === 'string' && r.reason.length > 0 && r.reason.length < 300);
    assert.ok(r.reply.length === 0 || r.reply.equals(TOO_LARGE), `reply ${r.reply.toString('latin1')}`);
    return;
  }
  const end = buf.indexOf('\r\n\r\n');
  assert.equal(r.consumed, end + 4, 'consumes exactly the head');
  assert.ok(r.consumed <= MAX_HEAD_BYTES);
  const v = r.value;
  assert.equal(v.kind === 'connect', buf.subarray(0, 8).toString('latin1') === 'CONNECT ');
  if (v.problem) {
    assert.ok(v.problem.reply.equals(BAD_REQUEST), v.problem.reply.toString('latin1'));
    return;
  }
  validDestination(v.dest);
  if (v.kind === 'connect') return assert.equal(v.head.length, 0);
  const head = v.head.toString('latin1');
  assert.ok(head.endsWith('\r\nConnection: close\r\n\r\n'), head);
  assert.equal(head.indexOf('\r\n\r\n'), head.length - 4, 'one head, nothing after it');
  const lines = head.slice(0, -4).split('\r\n');
  assert.match(lines[0]!, /^\S+ \/\S* HTTP\/1\.[01]$/, 'origin-form request line');
  for (const line of lines.slice(1)) {
    assert.ok(!/[\r\n\0]/.test(line), `a header line holds no line break: ${JSON.stringify(line)}`);
    const name = line.slice(0, line.indexOf(':')).toLowerCase();
    assert.ok(!HOP.has(name) || line === 'Connection: close', `hop-by-hop header forwarded: ${line}`);
  }
  assert.ok(v.bodyLength >= 0 && Number.isSafeInteger(v.bodyLength));
}

function validDestination(d: SocksTarget): void {
  assert.ok(Number.isInteger(d.port) && d.port >= 1 && d.port <= 65535, `port ${d.port}`);
  if (d.type === 'ipv6') {
    assert.ok(net.isIPv6(d.host), d.host);
    assert.equal(d.host, canonicalIPv6(d.host), 'IPv6 in canonical form, like the SOCKS side');
  } else if (d.type === 'ipv4') assert.ok(net.isIPv4(d.host), d.host);
  else assert.match(d.host, /^[A-Za-z0-9._-]{1,253}$/);
}

/** The canonical text of an IPv6 address, through the URL parser's own reading of it. */
function canonicalIPv6(text: string): string {
  const words = new URL(`http://[${text}]/`).hostname
    .slice(1, -1)
    .split('::')
    .map((part) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16))));
  const [head, tail = []] = words as [number[], number[]?];
  const all = [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  return formatIPv6(Uint8Array.from(all.flatMap((w) => [w >> 8, w & 0xff])));
}

/** What the listener acts on. */
function verdict(r: WireParse<ProxyRequest>): unknown {
  if (r.kind === 'done') return { kind: 'done', consumed: r.consumed, value: { ...r.value, head: [...r.value.head] } };
  if (r.kind === 'error') return { kind: 'error', reply: [...r.reply] };
  return { kind: 'more' };
}

/** The listener over chunks: the head re-parsed as bytes arrive, then what is forwarded upstream. */
function listen(chunks: Buffer[]): { verdict: unknown; upstream: Buffer | null; held: number } {
  let buf = Buffer.alloc(0);
  let held = 0;
  for (let i = 0; i < chunks.length; i++) {
    buf = Buffer.concat([buf, chunks[i]!]);
    held = Math.max(held, buf.length);
    const r = parseProxyHead(buf);
    wellFormed(r, buf);
    if (r.kind === 'more') continue;
    if (r.kind === 'error' || r.value.problem) return { verdict: verdict(r), upstream: null, held };
    const req = r.value;
    // as listener.ts does: the rewritten head, then at most bodyLength bytes of what follows
    let left = req.kind === 'forward' ? req.head.length + req.bodyLength : Number.POSITIVE_INFINITY;
    const out: Buffer[] = [];
    for (let chunk of [Buffer.concat([req.head, buf.subarray(r.consumed)]), ...chunks.slice(i + 1)]) {
      if (chunk.length > left) chunk = chunk.subarray(0, left);
      left -= chunk.length;
      out.push(chunk);
    }
    return { verdict: verdict(r), upstream: Buffer.concat(out), held };
  }
  return { verdict: { kind: 'more' }, upstream: null, held };
}

/** The listener's verdict, without the bytes held (which depend on the chunks by nature). */
const outcome = (chunks: Buffer[]) => {
  const { verdict: v, upstream } = listen(chunks);
  return { verdict: v, upstream };
};

// ---------- any input ----------

test('any bytes get a defined verdict: more, a request, 431 or a silent close', () => {
  check(
    fc.property(httpish, (bytes) => {
      const buf = Buffer.from(bytes);
      wellFormed(parseProxyHead(buf), buf);
    }),
  );
});

test('every prefix waits for more until the first verdict, which no later byte changes', () => {
  check(
    fc.property(httpish, (bytes) => {
      const buf = Buffer.from(bytes);
      let decided: unknown = null;
      for (let n = 0; n <= buf.length; n++) {
        const r = parseProxyHead(buf.subarray(0, n));
        if (decided === null) {
          if (r.kind !== 'more') decided = verdict(r);
        } else assert.deepEqual(verdict(r), decided, `prefix ${n}`);
      }
    }),
  );
});

test('fed in arbitrary chunks, the verdict and the bytes forwarded are those of one chunk', () => {
  check(
    fc.property(splitBytes(httpish), ({ bytes, cuts }) => {
      assert.deepEqual(outcome(chunked(bytes, cuts)), outcome([Buffer.from(bytes)]));
    }),
  );
});

/** A request line of about `length` bytes: near the line limit, where chunking matters most. */
const longLine = fc
  .tuple(
    fc.integer({ min: 8170, max: 8210 }),
    fc.constantFrom('GET http://a.grid5000.fr/', 'CONNECT a', 'get http://a/', 'XXXXXXXXXXXXXXXXX http://a/'),
    fc.constantFrom(' HTTP/1.1', ':443 HTTP/1.1', ''),
  )
  .map(([length, start, end]) => {
    const fill = Math.max(0, length - start.length - end.length);
    return b(`${start}${'p'.repeat(fill)}${end}\r\nHost: a\r\n\r\n`);
  });

test('a long request line gets the same verdict in any chunks (the line limit is one limit)', () => {
  check(
    fc.property(
      longLine.chain((buf) => splitPoints(buf.length).map((cuts) => ({ buf, cuts }))),
      ({ buf, cuts }) => {
        assert.deepEqual(outcome(chunked(buf, cuts)), outcome([buf]));
      },
    ),
    { scale: 0.2 },
  );
});

/** Heads over the limit: long header values, many headers, or no end at all. */
const bigHead = fc
  .tuple(
    fc.constantFrom('GET http://a.grid5000.fr/ HTTP/1.1\r\n', 'CONNECT a:443 HTTP/1.1\r\n'),
    fc.integer({ min: MAX_HEAD_BYTES - 200, max: MAX_HEAD_BYTES + 3000 }),
    fc.constantFrom('long', 'many'),
    fc.boolean(),
  )
  .map(([line, size, shape, ends]) => {
    const fill = Math.max(0, size - line.length - 4);
    const headers =
      shape === 'long'
        ? `Cookie: ${'c'.repeat(Math.max(0, fill - 10))}\r\n`
        : 'X-A: b\r\n'.repeat(Math.ceil(fill / 8)).slice(0, fill - (fill % 8));
    return b(`${line}${headers}${ends ? '\r\n' : ''}`);
  });

test('a head over the limit is refused (431) with no more held than the limit and one chunk', () => {
  check(
    fc.property(
      bigHead.chain((buf) => splitPoints(buf.length).map((cuts) => ({ buf, cuts }))),
      ({ buf, cuts }) => {
        const chunks = chunked(buf, cuts);
        const got = listen(chunks);
        const end = buf.indexOf('\r\n\r\n');
        if (end >= 0 && end + 4 <= MAX_HEAD_BYTES) assert.equal((got.verdict as { kind: string }).kind, 'done');
        else if (buf.length > MAX_HEAD_BYTES || end >= 0)
          assert.deepEqual(got.verdict, { kind: 'error', reply: [...TOO_LARGE] });
        else assert.deepEqual(got.verdict, { kind: 'more' });
        const biggest = Math.max(...chunks.map((c) => c.length));
        assert.ok(got.held <= MAX_HEAD_BYTES + biggest, `held ${got.held}`);
        assert.deepEqual(got.verdict, listen([buf]).verdict, 'the same verdict in one chunk');
      },
    ),
    { scale: 0.1 },
  );
});

// ---------- valid requests ----------

test('an absolute-form request round-trips and goes out in origin-form with exactly its body', () => {
  check(
    fc.property(
      forwardRequest.chain((f) => splitPoints(f.wire.length).map((cuts) => ({ f, cuts }))),
      ({ f, cuts }) => {
        const r = parseProxyHead(f.wire);
        assert.equal(r.kind, 'done', JSON.stringify({ head: f.head, r }));
        if (r.kind !== 'done') return;
        const v = r.value;
        assert.equal(r.consumed, Buffer.byteLength(f.head, 'latin1'));
        assert.equal(v.kind, 'forward');
        assert.equal(v.problem, null, JSON.stringify({ head: f.head, problem: v.problem?.reason }));
        assert.deepEqual(v.dest, f.expected.dest);
        assert.equal(v.authorization, f.expected.authorization);
        assert.equal(v.bodyLength, f.expected.body.length);
        assert.equal(v.head.toString('latin1'), f.expected.head);
        // through the listener, in any chunks: the head, the body, and not a byte of the next request
        const sent = listen(chunked(f.wire, cuts)).upstream!;
        assert.deepEqual(sent, Buffer.concat([b(f.expected.head), f.expected.body]));
        assert.ok(!/proxy-authorization/i.test(sent.subarray(0, v.head.length).toString('latin1')));
      },
    ),
  );
});

test('a CONNECT round-trips its host, port and credentials; what follows is the tunnel', () => {
  check(
    fc.property(connectRequest, (c) => {
      const wire = Buffer.concat([b(c.head), c.early]);
      const r = parseProxyHead(wire);
      assert.equal(r.kind, 'done', c.head);
      if (r.kind !== 'done') return;
      assert.equal(r.value.kind, 'connect');
      assert.equal(r.value.problem, null, c.head);
      assert.deepEqual(r.value.dest, c.dest);
      assert.equal(r.value.authorization, c.authorization);
      assert.deepEqual(wire.subarray(r.consumed), c.early);
      if (c.auth) assert.ok(basicMatches(c.auth, r.value.authorization));
      else assert.ok(!basicMatches({ username: 'u', password: 'p' }, r.value.authorization));
    }),
  );
});

/** Host text that is no host name, IPv4 or IPv6 literal. */
const badHost = fc.oneof(
  fc
    .tuple(
      fc.domain(),
      fc.constantFrom(' ', '\t', '\x01', '\x7f', '\x00', '@', '\xe9', '%', '"', '<', '\\', '{'),
      fc.nat(30),
    )
    .map(([d, c, at]) => `${d.slice(0, at % (d.length + 1))}${c}${d.slice(at % (d.length + 1))}`),
  fc.tuple(fc.constantFrom('user', 'u:p', 'a%40b', ''), fc.domain()).map(([u, d]) => `${u}@${d}`),
  fc.constantFrom('[::1', '[fe80::1%eth0]', '[1:2:3:4:5:6:7:8:9]', '[::g]', '[]', '', '[1.2.3.4]'),
);

test('a host that is not a valid name or address is refused, never passed on', () => {
  check(
    fc.property(
      badHost,
      fc.option(fc.integer({ min: 1, max: 65535 })),
      fc.constantFrom('CONNECT', 'GET', 'POST'),
      (h, p, method) => {
        const authority = p === null ? h : `${h}:${p}`;
        const target = method === 'CONNECT' ? authority : `http://${authority}/x`;
        const wire = b(`${method} ${target} HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\r\n`);
        const r = parseProxyHead(wire);
        wellFormed(r, wire);
        if (r.kind === 'error') return assert.equal(r.reply.length, 0);
        assert.equal(r.kind, 'done');
        if (r.kind === 'done') assert.ok(r.value.problem, `passed on: ${JSON.stringify(r.value.dest)}`);
      },
    ),
  );
});

test('a header line holding a CR, LF or NUL is refused (400), never forwarded', () => {
  check(
    fc.property(lineBreakInHeader, (bytes) => {
      const r = parseProxyHead(Buffer.from(bytes));
      assert.equal(r.kind, 'done');
      if (r.kind === 'done')
        assert.ok(r.value.problem?.reply.equals(BAD_REQUEST), JSON.stringify(r.value.head.toString('latin1')));
    }),
  );
});

// ---------- credentials ----------

/** The Basic header's credentials as this test reads RFC 7617: scheme, spaces, base64 of user:password. */
function decodeBasic(header: string | null): { user: Buffer; pass: Buffer } | null {
  // base64 as Buffer reads it: a change that decodes to the same bytes is no change of credentials
  const m = header === null ? null : /^basic +([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header);
  if (!m) return null;
  const raw = Buffer.from(m[1]!, 'base64');
  const colon = raw.indexOf(':');
  return colon < 0 ? null : { user: raw.subarray(0, colon), pass: raw.subarray(colon + 1) };
}

/** Changes to a right header: credentials' case, one byte, scheme, spacing, missing. */
const mutation = fc.oneof(
  fc.constant({ kind: 'missing' as const }),
  fc.record({ kind: fc.constant('case' as const), which: fc.constantFrom('user', 'pass') }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(80), to: fc.nat(255) }),
  fc.record({
    kind: fc.constant('scheme' as const),
    scheme: fc.constantFrom('Bearer', 'Digest', 'Basic:', 'Basicx', 'B asic', ''),
  }),
  fc.record({ kind: fc.constant('spacing' as const), at: fc.nat(80), space: fc.constantFrom(' ', '\t', '\r', ',') }),
  fc.record({ kind: fc.constant('b64' as const), at: fc.nat(80), to: tokenChar }),
);

test('Basic credentials: exactly the right user:password is accepted, any change refused', () => {
  check(
    fc.property(creds, mutation, (c, mu) => {
      const right = basicAuthorization(c);
      // through the parser, as a browser sends it
      const r = parseProxyHead(b(`CONNECT a:443 HTTP/1.1\r\nProxy-Authorization: ${right}\r\n\r\n`));
      assert.ok(r.kind === 'done' && basicMatches(c, r.value.authorization), right);
      assert.ok(basicMatches(c, right.replace(/^Basic/, 'basic')), 'the scheme name is case-insensitive');
      const raw = Buffer.from(`${c.username}:${c.password}`);
      let header: string | null;
      switch (mu.kind) {
        case 'missing':
          header = null;
          break;
        case 'case': {
          const flip = (s: string) =>
            s.replace(/[a-zA-Z]/, (ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()));
          const u = mu.which === 'user' ? flip(c.username) : c.username;
          const p = mu.which === 'pass' ? flip(c.password) : c.password;
          header = basicAuthorization({ username: u, password: p });
          break;
        }
        case 'byte': {
          const changed = Buffer.from(raw);
          changed[mu.at % changed.length] = mu.to;
          header = `Basic ${changed.toString('base64')}`;
          break;
        }
        case 'scheme':
          header = `${mu.scheme} ${raw.toString('base64')}`;
          break;
        case 'spacing': {
          const at = 6 + (mu.at % (right.length - 6));
          header = `${right.slice(0, at)}${mu.space}${right.slice(at)}`;
          break;
        }
        case 'b64': {
          const at = 6 + (mu.at % (right.length - 6));
          header = `${right.slice(0, at)}${mu.to}${right.slice(at + 1)}`;
          break;
        }
      }
      const d = decodeBasic(header);
      const expected = d !== null && credentialsMatch(c, d.user, d.pass);
      assert.equal(basicMatches(c, header), expected, JSON.stringify({ right, header }));
      // a change that leaves other credentials is refused whatever the oracle says
      if (d && !Buffer.concat([d.user, b(':'), d.pass]).equals(raw)) assert.equal(basicMatches(c, header), false);
    }),
  );
});

// ---------- not a proxy request ----------

const originForm = fc
  .tuple(
    // any method a page can send (fetch() refuses CONNECT)
    fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'OPTIONS', 'PUT'), token(16)).filter((m) => m !== 'CONNECT'),
    fc.oneof(
      pathText.map((p) => `/${p}`),
      fc.constant('*'),
    ),
    fc.constantFrom('0', '1'),
    fc.array(keptHeader, { maxLength: 5 }),
    creds,
    fc.boolean(),
    fc.uint8Array({ maxLength: 30 }),
  )
  .map(([method, target, version, headers, c, withAuth, rest]) => {
    const hs: [string, string][] = [['Host', '127.0.0.1:1080'], ...headers];
    if (withAuth) hs.push(['Proxy-Authorization', basicAuthorization(c)]);
    const line = `${method} ${target} HTTP/1.${version}\r\n`;
    return { line, wire: Buffer.concat([b(`${line}${hs.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`), rest]) };
  });

test("a website's origin-form request is closed silently, decided by its request line alone", () => {
  check(
    fc.property(originForm, ({ line, wire }) => {
      const silent = { kind: 'error', reply: [] };
      assert.deepEqual(verdict(parseProxyHead(wire)), silent);
      assert.deepEqual(verdict(parseProxyHead(b(line))), silent, 'before the headers');
      for (let n = 0; n < line.length; n++) {
        const r = parseProxyHead(wire.subarray(0, n));
        assert.ok(r.kind === 'more' || (r.kind === 'error' && r.reply.length === 0), `prefix ${n}`);
      }
    }),
  );
});
