// The SOCKS5 listener over real loopback sockets. The connector here opens plain TCP connections to
// local targets (the SSH side has its own test); raw clients check the exact bytes on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { SocksClient } from 'socks';
import {
  listenSocks,
  REPLY,
  SocksConnectError,
  type Connector,
  type SocksTarget,
  type SocksServer,
  type SocksServerOptions,
} from '../../native-host/socks/listener.js';
import { relayGc } from '../../native-host/socks/relay.js';
import type { Logger } from '../../native-host/log.js';

const GREETING = Buffer.from([5, 1, 0]);
const reply = (code: number) => Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
const connectIPv4 = (port: number, ip = [127, 0, 0, 1]) => Buffer.from([5, 1, 0, 1, ...ip, port >> 8, port & 0xff]);
const connectDomain = (name: string, port: number) =>
  Buffer.concat([
    Buffer.from([5, 1, 0, 3, Buffer.byteLength(name)]),
    Buffer.from(name),
    Buffer.from([port >> 8, port & 0xff]),
  ]);
const MiB = 1024 * 1024;
// A hang (a socket nobody closes) must fail the test, not stall the run.
const T = { timeout: 60_000 };

/** Polls a condition (bounded); the timeout only guards against a hang, it measures nothing. */
async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until a counter stops moving (a stalled producer or a full socket buffer). */
async function waitSteady(what: string, read: () => number, quietMs = 300, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = read();
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
    if (Date.now() > deadline) throw new Error(`${what} never settled (last ${last})`);
  }
}

