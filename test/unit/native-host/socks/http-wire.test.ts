// The HTTP proxy request head: CONNECT and absolute-form accepted, anything else silent, oversized
// heads bounded, forwarded requests rewritten to origin-form without the proxy's headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_HEAD_BYTES,
  parseAuthority,
  parseProxyHead,
  PROXY_AUTH_REQUIRED,
  type ProxyRequest,
} from '../../../../native-host/socks/http-wire.js';

const head = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'));
function done(s: string | Buffer): { value: ProxyRequest; consumed: number } {
  const r = parseProxyHead(typeof s === 'string' ? head(s) : s);
  assert.equal(r.kind, 'done', JSON.stringify(r));
  return r as { kind: 'done'; value: ProxyRequest; consumed: number };
}
function error(s: string | Buffer) {
  const r = parseProxyHead(typeof s === 'string' ? head(s) : s);
  assert.equal(r.kind, 'error', JSON.stringify(r));
  return r as { kind: 'error'; reason: string; reply: Buffer };
}

test('CONNECT host:port with credentials, and the bytes after the head left for the tunnel', () => {
  const text =
    'CONNECT intranet.grid5000.fr:443 HTTP/1.1\nHost: intranet.grid5000.fr:443\nProxy-Authorization: Basic dTpw\n\n';
  const r = done(Buffer.concat([head(text), Buffer.from([0x16, 3, 1])]));
  assert.equal(r.value.kind, 'connect');
  assert.deepEqual(r.value.dest, { host: 'intranet.grid5000.fr', port: 443, type: 'domain' });
  assert.equal(r.value.authorization, 'Basic dTpw');
  assert.equal(r.value.problem, null);
  assert.equal(r.consumed, head(text).length);
});

test('CONNECT to IPv4 and bracketed IPv6 literals', () => {
  assert.deepEqual(done('CONNECT 10.0.0.7:22 HTTP/1.1\n\n').value.dest, { host: '10.0.0.7', port: 22, type: 'ipv4' });
  assert.deepEqual(done('CONNECT [FD00::1]:8443 HTTP/1.1\n\n').value.dest, {
    host: 'fd00::1',
    port: 8443,
    type: 'ipv6',
  });
});

test('an absolute-form GET is rewritten to origin-form, proxy headers out, Connection: close in', () => {
  const r = done(
    'GET http://graphite.nancy.grid5000.fr:8888/render?x=1 HTTP/1.1\nHost: graphite.nancy.grid5000.fr:8888\n' +
      'Proxy-Authorization: Basic dTpw\nProxy-Connection: keep-alive\nConnection: keep-alive\nKeep-Alive: 5\nAccept: */*\n\n',
  );
  assert.equal(r.value.kind, 'forward');
  assert.deepEqual(r.value.dest, { host: 'graphite.nancy.grid5000.fr', port: 8888, type: 'domain' });
  assert.equal(r.value.authorization, 'Basic dTpw');
  assert.equal(
    r.value.head.toString(),
    'GET /render?x=1 HTTP/1.1\r\nHost: graphite.nancy.grid5000.fr:8888\r\nAccept: */*\r\nConnection: close\r\n\r\n',
  );
  assert.equal(r.value.bodyLength, 0);
});

test('a forwarded request gets its Host and path when missing, port 80 by default, its body length', () => {
  const r = done('POST http://intranet.grid5000.fr HTTP/1.0\nContent-Length: 12\n\n');
  assert.deepEqual(r.value.dest, { host: 'intranet.grid5000.fr', port: 80, type: 'domain' });
  assert.equal(
    r.value.head.toString(),
    'POST / HTTP/1.0\r\nHost: intranet.grid5000.fr\r\nContent-Length: 12\r\nConnection: close\r\n\r\n',
  );
  assert.equal(r.value.bodyLength, 12);
});

test('not a proxy request: closed without a byte of answer (origin-form, TLS, garbage, other versions)', () => {
  for (const s of [
    'GET / HTTP/1.1\nHost: 127.0.0.1:1080\n\n',
    'POST /api HTTP/1.1\n\n',
    'GET https://x/ HTTP/1.1\n\n',
    'GET http://x/ HTTP/2.0\n\n',
    'CONNECT x:443\n\n',
    'get http://x/ HTTP/1.1 extra\n\n',
    '\x16\x03\x01\x02\x00',
    'x'.repeat(9000),
  ]) {
    const e = error(s);
    assert.equal(e.reply.length, 0, JSON.stringify(s.slice(0, 40)));
  }
});

test('an incomplete head asks for more; its request line is judged as soon as it is there', () => {
  const full = head('CONNECT a.grid5000.fr:443 HTTP/1.1\nHost: a\n\n');
  for (let i = 0; i < full.length; i++) assert.equal(parseProxyHead(full.subarray(0, i)).kind, 'more', `prefix ${i}`);
  assert.equal(parseProxyHead(head('GET / HTTP/1.1\n')).kind, 'error', 'origin-form is refused before the head ends');
});

test('an oversized head is refused (431) and never buffered without bound', () => {
  const big = head(`GET http://a.grid5000.fr/ HTTP/1.1\nCookie: ${'c'.repeat(MAX_HEAD_BYTES)}\n`);
  const e = error(big);
  assert.match(e.reply.toString(), /^HTTP\/1\.1 431 /);
  const complete = head(`GET http://a.grid5000.fr/ HTTP/1.1\nCookie: ${'c'.repeat(MAX_HEAD_BYTES)}\n\n`);
  assert.match(error(complete).reply.toString(), /^HTTP\/1\.1 431 /);
});

