// Round trips from nothing to the first byte of a page, counted at a relay (testbed/round-trip-relay.ts)
// between the client and the testbed's real sshd: `ssh -N -D`, `g5k-tunnel -N -D`, a direct
// openConnection + forwardOut, and a tunnel in Auto mode (its first CONNECT starts the connection),
// each making one connection and one request through it. Also times them: each command's cold
// start (spawn → SOCKS port listening, spawn → first byte), Auto mode from its first CONNECT.
//
//   node dist/scripts/bench/rtt-count.js [--rtt MS] [--runs N]
//
// The counts leave out the TCP handshake (one round trip for every client alike). A client that
// sends late looks like one that waited: at small delays the first connection of a process, which
// loads ssh2 meanwhile, may count one more (shown as 7/6).

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KeyCache } from '../../native-host/ssh/key-cache.js';
import { Tunnel } from '../../native-host/tunnel/tunnel.js';
import { openConnection, type Hop } from '../../native-host/ssh/connect.js';
import { silentLogger } from '../../native-host/log.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { freePort } from '../../testbed/ports.js';
import { type RoundTripRelay, startRoundTripRelay } from '../../testbed/round-trip-relay.js';
import { socksConnect } from '../../testbed/socks-client.js';
import { canRunSshd, gatewayConfig, INTERNAL_IP, startGateway, type Gateway } from '../../testbed/sshd.js';

const BIN = fileURLToPath(new URL('../../../bin/g5k-tunnel', import.meta.url));

type Client = 'ssh' | 'g5k-tunnel' | 'openConnection' | 'auto';

interface Count {
  client: Client;
  /** Round trips on the SSH connection until the page's first byte (TCP handshake not counted). */
  rounds: number;
  /** Start (spawn, or the call) → first byte of the page, ms. */
  firstByteMs: number;
  /** Spawn → SOCKS port accepting, ms (the commands only). */
  listeningMs?: number;
}

