// `npm run bench`: OpenSSH `ssh -D` against g5k-tunnel (command and native host) and no proxy, against
// one real sshd, on loopback and through a WAN stand-in in front of it, interleaved over rounds on
// each path; prints per-round ratios and medians and rewrites the generated part of docs/BENCHMARKS.md. Every process it starts is stopped at the end,
// on error and on Ctrl-C too.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { canRunSshd, startGateway, type Gateway } from '../../testbed/sshd.js';
import * as children from '../../testbed/children.js';
import { probeCiphers } from './cipher-probe.js';
import { gatewayQuiet, LABELS, REFERENCE, unavailable, type Context, type EndpointId } from './endpoints.js';
import { commandColdStart, nodeStart, stalledReader } from './cold-start.js';
import { autoMode, coldStarts, nodeFloor } from './host-timing.js';
import { describeMachine } from './machine.js';
import { measureEndpoint } from './measure.js';
import { BENCH_USAGE, parseOptions, type Options, type PathSpec } from './options.js';
import { openPath, type NetPath } from './paths.js';
import { checkTargets } from './goals.js';
import type { Target } from './phases.js';
import {
  medianRatioTable,
  pathLabel,
  ratioTable,
  renderGenerated,
  resultTable,
  spliceDocument,
  startLines,
  type PathRun,
  type RunData,
} from './report.js';
import { SKELETON } from './skeleton.js';
import { profileEndpoints } from './profile-run.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function say(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

