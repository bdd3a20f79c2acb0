// `npm run bench` in miniature: tiny counts against a real sshd, every endpoint, on loopback and
// through the 20 ms WAN stand-in. Checks that the harness yields well-formed figures for each
// endpoint on each path with no failures, and that it leaves no
// process behind, also when interrupted. It never judges the figures themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canRunSshd } from '../../testbed/sshd.js';
import type { RunData } from '../../scripts/bench/report.js';
import { ENDPOINT_IDS } from '../../scripts/bench/endpoints.js';

const skip = canRunSshd();
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/bench/main.js');

function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the benchmark did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function descendants(root: number): number[] {
  const ppid = (p: number) => {
    try {
      const s = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return -1;
    }
  };
  const all = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
  const out: number[] = [];
  let frontier = [root];
  while (frontier.length) {
    const next = all.filter((p) => frontier.includes(ppid(p)));
    out.push(...next);
    frontier = next;
  }
  return out;
}

const running = (pid: number) => {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

const positive = (v: unknown, what: string) =>
  assert.ok(typeof v === 'number' && Number.isFinite(v) && v > 0, `${what} = ${v}`);

test('a smoke run on loopback and through a 20 ms stand-in measures every endpoint on both, with no failures, and stops all it started', {
  skip: skip ?? false,
  timeout: 300_000,
}, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-bench-smoke-'));
  try {
    const child = spawn(process.execPath, [MAIN, '--smoke', '--rtt', '0,20', '--out', out, '--no-docs'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    const code = await exitOf(child, 290_000);
    assert.equal(code, 0, `the smoke run failed:\n${log}`);

    const run = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8')) as RunData;
    assert.deepEqual(run.skipped, {}, 'no endpoint may be skipped');
    assert.deepEqual([...run.endpoints].sort(), [...ENDPOINT_IDS].sort());
    assert.deepEqual(
      run.paths.map((p) => p.rttMs),
      [0, 20],
      'a table per round trip',
    );
    for (const p of run.paths) {
      const at = `at ${p.rttMs} ms`;
      assert.deepEqual(p.errors, [], `${at}: phases failed`);
      for (const id of ENDPOINT_IDS) {
        const r = p.results.find((x) => x.id === id);
        assert.ok(r, `no result for ${id} ${at}`);
        assert.equal(r.ok, true, `${id} ${at}: ${r.error}`);
        assert.equal(r.bulk?.bytes, 4 * 1024 * 1024, `${id}: bulk size`);
        positive(r.bulk?.MiBps, `${id} bulk MiB/s`);
        assert.equal(r.setup?.attempted, 10);
        assert.equal(r.setup?.failures, 0, `${id}: ${JSON.stringify(r.setup?.errors)}`);
        assert.equal(r.setup?.ttfbMs.n, 10);
        positive(r.setup?.ttfbMs.p50, `${id} set-up p50`);
        assert.ok(r.setup!.ttfbMs.p95 >= r.setup!.ttfbMs.p50);
        // the stand-in is on every endpoint's path: no new connection can answer sooner than its round trip
        if (p.rttMs > 0) assert.ok(r.setup!.ttfbMs.min >= p.rttMs, `${id} ${at}: set-up ${r.setup!.ttfbMs.min} ms`);
        assert.equal(r.rtt?.n, 20);
        positive(r.rtt?.p50, `${id} RTT p50`);
        assert.equal(r.concurrency?.connections, 10);
        assert.equal(r.concurrency?.failures, 0, `${id}: ${JSON.stringify(r.concurrency?.errors)}`);
        positive(r.concurrency?.seconds, `${id} parallel time`);
        if (id === 'direct') continue;
        positive(r.pid, `${id} pid`);
        positive(r.mem?.proxyIdleMiB, `${id} idle RSS`);
        assert.ok(r.mem!.proxyPeakMiB! >= r.mem!.proxyIdleMiB!, `${id}: peak below idle`);
        positive(r.mem?.sshdPeakMiB, `${id} sshd RSS`);
        assert.ok(r.sshdPids.length >= 1, `${id}: no sshd session seen`);
        assert.ok(typeof r.bulk?.proxyCpuSPerGiB === 'number' && r.bulk.proxyCpuSPerGiB >= 0);
        positive(r.startMs, `${id} start`);
        const cipher = run.ciphers[id];
        assert.ok(cipher && typeof cipher === 'object', `${id}: negotiated cipher not seen: ${cipher}`);
        // every process the run started is gone
        for (const pid of [r.pid!, ...r.sshdPids])
          assert.equal(running(pid), false, `${id}: process ${pid} still runs`);
      }

      assert.equal(p.coldStartMs.length, 1);
      positive(p.coldStartMs[0], 'host cold start');
      assert.equal(p.nodeStartMs.length, 1);
      positive(p.nodeStartMs[0], 'node -e 0');
      for (const id of ['openssh', 'g5k-cli'] as const) {
        const c = p.commandCold.filter((x) => x.id === id);
        assert.equal(c.length, 1, `${id} ${at}: one cold start`);
        positive(c[0]!.ms, `${id} cold start`);
        assert.ok(c[0]!.listenMs <= c[0]!.ms, `${id}: listening after the first byte`);
        // the TCP handshake, the SSH handshake and authentication, the channel and the page
        if (p.rttMs > 0) assert.ok(c[0]!.roundTrips! >= 4, `${id} ${at}: ${c[0]!.roundTrips} round trips`);
        else assert.equal(c[0]!.roundTrips, null);
      }
      assert.equal(p.auto.length, 1);
      const auto = p.auto[0]!;
      positive(auto.firstByteMs, 'auto first byte');
      positive(auto.handshakeMs, 'auto handshake');
      if (p.rttMs > 0) assert.ok(auto.roundTrips! >= 4, `auto ${at}: ${auto.roundTrips} round trips`);
      assert.equal(p.stalled.length, 1);
      positive(p.stalled[0]!.rssMiB, 'stalled reader RSS');
    }
    const ciphers = run.ciphers as Record<string, { cipher: string }>;
    assert.equal(ciphers['openssh-aes']?.cipher, 'aes128-gcm@openssh.com');
    assert.notEqual(ciphers.openssh?.cipher, 'aes128-gcm@openssh.com', 'the reference keeps its default cipher');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('Ctrl-C in the middle of a run stops every process it started', {
  skip: skip ?? false,
  timeout: 120_000,
}, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-bench-int-'));
  const child = spawn(
    process.execPath,
    [MAIN, '--smoke', '--rounds', '5', '--no-ciphers', '--out', out, '--endpoints', 'openssh,direct'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  try {
    let log = '';
    // wait until a round is under way: sshd, the targets and an endpoint run
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the run did not start:\n${log}`)), 60_000);
      child.stderr!.on('data', (d) => {
        log += d;
        if (/round 2\//.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const started = descendants(child.pid!);
    assert.ok(started.length >= 2, `expected the targets and sshd among ${started.join(' ')}`);
    child.kill('SIGINT');
    const code = await exitOf(child, 30_000);
    assert.equal(code, 130);
    const left = started.filter(running);
    assert.deepEqual(left, [], `still running after Ctrl-C: ${left.join(' ')}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(out, { recursive: true, force: true });
  }
});