/** A raw client socket with buffered reads. */
class Peer {
  buf = Buffer.alloc(0);
  ended = false;
  closed = false;
  error: Error | null = null;
  constructor(public readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => (this.buf = Buffer.concat([this.buf, d])));
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.closed = true));
    socket.on('error', (e) => (this.error = e));
  }
  static async connect(port: number, host = '127.0.0.1'): Promise<Peer> {
    const s = net.connect({ port, host, allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    return new Peer(s);
  }
  async read(n: number): Promise<Buffer> {
    await waitFor(`${n} bytes (have ${this.buf.length})`, () => this.buf.length >= n || this.ended || this.closed);
    assert.ok(
      this.buf.length >= n,
      `connection ended after ${this.buf.length} of ${n} bytes: ${this.buf.toString('hex')}`,
    );
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  async readToEnd(): Promise<Buffer> {
    await waitFor('the end of the connection', () => this.ended || this.closed);
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }
  /** Greeting + CONNECT, checking the method choice; returns the 10-byte reply. */
  async handshake(request: Buffer): Promise<Buffer> {
    this.socket.write(Buffer.concat([GREETING, request]));
    assert.deepEqual(await this.read(2), Buffer.from([5, 0]));
    return this.read(10);
  }
}

/** A TCP target on loopback that echoes, and ends its side when the client ends (half-close aware). */
async function startTarget(onConn?: (s: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    if (onConn) onConn(s);
    else s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A connector to one local port that records what it was asked for. */
function tcpConnector(port: number, seen: SocksTarget[] = [], opened: net.Socket[] = []): Connector {
  return (dest) => {
    seen.push(dest);
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      opened.push(s);
      s.once('connect', () => resolve(s)).once('error', reject);
    });
  };
}

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => void lines.push(m);
  return { lines, debug: push, info: push, warn: push, error: push };
}

async function withServer(
  opts: Partial<SocksServerOptions> & { connect: Connector },
  body: (srv: SocksServer) => Promise<void>,
): Promise<void> {
  const srv = await listenSocks({ port: 0, ...opts });
  try {
    await body(srv);
  } finally {
    await srv.close();
    assert.equal(srv.stats().open, 0, 'no client connection left after close()');
  }
}

test('relays to IPv4, domain and IPv6 destinations, handing the destination on as sent', T, async () => {
  const target = await startTarget();
  const seen: SocksTarget[] = [];
  try {
    await withServer({ connect: tcpConnector(target.port, seen) }, async (srv) => {
      const dests = [
        { host: '10.1.2.3', port: 8080 },
        { host: 'graphite-3.nancy.grid5000.fr', port: 8888 }, // resolves nowhere here: proof it is not looked up
        { host: '2001:db8::1', port: 443 },
      ];
      for (const destination of dests) {
        const { socket } = await SocksClient.createConnection({
          proxy: { host: srv.host, port: srv.port, type: 5 },
          command: 'connect',
          destination,
        });
        const p = new Peer(socket);
        socket.write('ping');
        assert.equal((await p.read(4)).toString(), 'ping');
        socket.destroy();
      }
      assert.deepEqual(seen, [
        { host: '10.1.2.3', port: 8080, type: 'ipv4' },
        { host: 'graphite-3.nancy.grid5000.fr', port: 8888, type: 'domain' },
        { host: '2001:db8::1', port: 443, type: 'ipv6' },
      ]);
    });
  } finally {
    await target.close();
  }
});

test('a client offering only other auth methods gets 05 FF and is closed', T, async () => {
  let called = false;
  await withServer({ connect: async () => ((called = true), new Duplex()) }, async (srv) => {
    const p = await Peer.connect(srv.port);
    p.socket.write(Buffer.from([5, 2, 1, 2])); // GSSAPI, username/password
    assert.deepEqual(await p.readToEnd(), Buffer.from([5, 0xff]));
    p.socket.destroy();
    assert.equal(called, false);
  });
});

test('BIND, UDP ASSOCIATE, unknown address types and empty names get full 10-byte replies', T, async () => {
  let called = false;
  await withServer({ connect: async () => ((called = true), new Duplex()) }, async (srv) => {
    const cases: [Buffer, number][] = [
      [Buffer.from([5, 2, 0, 1, 127, 0, 0, 1, 0, 80]), REPLY.COMMAND_NOT_SUPPORTED],
      [Buffer.from([5, 3, 0, 1, 0, 0, 0, 0, 0, 0]), REPLY.COMMAND_NOT_SUPPORTED],
      [Buffer.from([5, 1, 0, 9, 1, 2, 3, 4]), REPLY.ADDRESS_TYPE_NOT_SUPPORTED],
      [connectDomain('', 80), REPLY.GENERAL_FAILURE],
    ];
    for (const [request, code] of cases) {
      const p = await Peer.connect(srv.port);
      assert.deepEqual(await p.handshake(request), reply(code));
      assert.equal((await p.readToEnd()).length, 0, 'closed after the reply');
      p.socket.destroy();
    }
    assert.equal(called, false, 'the connector is never asked');
    assert.equal(srv.stats().failed, 4);
  });
});

test('connector failures become their reply codes; a refused host never reaches the connector', T, async () => {
  const log = recordingLog();
  const asked: string[] = [];
  const connect: Connector = async (dest) => {
    asked.push(dest.host);
    if (dest.host === 'refused.test') throw new SocksConnectError('Connection refused', REPLY.CONNECTION_REFUSED);
    if (dest.host === 'unknown.test') throw new SocksConnectError('Name or service not known', REPLY.HOST_UNREACHABLE);
    throw new Error('something odd');
  };
  const allow = (d: SocksTarget) => d.host !== 'outside.example.org';
  await withServer({ connect, allow, log }, async (srv) => {
    const cases: [string, number][] = [
      ['refused.test', REPLY.CONNECTION_REFUSED],
      ['unknown.test', REPLY.HOST_UNREACHABLE],
      ['odd.test', REPLY.GENERAL_FAILURE],
      ['outside.example.org', REPLY.NOT_ALLOWED],
    ];
    for (const [host, code] of cases) {
      const p = await Peer.connect(srv.port);
      assert.deepEqual(await p.handshake(connectDomain(host, 80)), reply(code), host);
      await p.readToEnd();
      p.socket.destroy();
    }
    assert.deepEqual(asked, ['refused.test', 'unknown.test', 'odd.test']);
    assert.ok(
      log.lines.some((l) => /outside\.example\.org:80.*not in the allowed/.test(l)),
      log.lines.join('\n'),
    );
    assert.ok(
      log.lines.some((l) => /refused\.test:80.*Connection refused/.test(l)),
      log.lines.join('\n'),
    );
  });
});

test('a handshake sent one byte per segment works, and so does data pipelined before the reply', T, async () => {
  const target = await startTarget();
  // a slow connector: the pipelined bytes are surely in before the stream exists
  const connect: Connector = async (d, s) => {
    await new Promise((r) => setTimeout(r, 50));
    return tcpConnector(target.port)(d, s);
  };
  try {
    await withServer({ connect }, async (srv) => {
      const slow = await Peer.connect(srv.port);
      const bytes = Buffer.concat([GREETING, connectDomain('intranet.grid5000.fr', 80)]);
      for (const byte of bytes) {
        slow.socket.write(Buffer.from([byte]));
        await new Promise((r) => setTimeout(r, 2));
      }
      assert.deepEqual(await slow.read(12), Buffer.concat([Buffer.from([5, 0]), reply(0)]));
      slow.socket.write('after');
      assert.equal((await slow.read(5)).toString(), 'after');
      slow.socket.destroy();

      const eager = await Peer.connect(srv.port);
      eager.socket.write(Buffer.concat([GREETING, connectIPv4(80), Buffer.from('GET / HTTP/1.1\r\n\r\n')]));
      assert.deepEqual(await eager.read(12), Buffer.concat([Buffer.from([5, 0]), reply(0)]));
      assert.equal((await eager.read(18)).toString(), 'GET / HTTP/1.1\r\n\r\n');
      eager.socket.destroy();
    });
  } finally {
    await target.close();
  }
});

test('half-close: the client ends its side and still gets the whole response', T, async () => {
  // the target answers only once the request is complete (its input ended)
  const target = await startTarget((s) => {
    let n = 0;
    s.on('data', (d: Buffer) => (n += d.length));
    s.on('end', () => s.end(`got ${n} bytes`));
  });
  try {
    await withServer({ connect: tcpConnector(target.port) }, async (srv) => {
      const p = await Peer.connect(srv.port);
      assert.deepEqual(await p.handshake(connectIPv4(80)), reply(0));
      p.socket.end('request body');
      assert.equal((await p.readToEnd()).toString(), 'got 12 bytes');
    });
  } finally {
    await target.close();
  }
});

test('half-close: a request and EOF sent before the reply still get the answer', T, async () => {
  const target = await startTarget((s) => {
    let n = 0;
    s.on('data', (d: Buffer) => (n += d.length));
    s.on('end', () => s.end(`got ${n} bytes`));
  });
  const connect: Connector = async (d, sig) => {
    await new Promise((r) => setTimeout(r, 50)); // the EOF arrives while the stream opens
    return tcpConnector(target.port)(d, sig);
  };
  try {
    await withServer({ connect }, async (srv) => {
      const p = await Peer.connect(srv.port);
      p.socket.end(Buffer.concat([GREETING, connectIPv4(80), Buffer.from('whole request')]));
      assert.deepEqual(await p.read(12), Buffer.concat([Buffer.from([5, 0]), reply(0)]));
      assert.equal((await p.readToEnd()).toString(), 'got 13 bytes');
    });
  } finally {
    await target.close();
  }
});

test('half-close: the far side ends first and still gets what the client sends afterwards', T, async () => {
  let late = '';
  const target = await startTarget((s) => {
    s.end('bye'); // write side closed, read side still open
    s.on('data', (d: Buffer) => (late += d.toString()));
  });
  try {
    await withServer({ connect: tcpConnector(target.port) }, async (srv) => {
      const p = await Peer.connect(srv.port);
      assert.deepEqual(await p.handshake(connectIPv4(80)), reply(0));
      assert.equal((await p.readToEnd()).toString(), 'bye');
      assert.equal(p.closed, false, 'the client may still write');
      p.socket.end('late words');
      await waitFor('the late words at the far side', () => late === 'late words');
    });
  } finally {
    await target.close();
  }
});

test(
  'the far side closes completely: the client gets EOF, and its own close then frees the connection',
  T,
  async () => {
    // like an ssh2 channel the gateway closes: the data, EOF, then 'close'
    const connect: Connector = async () => {
      let sent = false;
      const ch: Duplex = new Duplex({
        read() {
          if (sent) return;
          sent = true;
          this.push('bye');
          this.push(null);
        },
        write: (_c, _e, cb) => cb(),
      });
      ch.once('end', () => process.nextTick(() => ch.destroy()));
      return ch;
    };
    await withServer({ connect, handshakeTimeoutMs: 120_000 }, async (srv) => {
      const p = await Peer.connect(srv.port);
      assert.deepEqual(await p.handshake(connectIPv4(80)), reply(0));
      assert.equal((await p.readToEnd()).toString(), 'bye');
      p.socket.write('ignored');
      p.socket.end();
      await waitFor('the connection freed', () => srv.stats().open === 0 && p.closed);
    });
  },
);

test('a far side that fails mid-transfer resets the client (ECONNRESET), never a clean end', T, async () => {
  // an error (a lost SSH connection), or a close without the end of the data: both are failures
  for (const how of ['error', 'close'] as const) {
    const connect: Connector = async () => {
      const ch = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
      ch.push('partial');
      setTimeout(() => (how === 'error' ? ch.destroy(new Error('the SSH connection was lost')) : ch.destroy()), 50);
      return ch;
    };
    await withServer({ connect }, async (srv) => {
      const p = await Peer.connect(srv.port);
      assert.deepEqual(await p.handshake(connectIPv4(80)), reply(0));
      assert.equal((await p.read(7)).toString(), 'partial');
      await waitFor('the client closed', () => p.closed);
      assert.equal((p.error as NodeJS.ErrnoException | null)?.code, 'ECONNRESET', `after ${how}`);
      assert.equal(p.ended, false, `no EOF after ${how}`);
    });
  }
});

test('what the far side delivers in one tick reaches the client in one writev', T, async () => {
  let far: Duplex | null = null;
  const connect: Connector = async () => (far = new Duplex({ read() {}, write: (_c, _e, cb) => cb() }));
  const proto = net.Socket.prototype;
  const { _write: write, _writev: writev } = proto;
  await withServer({ connect }, async (srv) => {
    const p = await Peer.connect(srv.port);
    assert.deepEqual(await p.handshake(connectIPv4(80)), reply(0));
    // the server's side of this client: the socket whose local port is the listener's
    const seen = { write: 0, writev: [] as number[] };
    proto._write = function (this: net.Socket, ...a: Parameters<net.Socket['_write']>) {
      if (this.localPort === srv.port) seen.write++;
      return write.apply(this, a);
    };
    proto._writev = function (this: net.Socket, ...a: Parameters<NonNullable<net.Socket['_writev']>>) {
      if (this.localPort === srv.port) seen.writev.push(a[0].length);
      return writev!.apply(this, a);
    };
    try {
      // as ssh2 does with the packets of one read from the SSH socket
      far!.push('one ');
      far!.push('two ');
      far!.push('three');
      assert.equal((await p.read(13)).toString(), 'one two three');
    } finally {
      proto._write = write;
      proto._writev = writev;
    }
    assert.deepEqual(seen, { write: 0, writev: [3] });
    p.socket.destroy();
  });
});

test('relaying runs a young-generation GC every few MiB, so that dead read buffers do not pile up', T, async () => {
  const saved = { ...relayGc };
  let collections = 0;
  let far: Duplex | null = null;
  try {
    relayGc.everyBytes = 1 * MiB;
    relayGc.collect = undefined;
    const connect: Connector = async () => (far = new Duplex({ read() {}, write: (_c, _e, cb) => cb() }));
    await withServer({ connect }, async (srv) => {
      const p = await Peer.connect(srv.port);
      assert.deepEqual(await p.handshake(connectIPv4(80)), reply(0));
      far!.push(Buffer.alloc(MiB));
      await waitFor('1 MiB down', () => p.buf.length >= MiB);
      // the first collection looked V8's gc up (exposed at run time, the test runs without --expose-gc)
      assert.equal(typeof relayGc.collect, 'function');
      relayGc.collect = () => void collections++;
      for (let i = 0; i < 4; i++) far!.push(Buffer.alloc(MiB));
      await waitFor('4 MiB more down', () => p.buf.length >= 5 * MiB);
      assert.equal(collections, 4);
      p.socket.write(Buffer.alloc(MiB)); // uploads count too
      await waitFor('1 MiB up', () => collections === 5);
      p.socket.destroy();
    });
  } finally {
    Object.assign(relayGc, saved);
  }
});

test('backpressure: a client that stops reading a download pauses the producer', T, async () => {
  let produced = 0;
  const LIMIT = 512 * MiB; // a runaway guard only
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let stream: Duplex | null = null;
  const connect: Connector = async () =>
    (stream = new Duplex({
      read() {
        if (produced >= LIMIT) return void this.push(null);
        produced += chunk.length;
        this.push(chunk);
      },
      write(_c, _e, cb) {
        cb();
      },
    }));
  await withServer({ connect }, async (srv) => {
    const p = await Peer.connect(srv.port);
    assert.deepEqual(await p.handshake(connectIPv4(80)), reply(0));
    p.socket.pause();
    p.socket.removeAllListeners('data');
    const stalled = await waitSteady('the producer', () => produced);
    assert.ok(stalled < 64 * MiB, `the producer was read ${stalled / MiB} MiB ahead of a client that reads nothing`);
    // reading again lets the producer go on: it was paused, not finished
    let got = 0;
    p.socket.on('data', (d: Buffer) => (got += d.length));
    p.socket.resume();
    await waitFor('the producer to resume', () => produced > stalled + 16 * MiB);
    assert.ok(got > 0);
    p.socket.destroy();
    await waitFor('the stream destroyed with its client', () => stream?.destroyed === true);
  });
});

test('backpressure: a far side that stops reading an upload stops reading from the client', T, async () => {
  let accepted = 0;
  let held: (() => void) | null = null;
  let flowing = false;
  const connect: Connector = async () =>
    new Duplex({
      read() {},
      write(c: Buffer, _e, cb) {
        accepted += c.length;
        if (flowing) cb();
        else held = cb;
      },
    });
  await withServer({ connect }, async (srv) => {
    const p = await Peer.connect(srv.port);
    assert.deepEqual(await p.handshake(connectIPv4(80)), reply(0));
    const chunk = Buffer.alloc(1 * MiB, 0x62);
    const TOTAL = 96;
    for (let i = 0; i < TOTAL; i++) p.socket.write(chunk);
    const readByServer = await waitSteady('the bytes the server reads', () => srv.stats().bytesUp);
    assert.ok(readByServer < 48 * MiB, `the server read ${readByServer / MiB} MiB that the far side never took`);
    flowing = true;
    (held as (() => void) | null)?.();
    await waitFor('the whole upload', () => accepted === TOTAL * MiB, 30_000);
    p.socket.destroy();
  });
});

test('resets on either side never crash the server and leave nothing open', T, async () => {
  const target = await startTarget();
  const opened: net.Socket[] = [];
  try {
    await withServer({ connect: tcpConnector(target.port, [], opened) }, async (srv) => {
      // the client resets mid-stream: the outgoing stream goes too
      const a = await Peer.connect(srv.port);
      assert.deepEqual(await a.handshake(connectIPv4(80)), reply(0));
      a.socket.write('x');
      await a.read(1);
      a.socket.resetAndDestroy();
      await waitFor('the outgoing stream closed', () => opened[0]!.destroyed);
      await waitFor('no open client', () => srv.stats().open === 0);

      // the far side resets: the client loses its connection
      const b = await Peer.connect(srv.port);
      assert.deepEqual(await b.handshake(connectIPv4(80)), reply(0));
      b.socket.write('y');
      await b.read(1);
      for (const s of target.sockets) s.resetAndDestroy();
      await waitFor('the client closed after the far reset', () => b.closed || b.ended);
      await waitFor('no open client', () => srv.stats().open === 0);

      // still serving
      const c = await Peer.connect(srv.port);
      assert.deepEqual(await c.handshake(connectIPv4(80)), reply(0));
      c.socket.write('z');
      assert.equal((await c.read(1)).toString(), 'z');
      c.socket.destroy();
    });
  } finally {
    await target.close();
  }
});

test(
  'garbage, SOCKS4 and HTTP on the port: SOCKS4 is answered, the rest closed without a byte; the next client is served',
  T,
  async () => {
    const target = await startTarget();
    try {
      await withServer({ connect: tcpConnector(target.port) }, async (srv) => {
        const junk = await Peer.connect(srv.port);
        junk.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0xff, 0xee]));
        assert.equal((await junk.readToEnd()).length, 0);
        junk.socket.destroy();

        const v4 = await Peer.connect(srv.port);
        v4.socket.write(Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]));
        assert.deepEqual(await v4.readToEnd(), Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0]));
        v4.socket.destroy();

        const http = await Peer.connect(srv.port);
        http.socket.write('GET http://intranet.grid5000.fr/ HTTP/1.1\r\nHost: intranet.grid5000.fr\r\n\r\n');
        // no readable answer: a website could otherwise detect the tool by its error text
        assert.equal((await http.readToEnd()).length, 0);
        http.socket.destroy();

        const ok = await Peer.connect(srv.port);
        assert.deepEqual(await ok.handshake(connectIPv4(80)), reply(0));
        ok.socket.destroy();
        assert.equal(srv.stats().failed, 3);
      });
    } finally {
      await target.close();
    }
  },
);

