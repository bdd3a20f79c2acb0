// What a user waits for before the first page, and what a stalled reader costs: a command's cold
// start (spawn → SOCKS port open → CONNECT → `GET /` → first byte), Node's own start-up
// (`node -e 0`, spawn → exit), and the native host's memory while a SOCKS client stops reading a
// download half-way.

import { performance } from 'node:perf_hooks';
import * as children from '../../testbed/children.js';
import { freePort } from '../../testbed/ports.js';
import { kibToMiB, MiB, sample } from '../../testbed/proc.js';
import { httpGet, openTunnel, type SocksTunnel } from '../../testbed/socks-client.js';
import { commandFor, gatewayQuiet, proxyEnv, startEndpoint, stopSignal, type EndpointId } from './endpoints.js';
import type { NetPath } from './paths.js';
import type { Target } from './phases.js';

const epoch = (t: number) => performance.timeOrigin + t;

export interface CommandCold {
  round: number;
  id: EndpointId;
  /** Spawn → first byte of `GET /` through the new process. */
  ms: number;
  /** Spawn → the SOCKS port accepted a connection. */
  listenMs: number;
  /** Round trips of its SSH connection until that first byte (null on loopback). */
  roundTrips: number | null;
}

/** Opens a tunnel as soon as the port accepts: refused connections are retried every 2 ms. */
async function firstTunnel(port: number, target: Target, deadline: number): Promise<SocksTunnel> {
  for (;;) {
    try {
      return await openTunnel({ host: '127.0.0.1', port }, target.host, target.http, 30_000);
    } catch (e) {
      // not listening yet: the client gives the refusal as the reason for no reply
      if (!/ECONNREFUSED/.test((e as Error).message) || performance.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

/** One cold start of a command endpoint (`ssh -N -D`, `g5k-tunnel -N -D`) on `path`. */
export async function commandColdStart(id: EndpointId, round: number, path: NetPath): Promise<CommandCold> {
  const ctx = path.ctx;
  await gatewayQuiet(ctx.gw);
  const port = await freePort();
  const [cmd, args] = commandFor(id, ctx, port);
  const t0 = performance.now();
  const child = children.start(cmd, args, { env: proxyEnv(ctx), stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, sig) => reject(new Error(`${id} exited (${sig ?? code}) during its cold start`))),
    );
    exited.catch(() => {});
    const tun = await Promise.race([firstTunnel(port, path.target, t0 + 20_000), exited]);
    const page = await Promise.race([httpGet(tun.socket, '/', 20_000), exited]);
    if (page.status !== 200) throw new Error(`${id}: GET / answered ${page.status}`);
    return {
      round,
      id,
      ms: page.tFirst - t0,
      listenMs: tun.t0 - t0,
      roundTrips: await path.tripsSince(epoch(t0), epoch(page.tFirst)),
    };
  } finally {
    await children.stop(child, 3000, stopSignal(id));
  }
}

/** `node -e 0`, spawn → exit: what any Node program pays before its first line runs and after its last. */
export async function nodeStart(count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const child = children.start(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    out.push(performance.now() - t0);
  }
  return out;
}

export interface Stalled {
  round: number;
  /** Host RSS once the flow stopped, and its high-water mark. */
  rssMiB: number;
  hwmMiB: number;
  /** What the client had read before it stopped reading. */
  readMiB: number;
}

/** Polls until the process's CPU time stops moving for `quietMs` (the flow has stopped). */
async function cpuQuiet(pid: number, quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = sample(pid)?.cpuS ?? 0;
  let since = performance.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const now = sample(pid)?.cpuS;
    if (now === undefined) throw new Error('the host died while its reader stalled');
    // a clock tick or two (keepalive timers) is not a flow
    if (now - last > 0.02) [last, since] = [now, performance.now()];
    else if (performance.now() - since >= quietMs) return;
    if (performance.now() > deadline) throw new Error(`the host kept working ${timeoutMs} ms into the stall`);
  }
}

/**
 * The native host (set-mode on) serves a download whose reader stops after `readMiB`: once the flow
 * has stopped (the window ran out), the host's RSS. Flow control, not buffering, must hold the rest.
 */
export async function stalledReader(round: number, path: NetPath, totalMiB: number, readMiB: number): Promise<Stalled> {
  const ep = await startEndpoint('g5k-host', path.ctx);
  try {
    const { socket } = await openTunnel(ep.proxy, path.target.host, path.target.http, 30_000);
    const want = Math.round(readMiB * MiB);
    let got = 0;
    const stopped = new Promise<void>((resolve, reject) => {
      socket.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= want) {
          socket.pause();
          resolve();
        }
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('the download closed before the reader stopped')));
    });
    socket.write(`GET /bytes/${Math.round(totalMiB * MiB)} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n`);
    socket.resume();
    await stopped;
    await cpuQuiet(ep.pid!, 1000, 60_000);
    const s = sample(ep.pid!);
    if (!s) throw new Error('the host died while its reader stalled');
    socket.destroy();
    return { round, rssMiB: kibToMiB(s.rssKiB), hwmMiB: kibToMiB(s.hwmKiB), readMiB: got / MiB };
  } finally {
    await ep.stop();
  }
}