test('a malformed proxy request is parsed as far as its credentials, the problem answered after them', () => {
  const cases = [
    'CONNECT a.grid5000.fr HTTP/1.1\nProxy-Authorization: Basic x\n\n', // no port
    'CONNECT a.grid5000.fr:99999 HTTP/1.1\nProxy-Authorization: Basic x\n\n',
    'CONNECT user@a:443 HTTP/1.1\nProxy-Authorization: Basic x\n\n',
    'GET http://a b/ HTTP/1.1\nProxy-Authorization: Basic x\n\n',
    'GET http://a/ HTTP/1.1\nProxy-Authorization: Basic x\nTransfer-Encoding: chunked\n\n',
    'GET http://a/ HTTP/1.1\nProxy-Authorization: Basic x\nContent-Length: 1\nContent-Length: 2\n\n',
    'GET http://a/ HTTP/1.1\nProxy-Authorization: Basic x\nContent-Length: -1\n\n',
    'GET http://a/ HTTP/1.1\nProxy-Authorization: Basic x\n folded\n\n',
  ];
  for (const c of cases) {
    const r = parseProxyHead(head(c));
    if (r.kind === 'error') {
      assert.equal(r.reply.length, 0, `${c}: silent`);
      continue;
    }
    assert.equal(r.kind, 'done', c);
    if (r.kind !== 'done') continue;
    assert.ok(r.value.problem, `${c}: has a problem`);
    assert.match(r.value.problem.reply.toString(), /^HTTP\/1\.1 400 /);
  }
  // two Proxy-Authorization headers count as none
  assert.equal(
    done('CONNECT a:1 HTTP/1.1\nProxy-Authorization: a\nProxy-Authorization: b\n\n').value.authorization,
    null,
  );
});

test('the 407 names the Basic scheme and the realm, and closes', () => {
  const t = PROXY_AUTH_REQUIRED.toString();
  assert.match(t, /^HTTP\/1\.1 407 /);
  assert.match(t, /\r\nProxy-Authenticate: Basic realm="g5k-tunnel"\r\n/);
  assert.match(t, /\r\nConnection: close\r\n\r\n$/);
});

test('authorities', () => {
  assert.deepEqual(parseAuthority('a.b:1', null), { host: 'a.b', port: 1, type: 'domain' });
  assert.deepEqual(parseAuthority('a.b', 80), { host: 'a.b', port: 80, type: 'domain' });
  for (const bad of ['a.b', 'a.b:0', 'a.b:x', ':80', '[zz::1]:80', 'a b:1', 'u@a:1'])
    assert.equal(parseAuthority(bad, null), null, bad);
});

test('an IPv6 destination comes out in canonical form, however the client spelled it', () => {
  assert.deepEqual(done('CONNECT [FD00:0:0:0::0001]:443 HTTP/1.1\n\n').value.dest, {
    host: 'fd00::1',
    port: 443,
    type: 'ipv6',
  });
  assert.equal(done('CONNECT [ffff:0:0:0:0:0:0:0]:1 HTTP/1.1\n\n').value.dest.host, 'ffff::');
  assert.equal(done('CONNECT [0:0:0:0:0:ffff:102:304]:1 HTTP/1.1\n\n').value.dest.host, '::ffff:1.2.3.4');
  assert.deepEqual(done('GET http://[0:0::1]:8080/ HTTP/1.1\n\n').value.dest, {
    host: '::1',
    port: 8080,
    type: 'ipv6',
  });
});

test('a request line gets the same verdict whether it came whole or byte by byte', () => {
  /** The first verdict over growing prefixes, as bytes arrive one at a time. */
  const byteByByte = (buf: Buffer) => {
    for (let n = 1; n <= buf.length; n++) {
      const r = parseProxyHead(buf.subarray(0, n));
      if (r.kind !== 'more') return r.kind;
    }
    return 'more';
  };
  const long = (n: number) => head(`GET http://a/${'p'.repeat(n - 'GET http://a/ HTTP/1.1'.length)} HTTP/1.1\n\n`);
  for (const wire of [
    head('_A http://a/ HTTP/1.1\n\n'), // a method any token may spell
    head('get http://a/ HTTP/1.1\n\n'),
    long(8192), // the longest request line served
    long(8193),
    head(`${'A'.repeat(17)} http://a/ HTTP/1.1\n\n`), // a method longer than any served
  ])
    assert.equal(byteByByte(wire), parseProxyHead(wire).kind, wire.subarray(0, 30).toString());
  assert.equal(parseProxyHead(long(8192)).kind, 'done');
  assert.equal(parseProxyHead(long(8193)).kind, 'error');
});

test('a header line holding a bare CR, LF or NUL is a bad request, never forwarded', () => {
  for (const line of ['X: a\nProxy-Authorization: Basic eDp5', 'X: a\rb', 'X: a\0b', 'X: a\n']) {
    const r = done(Buffer.from(`GET http://a/ HTTP/1.1\r\n${line}\r\n\r\n`, 'latin1'));
    assert.match(r.value.problem?.reply.toString() ?? '', /^HTTP\/1\.1 400 /, JSON.stringify(line));
  }
});
