// The benchmark's command line. Pure.

import path from 'node:path';
import { ENDPOINT_IDS, type EndpointId } from './endpoints.js';
import type { Params } from './measure.js';

export const USAGE = `usage: npm run bench -- [options]
  --quick              about a minute: 2 rounds, smaller counts
  --rounds N           rounds (default 5; each measures every endpoint once, in rotating order)
  --endpoints LIST     comma list of ${ENDPOINT_IDS.join(', ')} (default: all)
  --bulk-mib N         bulk download size (default 512)
  --setup-count N      sequential connections for set-up latency (default 500)
  --rtt-count N        ping-pongs for round-trip latency (default 2000)
  --conc N             parallel connections (default 200)
  --conc-mib N         MiB per parallel connection (default 1)
  --cold-starts N      native host cold starts per round (default 5)
  --no-ciphers         skip the probe of negotiated ciphers
  --out DIR            raw results (default artifacts/bench)
  --docs FILE          document to update (default docs/BENCHMARKS.md); --no-docs to leave it alone
  --profile            profile the project's endpoints instead (CPU profiles, heap, modules) into DIR/profile
  --node-arg FLAG      pass FLAG to node for the project's endpoints (repeatable), to try V8 or Node options
  --smoke              tiny counts, to check the harness itself
  --max-minutes N      stop everything after N minutes (default 15)`;

export interface Options {
  help: boolean;
  quick: boolean;
  rounds: number;
  endpoints: EndpointId[];
  params: Params;
  coldStarts: number;
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
const SMOKE: Params = {
  bulkMiB: 4,
  setupCount: 10,
  rttCount: 20,
  rttSize: 64,
  conc: 10,
  concMiB: 0.25,
  phaseTimeoutMs: 30_000,
};

function int(v: string | undefined, name: string, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min || n > max)
    throw new Error(`${name} needs a number from ${min} to ${max}`);
  return n;
}

export function parseOptions(argv: string[], root: string): Options {
  const has = (f: string) => argv.includes(f);
  const quick = has('--quick');
  const smoke = has('--smoke');
  const o: Options = {
    help: has('--help') || has('-h'),
    quick,
    rounds: smoke ? 1 : quick ? 2 : 5,
    endpoints: [...ENDPOINT_IDS],
    params: { ...(smoke ? SMOKE : quick ? QUICK : FULL) },
    coldStarts: smoke ? 1 : quick ? 3 : 5,
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
      case '--rounds':
        o.rounds = int(val(), a, 1, 50);
        break;
      case '--endpoints': {
        const list = (val() ?? '').split(',').filter(Boolean);
        const bad = list.filter((e) => !(ENDPOINT_IDS as readonly string[]).includes(e));
        if (bad.length || !list.length) throw new Error(`--endpoints takes a comma list of ${ENDPOINT_IDS.join(', ')}`);
        o.endpoints = ENDPOINT_IDS.filter((e) => list.includes(e));
        break;
      }
      case '--bulk-mib':
        o.params.bulkMiB = int(val(), a, 1, 8192);
        break;
      case '--setup-count':
        o.params.setupCount = int(val(), a, 1, 100_000);
        break;
      case '--rtt-count':
        o.params.rttCount = int(val(), a, 1, 1_000_000);
        break;
      case '--conc':
        o.params.conc = int(val(), a, 1, 2000);
        break;
      case '--conc-mib':
        o.params.concMiB = int(val(), a, 0.001, 1024);
        break;
      case '--cold-starts':
        o.coldStarts = int(val(), a, 0, 100);
        break;
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
          throw new Error('--node-arg takes a node flag, e.g. --node-arg --max-semi-space-size=2');
        o.nodeArgs.push(flag);
        break;
      }
      case '--max-minutes':
        o.maxMinutes = int(val(), a, 1, 600);
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}
