// After sleep or a network change: a silent cut (nothing delivered, nothing closed) is caught by
// keepalives, the backoff grows while the network is away, and once it is back the tunnel does not
// wait out its backoff: a CONNECT, the browser's network-changed or a wake from sleep tries at once,
// at most once per gap. A real sshd behind a relay that cuts and restores (testbed/cut-relay.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { canRunSshd, INTERNAL_NAMES, type Gateway, gatewayConfig } from '../../testbed/sshd.js';
import type { InternalWeb } from '../../testbed/internal-web.js';
import { startCutRelay, type CutRelay } from '../../testbed/cut-relay.js';
import { startHost } from '../../testbed/native-client.js';
import { socksConnect } from '../../testbed/socks-client.js';
import { isolatedTunnel, socksGet, stateIs, type tempHome, useGateway, waitForStatus } from '../support/tunnel-kit.js';
import type { AttemptEvent, Tunnel } from '../../native-host/tunnel/tunnel.js';
import { NativeHost } from '../../native-host/messaging/host.js';
import { encodeFrame, FrameDecoder } from '../../native-host/messaging/framing.js';
import { silentLogger } from '../../native-host/log.js';
import { PROTOCOL_VERSION, type TunnelConfig, type TunnelStatus } from '../../shared/protocol.js';

const skip = canRunSshd();
let gw: Gateway;
let web: InternalWeb;
let home: ReturnType<typeof tempHome>;

useGateway((f) => ({ gw, web, home } = f));

/** 0.5 s, 2 s, 8 s, 32 s...: two failed tries while the network is away make the next wait 8 s. */
const growing = { baseMs: 500, capMs: 60_000, factor: 4, jitter: 0 };
const GAP_MS = 1000;

/** A relay in front of the gateway, and settings that reach the gateway through it. */
async function throughRelay(over: Partial<TunnelConfig> = {}): Promise<{ relay: CutRelay; config: TunnelConfig }> {
  const relay = await startCutRelay({ host: '127.0.0.1', port: gw.port });
  // the gateway's key, known under the relay's address
  const kh = path.join(home.dir, `known_hosts.${relay.port}`);
  fs.writeFileSync(kh, fs.readFileSync(gw.knownHosts, 'utf8').replace(`]:${gw.port} `, `]:${relay.port} `));
  const config = await gatewayConfig(gw, { port: relay.port, knownHostsFile: kh, connectTimeoutSec: 5, ...over });
  return { relay, config };
}