/** Sends a GET on an open stream and resolves at its first byte of answer. */
function firstByte(stream: NodeJS.ReadWriteStream, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('data', () => resolve());
    stream.once('error', reject);
    stream.write(`GET /hello HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    (stream as NodeJS.ReadableStream).resume();
  });
}

/** The command's arguments for a connection through the relay at `port`. */
function commandArgs(socks: number, port: number, gw: Gateway, knownHosts: string, ssh: boolean): string[] {
  return [
    '-N',
    '-D',
    `127.0.0.1:${socks}`,
    '-F',
    '/dev/null',
    '-p',
    String(port),
    '-i',
    gw.keys.plain,
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    // ssh's own extras, which g5k-tunnel does not have: no host key rotation round trip
    ...(ssh ? ['-o', 'UpdateHostKeys=no'] : []),
    `${gw.user}@127.0.0.1`,
  ];
}

async function waitListening(port: number, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the command exited (${child.exitCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`port ${port} not listening after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** One run of a command through a fresh relay: spawn, SOCKS CONNECT to the web server, first byte. */
export async function countCommand(
  client: 'ssh' | 'g5k-tunnel',
  gw: Gateway,
  web: InternalWeb,
  rttMs: number,
  home: string,
): Promise<Count> {
  const relay = await startRoundTripRelay({ target: { host: gw.host, port: gw.port }, rttMs });
  const knownHosts = path.join(home, `known_hosts_${relay.port}`);
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${relay.port} ${gw.hostKeyPublic}\n`);
  const socks = await freePort();
  const args = commandArgs(socks, relay.port, gw, knownHosts, client === 'ssh');
  const env = { ...process.env, HOME: home, SSH_AUTH_SOCK: '' };
  const t0 = performance.now();
  const child =
    client === 'ssh'
      ? spawn('ssh', args, { env, stdio: 'ignore' })
      : spawn(process.execPath, [BIN, ...args], { env, stdio: 'ignore' });
  try {
    await waitListening(socks, child);
    const listeningMs = performance.now() - t0;
    const r = await socksConnect(socks, INTERNAL_IP, web.port);
    if (r.reply !== 0) throw new Error(`${client}: SOCKS reply ${r.reply}`);
    await firstByte(r.socket, INTERNAL_IP);
    const firstByteMs = performance.now() - t0;
    r.socket.destroy();
    return { client, rounds: relay.rounds()[0] ?? 0, firstByteMs, listeningMs };
  } finally {
    child.kill('SIGTERM');
    await relay.close();
  }
}

/** openConnection + forwardOut + the page's first byte, in this process, through a fresh relay. */
export async function countOpenConnection(
  gw: Gateway,
  web: InternalWeb,
  rttMs: number,
  home: string,
  over: { keys?: KeyCache; auth?: Hop['auth']; relay?: RoundTripRelay } = {},
): Promise<Count> {
  const relay = over.relay ?? (await startRoundTripRelay({ target: { host: gw.host, port: gw.port }, rttMs }));
  const knownHosts = path.join(home, `known_hosts_${relay.port}`);
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${relay.port} ${gw.hostKeyPublic}\n`);
  const hop: Hop = {
    label: `${gw.user}@127.0.0.1:${relay.port}`,
    host: '127.0.0.1',
    port: relay.port,
    user: gw.user,
    userKnownHostsFiles: [knownHosts],
    globalKnownHostsFiles: [],
    hashKnownHosts: false,
    policy: 'yes',
    auth: over.auth ?? { agentSocket: null, files: [{ path: gw.keys.plain, explicit: true }], identitiesOnly: true },
    connectTimeoutMs: 20_000,
    keepaliveIntervalMs: 0,
    keepaliveCountMax: 3,
  };
  const t0 = performance.now();
  const conn = await openConnection([hop], {
    interaction: { askPassphrase: async () => null, confirmHostKey: async () => false },
    keys: over.keys ?? new KeyCache(),
    log: silentLogger,
  });
  try {
    const ch = await conn.forwardOut(INTERNAL_IP, web.port);
    await firstByte(ch, INTERNAL_IP);
    const firstByteMs = performance.now() - t0;
    ch.destroy();
    return { client: 'openConnection', rounds: relay.rounds().at(-1) ?? 0, firstByteMs };
  } finally {
    conn.close();
    if (!over.relay) await relay.close();
  }
}

/**
 * Auto mode in this process (as in the browser's native host, already running): the first SOCKS
 * CONNECT starts the SSH connection; counted and timed from that CONNECT to the page's first byte.
 */
export async function countAutoMode(gw: Gateway, web: InternalWeb, rttMs: number, home: string): Promise<Count> {
  const relay = await startRoundTripRelay({ target: { host: gw.host, port: gw.port }, rttMs });
  const knownHosts = path.join(home, `known_hosts_${relay.port}`);
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${relay.port} ${gw.hostKeyPublic}\n`);
  const tunnel = new Tunnel({
    // the test gateway's settings, reached through the counting relay
    config: await gatewayConfig(gw, {
      gateway: '127.0.0.1',
      port: relay.port,
      connectTimeoutSec: 20,
      knownHostsFile: knownHosts,
    }),
    interaction: { askPassphrase: async () => null, confirmHostKey: async () => false },
    log: silentLogger,
    home,
    env: {},
    systemSshConfigFile: null,
  });
  try {
    const s = await tunnel.setMode('auto');
    const t0 = performance.now();
    const r = await socksConnect(s.socks!.port, INTERNAL_IP, web.port);
    if (r.reply !== 0) throw new Error(`auto: SOCKS reply ${r.reply}`);
    await firstByte(r.socket, INTERNAL_IP);
    const firstByteMs = performance.now() - t0;
    r.socket.destroy();
    return { client: 'auto', rounds: relay.rounds()[0] ?? 0, firstByteMs };
  } finally {
    await tunnel.close();
    await relay.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, dflt: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const rttMs = opt('--rtt', 40);
  const runs = opt('--runs', 5);
  const why = canRunSshd();
  if (why) throw new Error(`cannot run sshd: ${why}`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-rtt-'));
  const gw = await startGateway();
  const web = await startInternalWeb();
  try {
    console.log(`round trip ${rttMs} ms (${rttMs / 2} each way), ${runs} runs; counts exclude the TCP handshake`);
    const rows: Count[][] = [];
    for (let i = 0; i < runs; i++) {
      rows.push([
        await countCommand('ssh', gw, web, rttMs, home),
        await countCommand('g5k-tunnel', gw, web, rttMs, home),
        await countOpenConnection(gw, web, rttMs, home),
        await countAutoMode(gw, web, rttMs, home),
      ]);
    }
    for (const [j, client] of (
      ['ssh -N -D', 'g5k-tunnel -N -D', 'openConnection + forwardOut', 'Auto mode, first CONNECT'] as const
    ).entries()) {
      const col = rows.map((r) => r[j]!);
      const rounds = [...new Set(col.map((c) => c.rounds))].join('/');
      const listening =
        col[0]!.listeningMs === undefined
          ? ''
          : `, listening p50 ${median(col.map((c) => c.listeningMs!)).toFixed(0)} ms`;
      console.log(
        `${client.padEnd(28)} round trips ${rounds}; first byte p50 ${median(col.map((c) => c.firstByteMs)).toFixed(0)} ms${listening}`,
      );
    }
  } finally {
    await web.close();
    await gw.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
