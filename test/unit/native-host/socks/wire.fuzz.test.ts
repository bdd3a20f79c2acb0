// Properties of the SOCKS5 parsers over arbitrary bytes: a defined outcome for any input, no byte
// read past what arrived, the same outcome whatever the chunking, and valid requests round-trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  REPLY,
  buildReply,
  chooseMethod,
  formatIPv6,
  parseGreeting,
  parseSocksRequest,
  type SocksTarget,
  type WireParse,
} from '../../../../native-host/socks/wire.js';
import { check, chunked, fc, splitBytes } from '../../../support/fuzz.js';

const REPLY_CODES = new Set<number>(Object.values(REPLY));
const port = (p: number) => [p >> 8, p & 0xff];

// Valid requests, to derive near-valid inputs from and to check round trips.
const ipv4 = fc
  .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
  .map((b) => ({ type: 'ipv4' as const, bytes: b, host: b.join('.') }));
const ipv6 = fc
  .oneof(
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
    // mostly zeros, so the "::" compression and the IPv4-mapped forms come up often
    fc
      .array(fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0xffff), fc.nat(0xffff)), {
        minLength: 8,
        maxLength: 8,
      })
      .map((words) => Uint8Array.from(words.flatMap(port))),
  )
  .map((b) => ({ type: 'ipv6' as const, bytes: [...b], host: '' }));
const domainName = fc.oneof(
  fc.domain(),
  fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 255,
  }),
  // UTF-8 names (an IDN sent unconverted), whole characters only, within the 255-byte limit
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
    .filter((s) => !/[\s\u0000-\u0020\u007f]/u.test(s) && Buffer.byteLength(s) <= 255),
);
const domain = domainName.map((name) => ({ type: 'domain' as const, bytes: [...Buffer.from(name)], host: name }));

const destination = fc.tuple(fc.oneof(ipv4, ipv6, domain), fc.nat(65535));
const greetingMethods = fc
  .uniqueArray(fc.nat(255), { maxLength: 255 })
  .chain((ms) => fc.constantFrom(ms, [...ms.filter((m) => m !== 0), 0]));

function requestBytes(addr: { type: string; bytes: number[] }, p: number): number[] {
  const atyp = addr.type === 'ipv4' ? 1 : addr.type === 'ipv6' ? 4 : 3;
  const len = addr.type === 'domain' ? [addr.bytes.length] : [];
  return [5, 1, 0, atyp, ...len, ...addr.bytes, ...port(p)];
}

/** A valid request with a few bytes changed, cut short or followed by noise. */
const mutatedRequest: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    destination,
    fc.array(fc.tuple(fc.nat(300), fc.nat(255)), { maxLength: 3 }),
    fc.option(fc.nat(300)),
    fc.uint8Array({ maxLength: 8 }),
  )
  .map(([[addr, p], flips, cut, noise]) => {
    const bytes = requestBytes(addr, p);
    for (const [at, v] of flips) if (bytes.length > 0) bytes[at % bytes.length] = v;
    return Uint8Array.from([...bytes.slice(0, cut ?? bytes.length), ...noise]);
  });

/** Bytes that look like a SOCKS5 exchange often enough to get past the first checks. */
const socksish: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(
      fc.uint8Array({ maxLength: 300 }),
      fc.constantFrom([5], [5, 1], [5, 1, 0], [5, 1, 0, 1], [5, 1, 0, 3], [5, 1, 0, 4], [4], [0x47]),
    )
    .map(([tail, head]) => Uint8Array.from([...head, ...tail])),
  mutatedRequest,
  fc
    .tuple(fc.uint8Array({ maxLength: 4 }), mutatedRequest)
    .map(([methods, req]) => Uint8Array.from([5, methods.length, ...methods, ...req])),
);

/** Checks one parser outcome against `buf`: a defined kind, nothing consumed past the buffer. */
function wellFormed<T>(r: WireParse<T>, buf: Buffer, which: 'greeting' | 'request'): void {
  assert.ok(r.kind === 'more' || r.kind === 'done' || r.kind === 'error', JSON.stringify(r));
  if (r.kind === 'done') assert.ok(r.consumed > 0 && r.consumed <= buf.length, `consumed ${r.consumed}`);
  if (r.kind === 'error') {
    assert.ok(typeof r.reason === 'string' && r.reason.length > 0 && r.reason.length < 200);
    assert.ok(Buffer.isBuffer(r.reply));
    if (which === 'greeting') {
      // a SOCKS4 refusal, an HTTP 400 for a browser set to HTTP proxy, or a plain close
      const socks4 = r.reply.length === 8 && r.reply[0] === 0 && r.reply[1] === 0x5b;
      const http = r.reply.toString('latin1').startsWith('HTTP/1.1 400 Bad Request\r\n');
      assert.ok(socks4 || http || r.reply.length === 0, `greeting reply ${r.reply.toString('hex')}`);
    } else {
      assert.equal(r.reply.length, 10);
      assert.deepEqual(r.reply, buildReply(r.reply[1]!));
      assert.ok(REPLY_CODES.has(r.reply[1]!) && r.reply[1] !== REPLY.SUCCEEDED, `reply ${r.reply[1]}`);
    }
  }
}

