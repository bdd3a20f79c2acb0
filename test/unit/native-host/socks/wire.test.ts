// RFC 1928 byte layouts: greeting, request, replies, IPv6 text; RFC 1929 username/password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  REPLY,
  buildReply,
  AUTH_FAILURE,
  buildAuth,
  chooseMethod,
  formatTarget,
  parseAuth,
  formatIPv6,
  methodReply,
  parseGreeting,
  parseSocksRequest,
  type SocksTarget,
} from '../../../../native-host/socks/wire.js';

const b = (...bytes: number[]) => Buffer.from(bytes);
const port = (p: number) => [p >> 8, p & 0xff];
const domainRequest = (name: string | Buffer, p: number, cmd = 1) => {
  const n = Buffer.isBuffer(name) ? name : Buffer.from(name);
  return Buffer.concat([b(5, cmd, 0, 3, n.length), n, b(...port(p))]);
};
const ipv6Bytes = (text: string) => {
  // the 16 bytes of an IPv6 text, expanded independently of the code under test
  const full = new net.SocketAddress({ address: text, family: 'ipv6' }).address;
  const halves = full.split('::');
  const parse = (s: string) =>
    s ? s.split(':').flatMap((w) => (w.includes('.') ? toWords(w) : [parseInt(w, 16)])) : [];
  const head = parse(halves[0]!);
  const tail = halves.length > 1 ? parse(halves[1]!) : [];
  const words = [...head, ...Array(8 - head.length - tail.length).fill(0), ...tail];
  return Buffer.from(words.flatMap((w) => [w >> 8, w & 0xff]));
};
const toWords = (v4: string) => {
  const [a, c, d, e] = v4.split('.').map(Number) as [number, number, number, number];
  return [(a << 8) | c, (d << 8) | e];
};
const done = <T>(r: ReturnType<typeof parseSocksRequest> | ReturnType<typeof parseGreeting>) => {
  assert.equal(r.kind, 'done', JSON.stringify(r));
  return r as { kind: 'done'; value: T; consumed: number };
};
const error = (r: ReturnType<typeof parseSocksRequest> | ReturnType<typeof parseGreeting>) => {
  assert.equal(r.kind, 'error', JSON.stringify(r));
  return r as { kind: 'error'; reason: string; reply: Buffer };
};

test('greeting: the no-auth method is chosen when offered among others', () => {
  const g = done<number[]>(parseGreeting(b(5, 3, 2, 0, 1)));
  assert.deepEqual(g.value, [2, 0, 1]);
  assert.equal(g.consumed, 5);
  assert.equal(chooseMethod(g.value), 0);
  assert.deepEqual(methodReply(0), b(5, 0));
});

test('greeting: a client offering only other methods (or none) gets 05 FF', () => {
  assert.equal(chooseMethod(done<number[]>(parseGreeting(b(5, 2, 1, 2))).value), 0xff);
  assert.equal(chooseMethod(done<number[]>(parseGreeting(b(5, 0))).value), 0xff);
  assert.deepEqual(methodReply(0xff), b(5, 0xff));
});

test('greeting: incomplete bytes ask for more, at every split point', () => {
  const full = b(5, 2, 2, 0);
  for (let i = 0; i < full.length; i++) assert.equal(parseGreeting(full.subarray(0, i)).kind, 'more', `prefix ${i}`);
  assert.equal(done(parseGreeting(Buffer.concat([full, b(5, 1, 0)]))).consumed, 4, 'pipelined request left for later');
});

test('greeting: SOCKS4 gets a SOCKS4 rejection; HTTP and other bytes get nothing at all', () => {
  assert.deepEqual(error(parseGreeting(b(4, 1, 0, 80, 127, 0, 0, 1, 0))).reply, b(0, 0x5b, 0, 0, 0, 0, 0, 0));
  // a readable answer would tell any website that makes the browser connect here that the tool runs
  for (const text of ['GET http://x/ HTTP/1.1\r\n', 'GET / HTTP/1.1\r\n', 'CONNECT x:443 HTTP/1.1\r\n'])
    assert.equal(error(parseGreeting(Buffer.from(text))).reply.length, 0, text);
  const junk = error(parseGreeting(b(0x16, 3, 1)));
  assert.equal(junk.reply.length, 0);
  assert.match(junk.reason, /0x16/);
});

test('request: CONNECT to an IPv4 address', () => {
  const r = done<SocksTarget>(parseSocksRequest(b(5, 1, 0, 1, 10, 0, 0, 7, ...port(8080))));
  assert.deepEqual(r.value, { host: '10.0.0.7', port: 8080, type: 'ipv4' });
  assert.equal(r.consumed, 10);
});

test('request: CONNECT to a domain keeps the name as sent (no resolution, no case change)', () => {
  const r = done<SocksTarget>(parseSocksRequest(domainRequest('Graphite-3.Nancy.grid5000.fr', 443)));
  assert.deepEqual(r.value, { host: 'Graphite-3.Nancy.grid5000.fr', port: 443, type: 'domain' });
  assert.equal(r.consumed, 7 + 28);
});

test('request: an empty domain name is refused with a full reply', () => {
  const e = error(parseSocksRequest(domainRequest('', 80)));
  assert.deepEqual(e.reply, buildReply(REPLY.GENERAL_FAILURE));
  assert.match(e.reason, /empty/);
});

test('request: a domain with spaces or control bytes is refused', () => {
  assert.match(error(parseSocksRequest(domainRequest('a b', 80))).reason, /control|spaces/);
  assert.match(error(parseSocksRequest(domainRequest(b(0x61, 0, 0x62), 80))).reason, /control|spaces/);
});