test('a client that stalls mid-handshake is dropped', T, async () => {
  await withServer({ connect: async () => new Duplex(), handshakeTimeoutMs: 200 }, async (srv) => {
    const p = await Peer.connect(srv.port);
    p.socket.write(Buffer.from([5, 1])); // the method list never comes
    await waitFor('the server to drop the stalled client', () => p.closed || p.ended);
    await waitFor('no open client', () => srv.stats().open === 0);
    assert.equal(srv.stats().failed, 1);
  });
});

test(
  'a client that leaves while the stream opens aborts the connector, and a late stream is destroyed',
  T,
  async () => {
    const signals: AbortSignal[] = [];
    const late: Duplex[] = [];
    const connect: Connector = (dest, signal) => {
      signals.push(signal);
      if (dest.host === 'obedient.test') {
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      }
      // a connector that ignores the signal and resolves anyway
      return new Promise((resolve) =>
        signal.addEventListener('abort', () => {
          const s = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
          late.push(s);
          setTimeout(() => resolve(s), 20);
        }),
      );
    };
    await withServer({ connect }, async (srv) => {
      for (const host of ['obedient.test', 'stubborn.test']) {
        const p = await Peer.connect(srv.port);
        p.socket.write(Buffer.concat([GREETING, connectDomain(host, 80)]));
        await p.read(2);
        await waitFor('the connector to be asked', () => signals.length === (host === 'obedient.test' ? 1 : 2));
        p.socket.destroy();
        await waitFor('the signal to abort', () => signals.at(-1)!.aborted);
      }
      await waitFor('the late stream destroyed', () => late[0]?.destroyed === true);
      await waitFor('no open client', () => srv.stats().open === 0);
    });
  },
);

