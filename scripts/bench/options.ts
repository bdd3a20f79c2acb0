// The benchmark's command line. Pure: a bad option is a refusal to print with the usage, not an exception.

import path from 'node:path';
import type { Parsed } from '../../shared/parsed.js';
import { ENDPOINT_IDS, type EndpointId } from './endpoints.js';
import type { Params } from './measure.js';

export const BENCH_USAGE = `usage: npm run bench -- [options]
  --rtt LIST           round trips in ms to measure at, a comma list; 0 = loopback, others through the
                       WAN stand-in in front of sshd (default 0,20; with --smoke 0)
  --rate MBIT          bottleneck of the stand-in, each direction (default: none)
  --quick              under 2 minutes: fewer rounds, smaller counts
  --rounds N           rounds per path (default 3; each measures every endpoint once, in rotating order)
  --endpoints LIST     comma list of ${ENDPOINT_IDS.join(', ')} (default: all)
  --bulk-mib N         bulk download size (default 512 on loopback, 192 through the stand-in)
  --setup-count N      sequential connections for set-up latency (default 500; 100)
  --rtt-count N        ping-pongs for round-trip latency (default 2000; 100)
  --conc N             parallel connections (default 200; 60)
  --conc-mib N         MiB per parallel connection (default 1)
  --cold-starts N      cold starts of each kind per round (default 5)
  --no-ciphers         skip the probe of negotiated ciphers
  --out DIR            raw results (default artifacts/bench)
  --docs FILE          document to update (default docs/BENCHMARKS.md); --no-docs to leave it alone
  --profile            profile the project's endpoints instead (CPU profiles, heap, modules) into DIR/profile
  --node-arg FLAG      pass FLAG to node for the project's endpoints (repeatable), to try V8 or Node options
  --smoke              tiny counts, to check the harness itself
  --max-minutes N      stop everything after N minutes (default 15)`;

/** One network path to measure on, with its own rounds and counts. */
export interface PathSpec {
  rttMs: number;
  rateMbit: number | null;
  rounds: number;
  params: Params;
}

export interface Options {
  help: boolean;
  quick: boolean;
  paths: PathSpec[];
  endpoints: EndpointId[];
  coldStarts: number;
  /** The stalled-reader phase: a download of this size whose reader stops after a few MiB. */
  stallMiB: number;
  ciphers: boolean;
  outDir: string;
  docs: string | null;
  profile: boolean;
  maxMinutes: number;
  /** Extra node flags for the Node endpoints. */
  nodeArgs: string[];
  /** The command as typed, for the report. */
  command: string;
}

// Loopback: the counts the figures before the WAN stand-in were taken with, so they stay comparable.
const FULL: Params = {
  bulkMiB: 512,
  setupCount: 500,
  rttCount: 2000,
  rttSize: 64,
  conc: 200,
  concMiB: 1,
  phaseTimeoutMs: 120_000,
};
const QUICK: Params = {
  bulkMiB: 128,
  setupCount: 150,
  rttCount: 500,
  rttSize: 64,
  conc: 200,
  concMiB: 1,
  phaseTimeoutMs: 60_000,
};
// Through the stand-in every connection costs round trips: fewer of everything, and 60 parallel
// downloads (a page and its resources) rather than 200.
const WAN_FULL: Params = {
  bulkMiB: 192,
  setupCount: 100,
  rttCount: 100,
  rttSize: 64,
  conc: 60,
  concMiB: 1,
  phaseTimeoutMs: 120_000,
};
const WAN_QUICK: Params = {
  bulkMiB: 64,
  setupCount: 30,
  rttCount: 30,
  rttSize: 64,
  conc: 60,
  concMiB: 1,
  phaseTimeoutMs: 60_000,
};
const SMOKE: Params = {
  bulkMiB: 4,
  setupCount: 10,
  rttCount: 20,
  rttSize: 64,
  conc: 10,
  concMiB: 0.25,
  phaseTimeoutMs: 30_000,
};

function int(v: string | undefined, name: string, min: number, max: number): Parsed<number> {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min || n > max)
    return { ok: false, error: `${name} needs a number from ${min} to ${max}` };
  return { ok: true, value: n };
}

/** The defaults of one path: `--smoke`, `--quick` or a full run. */
function defaults(rttMs: number, mode: 'smoke' | 'quick' | 'full'): Pick<PathSpec, 'rounds' | 'params'> {
  const wan = rttMs > 0;
  if (mode === 'smoke') return { rounds: 1, params: { ...SMOKE } };
  if (mode === 'quick') return wan ? { rounds: 1, params: { ...WAN_QUICK } } : { rounds: 2, params: { ...QUICK } };
  return { rounds: 3, params: { ...(wan ? WAN_FULL : FULL) } };
}

