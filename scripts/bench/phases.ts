// The measurements, each bounded in count and time. They take a `dial` function so that the same
// code times every endpoint, a SOCKS proxy or a direct connection alike.

import { performance } from 'node:perf_hooks';
import { httpGet, type SocksTunnel } from '../../testbed/socks-client.js';
import { summarize, type Summary } from './stats.js';
import { MiB } from '../../testbed/proc.js';

export type Dial = (host: string, port: number) => Promise<SocksTunnel>;

export interface Target {
  host: string;
  http: number;
  echo: number;
}

/** Failures by message, so that a report says what went wrong, not only how often. */
type Failures = Record<string, number>;
const note = (f: Failures, e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  f[msg] = (f[msg] ?? 0) + 1;
};
const total = (f: Failures) => Object.values(f).reduce((a, b) => a + b, 0);

export interface BulkResult {
  bytes: number;
  seconds: number;
  MiBps: number;
}

/** One connection, one large download: the throughput of a single channel. */
export async function bulk(dial: Dial, t: Target, mib: number, timeoutMs: number): Promise<BulkResult> {
  const size = Math.round(mib * MiB);
  const { socket } = await dial(t.host, t.http);
  const r = await httpGet(socket, `/bytes/${size}`, timeoutMs);
  if (r.status !== 200 || r.bytes !== size) throw new Error(`bulk: status ${r.status}, ${r.bytes} of ${size} bytes`);
  const seconds = (r.tDone - r.tFirst) / 1000;
  return { bytes: size, seconds, MiBps: size / MiB / seconds };
}

export interface SetupResult {
  attempted: number;
  failures: number;
  errors: Failures;
  /** New connection → SOCKS reply → GET / → first byte of the answer. */
  ttfbMs: Summary;
  /** New connection → SOCKS reply (the channel is open on the far side). */
  replyMs: Summary;
}

/** Sequential new connections, as a browser opening pages one after another. */
export async function setup(dial: Dial, t: Target, count: number, timeoutMs: number): Promise<SetupResult> {
  const ttfb: number[] = [];
  const reply: number[] = [];
  const errors: Failures = {};
  const deadline = performance.now() + timeoutMs;
  let i = 0;
  for (; i < count && performance.now() < deadline; i++) {
    try {
      const tun = await dial(t.host, t.http);
      const r = await httpGet(tun.socket, '/', 10_000);
      if (r.status !== 200) throw new Error(`GET /: status ${r.status}`);
      ttfb.push(r.tFirst - tun.t0);
      reply.push(tun.tReply - tun.t0);
    } catch (e) {
      note(errors, e);
    }
  }
  return { attempted: i, failures: total(errors), errors, ttfbMs: summarize(ttfb), replyMs: summarize(reply) };
}

export interface RttResult extends Summary {
  size: number;
}

/** Ping-pongs of `size` bytes on one open connection to the echo server (20 warm-up ones first). */
export async function rtt(dial: Dial, t: Target, count: number, size: number, timeoutMs: number): Promise<RttResult> {
  const { socket } = await dial(t.host, t.echo);
  const msg = Buffer.alloc(size, 0x70);
  const samples: number[] = [];
  let want = 0;
  let wake: (() => void) | null = null;
  let broken: Error | null = null;
  socket.on('data', (d: Buffer) => {
    want -= d.length;
    if (want <= 0 && wake) wake();
  });
  const onGone = (e?: Error) => {
    broken = e ?? new Error('the echo connection closed');
    wake?.();
  };
  socket.once('close', () => onGone());
  socket.once('error', onGone);
  socket.resume();
  const deadline = performance.now() + timeoutMs;
  try {
    for (let i = 0; i < count + 20 && performance.now() < deadline; i++) {
      want = size;
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('rtt: no echo within 10 s')), 10_000);
        wake = () => {
          clearTimeout(timer);
          wake = null;
          if (broken) reject(broken);
          else resolve();
        };
        socket.write(msg);
      });
      if (i >= 20) samples.push(performance.now() - t0);
    }
  } finally {
    socket.destroy();
  }
  return { size, ...summarize(samples) };
}

export interface ConcurrencyResult {
  connections: number;
  eachBytes: number;
  failures: number;
  errors: Failures;
  seconds: number;
}

/** `n` connections at once, each downloading `mib`: many tabs and their resources. */
export async function concurrency(
  dial: Dial,
  t: Target,
  n: number,
  mib: number,
  timeoutMs: number,
): Promise<ConcurrencyResult> {
  const size = Math.round(mib * MiB);
  const errors: Failures = {};
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async () => {
      try {
        const { socket } = await dial(t.host, t.http);
        const r = await httpGet(socket, `/bytes/${size}`, timeoutMs);
        if (r.status !== 200 || r.bytes !== size) throw new Error(`status ${r.status}, ${r.bytes} of ${size} bytes`);
      } catch (e) {
        note(errors, e);
      }
    }),
  );
  return { connections: n, eachBytes: size, failures: total(errors), errors, seconds: (performance.now() - t0) / 1000 };
}
