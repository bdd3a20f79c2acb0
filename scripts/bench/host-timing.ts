// What a browser user waits for with the native host: its cold start (spawn → answer to `hello`),
// and in Auto mode the first page through a tunnel that is not up yet (first CONNECT → first byte),
// set against the SSH handshake the host reports for that same connection.

import { performance } from 'node:perf_hooks';
import { freePort } from '../../testbed/ports.js';
import { gatewayQuiet, hostConfig, hostScript, proxyEnv, type Context } from './endpoints.js';
import { HostClient } from '../../testbed/native-client.js';
import { httpGet, openTunnel, type Proxy } from '../../testbed/socks-client.js';
import type { NetPath } from './paths.js';

const ORIGIN = 'chrome-extension://koolnjbkpcgghpokcmbibabdkklmfaek/';

/** Spawn → first answer, `count` times, each with a fresh process made by `spawn`. */
async function timeFirstAnswers(count: number, spawn: () => HostClient): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const host = spawn();
    try {
      await host.hello('bench');
      out.push(performance.now() - host.spawnedAt);
    } finally {
      await host.close();
    }
  }
  return out;
}

export function coldStarts(ctx: Context, count: number): Promise<number[]> {
  return timeFirstAnswers(
    count,
    () =>
      new HostClient({
        script: hostScript(ctx.root),
        env: proxyEnv(ctx),
        args: [ORIGIN],
        nodeArgs: ctx.nodeArgs ?? [],
      }),
  );
}

// The floor for any Node host: a process that only answers the first frame.
const FLOOR_SCRIPT = `process.stdin.once('data', () => {
  const body = Buffer.from(JSON.stringify({ type: 'response', id: 1, ok: true, result: {} }));
  const head = Buffer.alloc(4); head['writeUInt32' + require('os').endianness()](body.length);
  process.stdout.write(Buffer.concat([head, body]));
}); process.stdin.on('end', () => process.exit(0));`;

/** Spawn → first answer of a Node process that does nothing else: Node's own share of a cold start. */
export function nodeFloor(count: number): Promise<number[]> {
  return timeFirstAnswers(count, () => new HostClient({ script: '-e', args: [FLOOR_SCRIPT] }));
}

export interface AutoResult {
  /** First CONNECT sent → first byte of the page, SSH connection made on demand in between. */
  firstByteMs: number;
  /** The stages the host reports for that connection (tcp + hostkey + auth + forwarding). */
  handshakeMs: number;
  stages: { stage: string; ms: number }[];
  /** What the on-demand path adds beyond the handshake itself. */
  overheadMs: number;
  /** Round trips of the SSH connection made for that CONNECT, until the first byte (null on loopback). */
  roundTrips: number | null;
}

/** The host already running, idle in Auto mode with its SOCKS port open, no SSH yet: the first page. */
export async function autoMode(path: NetPath): Promise<AutoResult> {
  const { ctx, target } = path;
  await gatewayQuiet(ctx.gw);
  const socksPort = await freePort();
  const host = new HostClient({
    script: hostScript(ctx.root),
    env: proxyEnv(ctx),
    args: [ORIGIN],
    nodeArgs: ctx.nodeArgs ?? [],
  });
  try {
    const auth = ((await host.hello('bench')) as { proxy?: Proxy['auth'] }).proxy;
    await host.configure(hostConfig(ctx.gw, socksPort));
    await host.setMode('auto');
    await host.untilStatus((s) => s.state === 'idle' && s.socks !== null, 10_000, 'idle status with a SOCKS listener');
    const tun = await openTunnel({ host: '127.0.0.1', port: socksPort, auth }, target.host, target.http, 30_000);
    const page = await httpGet(tun.socket, '/', 10_000);
    if (page.status !== 200) throw new Error(`auto mode: GET / answered ${page.status}`);
    const status = await host.untilStatus((s) => s.state === 'connected', 10_000, 'connected status');
    const stages = status.timings.map((t) => ({ stage: t.stage, ms: t.ms }));
    const handshakeMs = stages.reduce((a, t) => a + t.ms, 0);
    const firstByteMs = page.tFirst - tun.t0;
    const at = (t: number) => performance.timeOrigin + t;
    const roundTrips = await path.tripsSince(at(tun.t0), at(page.tFirst));
    return { firstByteMs, handshakeMs, stages, overheadMs: firstByteMs - handshakeMs, roundTrips };
  } finally {
    await host.close();
  }
}
