// Turns a run into figures: per path, per-round ratios to OpenSSH, medians with their range, the
// start-up and stall phases; and the generated part of docs/BENCHMARKS.md. Pure: no I/O.

import { commandLine, ENDPOINT_IDS, LABELS, REFERENCE, type EndpointId } from './endpoints.js';
import type { CommandCold, Stalled } from './cold-start.js';
import type { AutoResult } from './host-timing.js';
import type { Negotiated } from './kex-probe.js';
import type { Machine } from './machine.js';
import type { EndpointResult, Params } from './measure.js';
import { checkTargets } from './goals.js';
import { ratio, spread, type Spread } from './stats.js';

/** Everything measured on one network path. */
export interface PathRun {
  /** 0 = loopback; else the WAN stand-in's round trip. */
  rttMs: number;
  rateMbit: number | null;
  rounds: number;
  params: Params;
  seconds: number;
  results: EndpointResult[];
  /** Host cold starts (spawn → `hello` answered) in ms, all rounds together. */
  coldStartMs: number[];
  /** The same for a Node process that only answers `hello`. */
  nodeFloorMs: number[];
  /** `node -e 0`, spawn → exit: Node's own start-up. */
  nodeStartMs: number[];
  /** Spawn → first byte of a page, for `ssh -N -D` and `g5k-tunnel -N -D`. */
  commandCold: CommandCold[];
  auto: AutoResult[];
  stalled: Stalled[];
  /** Phases that failed (the run went on). */
  errors: string[];
}

export interface RunData {
  startedAt: string;
  seconds: number;
  command: string;
  quick: boolean;
  machine: Machine;
  endpoints: EndpointId[];
  /** Endpoints left out, and why. */
  skipped: Partial<Record<EndpointId, string>>;
  paths: PathRun[];
  ciphers: Partial<Record<EndpointId, Negotiated | string>>;
}

export const METRICS = {
  bulk: { name: 'bulk MiB/s', get: (r: EndpointResult) => r.bulk?.MiBps, higherIsBetter: true },
  setupP50: { name: 'set-up p50 ms', get: (r: EndpointResult) => r.setup?.ttfbMs.p50 },
  setupP95: { name: 'set-up p95 ms', get: (r: EndpointResult) => r.setup?.ttfbMs.p95 },
  rttP50: { name: 'RTT p50 ms', get: (r: EndpointResult) => r.rtt?.p50 },
  rttP99: { name: 'RTT p99 ms', get: (r: EndpointResult) => r.rtt?.p99 },
  conc: { name: 'parallel s', get: (r: EndpointResult) => r.concurrency?.seconds },
  concFail: { name: 'failures', get: (r: EndpointResult) => (r.setup?.failures ?? 0) + (r.concurrency?.failures ?? 0) },
  rssIdle: { name: 'proxy RSS idle MiB', get: (r: EndpointResult) => r.mem?.proxyIdleMiB },
  rssPeak: { name: 'proxy RSS peak MiB', get: (r: EndpointResult) => r.mem?.proxyPeakMiB },
  anonIdle: { name: 'private idle MiB', get: (r: EndpointResult) => r.mem?.proxyIdleAnonMiB },
  anonPeak: { name: 'private peak MiB', get: (r: EndpointResult) => r.mem?.proxyPeakAnonMiB },
  sshdPeak: { name: 'sshd RSS peak MiB', get: (r: EndpointResult) => r.mem?.sshdPeakMiB },
  cpuProxy: { name: 'proxy CPU s/GiB', get: (r: EndpointResult) => r.bulk?.proxyCpuSPerGiB },
  cpuSshd: { name: 'sshd CPU s/GiB', get: (r: EndpointResult) => r.bulk?.sshdCpuSPerGiB },
  cpuConn: { name: 'proxy CPU ms/conn', get: (r: EndpointResult) => r.setup?.proxyCpuMsPerConn },
  cpuConnSshd: { name: 'sshd CPU ms/conn', get: (r: EndpointResult) => r.setup?.sshdCpuMsPerConn },
  start: { name: 'start ms', get: (r: EndpointResult) => r.startMs },
} as const;
type MetricKey = keyof typeof METRICS;

