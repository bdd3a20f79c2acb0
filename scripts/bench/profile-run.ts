// `npm run bench -- --profile`: where do the project's endpoints spend CPU and memory? Each Node
// endpoint runs under the V8 inspector; after the warm-up the profiler runs for one phase at a time,
// so that every profile holds one kind of work (no start-up, no module loading). Memory and loaded
// modules are read at each step. The host's cold start gets a profile of its own (--cpu-prof).
// Summaries go to OUT/summary.md, raw profiles (open them in Chrome DevTools) beside it.

import fs from 'node:fs';
import path from 'node:path';
import { hostScript, proxyEnv, startEndpoint, type Context, type EndpointId } from './endpoints.js';
import {
  heapMarkdown,
  profileMarkdown,
  summarizeHeap,
  summarizeProfile,
  type CpuProfile,
  type HeapNode,
} from './cpuprofile.js';
import { Inspector, inspectorUrl } from './inspector.js';
import { HostClient } from '../../testbed/native-client.js';
import type { Params } from './measure.js';
import * as phases from './phases.js';
import { openTunnel } from '../../testbed/socks-client.js';

const PHASES = ['bulk', 'setup', 'rtt', 'concurrency'] as const;
type Phase = (typeof PHASES)[number];
const ORIGIN = 'chrome-extension://koolnjbkpcgghpokcmbibabdkklmfaek/';

async function runPhase(phase: Phase, dial: phases.Dial, target: phases.Target, p: Params): Promise<string> {
  switch (phase) {
    case 'bulk': {
      const r = await phases.bulk(dial, target, p.bulkMiB, p.phaseTimeoutMs);
      return `${p.bulkMiB} MiB at ${r.MiBps.toFixed(0)} MiB/s`;
    }
    case 'setup': {
      const r = await phases.setup(dial, target, p.setupCount, p.phaseTimeoutMs);
      return `${r.attempted} connections, set-up p50 ${r.ttfbMs.p50.toFixed(2)} ms, ${r.failures} failures`;
    }
    case 'rtt': {
      const r = await phases.rtt(dial, target, p.rttCount, p.rttSize, p.phaseTimeoutMs);
      return `${r.n} round trips, p50 ${r.p50.toFixed(3)} ms`;
    }
    case 'concurrency': {
      const r = await phases.concurrency(dial, target, p.conc, p.concMiB, p.phaseTimeoutMs);
      return `${r.connections}×${p.concMiB} MiB in ${r.seconds.toFixed(2)} s, ${r.failures} failures`;
    }
  }
}

interface Mem {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  code: number;
}

const MEMORY = `(() => {
  const m = process.memoryUsage();
  const v8 = process.getBuiltinModule ? process.getBuiltinModule('v8') : null;
  const c = v8 ? v8.getHeapCodeStatistics() : null;
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
    code: c ? c.code_and_metadata_size + c.bytecode_and_metadata_size : 0 };
})()`;

const MB = (b: number) => (b / 1024 / 1024).toFixed(1);