async function startTargetsProcess(): Promise<Target> {
  const child = children.start(process.execPath, [path.join(ROOT, 'dist/scripts/bench/targets.js')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('the target servers did not start within 10 s')), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, i));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the target servers exited (${code})`));
    });
  });
  const ports = JSON.parse(line) as { http: number; echo: number };
  return { host: '127.0.0.1', http: ports.http, echo: ports.echo };
}

function rotate<T>(list: readonly T[], by: number): T[] {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function brief(r: Awaited<ReturnType<typeof measureEndpoint>>): string {
  if (!r.bulk || !r.setup || !r.rtt || !r.concurrency) return `FAILED: ${r.error?.split('\n')[0]}`;
  const mem =
    r.mem?.proxyIdleMiB != null ? `, RSS ${r.mem.proxyIdleMiB.toFixed(0)}/${r.mem.proxyPeakMiB?.toFixed(0)} MiB` : '';
  return (
    `${r.bulk.MiBps.toFixed(0)} MiB/s, set-up p50 ${r.setup.ttfbMs.p50.toFixed(2)} ms, RTT p50 ${r.rtt.p50.toFixed(3)} ms, ` +
    `${r.concurrency.connections}× in ${r.concurrency.seconds.toFixed(2)} s` +
    `${r.setup.failures + r.concurrency.failures ? ` (${r.setup.failures + r.concurrency.failures} failures)` : ''}${mem}`
  );
}

/** Runs `fn`, keeping its result in `into`, or its failure in `errors` (the run goes on). */
async function attempt<T>(what: string, errors: string[], fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    const msg = `${what}: ${(e as Error).message.split('\n')[0]}`;
    errors.push(msg);
    say(`  ${msg}`);
    return null;
  }
}

const ms = (xs: number[]) => xs.map((c) => c.toFixed(0)).join(', ');

/** Every round on one path: the endpoints in rotating order, then the start-up and stall phases. */
async function measurePath(spec: PathSpec, path_: NetPath, endpoints: EndpointId[], opts: Options): Promise<PathRun> {
  const t0 = performance.now();
  const p: PathRun = {
    rttMs: spec.rttMs,
    rateMbit: spec.rateMbit,
    rounds: spec.rounds,
    params: spec.params,
    seconds: 0,
    results: [],
    coldStartMs: [],
    nodeFloorMs: [],
    nodeStartMs: [],
    commandCold: [],
    auto: [],
    stalled: [],
    errors: [],
  };
  const hasHost = endpoints.includes('g5k-host');
  const commands = endpoints.filter((e) => e === 'openssh' || e === 'g5k-cli');
  say(`${pathLabel(spec)}: ${spec.rounds} round${spec.rounds > 1 ? 's' : ''} of ${endpoints.join(', ')}`);
  for (let round = 1; round <= spec.rounds; round++) {
    say(`round ${round}/${spec.rounds} (${pathLabel(spec)})`);
    for (const id of rotate(endpoints, round - 1)) {
      const target = id === 'direct' ? path_.directTarget : path_.target;
      const r = await measureEndpoint(id, round, path_.ctx, target, spec.params);
      p.results.push(r);
      say(`  ${LABELS[id].padEnd(34)} ${brief(r)}`);
    }
    // cold starts of the commands, alternating, so that a busy moment hits both
    for (let i = 0; i < opts.coldStarts; i++)
      for (const id of i % 2 ? [...commands].reverse() : commands) {
        const c = await attempt(`${LABELS[id]} cold start`, p.errors, () => commandColdStart(id, round, path_));
        if (c) p.commandCold.push(c);
      }
    p.nodeStartMs.push(...(await nodeStart(opts.coldStarts)));
    const cold = p.commandCold.filter((c) => c.round === round);
    for (const id of commands) {
      const mine = cold.filter((c) => c.id === id);
      say(
        `  ${LABELS[id]} cold start ${ms(mine.map((c) => c.ms))} ms, ${mine.map((c) => c.roundTrips ?? '–').join(', ')} round trips`,
      );
    }
    if (hasHost) {
      const hello = await attempt('host cold start', p.errors, () => coldStarts(path_.ctx, opts.coldStarts));
      const floor = await attempt('Node floor', p.errors, () => nodeFloor(opts.coldStarts));
      if (hello && floor) {
        p.coldStartMs.push(...hello);
        p.nodeFloorMs.push(...floor);
        say(`  host cold start ${ms(hello)} ms (a Node process answering hello: ${ms(floor)} ms)`);
      }
      const a = await attempt('auto mode', p.errors, () => autoMode(path_));
      if (a) {
        p.auto.push(a);
        say(
          `  auto mode: first byte ${a.firstByteMs.toFixed(0)} ms, ${a.roundTrips ?? '–'} round trips, handshake ${a.handshakeMs.toFixed(0)} ms`,
        );
      }
      const st = await attempt('stalled reader', p.errors, () => stalledReader(round, path_, opts.stallMiB, 4));
      if (st) {
        p.stalled.push(st);
        say(
          `  stalled reader: host RSS ${st.rssMiB.toFixed(0)} MiB (peak ${st.hwmMiB.toFixed(0)}) after ${st.readMiB.toFixed(0)} MiB read`,
        );
      }
    }
    for (const line of ratioTable(p.results.filter((x) => x.round === round)).slice(2)) say(`  ${line}`);
  }
  p.seconds = (performance.now() - t0) / 1000;
  return p;
}

interface State {
  gw?: Promise<Gateway>;
  scratch?: string;
  paths: Set<NetPath>;
}

async function benchmark(opts: Options, state: State): Promise<number> {
  const why = canRunSshd();
  if (why) {
    say(`cannot run: ${why}`);
    return 2;
  }
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const machine = describeMachine(ROOT);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-bench-'));
  state.scratch = scratch;
  fs.mkdirSync(path.join(scratch, 'state'), { recursive: true });

  const skipped: Partial<Record<EndpointId, string>> = {};
  const endpoints = opts.endpoints.filter((id) => {
    const u = unavailable(id, ROOT);
    if (u) {
      skipped[id] = u;
      say(`skipping ${LABELS[id]}: ${u}`);
    }
    return !u;
  });
  if (!endpoints.includes(REFERENCE)) say(`without ${LABELS[REFERENCE]} there are no ratios`);

  const target = await startTargetsProcess();
  state.gw = startGateway();
  const gw = await state.gw;
  const ctx: Context = { root: ROOT, gw, scratch, nodeArgs: opts.nodeArgs };
  say(`sshd on 127.0.0.1:${gw.port}, targets on ${target.http}/${target.echo}`);

  if (opts.profile) {
    const out = path.join(opts.outDir, 'profile');
    await profileEndpoints(ctx, target, endpoints, opts.paths[0]!.params, out, say);
    return 0;
  }

  const ciphers = opts.ciphers ? await probeCiphers(endpoints, ctx) : {};
  for (const [id, n] of Object.entries(ciphers))
    say(`${id} negotiates ${typeof n === 'string' ? `? (${n})` : `${n.cipher} (${n.kex})`}`);

  const run: RunData = {
    startedAt,
    seconds: 0,
    command: opts.command,
    quick: opts.quick,
    machine,
    endpoints,
    skipped,
    paths: [],
    ciphers,
  };
  for (const spec of opts.paths) {
    const path_ = await openPath(ctx, target, spec.rttMs, spec.rateMbit);
    state.paths.add(path_);
    try {
      run.paths.push(await measurePath(spec, path_, endpoints, opts));
    } finally {
      state.paths.delete(path_);
      await path_.stop();
    }
  }
  run.seconds = (performance.now() - t0) / 1000;

  for (const p of run.paths) {
    console.log(
      [
        '',
        `## ${pathLabel(p)}`,
        '',
        ...resultTable(p),
        '',
        ...resultTable(p, true),
        '',
        '### Median ratios to OpenSSH',
        '',
        ...medianRatioTable(p, endpoints),
        '',
        ...startLines(p),
      ].join('\n'),
    );
  }
  for (const id of endpoints.filter((e) => e === 'g5k-cli' || e === 'g5k-pool' || e === 'g5k-host')) {
    console.log(`## Targets: ${LABELS[id]}`);
    for (const c of checkTargets(run, id))
      console.log(`- ${c.what}: ${c.value} (goal ${c.goal}) ${c.met === null ? 'n/a' : c.met ? 'met' : 'NOT MET'}`);
    console.log('');
  }

  fs.mkdirSync(opts.outDir, { recursive: true });
  const json = JSON.stringify(run, null, 1);
  fs.writeFileSync(path.join(opts.outDir, 'latest.json'), json);
  say(`raw results: ${path.join(opts.outDir, 'latest.json')}`);
  if (opts.docs) {
    const prev = fs.existsSync(opts.docs) ? fs.readFileSync(opts.docs, 'utf8') : null;
    fs.writeFileSync(opts.docs, spliceDocument(prev, renderGenerated(run), SKELETON));
    say(`wrote ${path.relative(process.cwd(), opts.docs) || opts.docs}`);
  }
  return run.paths.every((p) => p.results.every((r) => r.ok) && p.errors.length === 0) ? 0 : 1;
}

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2), ROOT);
  if (!parsed.ok) {
    process.stderr.write(`bench: ${parsed.error}\n${BENCH_USAGE}\n`);
    process.exit(2);
  }
  const opts: Options = parsed.value;
  if (opts.help) {
    console.log(BENCH_USAGE);
    return;
  }
  const state: State = { paths: new Set() };
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all([...state.paths].map((p) => p.stop()));
      await children.stopAll();
      const gw = await state.gw?.catch(() => undefined);
      // let the last sessions end by themselves: killed under sshd, they linger as orphans
      if (gw) await gatewayQuiet(gw, 3000).catch(() => {});
      await gw?.stop();
      if (state.scratch) fs.rmSync(state.scratch, { recursive: true, force: true });
    })());
  const abort = (why: string, code: number) => {
    say(`${why}: stopping everything it started`);
    void cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));
  process.once('exit', () => children.killAllNow());
  const limit = setTimeout(() => abort(`over the ${opts.maxMinutes}-minute limit`, 3), opts.maxMinutes * 60_000);
  limit.unref();

  let code = 1;
  try {
    code = await benchmark(opts, state);
  } catch (e) {
    say(`failed: ${(e as Error).stack ?? e}`);
  } finally {
    await cleanup();
  }
  process.exit(code);
}

void main();
