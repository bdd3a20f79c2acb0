// Channel windows against the real sshd through the WAN stand-in (20 ms round trip): the window
// grows past ssh2's 2 MiB during a fast download, never beyond the cap, and is topped up long
// before it runs low; a reader that stops gets no more credit (the window stops at 0, nothing is
// dropped, the host's memory stays bounded) and, reading again, gets every byte intact.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { KeyCache } from '../../native-host/ssh/auth.js';
import { openConnection, type Hop, type SshConnection } from '../../native-host/ssh/connect.js';
import { INITIAL_WINDOW, WINDOW_CAP, windowStats } from '../../native-host/ssh/window.js';
import { freePort, waitForPort } from '../../testbed/ports.js';
import { sample } from '../../testbed/proc.js';
import { canRunSshd, type Gateway } from '../../testbed/sshd.js';
import { startWanRelay, type WanRelay } from '../../testbed/wan-relay.js';
import { socksConnect } from '../../testbed/socks-client.js';
import { memoryLogger, scriptedUser, type tempHome, useGateway } from '../support/tunnel-kit.js';

const skip = canRunSshd() ?? false;
const MiB = 1024 * 1024;
const T = { skip, timeout: 180_000 };
const BIN = fileURLToPath(new URL('../../../bin/g5k-tunnel', import.meta.url));

let gw: Gateway;
let home: ReturnType<typeof tempHome>;
useGateway((f) => ({ gw, home } = f));

// ---------- a data source on the gateway's side ----------

/** Serves `N\n` requests with N pseudo-random bytes (each 64 KiB chunk stamped with its number, so
 *  that reordering shows); `sent` gets the sha256 of what each connection was sent. */
async function startSource() {
  const block = crypto.randomBytes(64 * 1024);
  const sent: Promise<string>[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => {});
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const nl = head.indexOf('\n');
      if (nl < 0) return;
      s.off('data', onData);
      const total = Number(head.slice(0, nl));
      sent.push(
        new Promise<string>((resolve) => {
          const h = crypto.createHash('sha256');
          let left = total;
          let n = 0;
          const pump = () => {
            while (left > 0) {
              const chunk = Buffer.from(block.subarray(0, Math.min(left, block.length)));
              if (chunk.length >= 4) chunk.writeUInt32BE(n++ >>> 0, 0);
              left -= chunk.length;
              h.update(chunk);
              if (!s.write(chunk)) return void s.once('drain', pump);
            }
            s.end();
            resolve(h.digest('hex'));
          };
          pump();
        }),
      );
    };
    s.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as net.AddressInfo).port, sent };
}

/** Reads a stream to its end: length and sha256; `onChunk` sees the progress. */
function drain(stream: Duplex | net.Socket, onChunk: (got: number) => void = () => {}) {
  return new Promise<{ bytes: number; sha: string }>((resolve, reject) => {
    const h = crypto.createHash('sha256');
    let bytes = 0;
    stream.on('data', (d: Buffer) => {
      bytes += d.length;
      h.update(d);
      onChunk(bytes);
    });
    stream.once('error', reject);
    stream.once('end', () => resolve({ bytes, sha: h.digest('hex') }));
  });
}

/** Polls until `read()` stops changing for `quietMs` (a stalled flow); returns the last value. */
async function steady(what: string, read: () => number, quietMs = 500, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = read();
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 25));
    const now = read();
    if (now !== last) [last, since] = [now, Date.now()];
    else if (Date.now() - since >= quietMs) return now;
    if (Date.now() > deadline) throw new Error(`${what} never settled (last ${last})`);
  }
}

let source: Awaited<ReturnType<typeof startSource>>;
let relay: WanRelay;
let relayKnownHosts: string;

/** The data source and the stand-in, started once the gateway is up (on the first test). */
let ready: Promise<void> | null = null;
function setup(): Promise<void> {
  ready ??= (async () => {
    source = await startSource();
    relay = await startWanRelay({ target: { host: gw.host, port: gw.port }, rttMs: 20 });
    relayKnownHosts = path.join(home.dir, 'known_hosts.relay');
    fs.writeFileSync(relayKnownHosts, `[127.0.0.1]:${relay.port} ${gw.hostKeyPublic}\n`);
  })();
  return ready;
}
after(async () => {
  await relay?.close();
  source?.server.close();
});

function viaRelay(): Hop {
  return {
    label: `${gw.user}@127.0.0.1:${relay.port}`,
    host: '127.0.0.1',
    port: relay.port,
    user: gw.user,
    userKnownHostsFiles: [relayKnownHosts],
    globalKnownHostsFiles: [],
    hashKnownHosts: false,
    policy: 'yes',
    auth: { agentSocket: null, files: [{ path: gw.keys.plain, explicit: true }], identitiesOnly: true },
    connectTimeoutMs: 20_000,
    keepaliveIntervalMs: 0,
    keepaliveCountMax: 3,
  };
}

async function connect(): Promise<SshConnection> {
  await setup();
  return openConnection([viaRelay()], {
    interaction: scriptedUser().interaction,
    keys: new KeyCache(),
    log: memoryLogger(),
  });
}

