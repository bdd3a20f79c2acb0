// What a real OpenSSH gateway answers when a direct-tcpip channel cannot open, and the SOCKS reply the
// client then gets, over the whole path: SOCKS client → our listener → ssh2 forwardOut → sshd; and
// half-close and backpressure over a real channel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { canRunSshd, startGateway, INTERNAL_IP, INTERNAL_NAMES, type Gateway } from '../../testbed/sshd.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { freePort } from '../../testbed/ports.js';
import { replyForChannelError, toSocksConnectError } from '../../native-host/socks/open-failures.js';
import { listenSocks, REPLY, type Connector } from '../../native-host/socks/listener.js';

const skip = canRunSshd();
const T = { skip: skip ?? false, timeout: 60_000 };

async function sshClient(gw: Gateway): Promise<ssh2.Client> {
  const expected = Buffer.from(gw.hostKeyPublic.split(' ')[1]!, 'base64');
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({
      host: gw.host,
      port: gw.port,
      username: gw.user,
      privateKey: fs.readFileSync(gw.keys.plain),
      hostVerifier: (key: Buffer) => key.equals(expected),
    });
  });
  client.on('error', () => {});
  return client;
}

type Opened = { ok: true; channel: ClientChannel } | { ok: false; err: Error & { reason?: unknown } };

function forward(client: ssh2.Client, host: string, port: number): Promise<Opened> {
  return new Promise((resolve) =>
    client.forwardOut('127.0.0.1', 0, host, port, (err, channel) =>
      resolve(err ? { ok: false, err } : { ok: true, channel }),
    ),
  );
}

function sshConnector(client: ssh2.Client): Connector {
  return async (dest, signal) => {
    const r = await forward(client, dest.host, dest.port);
    if (!r.ok) throw toSocksConnectError(r.err, dest);
    if (signal.aborted) {
      r.channel.destroy();
      throw new Error('the SOCKS client left');
    }
    return r.channel;
  };
}

/** One raw SOCKS5 CONNECT to a domain; returns the reply and, on success, what `send` brought back. */
async function socksConnect(
  port: number,
  host: string,
  dstPort: number,
  send?: string,
): Promise<{ reply: Buffer; body: string }> {
  const s = net.connect({ port, host: '127.0.0.1' });
  let buf = Buffer.alloc(0);
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (send && buf.length === 12 && buf[1] === 0) s.write(send);
  });
  s.on('error', () => {});
  const name = Buffer.from(host);
  s.write(
    Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, name.length]), name, Buffer.from([dstPort >> 8, dstPort & 0xff])]),
  );
  await new Promise((r) => s.once('close', r));
  assert.deepEqual(buf.subarray(0, 2), Buffer.from([5, 0]), 'no-auth chosen');
  return { reply: buf.subarray(2, 12), body: buf.subarray(12).toString() };
}

let gw: Gateway;
let web: InternalWeb;
let client: ssh2.Client;
let closedPort: number;

before(async () => {
  if (skip) return;
  gw = await startGateway();
  web = await startInternalWeb();
  client = await sshClient(gw);
  closedPort = await freePort(INTERNAL_IP);
});

after(async () => {
  if (skip) return;
  client?.end();
  await web?.close();
  await gw?.stop();
});

test('OpenSSH: a closed port is "Connection refused" → reply 5', T, async () => {
  const r = await forward(client, INTERNAL_IP, closedPort);
  assert.ok(!r.ok);
  assert.equal(r.err.message, '(SSH) Channel open failure: Connection refused');
  assert.equal(r.err.reason, 2);
  assert.equal(replyForChannelError(r.err), REPLY.CONNECTION_REFUSED);
});

test('OpenSSH: a name the gateway cannot resolve is "Name or service not known" → reply 4', T, async () => {
  const r = await forward(client, 'nonexistent.invalid', 80);
  assert.ok(!r.ok);
  assert.equal(r.err.message, '(SSH) Channel open failure: Name or service not known');
  assert.equal(r.err.reason, 2);
  assert.equal(replyForChannelError(r.err), REPLY.HOST_UNREACHABLE);
});

test('OpenSSH: an internal name is resolved by the gateway and the channel opens', T, async () => {
  const r = await forward(client, INTERNAL_NAMES[0]!, web.port);
  assert.ok(r.ok, r.ok ? '' : r.err.message);
  r.channel.destroy();
});