function rttList(v: string | undefined): Parsed<number[]> {
  const list = (v ?? '').split(',').map((x) => x.trim());
  const ms = list.map(Number);
  if (!list.length || list.some((x) => x === '') || ms.some((x) => !Number.isFinite(x) || x < 0 || x > 1000))
    return { ok: false, error: '--rtt takes a comma list of round trips in ms, 0 to 1000, e.g. 0,20' };
  return { ok: true, value: [...new Set(ms)] };
}

export function parseOptions(argv: string[], root: string): Parsed<Options> {
  const has = (f: string) => argv.includes(f);
  const quick = has('--quick');
  const smoke = has('--smoke');
  const mode = smoke ? 'smoke' : quick ? 'quick' : 'full';
  // the options that shape the paths are read first, the counts then apply to every path
  const valueOf = (f: string) => {
    const i = argv.indexOf(f);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const rtts: Parsed<number[]> = has('--rtt') ? rttList(valueOf('--rtt')) : { ok: true, value: smoke ? [0] : [0, 20] };
  if (!rtts.ok) return rtts;
  const rateParsed: Parsed<number | null> = has('--rate')
    ? int(valueOf('--rate'), '--rate', 0.001, 100_000)
    : { ok: true, value: null };
  if (!rateParsed.ok) return rateParsed;
  const rate = rateParsed.value;
  const o: Options = {
    help: has('--help') || has('-h'),
    quick,
    paths: rtts.value.map((rttMs) => ({ rttMs, rateMbit: rttMs > 0 ? rate : null, ...defaults(rttMs, mode) })),
    endpoints: [...ENDPOINT_IDS],
    coldStarts: smoke ? 1 : quick ? 3 : 5,
    stallMiB: smoke ? 64 : 256,
    ciphers: true,
    outDir: path.join(root, 'artifacts/bench'),
    docs: smoke ? null : path.join(root, 'docs/BENCHMARKS.md'),
    profile: has('--profile'),
    maxMinutes: 15,
    nodeArgs: [],
    command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => argv[++i];
    switch (a) {
      case '--quick':
      case '--smoke':
      case '--profile':
      case '--help':
      case '-h':
        break;
      case '--rtt':
      case '--rate':
        val();
        break;
      case '--rounds': {
        const n = int(val(), a, 1, 50);
        if (!n.ok) return n;
        for (const p of o.paths) p.rounds = n.value;
        break;
      }
      case '--endpoints': {
        const list = (val() ?? '').split(',').filter(Boolean);
        const bad = list.filter((e) => !(ENDPOINT_IDS as readonly string[]).includes(e));
        if (bad.length || !list.length)
          return { ok: false, error: `--endpoints takes a comma list of ${ENDPOINT_IDS.join(', ')}` };
        o.endpoints = ENDPOINT_IDS.filter((e) => list.includes(e));
        break;
      }
      case '--bulk-mib':
        {
          const n = int(val(), a, 1, 8192);
          if (!n.ok) return n;
          for (const p of o.paths) p.params.bulkMiB = n.value;
        }
        break;
      case '--setup-count':
        {
          const n = int(val(), a, 1, 100_000);
          if (!n.ok) return n;
          for (const p of o.paths) p.params.setupCount = n.value;
        }
        break;
      case '--rtt-count':
        {
          const n = int(val(), a, 1, 1_000_000);
          if (!n.ok) return n;
          for (const p of o.paths) p.params.rttCount = n.value;
        }
        break;
      case '--conc':
        {
          const n = int(val(), a, 1, 2000);
          if (!n.ok) return n;
          for (const p of o.paths) p.params.conc = n.value;
        }
        break;
      case '--conc-mib':
        {
          const n = int(val(), a, 0.001, 1024);
          if (!n.ok) return n;
          for (const p of o.paths) p.params.concMiB = n.value;
        }
        break;
      case '--cold-starts': {
        const n = int(val(), a, 0, 100);
        if (!n.ok) return n;
        o.coldStarts = n.value;
        break;
      }
      case '--no-ciphers':
        o.ciphers = false;
        break;
      case '--out':
        o.outDir = path.resolve(val() ?? '');
        break;
      case '--docs':
        o.docs = path.resolve(val() ?? '');
        break;
      case '--no-docs':
        o.docs = null;
        break;
      case '--node-arg': {
        const flag = val();
        if (!flag?.startsWith('-'))
          return { ok: false, error: '--node-arg takes a node flag, e.g. --node-arg --max-semi-space-size=2' };
        o.nodeArgs.push(flag);
        break;
      }
      case '--max-minutes': {
        const n = int(val(), a, 1, 600);
        if (!n.ok) return n;
        o.maxMinutes = n.value;
        break;
      }
      default:
        return { ok: false, error: `unknown option ${a}` };
    }
  }
  return { ok: true, value: o };
}
