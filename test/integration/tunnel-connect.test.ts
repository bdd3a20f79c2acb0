// Connecting like OpenSSH, against a real sshd: stages and timings, names resolved on the gateway
// only, jump hosts chained over channels, ~/.ssh/config aliases and -o precedence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { canRunSshd, startGateway, INTERNAL_NAMES, type Gateway, gatewayConfig } from '../../testbed/sshd.js';
import type { InternalWeb } from '../../testbed/internal-web.js';
import { isolatedTunnel, socksGet, stateIs, tempHome, useGateway, waitForStatus } from '../support/tunnel-kit.js';

const skip = canRunSshd();
let gw: Gateway;
let web: InternalWeb;
let home: ReturnType<typeof tempHome>;

useGateway((f) => ({ gw, web, home } = f));

test('On mode connects at once, goes through tcp → hostkey → auth → forwarding, and serves internal names', {
  skip: skip ?? false,
}, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw), home.dir);
  const stages: string[] = [];
  t.on('status', (s) => {
    if (s.state === 'connecting' && s.stage && stages.at(-1) !== s.stage) stages.push(s.stage);
  });
  try {
    await t.setMode('on');
    const s = await waitForStatus(t, stateIs('connected'), 'connected');
    assert.deepEqual(stages, ['tcp', 'hostkey', 'auth', 'forwarding']);
    assert.deepEqual(
      s.timings.map((x) => x.stage),
      ['tcp', 'hostkey', 'auth', 'forwarding'],
    );
    assert.ok(s.timings.every((x) => x.hop === `g5ktest@127.0.0.1:${gw.port}` && x.ms >= 0));
    assert.equal(s.connections, 1);
    assert.ok(s.connectedAt);
    const r = await socksGet(s.socks!.port, INTERNAL_NAMES[0]!, web.port, '/hello');
    assert.equal(r.reply, 0);
    assert.equal(r.status, 200);
    assert.equal(web.hits.at(-1)?.viaGateway, true, 'the request must leave from the gateway');
  } finally {
    await t.close();
  }
  assert.equal(t.status().state, 'off');
  assert.equal(t.status().socks, null);
});

test('jump host: the gateway is reached by a name only the jump host resolves', { skip: skip ?? false }, async () => {
  const jump = await startGateway({ extraHosts: ['127.0.0.1 gateway.internal.test'] });
  try {
    // one known_hosts for both machines, each under the name the tunnel uses for it
    const kh = path.join(home.dir, 'known_hosts_jump');
    fs.writeFileSync(
      kh,
      `[127.0.0.1]:${jump.port} ${jump.hostKeyPublic}\n[gateway.internal.test]:${gw.port} ${gw.hostKeyPublic}\n`,
    );
    // the jump host takes the same key as the gateway
    fs.copyFileSync(path.join(gw.dir, 'authorized_keys'), path.join(jump.dir, 'authorized_keys'));
    const config = await gatewayConfig(gw, {
      gateway: 'gateway.internal.test',
      jumps: [`${jump.user}@127.0.0.1:${jump.port}`],
      knownHostsFile: kh,
    });
    const t = isolatedTunnel(config, home.dir);
    try {
      await t.setMode('on');
      const s = await waitForStatus(t, stateIs('connected'), 'connected through the jump host');
      assert.deepEqual(s.jumps, [`g5ktest@127.0.0.1:${jump.port}`]);
      assert.equal(s.gateway, `g5ktest@gateway.internal.test:${gw.port}`);
      const hops = [...new Set(s.timings.map((x) => x.hop))];
      assert.deepEqual(hops, [`g5ktest@127.0.0.1:${jump.port}`, `g5ktest@gateway.internal.test:${gw.port}`]);
      const r = await socksGet(s.socks!.port, INTERNAL_NAMES[1]!, web.port);
      assert.equal(r.status, 200);
      assert.ok(jump.sessionPids().length > 0 && gw.sessionPids().length > 0, 'both machines carry the connection');
    } finally {
      await t.close();
    }
  } finally {
    await jump.stop();
  }
});

test('a ~/.ssh/config alias supplies host, port, user and key when the settings leave them empty', {
  skip: skip ?? false,
}, async () => {
  const h = tempHome();
  try {
    fs.writeFileSync(
      path.join(h.ssh, 'config'),
      `Host g5k\n  HostName 127.0.0.1\n  Port ${gw.port}\n  User ${gw.user}\n  IdentityFile ${gw.keys.plain}\n  UserKnownHostsFile ${gw.knownHosts}\n`,
      { mode: 0o600 },
    );
    const config = await gatewayConfig(gw, { gateway: 'g5k', port: 0, user: '', identityFile: '', knownHostsFile: '' });
    const t = isolatedTunnel(config, h.dir);
    try {
      await t.setMode('on');
      const s = await waitForStatus(t, (x) => x.state === 'connected' || x.state === 'error', 'connected');
      assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
      assert.equal(s.gateway, `g5ktest@127.0.0.1:${gw.port}`);
    } finally {
      await t.close();
    }
    // -o wins over everything: a wrong port given with -o is used, and fails
    const t2 = isolatedTunnel({ ...config, connectTimeoutSec: 2 }, h.dir, { sshOptions: ['Port=1'] });
    try {
      const tested = await t2.testConnection({ ...config, connectTimeoutSec: 2 }).then(
        () => null,
        (e: { protocolError?: { code: string; detail?: string } }) => e.protocolError,
      );
      assert.equal(tested?.code, 'GATEWAY_UNREACHABLE');
      assert.match(tested?.detail ?? '', /127\.0\.0\.1:1\b/);
    } finally {
      await t2.close();
    }
  } finally {
    h.cleanup();
  }
});

test('testConnection stops after login and reports the server banner and timings', {
  skip: skip ?? false,
}, async () => {
  const config = await gatewayConfig(gw);
  const t = isolatedTunnel(config, home.dir);
  try {
    const r = await t.testConnection(config);
    assert.match(r.serverBanner ?? '', /^SSH-2\.0-OpenSSH/);
    assert.deepEqual(
      r.timings.map((x) => x.stage),
      ['tcp', 'hostkey', 'auth'],
    );
    assert.equal(t.status().state, 'off', 'a test never touches the tunnel itself');
  } finally {
    await t.close();
  }
});

test('the socket to the gateway has Nagle off (setNoDelay(true))', { skip: skip ?? false }, async () => {
  const original = net.Socket.prototype.setNoDelay;
  const calls = new Map<net.Socket, boolean | undefined>();
  net.Socket.prototype.setNoDelay = function (this: net.Socket, on?: boolean) {
    calls.set(this, on);
    return original.call(this, on);
  };
  const t = isolatedTunnel(await gatewayConfig(gw), home.dir);
  try {
    await t.setMode('on');
    await waitForStatus(t, stateIs('connected'), 'connected');
    const toGateway = [...calls].filter(([sock]) => sock.remotePort === gw.port && sock.remoteAddress === '127.0.0.1');
    assert.equal(toGateway.length, 1, 'one socket to the gateway');
    assert.equal(toGateway[0]![1], true);
  } finally {
    net.Socket.prototype.setNoDelay = original;
    await t.close();
  }
});