test('OpenSSH with forwarding forbidden: reason 1 "open failed" → reply 2', T, async () => {
  // sshd keeps the first value of a keyword, and the test config already allows forwarding: a Match
  // block (which comes last) overrides it.
  const closed = await startGateway({ extraConfig: ['Match all', 'AllowTcpForwarding no'] });
  const c = await sshClient(closed);
  try {
    const r = await forward(c, INTERNAL_NAMES[0]!, web.port);
    assert.ok(!r.ok);
    assert.equal(r.err.message, '(SSH) Channel open failure: open failed');
    assert.equal(r.err.reason, 1);
    assert.equal(replyForChannelError(r.err), REPLY.NOT_ALLOWED);
  } finally {
    c.end();
    await closed.stop();
  }
});

test(
  'through the SOCKS listener: refused and unknown names get full replies, internal pages come via the gateway',
  T,
  async () => {
    const srv = await listenSocks({ port: 0, connect: sshConnector(client) });
    try {
      const refused = await socksConnect(srv.port, INTERNAL_IP, closedPort);
      assert.deepEqual(refused.reply, Buffer.from([5, REPLY.CONNECTION_REFUSED, 0, 1, 0, 0, 0, 0, 0, 0]));
      const unknown = await socksConnect(srv.port, 'nonexistent.invalid', 80);
      assert.deepEqual(unknown.reply, Buffer.from([5, REPLY.HOST_UNREACHABLE, 0, 1, 0, 0, 0, 0, 0, 0]));

      const host = INTERNAL_NAMES[0]!;
      const page = await socksConnect(
        srv.port,
        host,
        web.port,
        `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(page.reply[1], REPLY.SUCCEEDED);
      assert.match(page.body, /^HTTP\/1\.1 200[^]*via-gateway/);
      assert.ok(web.hits.some((h) => h.host.startsWith(host) && h.viaGateway));
      assert.equal(srv.stats().failed, 2);
    } finally {
      await srv.close();
    }
  },
);

test('through a real ssh2 channel: half-close keeps the response, a slow reader keeps memory bounded', T, async () => {
  // a TCP service on the internal address: answers once its input has ended, or streams on demand
  const served = new Set<net.Socket>();
  const tcp = net.createServer({ allowHalfOpen: true }, (s) => {
    served.add(s);
    s.on('close', () => served.delete(s));
    s.on('error', () => {});
    let n = 0;
    s.once('data', (d: Buffer) => {
      if (d.toString() !== 'flood') return void ((n += d.length), s.on('data', (more: Buffer) => (n += more.length)));
      const chunk = Buffer.alloc(256 * 1024, 0x63);
      const pump = () => {
        while (s.writable && s.write(chunk));
        if (s.writable) s.once('drain', pump);
      };
      pump();
    });
    s.on('end', () => s.end(`got ${n} bytes`));
  });
  await new Promise<void>((r) => tcp.listen(0, INTERNAL_IP, r));
  const tcpPort = (tcp.address() as net.AddressInfo).port;
  const srv = await listenSocks({ port: 0, connect: sshConnector(client) });
  try {
    const half = net.connect({ port: srv.port, host: '127.0.0.1', allowHalfOpen: true });
    let got = Buffer.alloc(0);
    half.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    const name = Buffer.from(INTERNAL_NAMES[1]!);
    const request = Buffer.concat([
      Buffer.from([5, 1, 0, 5, 1, 0, 3, name.length]),
      name,
      Buffer.from([tcpPort >> 8, tcpPort & 0xff]),
    ]);
    half.end(Buffer.concat([request, Buffer.from('twelve bytes')]));
    await new Promise((r) => half.once('end', r));
    assert.equal(got.subarray(12).toString(), 'got 12 bytes');
    half.destroy();

    const slow = net.connect({ port: srv.port, host: '127.0.0.1' });
    slow.on('error', () => {});
    slow.write(Buffer.concat([request, Buffer.from('flood')]));
    slow.pause(); // reads nothing
    let down = 0;
    const deadline = Date.now() + 30_000;
    for (let quietSince = Date.now(); Date.now() - quietSince < 500; ) {
      await new Promise((r) => setTimeout(r, 25));
      const now = srv.stats().bytesDown;
      if (now !== down) (down = now), (quietSince = Date.now());
      assert.ok(Date.now() < deadline, 'the download never stalled');
    }
    // bytesDown counts what the listener queued for the client: it stops at the socket buffers' size
    assert.ok(down > 0 && down < 64 * 1024 * 1024, `${down} bytes queued for a client that reads nothing`);
    slow.destroy();
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (srv.stats().open === 0 && served.size === 0) clearInterval(t), resolve();
        else if (Date.now() > deadline) clearInterval(t), reject(new Error('the channel or the service stayed open'));
      }, 20);
    });
  } finally {
    await srv.close();
    for (const s of served) s.destroy();
    await new Promise((r) => tcp.close(r));
  }
});