/** Every attempt the tunnel starts, with the time it started. */
function attempts(t: Tunnel): (AttemptEvent & { at: number })[] {
  const seen: (AttemptEvent & { at: number })[] = [];
  t.on('attempt', (e: AttemptEvent) => seen.push({ ...e, at: Date.now() }));
  return seen;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('after a silent cut and the network back, a CONNECT is served at once, not after the grown backoff', {
  skip: skip ?? false,
}, async () => {
  const { relay, config } = await throughRelay({ keepaliveIntervalSec: 1, keepaliveCountMax: 2 });
  const t = isolatedTunnel(config, home.dir, { backoff: growing, nextTry: { earlyGapMs: GAP_MS } });
  const seen = attempts(t);
  try {
    const s = await t.setMode('on');
    await waitForStatus(t, stateIs('connected'), 'connected');
    relay.cut();
    const lost = await waitForStatus(t, stateIs('reconnecting'), 'reconnecting after missed keepalives');
    assert.equal(lost.lastError?.code, 'CONNECTION_LOST');
    // two tries fail while the network is away: the third waits 8 s
    const long = await waitForStatus(t, (x) => x.state === 'reconnecting' && x.attempt === 3, 'a long backoff');
    assert.ok(long.nextRetryAt! - Date.now() > 5000, `next try in ${long.nextRetryAt! - Date.now()} ms`);
    assert.deepEqual(
      seen.map((a) => a.reason),
      ['first', 'timer', 'timer'],
    );
    assert.ok(relay.refused() >= 2);

    relay.restore();
    const page = await socksGet(s.socks!.port, INTERNAL_NAMES[0]!, web.port);
    assert.equal(page.status, 200);
    const now = t.status();
    assert.equal(now.state, 'connected');
    // served by an early try, started for the CONNECT, while the timer's try was still to come
    const early = seen.slice(3);
    assert.equal(early.length, 1, JSON.stringify(seen));
    assert.equal(early[0]!.reason, 'connect');
    assert.equal(early[0]!.retries, 3, 'while the third retry was scheduled');
    assert.ok(now.connectedAt! < long.nextRetryAt!, 'connected before the scheduled retry');
  } finally {
    await t.close();
    await relay.close();
  }
});

test('a burst of 50 CONNECTs while the network is away starts one early try, and another only after the gap', {
  skip: skip ?? false,
}, async () => {
  const { relay, config } = await throughRelay({ connectTimeoutSec: 10 });
  const t = isolatedTunnel(config, home.dir, {
    backoff: { baseMs: 600_000, capMs: 600_000, factor: 2, jitter: 0 },
    nextTry: { earlyGapMs: GAP_MS },
  });
  const seen = attempts(t);
  try {
    relay.cut();
    const s = await t.setMode('on');
    await waitForStatus(t, (x) => x.state === 'reconnecting' && x.attempt === 1, 'first try refused');
    await sleep(GAP_MS + 100 - (Date.now() - seen[0]!.at)); // the gap after that try is over
    const from = seen.length;
    const burst = Array.from({ length: 50 }, (_, i) =>
      socksConnect(s.socks!.port, INTERNAL_NAMES[i % INTERNAL_NAMES.length]!, web.port, 20_000),
    );
    await sleep(GAP_MS / 2);
    const first = seen.slice(from);
    assert.equal(first.length, 1, `one try at once: ${JSON.stringify(first)}`);
    assert.equal(first[0]!.reason, 'connect');
    assert.ok(first[0]!.at - seen[from - 1]!.at >= GAP_MS);
    await sleep(GAP_MS + 300);
    const all = seen.slice(from);
    assert.ok(all.length <= 2, `at most one more, at the gap's end: ${JSON.stringify(all)}`);
    for (let i = 1; i < all.length; i++) assert.ok(all[i]!.at - all[i - 1]!.at >= GAP_MS - 20);
    // the tries failed (the network is still away): the status says so, with a long wait again
    const st = t.status();
    assert.equal(st.state, 'reconnecting');
    assert.ok(st.nextRetryAt! - Date.now() > 60_000);
    // the network back: the next CONNECT tries at once, and the burst still waiting is served too
    relay.restore();
    assert.equal((await socksGet(s.socks!.port, INTERNAL_NAMES[0]!, web.port)).status, 200);
    const results = await Promise.all(burst);
    for (const r of results) r.socket.destroy();
    assert.deepEqual(
      results.map((r) => r.reply),
      results.map(() => 0),
    );
    assert.equal(t.status().state, 'connected');
  } finally {
    await t.close();
    await relay.close();
  }
});

test('a wake from sleep (the wall clock jumps ahead of the timers) tries at once', {
  skip: skip ?? false,
}, async () => {
  const { relay, config } = await throughRelay();
  let slept = 0;
  const t = isolatedTunnel(config, home.dir, {
    backoff: { baseMs: 600_000, capMs: 600_000, factor: 2, jitter: 0 },
    nextTry: { wakeTickMs: 100, wakeToleranceMs: 2000, now: () => Date.now() + slept },
  });
  const seen = attempts(t);
  try {
    relay.cut();
    await t.setMode('on');
    await waitForStatus(t, (x) => x.state === 'reconnecting' && x.attempt === 1, 'first try refused');
    await sleep(300);
    assert.equal(seen.length, 1, 'ticks on time are no sleep');
    relay.restore();
    slept = 3_600_000; // an hour's sleep: timers did not count it
    await waitForStatus(t, stateIs('connected'), 'connected after the wake', 5000);
    assert.deepEqual(
      seen.map((a) => a.reason),
      ['first', 'wake'],
    );
  } finally {
    await t.close();
    await relay.close();
  }
});

/** A native host in this process (so that the tunnel can be given a long backoff), spoken to in frames. */
function hostInProcess() {
  const input = new PassThrough();
  const output = new PassThrough();
  const decoder = new FrameDecoder();
  const got: { type: string; id?: number; ok?: boolean; result?: unknown; status?: TunnelStatus }[] = [];
  output.on('data', (b: Buffer) => {
    for (const f of decoder.push(b)) if (f.kind === 'message') got.push(f.value as (typeof got)[number]);
  });
  const host = new NativeHost({
    input,
    output,
    log: silentLogger,
    version: 'test',
    statusIntervalMs: 20,
    tunnelOptions: {
      home: home.dir,
      localUser: 'g5k-nobody',
      env: {},
      systemSshConfigFile: null,
      backoff: { baseMs: 600_000, capMs: 600_000, factor: 2, jitter: 0 },
      nextTry: { earlyGapMs: GAP_MS },
    },
  });
  let id = 1;
  const request = async (type: string, fields: Record<string, unknown> = {}) => {
    const rid = id++;
    input.write(encodeFrame({ type, id: rid, ...fields }));
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(5)) {
      const r = got.find((m) => m.type === 'response' && m.id === rid);
      if (r) return r;
    }
    throw new Error(`no response to ${type}`);
  };
  const statusWhere = async (pred: (s: TunnelStatus) => boolean, what: string, timeoutMs = 15_000) => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(5)) {
      const m = got.find((x) => x.type === 'status' && pred(x.status!));
      if (m) return m.status!;
    }
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(got.at(-1))}`);
  };
  return { host, got, request, statusWhere };
}

test("network-changed (the browser's online event) makes a reconnecting tunnel try at once", {
  skip: skip ?? false,
}, async () => {
  const { relay, config } = await throughRelay();
  const h = hostInProcess();
  try {
    relay.cut();
    assert.equal((await h.request('configure', { config })).ok, true);
    assert.equal((await h.request('set-mode', { mode: 'on' })).ok, true);
    const waiting = await h.statusWhere((s) => s.state === 'reconnecting' && s.attempt === 1, 'first try refused');
    // the network is still away: the hint is answered, the tunnel tries (and fails) once more
    await sleep(GAP_MS + 100);
    const refusedBefore = relay.refused();
    const r1 = await h.request('network-changed');
    assert.equal(r1.ok, true);
    await h.statusWhere((s) => s.state === 'reconnecting' && s.attempt === 2, 'the early try failed');
    assert.equal(relay.refused(), refusedBefore + 1);
    // the network back, the browser says so: no waiting out the ten-minute backoff
    relay.restore();
    const from = h.got.length;
    const r2 = await h.request('network-changed');
    assert.equal(r2.ok, true);
    const connected = await h.statusWhere((s) => s.state === 'connected', 'connected', 5000);
    assert.ok(connected.connectedAt! < waiting.nextRetryAt!);
    assert.ok(h.got.slice(from).some((m) => m.type === 'status' && m.status!.state === 'connected'));
    // connected: the hint changes nothing
    const r3 = await h.request('network-changed');
    assert.equal((r3.result as TunnelStatus).state, 'connected');
    assert.equal(relay.connections(), 1, 'one SSH connection through the relay');
  } finally {
    await h.host.close();
    await relay.close();
  }
});

test('the host process accepts network-changed: before any configure, and as a capability', async () => {
  const c = startHost();
  try {
    const hello = await c.request('hello', { protocol: PROTOCOL_VERSION, client: 'test' });
    assert.ok((hello as { result: { capabilities: string[] } }).result.capabilities.includes('network-changed'));
    const r = await c.request('network-changed');
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(((r as { result: TunnelStatus }).result as TunnelStatus).state, 'off');
    assert.deepEqual(c.badOutput, []);
  } finally {
    await c.close();
  }
});