/** Loaded scripts per package: which code a process carries. */
function modulesByPackage(urls: readonly string[]): string {
  const count = new Map<string, number>();
  for (const u of urls) {
    const s = u.replace(/^file:\/\//, '');
    const nm = s.lastIndexOf('node_modules/');
    let key: string;
    if (s.startsWith('node:')) key = 'node:*';
    else if (nm >= 0) {
      const rest = s.slice(nm + 'node_modules/'.length).split('/');
      key = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    } else if (s.includes('/dist/')) key = `${s.slice(s.indexOf('/dist/') + 6).split('/')[0]}/`;
    else key = 'other';
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  return [...count]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

function memRow(label: string, m: Mem, scripts?: string[]): string {
  return `| ${label} | ${MB(m.rss)} | ${MB(m.heapTotal)} / ${MB(m.heapUsed)} | ${MB(m.code)} | ${MB(m.external)} / ${MB(m.arrayBuffers)} | ${scripts ? `${scripts.length}: ${modulesByPackage(scripts)}` : ''} |`;
}
const MEM_HEAD = [
  '| when | RSS MiB | V8 heap total / used MiB | code MiB | external / ArrayBuffers MiB | scripts loaded |',
  '|---|---|---|---|---|---|',
];

async function withInspector<T>(stderr: () => string, fn: (i: Inspector) => Promise<T>): Promise<T> {
  const insp = await Inspector.connect(await inspectorUrl(stderr));
  try {
    return await fn(insp);
  } finally {
    insp.close();
  }
}

async function profileOne(
  id: EndpointId,
  ctx: Context,
  target: phases.Target,
  p: Params,
  out: string,
  say: (m: string) => void,
): Promise<string[]> {
  const md: string[] = [`### ${id}`, ''];
  const mem: string[] = [...MEM_HEAD];
  const heap: string[] = [];
  if (id === 'g5k-host') {
    // what the host carries before it has anything to do
    const host = new HostClient({
      script: hostScript(ctx.root),
      nodeArgs: [...(ctx.nodeArgs ?? []), '--inspect=127.0.0.1:0'],
      env: proxyEnv(ctx),
      args: [ORIGIN],
    });
    try {
      await host.hello('bench');
      await withInspector(
        () => host.stderrHead,
        async (i) => mem.push(memRow('after `hello`', await i.evaluate<Mem>(MEMORY), await i.loadedScripts())),
      );
    } finally {
      await host.close();
    }
  }
  const ep = await startEndpoint(id, { ...ctx, nodeArgs: [...(ctx.nodeArgs ?? []), '--inspect=127.0.0.1:0'] });
  try {
    await withInspector(ep.stderr, async (insp) => {
      mem.push(memRow('connected, before traffic', await insp.evaluate<Mem>(MEMORY), await insp.loadedScripts()));
      const dial: phases.Dial = (h, port) => openTunnel(ep.proxy, h, port, 30_000);
      await phases.setup(dial, target, 20, p.phaseTimeoutMs);
      await phases.bulk(dial, target, 16, p.phaseTimeoutMs);
      for (const phase of PHASES) {
        const sampleHeap = phase === 'bulk' || phase === 'concurrency';
        if (sampleHeap)
          await insp.send('HeapProfiler.startSampling', {
            samplingInterval: 32768,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: true,
          });
        await insp.startProfile(200);
        const what = await runPhase(phase, dial, target, p);
        const profile = await insp.stopProfile();
        fs.writeFileSync(path.join(out, `${id}-${phase}.cpuprofile`), JSON.stringify(profile));
        const s = summarizeProfile(profile);
        say(
          `${id} ${phase}: ${what}; ${s.busyMs.toFixed(0)} ms CPU; top: ${s.top
            .slice(0, 4)
            .map((r) => `${r.name} ${r.selfMs.toFixed(0)}`)
            .join(', ')}`,
        );
        md.push(profileMarkdown(`${id}, ${phase}: ${what}`, s));
        if (sampleHeap) {
          const h = (await insp.send('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
          heap.push(heapMarkdown(`${id}, ${phase}: JS heap allocations`, summarizeHeap(h.profile.head)));
        }
        mem.push(memRow(`after ${phase}`, await insp.evaluate<Mem>(MEMORY)));
      }
    });
  } finally {
    await ep.stop();
  }
  md.push(`#### ${id}: memory`, '', ...mem, '', ...heap);
  return md;
}

async function profileColdStart(ctx: Context, out: string): Promise<string> {
  const dir = path.join(out, 'cold-start');
  fs.mkdirSync(dir, { recursive: true });
  const host = new HostClient({
    script: hostScript(ctx.root),
    nodeArgs: [...(ctx.nodeArgs ?? []), '--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', '100'],
    env: proxyEnv(ctx),
    args: [ORIGIN],
  });
  try {
    await host.hello('bench');
  } finally {
    await host.close();
  }
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return '(the host wrote no profile: it did not exit cleanly on stdin EOF)\n';
  const s = summarizeProfile(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile, 25);
  return profileMarkdown('g5k-host, cold start (spawn → hello answered → stdin closed → exit)', s);
}

export async function profileEndpoints(
  ctx: Context,
  target: phases.Target,
  ids: EndpointId[],
  p: Params,
  out: string,
  say: (m: string) => void,
): Promise<void> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const md: string[] = [`# Profiles (${new Date().toISOString()})`, ''];
  for (const id of ids.filter((i) => i === 'g5k-cli' || i === 'g5k-host'))
    md.push(...(await profileOne(id, ctx, target, p, out, say)));
  if (ids.includes('g5k-host')) md.push(await profileColdStart(ctx, out));
  fs.writeFileSync(path.join(out, 'summary.md'), md.join('\n'));
  say(`profiles and summary in ${out}`);
  console.log(md.join('\n'));
}
