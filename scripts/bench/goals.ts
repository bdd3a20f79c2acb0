// The project's targets, checked for one of its endpoints: where users are (through the 20 ms
// stand-in, as medians of per-round ratios to `ssh -N -D`), loopback no worse than the figures
// published before the stand-in existed, memory, and start-up. Pure.

import { REFERENCE, type EndpointId } from './endpoints.js';
import {
  coldRatios,
  coldSpread,
  fmtSpread,
  medianRatios,
  metricSpread,
  pathLabel,
  RATIO_METRICS,
  METRICS,
  type PathRun,
  type RunData,
} from './report.js';
import { spread, type Spread } from './stats.js';

interface TargetCheck {
  what: string;
  goal: string;
  value: string;
  met: boolean | null;
}

/** The round trip the targets are set for: the typical distance of the access machine. */
const TARGET_RTT_MS = 20;

/**
 * Loopback median ratios to OpenSSH published in docs/BENCHMARKS.md before the stand-in (run of
 * 2026-12-02, 5 rounds): "no worse than before" allows 10 % of round-to-round noise on top.
 */
const LOOPBACK_BEFORE: Partial<Record<EndpointId, Record<'bulk' | 'setupP50' | 'rttP50' | 'conc', number>>> = {
  'g5k-cli': { bulk: 0.9, setupP50: 2.11, rttP50: 1.12, conc: 0.99 },
  'g5k-pool': { bulk: 0.86, setupP50: 2.23, rttP50: 1.07, conc: 0.39 },
  'g5k-host': { bulk: 0.87, setupP50: 1.88, rttP50: 1.06, conc: 1.07 },
};
const NOISE = 0.1;

const le = (s: Spread | null | undefined, max: number) => (s ? s.median <= max : null);
const ge = (s: Spread | null | undefined, min: number) => (s ? s.median >= min : null);

function wanChecks(p: PathRun, id: EndpointId): TargetCheck[] {
  const at = `, ${pathLabel(p)}`;
  const m = medianRatios(p.results, id);
  const rs = p.results.filter((r) => r.id === id);
  const failures = rs.reduce((a, r) => a + (r.concurrency?.failures ?? (r.ok ? 0 : 1)), 0);
  const checks: TargetCheck[] = [
    { what: `one download vs OpenSSH${at}`, goal: '≥ 2.00×', value: fmtSpread(m.bulk, 2, '×'), met: ge(m.bulk, 2.0) },
    {
      what: `set-up latency p50 vs OpenSSH${at}`,
      goal: '≤ 1.05×',
      value: fmtSpread(m.setupP50, 2, '×'),
      met: le(m.setupP50, 1.05),
    },
    {
      what: `${p.params.conc}×${p.params.concMiB} MiB in parallel: time vs OpenSSH, failures${at}`,
      goal: '≤ 1.00×, 0 failures',
      value: `${fmtSpread(m.conc, 2, '×')}, ${failures} failures`,
      // a round with failures has no ratio: the failures alone decide then
      met: failures > 0 ? false : m.conc ? m.conc.median <= 1.0 : null,
    },
  ];
  if (id === 'g5k-cli') {
    const r = spread(coldRatios(p, id));
    checks.push({
      what: `cold start, spawn → first byte, vs \`ssh -N -D\`${at}`,
      goal: '≤ 1.00×',
      value: `${fmtSpread(r, 2, '×')} (${fmtSpread(coldSpread(p, id), 0, ' ms')} against ${fmtSpread(coldSpread(p, REFERENCE), 0, ' ms')})`,
      met: le(r, 1.0),
    });
  }
  if (id === 'g5k-host') {
    const first = spread(p.auto.map((a) => a.firstByteMs));
    const ssh = coldSpread(p, REFERENCE);
    const node = spread(p.nodeStartMs);
    const goal = ssh && node ? ssh.median - node.median : null;
    checks.push({
      what: `Auto mode, first CONNECT → first byte${at}`,
      goal: `≤ OpenSSH cold start − Node start-up${goal === null ? '' : ` = ${goal.toFixed(0)} ms`}`,
      value: fmtSpread(first, 0, ' ms'),
      met: first && goal !== null ? first.median <= goal : null,
    });
  }
  return checks;
}

function loopbackChecks(p: PathRun, id: EndpointId): TargetCheck[] {
  const before = LOOPBACK_BEFORE[id];
  const m = medianRatios(p.results, id);
  const checks: TargetCheck[] = [];
  if (before)
    for (const k of RATIO_METRICS) {
      const was = before[k as keyof typeof before];
      if (was === undefined) continue;
      const higher = k === 'bulk';
      const bound = higher ? was * (1 - NOISE) : was * (1 + NOISE);
      checks.push({
        what: `loopback ${METRICS[k].name.replace(/ (MiB\/s|ms|s)$/, '')} vs OpenSSH, no worse than before (${was.toFixed(2)}×)`,
        goal: `${higher ? '≥' : '≤'} ${bound.toFixed(2)}×`,
        value: fmtSpread(m[k], 2, '×'),
        met: higher ? ge(m[k], bound) : le(m[k], bound),
      });
    }
  const idle = metricSpread(p.results, id, 'rssIdle');
  const peak = metricSpread(p.results, id, 'rssPeak');
  checks.push(
    {
      what: 'loopback proxy RSS idle (private part)',
      goal: '≤ 45 MiB',
      value: `${fmtSpread(idle, 1, ' MiB')} (${fmtSpread(metricSpread(p.results, id, 'anonIdle'), 1, ' MiB')})`,
      met: le(idle, 45),
    },
    {
      what: 'loopback proxy RSS peak (private part)',
      goal: '≤ 90 MiB',
      value: `${fmtSpread(peak, 1, ' MiB')} (${fmtSpread(metricSpread(p.results, id, 'anonPeak'), 1, ' MiB')})`,
      met: le(peak, 90),
    },
  );
  if (id === 'g5k-host') {
    const cold = spread(p.coldStartMs);
    checks.push({
      what: 'host cold start (spawn → hello answered)',
      goal: '≤ 250 ms',
      value: fmtSpread(cold, 0, ' ms'),
      met: le(cold, 250),
    });
  }
  return checks;
}

export function checkTargets(run: RunData, id: EndpointId): TargetCheck[] {
  const wan = run.paths.find((p) => p.rttMs === TARGET_RTT_MS) ?? run.paths.find((p) => p.rttMs > 0);
  const loop = run.paths.find((p) => p.rttMs === 0);
  const checks: TargetCheck[] = [];
  if (wan?.results.some((r) => r.id === id)) checks.push(...wanChecks(wan, id));
  if (loop?.results.some((r) => r.id === id)) checks.push(...loopbackChecks(loop, id));
  if (id === 'g5k-host') {
    // the worst of every path: a stalled reader must never make the host grow
    const stalled = run.paths.flatMap((p) => p.stalled);
    const worst = stalled.length ? Math.max(...stalled.map((s) => s.rssMiB)) : null;
    checks.push({
      what: 'host RSS with a stalled reader (worst of all rounds and paths)',
      goal: '< 150 MiB',
      value: worst === null ? '–' : `${worst.toFixed(1)} MiB`,
      met: worst === null ? null : worst < 150,
    });
  }
  return checks;
}