test(
  'a fast download: the window grows past 2 MiB, never beyond the cap, topped up before it runs low',
  T,
  async (t) => {
    const conn = await connect();
    try {
      const total = 96 * MiB;
      const ch = await conn.forwardOut('127.0.0.1', source.port);
      const st = windowStats(ch);
      assert.ok(st, 'the channel is tuned');
      let highest = 0;
      const done = drain(ch, () => {
        highest = Math.max(highest, st.window);
      });
      ch.write(`${total}\n`);
      const got = await done;
      assert.equal(got.bytes, total);
      assert.equal(got.sha, await source.sent.at(-1)!, 'bytes intact and in order');
      assert.equal(st.received, total);
      assert.ok(st.target > INITIAL_WINDOW, `the window grew: target ${st.target}`);
      assert.ok(st.maxWindow > INITIAL_WINDOW, `credit above 2 MiB was given: ${st.maxWindow}`);
      assert.ok(st.maxWindow <= WINDOW_CAP && highest <= WINDOW_CAP, `never beyond the cap: ${st.maxWindow}`);
      // ssh2 lets the window fall to half before topping it up; grown, ours tops up after an eighth
      assert.ok(
        st.lowestShareOnceGrown > 0.75,
        `once grown, topped up long before running low: lowest ${st.lowestShareOnceGrown.toFixed(2)} of the window`,
      );
      assert.ok(st.adjusts > total / WINDOW_CAP, `${st.adjusts} window adjustments`);
      t.diagnostic(
        `target ${st.target}, most credit ${st.maxWindow}, lowest share ${st.lowestShareOnceGrown.toFixed(2)}, ${st.adjusts} adjustments`,
      );
    } finally {
      conn.close();
    }
  },
);

test(
  'a reader that stops: no more credit (the window stops at 0), nothing dropped, all bytes once it reads again',
  T,
  async () => {
    const conn = await connect();
    try {
      const total = 64 * MiB;
      const ch = await conn.forwardOut('127.0.0.1', source.port);
      const st = windowStats(ch)!;
      let paused = false;
      const done = drain(ch, (got) => {
        if (!paused && got >= 16 * MiB) {
          paused = true;
          ch.pause();
        }
      });
      ch.write(`${total}\n`);
      await steady('received while paused', () => st.received);
      assert.equal(paused, true);
      assert.equal(st.window, 0, 'the sender used up its credit and got no more');
      assert.ok(st.unread > 0 && st.unread <= st.target, `unread ${st.unread} ≤ target ${st.target}`);
      const adjusts = st.adjusts;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(st.adjusts, adjusts, 'no credit while nobody reads');
      ch.resume();
      const got = await done;
      assert.equal(got.bytes, total, 'nothing dropped');
      assert.equal(got.sha, await source.sent.at(-1)!);
    } finally {
      conn.close();
    }
  },
);

test(
  'g5k-tunnel -N -D with a SOCKS client that stops reading: host RSS under 150 MiB; a long download through the 20 ms stand-in arrives intact',
  T,
  async (t) => {
    await setup();
    const socksPort = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home.dir };
    delete env.SSH_AUTH_SOCK;
    const proc: ChildProcess = spawn(
      process.execPath,
      [
        BIN,
        '-N',
        '-F',
        '/dev/null',
        '-D',
        `127.0.0.1:${socksPort}`,
        '-p',
        String(relay.port),
        '-i',
        gw.keys.plain,
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${relayKnownHosts}`,
        '-o',
        'StrictHostKeyChecking=yes',
        `${gw.user}@127.0.0.1`,
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitForPort(socksPort, '127.0.0.1', 30_000);
      const total = 256 * MiB;
      const base = relay.stats().bytesDown;
      const { reply, socket } = await socksConnect(socksPort, '127.0.0.1', source.port);
      assert.equal(reply, 0, stderr);
      let paused = false;
      let received = 0;
      const done = drain(socket, (got) => {
        received = got;
        // read a fast start (the window grows), then stop reading
        if (!paused && got >= 48 * MiB) {
          paused = true;
          socket.pause();
        }
      });
      // the test bed's client hands the socket over paused, so that no byte is missed
      socket.resume();
      socket.write(`${total}\n`);
      const crossed =
        (await steady('bytes crossing the path while the client does not read', () => relay.stats().bytesDown)) - base;
      assert.equal(paused, true);
      const rssMiB = sample(proc.pid!)!.rssKiB / 1024;
      assert.ok(rssMiB < 150, `host RSS ${rssMiB.toFixed(0)} MiB with a stalled reader`);
      // between the client and sshd: kernel socket buffers, the listener's cap, the channel's window
      assert.ok(crossed < received + 48 * MiB, `the sender stopped: ${crossed} bytes sent, ${received} read`);
      t.diagnostic(
        `stalled: host RSS ${rssMiB.toFixed(0)} MiB, ${(crossed / MiB).toFixed(0)} MiB sent, ${(received / MiB).toFixed(0)} MiB read`,
      );
      socket.resume();
      const got = await done;
      assert.equal(got.bytes, total, 'every byte, after the stall');
      assert.equal(got.sha, await source.sent.at(-1)!, 'intact and in order');
    } finally {
      proc.kill('SIGINT');
      await new Promise((r) => proc.once('exit', r));
    }
  },
);
