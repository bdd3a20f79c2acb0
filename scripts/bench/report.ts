// Turns a run into figures: per-round ratios to OpenSSH, medians with their range, the targets, and
// the generated part of docs/BENCHMARKS.md. Pure: no I/O.

import { commandLine, LABELS, REFERENCE, type EndpointId } from './endpoints.js';
import type { AutoResult } from './host-timing.js';
import type { Negotiated } from './kex-probe.js';
import type { Machine } from './machine.js';
import type { EndpointResult, Params } from './measure.js';
import { ratio, spread, type Spread } from './stats.js';

export interface RunData {
  startedAt: string;
  seconds: number;
  command: string;
  quick: boolean;
  rounds: number;
  params: Params;
  machine: Machine;
  endpoints: EndpointId[];
  /** Endpoints left out, and why. */
  skipped: Partial<Record<EndpointId, string>>;
  results: EndpointResult[];
  /** Host cold starts in ms, all rounds together. */
  coldStartMs: number[];
  /** The same for a Node process that only answers `hello`: Node's own share. */
  nodeFloorMs: number[];
  auto: (AutoResult | { error: string })[];
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

export type Ratios = Partial<Record<MetricKey, number | null>>;

export function roundRatios(results: readonly EndpointResult[]): Map<number, Map<EndpointId, Ratios>> {
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

export interface TargetCheck {
  what: string;
  goal: string;
  value: string;
  met: boolean | null;
}

const fmtNum = (v: number, d: number) => v.toFixed(d);
export function fmtSpread(s: Spread | null | undefined, d = 2, unit = ''): string {
  if (!s) return '–';
  return s.n > 1 && s.min !== s.max
    ? `${fmtNum(s.median, d)}${unit} [${fmtNum(s.min, d)}–${fmtNum(s.max, d)}]`
    : `${fmtNum(s.median, d)}${unit}`;
}

/** The project's targets, checked for one of its endpoints. */
export function checkTargets(run: RunData, id: EndpointId): TargetCheck[] {
  const rs = run.results.filter((r) => r.id === id);
  if (rs.length === 0) return [];
  const m = medianRatios(run.results, id);
  const failures = rs.reduce((a, r) => a + (r.concurrency?.failures ?? (r.ok ? 0 : 1)), 0);
  const le = (s: Spread | null | undefined, max: number) => (s ? s.median <= max : null);
  const ge = (s: Spread | null | undefined, min: number) => (s ? s.median >= min : null);
  const idle = metricSpread(run.results, id, 'rssIdle');
  const peak = metricSpread(run.results, id, 'rssPeak');
  const checks: TargetCheck[] = [
    { what: 'bulk throughput vs OpenSSH', goal: '≥ 1.00×', value: fmtSpread(m.bulk, 2, '×'), met: ge(m.bulk, 1.0) },
    {
      what: 'set-up latency p50 vs OpenSSH',
      goal: '≤ 1.15×',
      value: fmtSpread(m.setupP50, 2, '×'),
      met: le(m.setupP50, 1.15),
    },
    { what: 'round trip p50 vs OpenSSH', goal: '≤ 1.15×', value: fmtSpread(m.rttP50, 2, '×'), met: le(m.rttP50, 1.15) },
    {
      what: `${run.params.conc}×${run.params.concMiB} MiB: time vs OpenSSH, failures`,
      goal: '≤ 1.00×, 0 failures',
      value: `${fmtSpread(m.conc, 2, '×')}, ${failures} failures`,
      met: m.conc ? m.conc.median <= 1.0 && failures === 0 : null,
    },
    {
      what: 'proxy RSS idle (private part)',
      goal: '≤ 45 MiB',
      value: `${fmtSpread(idle, 1, ' MiB')} (${fmtSpread(metricSpread(run.results, id, 'anonIdle'), 1, ' MiB')})`,
      met: le(idle, 45),
    },
    {
      what: 'proxy RSS peak (private part)',
      goal: '≤ 90 MiB',
      value: `${fmtSpread(peak, 1, ' MiB')} (${fmtSpread(metricSpread(run.results, id, 'anonPeak'), 1, ' MiB')})`,
      met: le(peak, 90),
    },
  ];
  if (id === 'g5k-host') {
    const cold = spread(run.coldStartMs);
    checks.push({
      what: 'cold start (spawn → hello answered)',
      goal: '≤ 250 ms',
      value: fmtSpread(cold, 0, ' ms'),
      met: le(cold, 250),
    });
  }
  return checks;
}

const mark = (met: boolean | null) => (met === null ? 'n/a' : met ? 'yes' : '**no**');

function cipherText(n: Negotiated | string | undefined): string {
  if (!n) return '–';
  if (typeof n === 'string') return `(${n})`;
  return `${n.cipher}${n.mac === 'implicit' ? '' : ` + ${n.mac}`}, ${n.kex}`;
}

/** The per-round ratio lines printed while the benchmark runs and kept in the document. */
export function ratioTable(run: RunData): string[] {
  const lines = [
    `| round | endpoint | ${RATIO_METRICS.map((k) => `${METRICS[k].name.replace(/ (MiB\/s|ms|s)$/, '')} ×`).join(' | ')} |`,
    `|---|---|${RATIO_METRICS.map(() => '---').join('|')}|`,
  ];
  for (const [round, m] of roundRatios(run.results)) {
    for (const [id, r] of m) {
      if (id === REFERENCE) continue;
      lines.push(
        `| ${round} | ${LABELS[id]} | ${RATIO_METRICS.map((k) => (r[k] == null ? '–' : r[k]!.toFixed(2))).join(' | ')} |`,
      );
    }
  }
  return lines;
}

export function medianRatioTable(run: RunData): string[] {
  const lines = [
    `| endpoint | ${RATIO_METRICS.map((k) => `${METRICS[k].name.replace(/ (MiB\/s|ms|s)$/, '')} ×`).join(' | ')} |`,
    `|---|${RATIO_METRICS.map(() => '---').join('|')}|`,
  ];
  for (const id of run.endpoints) {
    if (id === REFERENCE) continue;
    const m = medianRatios(run.results, id);
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
export function resultTable(run: RunData, cost = false): string[] {
  const cols = cost ? COST : SPEED;
  const name = (k: MetricKey) => (k === 'conc' ? `${run.params.conc}×${run.params.concMiB} MiB s` : METRICS[k].name);
  const lines = [
    `| endpoint | ${cols.map(([k]) => name(k)).join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
  ];
  for (const id of run.endpoints) {
    if (cost && id === 'direct') continue;
    const cells = cols.map(([k, d]) =>
      id === 'direct' && PROXY_ONLY.has(k) ? '–' : fmtSpread(metricSpread(run.results, id, k), d),
    );
    lines.push(`| ${LABELS[id]} | ${cells.join(' | ')} |`);
  }
  return lines;
}

export function failureLines(run: RunData): string[] {
  const out: string[] = [];
  for (const r of run.results) {
    if (r.ok) continue;
    const detail = { ...(r.setup?.errors ?? {}), ...(r.concurrency?.errors ?? {}) };
    out.push(
      `- round ${r.round}, ${LABELS[r.id]}: ${r.error ?? 'failed'}${Object.keys(detail).length ? ` ${JSON.stringify(detail)}` : ''}`,
    );
  }
  return out;
}

export function renderGenerated(run: RunData): string {
  const m = run.machine;
  const ours = run.endpoints.filter((id) => id === 'g5k-cli' || id === 'g5k-pool' || id === 'g5k-host');
  const autoOk = run.auto.filter((a): a is AutoResult => !('error' in a));
  const autoErr = run.auto.filter((a): a is { error: string } => 'error' in a);
  const p = run.params;
  const out: string[] = [
    `Latest run: ${run.startedAt}, ${run.rounds} round${run.rounds > 1 ? 's' : ''}${run.quick ? ' (--quick)' : ''}, ${Math.round(run.seconds)} s, \`${run.command}\`.`,
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
    'All against the same sshd on 127.0.0.1 with the same ed25519 key, in turn within each round (the order rotates),',
    'one at a time. `PORT` is a free port, `GWPORT` the sshd, `KEY` and `KNOWN_HOSTS` its test files.',
    '',
    '| endpoint | command | negotiated (cipher, key exchange) |',
    '|---|---|---|',
    ...run.endpoints.map(
      (id) => `| ${LABELS[id]} | \`${commandLine(id)}\` | ${id === 'direct' ? '–' : cipherText(run.ciphers[id])} |`,
    ),
    ...Object.entries(run.skipped).map(([id, why]) => `| ${LABELS[id as EndpointId]} | not measured: ${why} | |`),
    '',
    `Phases per endpoint and round, after a warm-up of 20 connections and 16 MiB: one ${p.bulkMiB} MiB download`,
    `(bulk), ${p.setupCount} sequential connections each doing CONNECT + \`GET /\` to the first byte (set-up),`,
    `${p.rttCount} ping-pongs of ${p.rttSize} bytes on one connection (RTT), ${p.conc} parallel connections each`,
    `downloading ${p.concMiB} MiB. Memory: RSS once connected (idle) and VmHWM at the end (peak); private = RssAnon,`,
    'RSS without the pages of the executable and libraries (shared with every process running them); sshd = its two',
    'session processes (VmHWM). CPU: utime+stime during the bulk download, per GiB, and during set-up, per connection.',
    '',
    '### Results (median [min–max] over rounds)',
    '',
    ...resultTable(run),
    '',
    ...resultTable(run, true),
    '',
    '### Ratios to OpenSSH with its default cipher (median [min–max] of per-round ratios)',
    '',
    'Bulk: higher is better; the others: lower is better.',
    '',
    ...medianRatioTable(run),
    '',
  ];
  if (run.coldStartMs.length || run.auto.length) {
    const cold = spread(run.coldStartMs);
    out.push('### Native host', '');
    const floor = spread(run.nodeFloorMs);
    if (cold)
      out.push(
        `- Cold start, spawn → \`hello\` answered: ${fmtSpread(cold, 0, ' ms')} (${cold.n} start${cold.n > 1 ? 's' : ''}); a Node process that` +
          ` only answers \`hello\`: ${fmtSpread(floor, 0, ' ms')}.`,
      );
    if (autoOk.length) {
      const fb = spread(autoOk.map((a) => a.firstByteMs));
      const hs = spread(autoOk.map((a) => a.handshakeMs));
      const ov = spread(autoOk.map((a) => a.overheadMs));
      const stages = autoOk[autoOk.length - 1]!.stages.map((s) => `${s.stage} ${s.ms.toFixed(0)} ms`).join(', ');
      out.push(
        `- Auto mode, first CONNECT → first byte of the page, SSH connected on demand: ${fmtSpread(fb, 0, ' ms')};`,
        `  the SSH handshake the host reports for it: ${fmtSpread(hs, 0, ' ms')} (last: ${stages});`,
        `  what the on-demand path adds: ${fmtSpread(ov, 0, ' ms')}.`,
      );
      const sshStart = metricSpread(run.results, REFERENCE, 'start');
      if (sshStart)
        out.push(
          `- For comparison, \`ssh -N -D\` from spawn to an authenticated, listening forward: ${fmtSpread(sshStart, 0, ' ms')}.`,
        );
    }
    for (const e of autoErr) out.push(`- Auto mode failed: ${e.error.split('\n')[0]}`);
    out.push('');
  }
  for (const id of ours) {
    out.push(`### Targets: ${LABELS[id]}`, '', '| target | goal | measured | met |', '|---|---|---|---|');
    for (const c of checkTargets(run, id)) out.push(`| ${c.what} | ${c.goal} | ${c.value} | ${mark(c.met)} |`);
    out.push('');
  }
  out.push('### Per-round ratios to OpenSSH', '', ...ratioTable(run), '');
  const fails = failureLines(run);
  if (fails.length) out.push('### Failures', '', ...fails, '');
  return out.join('\n');
}

export const BEGIN = '<!-- BEGIN GENERATED BY npm run bench: edits here are overwritten -->';
export const END = '<!-- END GENERATED -->';

/** Replaces the generated part of the document, keeping the hand-written rest. */
export function spliceDocument(existing: string | null, generated: string, skeleton: string): string {
  const block = `${BEGIN}\n\n${generated.trim()}\n\n${END}`;
  const doc = existing ?? skeleton;
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) return `${doc.trimEnd()}\n\n## Latest run\n\n${block}\n`;
  return doc.slice(0, a) + block + doc.slice(b + END.length);
}