test('request: CONNECT to IPv6 gives the compressed text with zero padding handled', () => {
  const cases: [string, string][] = [
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::1', '::1'],
    ['::', '::'],
    ['fe80::', 'fe80::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ];
  for (const [input, want] of cases) {
    const r = done<SocksTarget>(parseSocksRequest(Buffer.concat([b(5, 1, 0, 4), ipv6Bytes(input), b(...port(22))])));
    assert.deepEqual(r.value, { host: want, port: 22, type: 'ipv6' }, input);
    assert.equal(r.consumed, 22);
  }
});

test('formatIPv6 writes what inet_ntop writes, for random addresses rich in zero groups', () => {
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x80000000;
  for (let n = 0; n < 2000; n++) {
    const bytes = Buffer.alloc(16);
    for (let w = 0; w < 8; w++) {
      const r = rnd();
      const v = r < 0.5 ? 0 : r < 0.6 ? 0xffff : r < 0.7 ? 1 : Math.floor(rnd() * 0x10000);
      bytes.writeUInt16BE(v, w * 2);
    }
    const text = formatIPv6(bytes);
    // Node hands any text form to inet_pton and back through inet_ntop: the system's canonical form.
    assert.equal(text, new net.SocketAddress({ address: text, family: 'ipv6' }).address, bytes.toString('hex'));
    assert.deepEqual(ipv6Bytes(text), bytes, `round trip of ${text}`);
  }
});

test('request: BIND and UDP ASSOCIATE get reply 7, unknown address types reply 8', () => {
  assert.deepEqual(
    error(parseSocksRequest(b(5, 2, 0, 1, 127, 0, 0, 1, 0, 80))).reply,
    buildReply(REPLY.COMMAND_NOT_SUPPORTED),
  );
  assert.deepEqual(
    error(parseSocksRequest(b(5, 3, 0, 1, 0, 0, 0, 0, 0, 0))).reply,
    buildReply(REPLY.COMMAND_NOT_SUPPORTED),
  );
  assert.deepEqual(
    error(parseSocksRequest(b(5, 1, 0, 2, 1, 2, 3))).reply,
    buildReply(REPLY.ADDRESS_TYPE_NOT_SUPPORTED),
  );
  assert.deepEqual(error(parseSocksRequest(b(4, 1, 0, 1, 1, 2, 3, 4, 0, 80))).reply, buildReply(REPLY.GENERAL_FAILURE));
});

test('request: incomplete bytes ask for more at every split point, and pipelined data is not consumed', () => {
  const requests = [
    b(5, 1, 0, 1, 127, 0, 0, 1, 0, 80),
    domainRequest('intranet.grid5000.fr', 80),
    Buffer.concat([b(5, 1, 0, 4), ipv6Bytes('2001:db8::1'), b(0, 80)]),
  ];
  for (const req of requests) {
    for (let i = 0; i < req.length; i++)
      assert.equal(parseSocksRequest(req.subarray(0, i)).kind, 'more', `prefix ${i}`);
    const withData = Buffer.concat([req, Buffer.from('GET / HTTP/1.1\r\n')]);
    assert.equal(done(parseSocksRequest(withData)).consumed, req.length);
  }
});

test('replies are the full 10 bytes of RFC 1928 with the bound address 0.0.0.0:0', () => {
  for (const code of Object.values(REPLY)) assert.deepEqual(buildReply(code), b(5, code, 0, 1, 0, 0, 0, 0, 0, 0));
});

test('formatTarget brackets IPv6 only', () => {
  assert.equal(formatTarget({ host: '2001:db8::1', port: 80, type: 'ipv6' }), '[2001:db8::1]:80');
  assert.equal(formatTarget({ host: 'a.grid5000.fr', port: 80, type: 'domain' }), 'a.grid5000.fr:80');
});

test('method choice with credentials: username/password (0x02) or nothing, never "no authentication"', () => {
  assert.equal(chooseMethod([0, 2], true), 2);
  assert.equal(chooseMethod([2], true), 2);
  assert.equal(chooseMethod([0], true), 0xff, 'a client without credentials is refused');
  assert.equal(chooseMethod([0, 1], true), 0xff);
  assert.equal(chooseMethod([0, 2], false), 0, 'an open port keeps no authentication');
});

test('RFC 1929 subnegotiation: parsed at once or piecewise, names and passwords as raw bytes', () => {
  const full = buildAuth('g5k-user', 'p@ss:wörd');
  assert.deepEqual([...full.subarray(0, 2)], [1, 8]);
  for (let i = 0; i < full.length; i++)
    assert.equal(parseAuth(full.subarray(0, i)).kind, 'more', `prefix ${i} of ${full.length}`);
  const r = parseAuth(Buffer.concat([full, b(5, 1, 0)]));
  assert.equal(r.kind, 'done');
  if (r.kind !== 'done') return;
  assert.equal(r.value.username.toString(), 'g5k-user');
  assert.equal(r.value.password.toString(), 'p@ss:wörd');
  assert.equal(r.consumed, full.length, 'the CONNECT request that follows is left for later');
  const empty = parseAuth(b(1, 0, 0));
  assert.equal(empty.kind, 'done', 'empty name and password parse (and then fail the check)');
  assert.throws(() => buildAuth('x'.repeat(256), 'y'), RangeError);
});

test('RFC 1929 subnegotiation: a wrong version byte is refused with status 1', () => {
  for (const bad of [b(5, 1, 0), b(0, 1, 0x41, 1, 0x42), b(2)]) {
    const r = parseAuth(bad);
    assert.equal(r.kind, 'error', JSON.stringify([...bad]));
    if (r.kind === 'error') assert.deepEqual(r.reply, AUTH_FAILURE);
  }
  assert.deepEqual(AUTH_FAILURE, b(1, 1));
});