/** The outcome comparable across runs: done/error carry what the listener acts on. */
function outcome<T>(r: WireParse<T>): unknown {
  if (r.kind === 'done') return { kind: 'done', value: r.value, consumed: r.consumed };
  if (r.kind === 'error') return { kind: 'error', reply: [...r.reply] };
  return { kind: 'more' };
}

const PARSERS: ['greeting' | 'request', (buf: Buffer) => WireParse<unknown>][] = [
  ['greeting', parseGreeting],
  ['request', parseSocksRequest],
];

/** The listener's handshake over chunks: the greeting, then the request from the bytes left. */
function handshake(chunks: Buffer[]): unknown {
  let buf = Buffer.alloc(0);
  let greeted = false;
  let methods: number[] | null = null;
  for (let i = 0; i < chunks.length; i++) {
    buf = Buffer.concat([buf, chunks[i]!]);
    if (!greeted) {
      const g = parseGreeting(buf);
      wellFormed(g, buf, 'greeting');
      if (g.kind === 'more') continue;
      if (g.kind === 'error') return { greeting: outcome(g) };
      methods = g.value;
      greeted = true;
      buf = buf.subarray(g.consumed);
    }
    const r = parseSocksRequest(buf);
    wellFormed(r, buf, 'request');
    if (r.kind === 'more') continue;
    if (r.kind === 'error') return { methods, request: outcome(r) };
    // what follows the request belongs to the stream
    const early = Buffer.concat([buf.subarray(r.consumed), ...chunks.slice(i + 1)]);
    return { methods, request: outcome(r), early: [...early] };
  }
  return { methods, waiting: greeted ? 'request' : 'greeting' };
}

test('any bytes give each parser a defined outcome, never an exception', () => {
  check(
    fc.property(socksish, (bytes) => {
      const buf = Buffer.from(bytes);
      wellFormed(parseGreeting(buf), buf, 'greeting');
      wellFormed(parseSocksRequest(buf), buf, 'request');
    }),
  );
});

test('an outcome depends only on the bytes it consumed: more bytes after them change nothing', () => {
  check(
    fc.property(socksish, fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes, extra) => {
      const buf = Buffer.from(bytes);
      const longer = Buffer.concat([buf, extra]);
      for (const [which, parse] of PARSERS) {
        const r = parse(buf);
        if (r.kind === 'more') {
          // what waited for more bytes decides once they come, with a defined outcome
          wellFormed(parse(longer), longer, which);
          continue;
        }
        assert.deepEqual(outcome(parse(longer)), outcome(r));
        if (r.kind === 'done') assert.deepEqual(outcome(parse(buf.subarray(0, r.consumed))), outcome(r));
      }
    }),
  );
});

test('every prefix waits for more until the first decision, which no later byte changes', () => {
  check(
    fc.property(socksish, (bytes) => {
      const buf = Buffer.from(bytes);
      for (const [, parse] of PARSERS) {
        let decided: unknown = null;
        for (let n = 0; n <= buf.length; n++) {
          const r = parse(buf.subarray(0, n));
          if (decided === null) {
            if (r.kind !== 'more') decided = outcome(r);
          } else assert.deepEqual(outcome(r), decided, `prefix ${n}`);
        }
      }
    }),
  );
});

test('the handshake fed in arbitrary chunks ends as when fed in one', () => {
  check(
    fc.property(splitBytes(socksish), ({ bytes, cuts }) => {
      assert.deepEqual(handshake(chunked(bytes, cuts)), handshake([Buffer.from(bytes)]));
    }),
  );
});

/** Eight 16-bit words from IPv6 text, written apart from the code under test. */
function ipv6Words(text: string): number[] {
  let s = text;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const words = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  return [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
}

test('a valid greeting and request, in any chunks, give back the same destination', () => {
  check(
    fc.property(
      greetingMethods,
      destination,
      fc.uint8Array({ maxLength: 20 }),
      fc.infiniteStream(fc.nat(30)),
      (methods, [addr, p], early, sizes) => {
        const wire = Buffer.from([5, methods.length, ...methods, ...requestBytes(addr, p), ...early]);
        const chunks: Buffer[] = [];
        const it = sizes[Symbol.iterator]();
        for (let at = 0; at < wire.length; ) {
          const n = 1 + it.next().value!;
          chunks.push(wire.subarray(at, at + n));
          at += n;
        }
        const got = handshake(chunks) as { methods: number[]; request: { value: SocksTarget }; early: number[] };
        assert.deepEqual(got.methods, methods);
        assert.equal(chooseMethod(got.methods), methods.includes(0) ? 0 : 0xff);
        assert.deepEqual(got.early, [...early], 'bytes after the request are left for the stream');
        const dest = got.request.value;
        assert.equal(dest.type, addr.type);
        assert.equal(dest.port, p);
        if (addr.type === 'ipv6') {
          assert.equal(dest.host, formatIPv6(Uint8Array.from(addr.bytes)));
          assert.deepEqual(
            ipv6Words(dest.host),
            [0, 2, 4, 6, 8, 10, 12, 14].map((i) => (addr.bytes[i]! << 8) | addr.bytes[i + 1]!),
          );
          assert.match(dest.host, /^[0-9a-f:.]+$/);
        } else assert.equal(dest.host, addr.host);
      },
    ),
  );
});
