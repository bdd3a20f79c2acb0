// Health against a real sshd: a killed session and a silent one (SIGSTOP, seen only by keepalives)
// lead to reconnecting with backoff; channels in flight end, new CONNECTs wait for the new
// connection; transient failures retry, fatal ones stop and wait for the user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canRunSshd, INTERNAL_NAMES, type Gateway, gatewayConfig } from '../../testbed/sshd.js';
import type { InternalWeb } from '../../testbed/internal-web.js';
import { freePort } from '../../testbed/ports.js';
import {
  closed,
  isolatedTunnel,
  logSince,
  logSize,
  socksGet,
  stateIs,
  type tempHome,
  useGateway,
  waitForStatus,
} from '../support/tunnel-kit.js';
import { socksConnect } from '../../testbed/socks-client.js';
import type { TunnelStatus } from '../../shared/protocol.js';

const skip = canRunSshd();
let gw: Gateway;
let web: InternalWeb;
let home: ReturnType<typeof tempHome>;
const quick = { baseMs: 100, capMs: 400, factor: 2, jitter: 0 };

useGateway((f) => ({ gw, web, home } = f));

test('a killed session: channels in flight end, state reconnecting with attempt and nextRetryAt, then connected', {
  skip: skip ?? false,
}, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw), home.dir, { backoff: quick });
  try {
    const s = await t.setMode('on');
    const first = await waitForStatus(t, stateIs('connected'), 'connected');
    // a channel held open: the request is never finished
    const held = await socksConnect(s.socks!.port, INTERNAL_NAMES[0]!, web.port);
    assert.equal(held.reply, 0);
    await waitForStatus(t, (x) => x.channels === 1, 'one channel');
    const ended = closed(held.socket);
    const seen: TunnelStatus[] = [];
    t.on('status', (x) => seen.push(x));
    for (const pid of gw.sessionPids()) {
      // sshd's pre-authentication child may have exited by itself since it was listed
      try {
        process.kill(pid, 'SIGKILL');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
    // the interrupted channel is reset, neither left hanging nor ended as if complete
    assert.equal(await ended, 'reset');
    const again = await waitForStatus(t, stateIs('connected'), 'connected again');
    const rec = seen.find((x) => x.state === 'reconnecting');
    assert.ok(rec, 'went through reconnecting');
    assert.equal(rec.attempt, 1);
    assert.ok(rec.nextRetryAt! >= rec.since);
    assert.equal(rec.lastError?.code, 'CONNECTION_LOST');
    assert.ok(again.connectedAt! > first.connectedAt!);
    assert.equal(again.attempt, undefined);
    assert.equal(again.channels, 0);
    assert.equal((await socksGet(s.socks!.port, INTERNAL_NAMES[0]!, web.port)).status, 200);
  } finally {
    await t.close();
  }
});

test('a silent session is caught by keepalives; a CONNECT made meanwhile waits and is served', {
  skip: skip ?? false,
}, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw, { keepaliveIntervalSec: 1, keepaliveCountMax: 2 }), home.dir, {
    backoff: quick,
  });
  const stopped: number[] = [];
  try {
    const s = await t.setMode('on');
    await waitForStatus(t, stateIs('connected'), 'connected');
    for (const pid of gw.sessionPids()) {
      // sshd's pre-authentication child may have exited by itself since it was listed
      try {
        process.kill(pid, 'SIGSTOP');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
        continue;
      }
      stopped.push(pid);
    }
    // this CONNECT goes to the silent connection, then to the next one
    const pending = socksGet(s.socks!.port, INTERNAL_NAMES[1]!, web.port);
    const rec = await waitForStatus(t, stateIs('reconnecting'), 'reconnecting after missed keepalives');
    assert.equal(rec.lastError?.code, 'CONNECTION_LOST');
    assert.match(rec.lastError?.detail ?? '', /keepalive/);
    await waitForStatus(t, stateIs('connected'), 'connected again');
    assert.equal((await pending).status, 200);
  } finally {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await t.close();
  }
});

test('an unreachable gateway is retried again and again in On mode, then connects when it is back', {
  skip: skip ?? false,
}, async () => {
  const closedPort = await freePort();
  const config = await gatewayConfig(gw, { port: closedPort });
  const t = isolatedTunnel(config, home.dir, { backoff: quick });
  try {
    await t.setMode('on');
    const s = await waitForStatus(t, (x) => x.state === 'reconnecting' && (x.attempt ?? 0) >= 3, 'three attempts');
    assert.equal(s.lastError?.code, 'GATEWAY_UNREACHABLE');
    await t.configure({ ...config, port: gw.port });
    await waitForStatus(t, stateIs('connected'), 'connected to the right port');
  } finally {
    await t.close();
  }
});

test('retry() during the backoff wait tries at once', { skip: skip ?? false }, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw, { port: await freePort() }), home.dir, {
    backoff: { baseMs: 600_000, capMs: 600_000, factor: 2, jitter: 0 },
  });
  try {
    await t.setMode('on');
    await waitForStatus(t, (x) => x.state === 'reconnecting' && x.attempt === 1, 'first wait');
    await t.retry();
    await waitForStatus(
      t,
      (x) => x.state === 'reconnecting' && x.attempt === 2,
      'second attempt without waiting ten minutes',
    );
  } finally {
    await t.close();
  }
});

test('a fatal error stops in the error state without retrying; retry() tries once more', {
  skip: skip ?? false,
}, async () => {
  const from = logSize(gw.logFile);
  const t = isolatedTunnel(await gatewayConfig(gw, { identityFile: gw.keys.wrong }), home.dir, { backoff: quick });
  try {
    await t.setMode('on');
    const s = await waitForStatus(t, stateIs('error'), 'error');
    assert.equal(s.lastError?.code, 'AUTH_FAILED');
    assert.equal(s.nextRetryAt, undefined);
    await new Promise((r) => setTimeout(r, 1000)); // several backoff periods
    assert.equal(t.status().state, 'error');
    const count = () => (logSince(gw.logFile, from).match(/Connection from/g) ?? []).length;
    assert.equal(count(), 1, 'one attempt only');
    await t.retry();
    await waitForStatus(t, stateIs('error'), 'error again');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(count(), 2);
  } finally {
    await t.close();
  }
});