/** The ratios compared with the reference, per round. */
export const RATIO_METRICS: MetricKey[] = ['bulk', 'setupP50', 'rttP50', 'conc'];

type Ratios = Partial<Record<MetricKey, number | null>>;

function roundRatios(results: readonly EndpointResult[]): Map<number, Map<EndpointId, Ratios>> {
  const out = new Map<number, Map<EndpointId, Ratios>>();
  for (const r of results) {
    const ref = results.find((x) => x.round === r.round && x.id === REFERENCE && x.ok);
    const row: Ratios = {};
    for (const k of RATIO_METRICS) row[k] = ref && r.ok ? ratio(METRICS[k].get(r), METRICS[k].get(ref)) : null;
    if (!out.has(r.round)) out.set(r.round, new Map());
    out.get(r.round)!.set(r.id, row);
  }
  return out;
}

export function medianRatios(
  results: readonly EndpointResult[],
  id: EndpointId,
): Partial<Record<MetricKey, Spread | null>> {
  const per = [...roundRatios(results).values()].map((m) => m.get(id)).filter((x): x is Ratios => !!x);
  const out: Partial<Record<MetricKey, Spread | null>> = {};
  for (const k of RATIO_METRICS) out[k] = spread(per.map((p) => p[k]));
  return out;
}

export function metricSpread(results: readonly EndpointResult[], id: EndpointId, k: MetricKey): Spread | null {
  return spread(results.filter((r) => r.id === id && r.ok).map((r) => METRICS[k].get(r)));
}

const fmtNum = (v: number, d: number) => v.toFixed(d);
export function fmtSpread(s: Spread | null | undefined, d = 2, unit = ''): string {
  if (!s) return '–';
  return s.n > 1 && s.min !== s.max
    ? `${fmtNum(s.median, d)}${unit} [${fmtNum(s.min, d)}–${fmtNum(s.max, d)}]`
    : `${fmtNum(s.median, d)}${unit}`;
}

const mark = (met: boolean | null) => (met === null ? 'n/a' : met ? 'yes' : '**no**');

function cipherText(n: Negotiated | string | undefined): string {
  if (!n) return '–';
  if (typeof n === 'string') return `(${n})`;
  return `${n.cipher}${n.mac === 'implicit' ? '' : ` + ${n.mac}`}, ${n.kex}`;
}

/** The per-round ratio lines printed while the benchmark runs and kept in the document. */
export function ratioTable(results: readonly EndpointResult[]): string[] {
  const lines = [
    `| round | endpoint | ${RATIO_METRICS.map((k) => `${METRICS[k].name.replace(/ (MiB\/s|ms|s)$/, '')} ×`).join(' | ')} |`,
    `|---|---|${RATIO_METRICS.map(() => '---').join('|')}|`,
  ];
  for (const [round, m] of roundRatios(results)) {
    for (const [id, r] of m) {
      if (id === REFERENCE) continue;
      lines.push(
        `| ${round} | ${LABELS[id]} | ${RATIO_METRICS.map((k) => (r[k] == null ? '–' : r[k]!.toFixed(2))).join(' | ')} |`,
      );
    }
  }
  return lines;
}

export function medianRatioTable(p: PathRun, endpoints: readonly EndpointId[]): string[] {
  const lines = [
    `| endpoint | ${RATIO_METRICS.map((k) => `${METRICS[k].name.replace(/ (MiB\/s|ms|s)$/, '')} ×`).join(' | ')} |`,
    `|---|${RATIO_METRICS.map(() => '---').join('|')}|`,
  ];
  for (const id of endpoints) {
    if (id === REFERENCE) continue;
    const m = medianRatios(p.results, id);
    lines.push(`| ${LABELS[id]} | ${RATIO_METRICS.map((k) => fmtSpread(m[k])).join(' | ')} |`);
  }
  return lines;
}

