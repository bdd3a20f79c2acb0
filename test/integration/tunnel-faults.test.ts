// Faults: a server that stalls after its banner (TIMEOUT, no hang), one that closes every channel
// at once (in-process ssh2 servers); and channel failures from a real sshd mapped to SOCKS replies,
// none of which takes the connection down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canRunSshd, INTERNAL_NAMES, type Gateway, gatewayConfig } from '../../testbed/sshd.js';
import type { InternalWeb } from '../../testbed/internal-web.js';
import { startChannelDropServer, startStallingServer } from '../../testbed/fault-server.js';
import { freePort } from '../../testbed/ports.js';
import {
  closed,
  isolatedTunnel,
  socksGet,
  stateIs,
  type tempHome,
  useGateway,
  waitForStatus,
} from '../support/tunnel-kit.js';
import { socksConnect } from '../../testbed/socks-client.js';

const skip = canRunSshd();
let gw: Gateway;
let web: InternalWeb;
let home: ReturnType<typeof tempHome>;

useGateway((f) => ({ gw, web, home } = f));

test('a server that stalls after its banner is a TIMEOUT, not a hang', { skip: skip ?? false }, async () => {
  const stall = await startStallingServer();
  try {
    const config = await gatewayConfig(gw, {
      gateway: stall.host,
      port: stall.port,
      knownHostsFile: stall.knownHosts,
      connectTimeoutSec: 1,
    });
    const t = isolatedTunnel(config, home.dir, { backoff: { baseMs: 100, capMs: 100, factor: 1, jitter: 0 } });
    try {
      const err = await t.testConnection(config).then(
        () => null,
        (e: { protocolError?: { code: string; detail?: string } }) => e.protocolError,
      );
      assert.equal(err?.code, 'TIMEOUT');
      assert.match(err?.detail ?? '', /key exchange/);
      // in On mode a timeout is transient: retried
      await t.setMode('on');
      const s = await waitForStatus(t, (x) => x.state === 'reconnecting' && (x.attempt ?? 0) >= 2, 'retrying');
      assert.equal(s.lastError?.code, 'TIMEOUT');
      assert.ok(stall.connections() >= 3);
    } finally {
      await t.close();
    }
  } finally {
    await stall.close();
  }
});

test('a server that closes every channel at once: each CONNECT ends, the connection stays', {
  skip: skip ?? false,
}, async () => {
  const drop = await startChannelDropServer();
  try {
    const config = await gatewayConfig(gw, { gateway: drop.host, port: drop.port, knownHostsFile: drop.knownHosts });
    const t = isolatedTunnel(config, home.dir);
    try {
      const s = await t.setMode('on');
      const up = await waitForStatus(t, stateIs('connected'), 'connected');
      for (let i = 0; i < 3; i++) {
        const r = await socksConnect(s.socks!.port, 'anything.grid5000.fr', 80);
        if (r.reply === 0) await closed(r.socket);
        else r.socket.destroy();
      }
      assert.equal(drop.channelRequests(), 3);
      const after = await waitForStatus(t, (x) => x.channels === 0, 'channels closed');
      assert.equal(after.state, 'connected');
      assert.equal(after.connections, 1);
      assert.equal(after.connectedAt, up.connectedAt, 'still the first connection');
      assert.equal(drop.connections(), 1);
    } finally {
      await t.close();
    }
  } finally {
    await drop.close();
  }
});

test('channel failures from the gateway become precise SOCKS replies and leave the connection up', {
  skip: skip ?? false,
}, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw), home.dir);
  try {
    const s = await t.setMode('on');
    const up = await waitForStatus(t, stateIs('connected'), 'connected');
    const refused = await socksConnect(s.socks!.port, INTERNAL_NAMES[0]!, await freePort('127.0.0.2'));
    refused.socket.destroy();
    assert.equal(refused.reply, 5, 'connection refused');
    const unknown = await socksConnect(s.socks!.port, 'nonexistent.invalid', 80);
    unknown.socket.destroy();
    assert.equal(unknown.reply, 4, 'host unreachable');
    const now = t.status();
    assert.equal(now.state, 'connected');
    assert.equal(now.connectedAt, up.connectedAt);
    assert.equal((await socksGet(s.socks!.port, INTERNAL_NAMES[0]!, web.port)).status, 200);
  } finally {
    await t.close();
  }
});
