// The WAN stand-in over real loopback sockets: bytes arrive intact and in order both ways (through
// a delay, with and without a bottleneck), ends are passed on after the data, and a cut path
// delivers nothing until it is restored. Times are never asserted: only what arrives, and when not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { startWanRelay } from '../../testbed/wan-relay.js';

const MiB = 1024 * 1024;
const T = { timeout: 120_000 };

/** Deterministic pseudo-random bytes, written in chunks of varied sizes (some tiny, some large). */
function* chunks(seed: string, total: number): Generator<Buffer> {
  let sent = 0;
  let i = 0;
  while (sent < total) {
    const block = crypto.createHash('sha512').update(`${seed}:${i}`).digest();
    const size = Math.min(total - sent, [1, 7, 512, 1460, 16384, 65536, 200_000][i % 7]!);
    const buf = Buffer.alloc(size);
    for (let o = 0; o < size; o += block.length) block.copy(buf, o);
    if (size >= 4) buf.writeUInt32BE(i >>> 0, 0); // every chunk differs, so reordering shows
    yield buf;
    sent += size;
    i++;
  }
}

/** Writes the chunks with backpressure; resolves with their sha256 once all are handed over. */
async function send(sock: net.Socket, seed: string, total: number, endAfter = true): Promise<string> {
  const h = crypto.createHash('sha256');
  for (const c of chunks(seed, total)) {
    h.update(c);
    if (!sock.write(c)) await new Promise((r) => sock.once('drain', r));
  }
  if (endAfter) sock.end();
  return h.digest('hex');
}

/** Reads until EOF: byte count and sha256. */
function receive(sock: net.Socket): Promise<{ bytes: number; sha: string; how: 'end' | 'reset' }> {
  return new Promise((resolve) => {
    const h = crypto.createHash('sha256');
    let bytes = 0;
    let how: 'end' | 'reset' = 'reset';
    sock.on('data', (d: Buffer) => {
      bytes += d.length;
      h.update(d);
    });
    sock.on('end', () => (how = 'end'));
    sock.on('error', () => {});
    sock.on('close', () => resolve({ bytes, sha: h.digest('hex'), how }));
  });
}

/** A target that sends `down` bytes and reads (and hashes) whatever comes up. */
async function target(down: number) {
  const got: Promise<{ bytes: number; sha: string; how: 'end' | 'reset' }>[] = [];
  const sent: Promise<string>[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    got.push(receive(s));
    sent.push(send(s, 'down', down));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as net.AddressInfo).port, got, sent };
}

const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(s));
    s.once('error', reject);
  });

for (const rateMbit of [undefined, 400]) {
  test(
    `bytes arrive intact and in order both ways through a 20 ms path${rateMbit ? ` at ${rateMbit} Mbit/s` : ''}`,
    T,
    async () => {
      const down = rateMbit ? 6 * MiB : 24 * MiB;
      const upBytes = rateMbit ? 3 * MiB : 12 * MiB;
      const t = await target(down);
      const relay = await startWanRelay({ target: { host: '127.0.0.1', port: t.port }, rttMs: 20, rateMbit });
      try {
        const c = await connect(relay.port);
        const [received, upSha] = await Promise.all([receive(c), send(c, 'up', upBytes)]);
        const expectedDown = await t.sent[0]!;
        const atTarget = await t.got[0]!;
        assert.equal(received.bytes, down);
        assert.equal(received.sha, expectedDown, 'download bytes intact and in order');
        assert.equal(received.how, 'end', 'the EOF came after the data');
        assert.equal(atTarget.bytes, upBytes);
        assert.equal(atTarget.sha, upSha, 'upload bytes intact and in order');
        const st = relay.stats();
        assert.equal(st.bytesDown, down);
        assert.equal(st.bytesUp, upBytes);
        assert.equal(st.queued, 0);
      } finally {
        await relay.close();
        t.server.close();
      }
    },
  );
}

test('a cut path delivers nothing and closes nothing; restored, the held bytes arrive in order', T, async () => {
  const t = await target(0);
  const relay = await startWanRelay({ target: { host: '127.0.0.1', port: t.port }, rttMs: 10 });
  try {
    const c = await connect(relay.port);
    const received = receive(c);
    // the connection works before the cut
    await new Promise<void>((r) => t.server.once('connection', () => r()));
    relay.cut();
    assert.equal(relay.isCut, true);
    const upSha = await send(c, 'cut', 2 * MiB, false);
    // wait until the relay has read everything: it is all held
    const deadline = Date.now() + 20_000;
    while (relay.stats().queued < 2 * MiB) {
      if (Date.now() > deadline) throw new Error(`relay read only ${relay.stats().queued} bytes`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // many times the path's delay later, still nothing delivered and nothing closed
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(relay.stats().bytesUp, 0, 'nothing crossed the cut');
    assert.equal(c.destroyed, false, 'the client socket stays open');
    c.end();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(relay.stats().bytesUp, 0, 'not even the EOF crossed the cut');
    relay.restore();
    const atTarget = await t.got[0]!;
    assert.equal(atTarget.bytes, 2 * MiB);
    assert.equal(atTarget.sha, upSha);
    assert.equal(atTarget.how, 'end');
    assert.equal((await received).how, 'end');
  } finally {
    await relay.close();
    t.server.close();
  }
});

test('round trips: sequential exchanges count one each, pipelined ones none, the TCP handshake one', T, async () => {
  // an echo target that waits a little before answering, as a server that thinks
  const echo = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => setTimeout(() => s.write(d), 2));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const relay = await startWanRelay({
    target: { host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port },
    rttMs: 20,
  });
  const exchange = (s: net.Socket, msgs: string[]) =>
    new Promise<void>((resolve) => {
      const want = msgs.join('').length;
      let got = 0;
      const onData = (d: Buffer) => {
        got += d.length;
        if (got >= want) {
          s.off('data', onData);
          resolve();
        }
      };
      s.on('data', onData);
      for (const m of msgs) s.write(m);
    });
  try {
    const a = await connect(relay.port);
    for (let i = 0; i < 4; i++) await exchange(a, ['ping']);
    const b = await connect(relay.port);
    await exchange(b, ['one', 'two', 'three']);
    const [ta, tb] = relay.roundTrips();
    assert.equal(ta?.roundTrips, 5, 'four exchanges after the handshake');
    assert.equal(tb?.roundTrips, 2, 'three messages sent at once: one round trip after the handshake');
    // by the time of the connection's accept, only the handshake
    assert.equal(relay.roundTrips(ta!.acceptedAt)[0]?.roundTrips, 1);
    a.destroy();
    b.destroy();
  } finally {
    await relay.close();
    echo.close();
  }
});