const SPEED: [MetricKey, number][] = [
  ['bulk', 0],
  ['setupP50', 2],
  ['setupP95', 2],
  ['rttP50', 3],
  ['rttP99', 3],
  ['conc', 2],
  ['concFail', 0],
  ['start', 0],
];
const COST: [MetricKey, number][] = [
  ['rssIdle', 1],
  ['rssPeak', 1],
  ['anonIdle', 1],
  ['anonPeak', 1],
  ['sshdPeak', 1],
  ['cpuProxy', 2],
  ['cpuSshd', 2],
  ['cpuConn', 2],
  ['cpuConnSshd', 2],
];
/** Figures that have no meaning without a proxy. */
const PROXY_ONLY = new Set<MetricKey>([...COST.map(([k]) => k), 'start']);

/** Median [min–max] per endpoint; `cost` selects memory and CPU instead of speed. */
export function resultTable(p: PathRun, cost = false): string[] {
  const cols = cost ? COST : SPEED;
  const name = (k: MetricKey) => (k === 'conc' ? `${p.params.conc}×${p.params.concMiB} MiB s` : METRICS[k].name);
  const lines = [
    `| endpoint | ${cols.map(([k]) => name(k)).join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
  ];
  for (const id of measured(p)) {
    if (cost && id === 'direct') continue;
    const cells = cols.map(([k, d]) =>
      id === 'direct' && PROXY_ONLY.has(k) ? '–' : fmtSpread(metricSpread(p.results, id, k), d),
    );
    lines.push(`| ${LABELS[id]} | ${cells.join(' | ')} |`);
  }
  return lines;
}

/** The endpoints a path measured, in the usual order. */
function measured(p: PathRun): EndpointId[] {
  return ENDPOINT_IDS.filter((id) => p.results.some((r) => r.id === id));
}

function failureLines(p: PathRun): string[] {
  const out: string[] = [...p.errors.map((e) => `- ${e}`)];
  for (const r of p.results) {
    if (r.ok) continue;
    const detail = { ...(r.setup?.errors ?? {}), ...(r.concurrency?.errors ?? {}) };
    out.push(
      `- round ${r.round}, ${LABELS[r.id]}: ${r.error ?? 'failed'}${Object.keys(detail).length ? ` ${JSON.stringify(detail)}` : ''}`,
    );
  }
  return out;
}

/** Per round, the median cold start of `id` divided by OpenSSH's in that round. */
export function coldRatios(p: PathRun, id: EndpointId): number[] {
  const out: number[] = [];
  for (let round = 1; round <= p.rounds; round++) {
    const of = (e: EndpointId) => spread(p.commandCold.filter((c) => c.round === round && c.id === e).map((c) => c.ms));
    const r = ratio(of(id)?.median, of(REFERENCE)?.median);
    if (r !== null) out.push(r);
  }
  return out;
}

export const coldSpread = (p: PathRun, id: EndpointId) =>
  spread(p.commandCold.filter((c) => c.id === id).map((c) => c.ms));

/** Round trips as a median and range, or '–' on loopback. */
function trips(values: (number | null)[]): string {
  const s = spread(values);
  return s ? fmtSpread(s, 0) : '–';
}

/** The start-up figures of one path, and the stalled reader's. */
export function startLines(p: PathRun): string[] {
  const out: string[] = [];
  const cmds = (['openssh', 'g5k-cli'] as const).filter((id) => p.commandCold.some((c) => c.id === id));
  const node = spread(p.nodeStartMs);
  if (cmds.length) {
    out.push(
      '| start | spawn → first byte ms | spawn → SOCKS port open ms | round trips | ratio to OpenSSH (per round) |',
    );
    out.push('|---|---|---|---|---|');
    for (const id of cmds) {
      const mine = p.commandCold.filter((c) => c.id === id);
      out.push(
        `| \`${id === 'openssh' ? 'ssh -N -D' : 'g5k-tunnel -N -D'}\` cold | ${fmtSpread(coldSpread(p, id), 0)} | ${fmtSpread(spread(mine.map((c) => c.listenMs)), 0)} | ${trips(mine.map((c) => c.roundTrips))} | ${id === REFERENCE ? '–' : fmtSpread(spread(coldRatios(p, id)), 2, '×')} |`,
      );
    }
  }
  if (p.auto.length) {
    out.push(
      `| native host, Auto mode: first CONNECT → first byte (host idle, no SSH yet) | ${fmtSpread(spread(p.auto.map((a) => a.firstByteMs)), 0)} | – | ${trips(p.auto.map((a) => a.roundTrips))} | – |`,
    );
  }
  if (node) out.push(`| \`node -e 0\`, spawn → exit | ${fmtSpread(node, 0)} | – | – | – |`);
  if (out.length) out.push('');
  const cold = spread(p.coldStartMs);
  if (cold)
    out.push(
      `- Native host cold start, spawn → \`hello\` answered: ${fmtSpread(cold, 0, ' ms')} (${cold.n} starts); a Node process that` +
        ` only answers \`hello\`: ${fmtSpread(spread(p.nodeFloorMs), 0, ' ms')}.`,
    );
  if (p.auto.length) {
    const hs = spread(p.auto.map((a) => a.handshakeMs));
    const ov = spread(p.auto.map((a) => a.overheadMs));
    const stages = p.auto[p.auto.length - 1]!.stages.map((s) => `${s.stage} ${s.ms.toFixed(0)} ms`).join(', ');
    out.push(
      `- Auto mode: the SSH handshake the host reports for that first CONNECT: ${fmtSpread(hs, 0, ' ms')} (last: ${stages});` +
        ` what the on-demand path adds to it: ${fmtSpread(ov, 0, ' ms')}.`,
    );
  }
  if (p.stalled.length) {
    const rss = spread(p.stalled.map((x) => x.rssMiB));
    const hwm = spread(p.stalled.map((x) => x.hwmMiB));
    out.push(
      `- Stalled reader (native host, download whose reader stops after ${p.stalled[0]!.readMiB.toFixed(0)} MiB): host RSS once` +
        ` the flow stopped ${fmtSpread(rss, 1, ' MiB')}, peak ${fmtSpread(hwm, 1, ' MiB')}.`,
    );
  }
  if (out.length) out.push('');
  return out;
}