test('close() stops listening and destroys every client socket, stream and pending connect', T, async () => {
  const target = await startTarget();
  const opened: net.Socket[] = [];
  let pending: AbortSignal | null = null;
  const relay = tcpConnector(target.port, [], opened);
  const connect: Connector = (dest, signal) => {
    if (dest.host === 'slow.test') {
      pending = signal;
      return new Promise(() => {}); // never settles by itself
    }
    return relay(dest, signal);
  };
  const srv = await listenSocks({ port: 0, connect });
  try {
    const relayed = await Peer.connect(srv.port);
    assert.deepEqual(await relayed.handshake(connectIPv4(80)), reply(0));
    const waiting = await Peer.connect(srv.port);
    waiting.socket.write(Buffer.concat([GREETING, connectDomain('slow.test', 80)]));
    await waiting.read(2);
    await waitFor('the pending connect', () => pending !== null);
    const midway = await Peer.connect(srv.port);
    midway.socket.write(Buffer.from([5]));
    await waitFor('three open clients', () => srv.stats().open === 3);

    await srv.close();

    assert.equal(srv.stats().open, 0);
    const gone = (p: Peer) => p.closed || p.ended;
    await waitFor('every client closed', () => gone(relayed) && gone(waiting) && gone(midway));
    await waitFor('the outgoing stream closed', () => opened[0]!.destroyed);
    assert.equal((pending as AbortSignal | null)?.aborted, true);
    await assert.rejects(Peer.connect(srv.port), { code: 'ECONNREFUSED' });
  } finally {
    await srv.close();
    await target.close();
  }
});

