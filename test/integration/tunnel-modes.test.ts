// Modes against a real sshd: Auto starts SSH on the first CONNECT and stops it when idle, On
// connects at once, Off closes everything; a taken SOCKS port; restrictTo; bounded waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { canRunSshd, INTERNAL_NAMES, KEY_PASSPHRASE, type Gateway, gatewayConfig } from '../../testbed/sshd.js';
import type { InternalWeb } from '../../testbed/internal-web.js';
import { startStallingServer } from '../../testbed/fault-server.js';
import { freePort } from '../../testbed/ports.js';
import {
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
import type { Interaction } from '../../native-host/tunnel/tunnel.js';

const skip = canRunSshd();
let gw: Gateway;
let web: InternalWeb;
let home: ReturnType<typeof tempHome>;

useGateway((f) => ({ gw, web, home } = f));

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

test('Auto: listener up with no SSH, first CONNECT starts SSH and waits for it, idle timeout stops it', {
  skip: skip ?? false,
}, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw, { idleTimeoutSec: 1 }), home.dir);
  try {
    const s0 = await t.setMode('auto');
    assert.equal(s0.state, 'idle');
    assert.equal(s0.connections, 0);
    assert.ok(await listening(s0.socks!.port));
    assert.deepEqual(gw.sessionPids(), [], 'no SSH connection before the first request');
    const r = await socksGet(s0.socks!.port, INTERNAL_NAMES[2]!, web.port);
    assert.equal(r.status, 200, 'the first CONNECT waited for SSH and went through');
    assert.equal(t.status().state, 'connected');
    const idle = await waitForStatus(t, stateIs('idle'), 'idle after the timeout');
    assert.equal(idle.connections, 0);
    assert.ok(idle.socks, 'the listener stays up');
    // and the next CONNECT starts SSH again
    assert.equal((await socksGet(s0.socks!.port, INTERNAL_NAMES[2]!, web.port)).status, 200);
  } finally {
    await t.close();
  }
});

test('Off closes the listener and SSH; On connects without waiting for a CONNECT', {
  skip: skip ?? false,
}, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw), home.dir);
  try {
    const on = await t.setMode('on');
    const port = on.socks!.port;
    await waitForStatus(t, stateIs('connected'), 'connected');
    assert.ok(gw.sessionPids().length > 0);
    const off = await t.setMode('off');
    assert.equal(off.state, 'off');
    assert.equal(off.socks, null);
    assert.equal(off.connections, 0);
    assert.equal(await listening(port), false);
  } finally {
    await t.close();
  }
});

test('a taken SOCKS port is SOCKS_PORT_IN_USE, and retry() recovers once it is free', {
  skip: skip ?? false,
}, async () => {
  const port = await freePort();
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', () => r()));
  const t = isolatedTunnel(await gatewayConfig(gw, { socksPort: port }), home.dir);
  try {
    const s = await t.setMode('on');
    assert.equal(s.state, 'error');
    assert.equal(s.lastError?.code, 'SOCKS_PORT_IN_USE');
    assert.match(s.lastError?.detail ?? '', new RegExp(`127\\.0\\.0\\.1:${port}`));
    await new Promise<void>((r) => squatter.close(() => r()));
    const after = await t.retry();
    assert.equal(after.socks?.port, port);
    await waitForStatus(t, stateIs('connected'), 'connected after retry');
  } finally {
    squatter.close();
    await t.close();
  }
});

test('restrictTo: destinations matching no rule are refused with "not allowed"', { skip: skip ?? false }, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw, { restrictTo: ['*.grid5000.fr'] }), home.dir);
  try {
    const s = await t.setMode('on');
    await waitForStatus(t, stateIs('connected'), 'connected');
    const refused = await socksConnect(s.socks!.port, 'jupyter.internal.test', web.port);
    refused.socket.destroy();
    assert.equal(refused.reply, 2);
    assert.equal((await socksGet(s.socks!.port, INTERNAL_NAMES[1]!, web.port)).status, 200);
    // the rule set follows the settings
    await t.configure(await gatewayConfig(gw, { restrictTo: [], socksPort: s.socks!.port }));
    assert.equal((await socksGet(s.socks!.port, 'jupyter.internal.test', web.port)).status, 200);
  } finally {
    await t.close();
  }
});

test('a CONNECT waiting for a stuck connection gets a failure reply, bounded, not a hang', {
  skip: skip ?? false,
}, async () => {
  const stall = await startStallingServer();
  const t = isolatedTunnel(
    await gatewayConfig(gw, {
      gateway: stall.host,
      port: stall.port,
      knownHostsFile: stall.knownHosts,
      connectTimeoutSec: 1,
    }),
    home.dir,
    { backoff: { baseMs: 60_000, capMs: 60_000, factor: 2, jitter: 0 } },
  );
  try {
    const s = await t.setMode('auto');
    const r = await socksConnect(s.socks!.port, INTERNAL_NAMES[0]!, 80, 15_000);
    r.socket.destroy();
    assert.equal(r.reply, 1, 'general failure once the wait bound is over');
    const after = await waitForStatus(t, stateIs('reconnecting'), 'reconnecting after the timeout');
    assert.equal(after.lastError?.code, 'TIMEOUT');
    assert.equal(after.attempt, 1);
  } finally {
    await t.close();
    await stall.close();
  }
});

test('in the error state a CONNECT fails at once and starts no new attempt', { skip: skip ?? false }, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw, { identityFile: gw.keys.wrong }), home.dir);
  try {
    const s = await t.setMode('auto');
    const first = await socksConnect(s.socks!.port, INTERNAL_NAMES[0]!, web.port);
    first.socket.destroy();
    assert.equal(first.reply, 1);
    await waitForStatus(t, stateIs('error'), 'error');
    const from = logSize(gw.logFile);
    const second = await socksConnect(s.socks!.port, INTERNAL_NAMES[0]!, web.port);
    second.socket.destroy();
    assert.equal(second.reply, 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.doesNotMatch(logSince(gw.logFile, from), /Connection from/);
    assert.equal(t.status().state, 'error');
  } finally {
    await t.close();
  }
});

test('a CONNECT waits longer while the user types a passphrase, and the login is not timed out meanwhile', {
  skip: skip ?? false,
}, async () => {
  // the user takes well over connectTimeoutSec to answer; after the answer, the key's decryption and
  // the login get the usual connectTimeoutSec (loaded CI machines need a few seconds for them)
  const slowUser: Interaction = {
    askPassphrase: () => new Promise((r) => setTimeout(() => r(KEY_PASSPHRASE), 5000)),
    confirmHostKey: async () => false,
  };
  const t = isolatedTunnel(
    await gatewayConfig(gw, { identityFile: gw.keys.encrypted, connectTimeoutSec: 3 }),
    home.dir,
    { interaction: slowUser },
  );
  try {
    const s = await t.setMode('auto');
    const r = await socksGet(s.socks!.port, INTERNAL_NAMES[0]!, web.port);
    assert.equal(r.reply, 0);
    assert.equal(r.status, 200);
    assert.equal(t.status().state, 'connected');
  } finally {
    await t.close();
  }
});