function pathSection(run: RunData, p: PathRun): string[] {
  const q = p.params;
  return [
    `### ${p.rttMs === 0 ? 'Loopback' : `Through the WAN stand-in: ${pathLabel(p)}`}`,
    '',
    `${p.rounds} round${p.rounds > 1 ? 's' : ''}, ${Math.round(p.seconds)} s. Phases per endpoint and round, after a warm-up of 20 connections and`,
    `${Math.min(16, q.bulkMiB)} MiB: one ${q.bulkMiB} MiB download (bulk), ${q.setupCount} sequential connections each doing`,
    `CONNECT + \`GET /\` to the first byte (set-up), ${q.rttCount} ping-pongs of ${q.rttSize} bytes on one connection (RTT),`,
    `${q.conc} parallel connections each downloading ${q.concMiB} MiB.`,
    '',
    '#### Results (median [min–max] over rounds)',
    '',
    ...resultTable(p),
    '',
    ...resultTable(p, true),
    '',
    '#### Ratios to OpenSSH with its default cipher (median [min–max] of per-round ratios)',
    '',
    'Bulk: higher is better; the others: lower is better.',
    '',
    ...medianRatioTable(p, run.endpoints),
    '',
    '#### Start-up and a stalled reader',
    '',
    ...startLines(p),
  ];
}