test('listens on loopback only; a taken port gives EADDRINUSE', T, async () => {
  const connect: Connector = async () => new Duplex();
  for (const host of ['0.0.0.0', '::', '192.0.2.1', 'example.org']) {
    await assert.rejects(listenSocks({ host, port: 0, connect }), /must be on loopback/, host);
  }
  await assert.rejects(listenSocks({ port: 70000, connect }), /integer 0-65535/);
  const v6 = await listenSocks({ host: '::1', port: 0, connect });
  const named = await listenSocks({ host: 'localhost', port: 0, connect });
  try {
    assert.equal(v6.host, '::1');
    assert.equal(named.host, '127.0.0.1');
    const p = await Peer.connect(v6.port, '::1');
    p.socket.write(Buffer.from([5, 1, 0]));
    assert.deepEqual(await p.read(2), Buffer.from([5, 0]));
    p.socket.destroy();
    await assert.rejects(listenSocks({ host: 'localhost', port: named.port, connect }), { code: 'EADDRINUSE' });
  } finally {
    await v6.close();
    await named.close();
  }
});

test('every client socket gets setNoDelay(true)', T, async () => {
  const target = await startTarget();
  const original = net.Socket.prototype.setNoDelay;
  const noDelay = new Map<number, boolean | undefined>(); // by remote port of the accepted socket
  net.Socket.prototype.setNoDelay = function (this: net.Socket, on?: boolean) {
    if (this.remotePort !== undefined) noDelay.set(this.remotePort, on);
    return original.call(this, on);
  };
  try {
    await withServer({ connect: tcpConnector(target.port) }, async (srv) => {
      const p = await Peer.connect(srv.port);
      assert.deepEqual(await p.handshake(connectIPv4(80)), reply(0));
      assert.equal(noDelay.get(p.socket.localPort!), true);
      p.socket.destroy();
    });
  } finally {
    net.Socket.prototype.setNoDelay = original;
    await target.close();
  }
});

test('stats count connections, failures and payload bytes both ways without the handshake', T, async () => {
  const target = await startTarget((s) => {
    s.on('data', (d: Buffer) => s.write(Buffer.concat([d, d])));
    s.on('end', () => s.end());
  });
  try {
    await withServer({ connect: tcpConnector(target.port), allow: (d) => d.port !== 25 }, async (srv) => {
      const p = await Peer.connect(srv.port);
      assert.deepEqual(await p.handshake(connectIPv4(80)), reply(0));
      p.socket.write(Buffer.alloc(1000, 1));
      await p.read(2000);
      const live = srv.stats();
      assert.equal(live.open, 1);
      assert.equal(live.bytesUp, 1000);
      assert.equal(live.bytesDown, 2000);
      p.socket.destroy();
      const no = await Peer.connect(srv.port);
      assert.deepEqual(await no.handshake(connectIPv4(25)), reply(REPLY.NOT_ALLOWED));
      no.socket.destroy();
      await waitFor('both closed', () => srv.stats().open === 0);
      assert.deepEqual(srv.stats(), { open: 0, total: 2, failed: 1, bytesUp: 1000, bytesDown: 2000 });
    });
  } finally {
    await target.close();
  }
});
