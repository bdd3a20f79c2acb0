// The benchmark's command line: which paths a run measures, with which rounds and counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions as parseOrRefuse, type Options } from '../../../../scripts/bench/options.js';

const ROOT = '/project';

/** The options of a command line the parser must accept. */
function parseOptions(argv: string[], root: string): Options {
  const r = parseOrRefuse(argv, root);
  if (!r.ok) assert.fail(`refused ${JSON.stringify(argv)}: ${r.error}`);
  return r.value;
}

/** The refusal of a command line the parser must refuse. */
function refusal(argv: string[]): string {
  const r = parseOrRefuse(argv, ROOT);
  if (r.ok) assert.fail(`accepted ${JSON.stringify(argv)}`);
  return r.error;
}

test('a default run measures loopback and 20 ms, each with its own counts', () => {
  const o = parseOptions([], ROOT);
  assert.deepEqual(
    o.paths.map((p) => [p.rttMs, p.rateMbit, p.rounds]),
    [
      [0, null, 3],
      [20, null, 3],
    ],
  );
  assert.equal(o.paths[0]!.params.bulkMiB, 512);
  assert.equal(o.paths[0]!.params.conc, 200);
  assert.equal(o.paths[1]!.params.bulkMiB, 192);
  assert.equal(o.paths[1]!.params.conc, 60);
  assert.equal(o.paths[1]!.params.concMiB, 1);
  assert.equal(o.docs, '/project/docs/BENCHMARKS.md');
});

test('--smoke stays on loopback unless --rtt asks for more; --quick is shorter on every path', () => {
  assert.deepEqual(
    parseOptions(['--smoke'], ROOT).paths.map((p) => p.rttMs),
    [0],
  );
  const both = parseOptions(['--smoke', '--rtt', '0,20'], ROOT);
  assert.deepEqual(
    both.paths.map((p) => [p.rttMs, p.rounds, p.params.bulkMiB]),
    [
      [0, 1, 4],
      [20, 1, 4],
    ],
  );
  assert.equal(both.docs, null);
  const quick = parseOptions(['--quick'], ROOT);
  assert.deepEqual(
    quick.paths.map((p) => p.rounds),
    [2, 1],
  );
  assert.ok(quick.paths[1]!.params.bulkMiB < 192);
});

test('--rate applies to the stand-in only; counts and rounds apply to every path, in any order', () => {
  const o = parseOptions(['--bulk-mib', '8', '--rtt', '0,30', '--rate', '100', '--rounds', '2'], ROOT);
  assert.deepEqual(
    o.paths.map((p) => [p.rttMs, p.rateMbit, p.rounds, p.params.bulkMiB]),
    [
      [0, null, 2, 8],
      [30, 100, 2, 8],
    ],
  );
  assert.deepEqual(
    parseOptions(['--rtt', '20,20'], ROOT).paths.map((p) => p.rttMs),
    [20],
    'each round trip once',
  );
});

test('a malformed --rtt or --rate is refused with what it takes', () => {
  for (const v of ['', 'x', '-5', '0,,20', '2000']) assert.match(refusal(['--rtt', v]), /--rtt takes/);
  assert.match(refusal(['--rtt']), /--rtt takes/);
  assert.match(refusal(['--rate', '0']), /--rate/);
});

test('a bad count, list or flag, or an unknown option, is refused with what it takes', () => {
  assert.match(refusal(['--rounds', '0']), /--rounds needs a number from 1 to 50/);
  assert.match(refusal(['--conc', 'many']), /--conc needs a number/);
  assert.match(refusal(['--cold-starts']), /--cold-starts needs a number/);
  assert.match(refusal(['--max-minutes', '601']), /--max-minutes needs a number from 1 to 600/);
  assert.match(refusal(['--endpoints', 'nope']), /--endpoints takes a comma list/);
  assert.match(refusal(['--node-arg', 'x']), /--node-arg takes a node flag/);
  assert.equal(refusal(['--quick', '--frobnicate']), 'unknown option --frobnicate');
});