export function pathLabel(p: { rttMs: number; rateMbit: number | null }): string {
  if (p.rttMs === 0) return 'loopback';
  return `${p.rttMs} ms round trip${p.rateMbit ? ` at ${p.rateMbit} Mbit/s` : ''}`;
}

export function renderGenerated(run: RunData): string {
  const m = run.machine;
  const ours = run.endpoints.filter((id) => id === 'g5k-cli' || id === 'g5k-pool' || id === 'g5k-host');
  const out: string[] = [
    `Latest run: ${run.startedAt}, ${run.paths.map((p) => `${pathLabel(p)} ${p.rounds} round${p.rounds > 1 ? 's' : ''}`).join(', ')}${run.quick ? ' (--quick)' : ''}, ${Math.round(run.seconds)} s, \`${run.command}\`.`,
    '',
    '### Machine',
    '',
    `| | |`,
    `|---|---|`,
    `| CPU | ${m.cores} cores, ${m.cpuModel} |`,
    `| memory | ${m.memoryGiB} GiB |`,
    `| system | ${m.os}, Linux ${m.kernel} |`,
    `| load average at start | ${m.loadAtStart.toFixed(2)} |`,
    `| Node | ${m.node} |`,
    `| OpenSSH (client and sshd) | ${m.openssh}; openssh-server ${m.sshd} |`,
    `| ssh2 | ${m.ssh2}, native crypto addon ${m.ssh2NativeCrypto === null ? 'unknown' : m.ssh2NativeCrypto ? 'loaded' : 'NOT loaded'} |`,
    '',
    '### Endpoints',
    '',
    'All against the same sshd with the same ed25519 key, in turn within each round (the order rotates),',
    'one at a time. `PORT` is a free port, `GWPORT` the sshd (or the WAN stand-in in front of it), `KEY` and',
    '`KNOWN_HOSTS` its test files.',
    '',
    '| endpoint | command | negotiated (cipher, key exchange) |',
    '|---|---|---|',
    ...run.endpoints.map(
      (id) => `| ${LABELS[id]} | \`${commandLine(id)}\` | ${id === 'direct' ? '–' : cipherText(run.ciphers[id])} |`,
    ),
    ...Object.entries(run.skipped).map(([id, why]) => `| ${LABELS[id as EndpointId]} | not measured: ${why} | |`),
    '',
    'Memory: RSS once connected (idle) and VmHWM at the end (peak); private = RssAnon, RSS without the pages of',
    'the executable and libraries (shared with every process running them); sshd = its two session processes',
    '(VmHWM). CPU: utime+stime during the bulk download, per GiB, and during set-up, per connection.',
    '',
  ];
  for (const id of ours) {
    out.push(`### Targets: ${LABELS[id]}`, '', '| target | goal | measured | met |', '|---|---|---|---|');
    for (const c of checkTargets(run, id)) out.push(`| ${c.what} | ${c.goal} | ${c.value} | ${mark(c.met)} |`);
    out.push('');
  }
  for (const p of run.paths) out.push(...pathSection(run, p));
  for (const p of run.paths) {
    out.push(`### Per-round ratios to OpenSSH: ${pathLabel(p)}`, '', ...ratioTable(p.results), '');
    const fails = failureLines(p);
    if (fails.length) out.push(`### Failures: ${pathLabel(p)}`, '', ...fails, '');
  }
  return out.join('\n');
}

const BEGIN = '<!-- BEGIN GENERATED BY npm run bench: edits here are overwritten -->';
const END = '<!-- END GENERATED -->';

/** Replaces the generated part of the document, keeping the hand-written rest. */
export function spliceDocument(existing: string | null, generated: string, skeleton: string): string {
  const block = `${BEGIN}\n\n${generated.trim()}\n\n${END}`;
  const doc = existing ?? skeleton;
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) return `${doc.trimEnd()}\n\n## Latest run\n\n${block}\n`;
  return doc.slice(0, a) + block + doc.slice(b + END.length);
}
