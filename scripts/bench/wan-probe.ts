// One large download through a WAN stand-in (testbed/wan-relay.ts, 20 ms round trip by default),
// `ssh -N -D` against `g5k-tunnel -N -D`, interleaved, each started fresh against the same sshd
// with the same key. Prints MiB/s per run, the medians and their ratio.
//
//   node dist/scripts/bench/wan-probe.js [--rounds 3] [--rtt 20] [--rate MBIT] [--mib 192] [--with ENDPOINT,...]
//                                        [--upload] [--direct]
//
// --upload sends the bytes instead (to a sink that answers with the count once it has them all);
// --direct skips the stand-in (loopback, for comparing with the plain benchmark).
//
// `npm run bench` measures the same download among its phases; this is the focused tool for one
// transfer (and for uploads). `npm run bench:wan-probe -- [options]` builds first. Needs root (the test sshd).

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as children from '../../testbed/children.js';
import { httpGet, openTunnel } from '../../testbed/socks-client.js';
import { sample } from '../../testbed/proc.js';
import { canRunSshd, startGateway, type Gateway } from '../../testbed/sshd.js';
import { ENDPOINT_IDS, LABELS, startEndpoint, type EndpointId } from './endpoints.js';
import { openPath } from './paths.js';

const MiB = 1024 * 1024;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Starts a helper program that prints one JSON line once it listens. */
async function helper(
  script: string,
  args: string[],
): Promise<{ info: Record<string, number>; stop(): Promise<void> }> {
  const child = children.start(process.execPath, [path.join(root, 'dist', script), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  return { info: JSON.parse(line) as Record<string, number>, stop: () => children.stop(child) };
}

/** A TCP sink: reads everything, then answers with the byte count and closes. */
async function startSink(): Promise<{ port: number; close(): void }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    let n = 0;
    s.on('error', () => {});
    s.on('data', (d: Buffer) => (n += d.length));
    s.on('end', () => s.end(`${n}\n`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** Sends `bytes` through an open tunnel to the sink; resolves once the sink confirmed them all. */
async function upload(sock: net.Socket, bytes: number): Promise<void> {
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const answer = new Promise<string>((resolve, reject) => {
    let text = '';
    sock.on('data', (d: Buffer) => (text += d.toString()));
    sock.once('end', () => resolve(text.trim()));
    sock.once('error', reject);
  });
  sock.resume();
  for (let left = bytes; left > 0; left -= chunk.length) {
    if (!sock.write(left >= chunk.length ? chunk : chunk.subarray(0, left)))
      await new Promise((r) => sock.once('drain', r));
  }
  sock.end();
  const got = Number(await answer);
  sock.destroy();
  if (got !== bytes) throw new Error(`the sink got ${got} of ${bytes} bytes`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      rtt: { type: 'string', default: '20' },
      rate: { type: 'string' },
      mib: { type: 'string', default: '192' },
      with: { type: 'string', default: 'openssh,g5k-cli' },
      upload: { type: 'boolean', default: false },
      direct: { type: 'boolean', default: false },
    },
  });
  const why = canRunSshd();
  if (why) throw new Error(`cannot run sshd: ${why}`);
  const ids = values.with.split(',') as EndpointId[];
  for (const id of ids) if (!ENDPOINT_IDS.includes(id)) throw new Error(`unknown endpoint ${id}`);
  const bytes = Number(values.mib) * MiB;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-wan-'));
  let gw: Gateway | null = null;
  const stops: (() => Promise<void>)[] = [];
  try {
    gw = await startGateway();
    const targets = await helper('scripts/bench/targets.js', []);
    stops.push(targets.stop);
    const sink = await startSink();
    stops.push(async () => sink.close());
    // the stand-in the benchmark uses, in front of sshd (loopback with --direct)
    const net_ = await openPath(
      { root, gw, scratch },
      { host: '127.0.0.1', http: targets.info.http!, echo: targets.info.echo! },
      values.direct ? 0 : Number(values.rtt),
      values.rate ? Number(values.rate) : null,
    );
    stops.push(net_.stop);
    const viaRelay = net_.ctx.gw;
    const path_ = values.direct
      ? 'loopback (no stand-in)'
      : `a ${values.rtt} ms round trip${values.rate ? ` at ${values.rate} Mbit/s` : ''}`;
    console.log(
      `one ${values.mib} MiB ${values.upload ? 'upload' : 'download'} through ${path_}, ${values.rounds} rounds, interleaved`,
    );
    const results = new Map<EndpointId, number[]>(ids.map((id) => [id, []]));
    for (let round = 1; round <= Number(values.rounds); round++) {
      for (const id of ids) {
        const ep = await startEndpoint(id, { root, gw: viaRelay, scratch });
        try {
          const target = values.upload ? sink.port : targets.info.http!;
          const t = await openTunnel(ep.proxy, '127.0.0.1', target, 30_000);
          const cpu0 = ep.pid ? (sample(ep.pid)?.cpuS ?? 0) : 0;
          const t0 = performance.now();
          if (values.upload) await upload(t.socket, bytes);
          else {
            const r = await httpGet(t.socket, `/bytes/${bytes}`, 600_000);
            if (r.bytes !== bytes) throw new Error(`${id}: got ${r.bytes} of ${bytes} bytes`);
          }
          const tDone = performance.now();
          const cpuMs = ep.pid ? ((sample(ep.pid)?.cpuS ?? 0) - cpu0) * 1000 : 0;
          const mibps = bytes / MiB / ((tDone - t0) / 1000);
          results.get(id)!.push(mibps);
          const perMiB = ep.pid ? `, proxy CPU ${(cpuMs / (bytes / MiB)).toFixed(2)} ms/MiB` : '';
          console.log(`  round ${round}  ${LABELS[id].padEnd(34)} ${mibps.toFixed(1).padStart(7)} MiB/s${perMiB}`);
        } finally {
          await ep.stop();
        }
      }
    }
    const ref = median(results.get(ids[0]!)!);
    for (const id of ids) {
      const m = median(results.get(id)!);
      const xs = results.get(id)!.map((x) => x.toFixed(0));
      console.log(
        `${LABELS[id].padEnd(34)} median ${m.toFixed(1).padStart(7)} MiB/s  [${xs.join(', ')}]  ×${(m / ref).toFixed(2)} vs ${LABELS[ids[0]!]}`,
      );
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
    await gw?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`wan-probe: ${e.message}`);
  children.killAllNow();
  process.exit(1);
});
