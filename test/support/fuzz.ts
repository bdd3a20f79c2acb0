// Shared settings for the property-based tests (fast-check): one seed for every property, a bounded
// number of runs and a time bound per property, so the suite stays fast and a failure reproduces.
// FUZZ_SEED=<n> replays a run (fast-check prints the seed and the counterexample path on failure);
// FUZZ_RUNS=<n> explores more (e.g. FUZZ_RUNS=20000 for a long soak); FUZZ_TIME_MS bounds each property.

import fc from 'fast-check';

function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return n;
}

const FUZZ_SEED = envInt('FUZZ_SEED', 20261206);
const FUZZ_RUNS = Math.max(1, envInt('FUZZ_RUNS', 300));
/** Time bound per property: past it, fast-check stops generating and the runs done so far count. */
const FUZZ_TIME_MS = Math.max(100, envInt('FUZZ_TIME_MS', FUZZ_RUNS > 300 ? 600_000 : 4000));

interface CheckOptions {
  /** Share of FUZZ_RUNS for a property whose single run is costly (at least one run). */
  scale?: number;
}

/** fc.assert with the shared seed, run count and time bound. */
export function check<Ts>(property: fc.IProperty<Ts>, opts: CheckOptions = {}): void {
  const params: fc.Parameters<Ts> = {
    seed: FUZZ_SEED,
    numRuns: Math.max(1, Math.round(FUZZ_RUNS * (opts.scale ?? 1))),
    plugins: [fc.interruptAfterTimeLimit(FUZZ_TIME_MS)],
    // the assertion's own message in the report, not only in its `cause`
    includeErrorInReport: true,
  };
  fc.assert(property, params);
}

/** Cut points for a buffer of `length` bytes: the chunks a stream could deliver it in. */
export function splitPoints(length: number): fc.Arbitrary<number[]> {
  return fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: Math.min(12, length) })
    .map((cuts) => cuts.filter((c) => c < length).sort((a, b) => a - b));
}

/** `buf` cut at `cuts` (sorted), as the chunks a socket would deliver. */
export function chunked(buf: Uint8Array, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...cuts, buf.length]) {
    out.push(Buffer.from(buf.subarray(from, c)));
    from = c;
  }
  return out;
}

/** A buffer and cut points in it. */
export function splitBytes(bytes: fc.Arbitrary<Uint8Array>): fc.Arbitrary<{ bytes: Uint8Array; cuts: number[] }> {
  return bytes.chain((b) => splitPoints(b.length).map((cuts) => ({ bytes: b, cuts })));
}

export { fc };
