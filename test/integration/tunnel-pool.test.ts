// The optional pool, against a real sshd: more SSH connections only under load, the same key and
// passphrase for all, back to one when idle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { canRunSshd, INTERNAL_NAMES, KEY_PASSPHRASE, type Gateway, gatewayConfig } from '../../testbed/sshd.js';
import type { InternalWeb } from '../../testbed/internal-web.js';
import {
  closed,
  isolatedTunnel,
  scriptedUser,
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

/** For each process, its established TCP connections to `port`: here, the channels an sshd session carries. */
function connectionsTo(pids: number[], port: number): number[] {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[3] === '01' && parseInt(cols[2]!.split(':')[1]!, 16) === port) inodes.add(cols[9]!);
    }
  }
  return pids.map((pid) => {
    let n = 0;
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) n++;
      } catch {
        /* closed meanwhile */
      }
    }
    return n;
  });
}

useGateway((f) => ({ gw, web, home } = f));

test('parallel load opens more connections (up to maxConnections), idle brings it back to one', {
  skip: skip ?? false,
}, async () => {
  const user = scriptedUser({ passphrases: [KEY_PASSPHRASE] });
  const config = await gatewayConfig(gw, { identityFile: gw.keys.encrypted, maxConnections: 3 });
  const t = isolatedTunnel(config, home.dir, {
    interaction: user.interaction,
    channelsPerConnection: 2,
    poolIdleMs: 300,
  });
  try {
    const s = await t.setMode('on');
    await waitForStatus(t, stateIs('connected'), 'connected');
    assert.equal(t.status().connections, 1);
    // channels held open: each CONNECT is accepted and the request never finished
    const held = [];
    for (let i = 0; i < 10; i++) {
      held.push(await socksConnect(s.socks!.port, INTERNAL_NAMES[i % 3]!, web.port));
      await new Promise((r) => setTimeout(r, 30));
    }
    assert.ok(held.every((h) => h.reply === 0));
    const busy = await waitForStatus(t, (x) => x.connections === 3, 'three connections under load');
    assert.ok(busy.channels >= 8);
    assert.equal(user.asked.length, 1, 'one passphrase for every pooled connection');
    // more load never goes beyond the maximum
    held.push(await socksConnect(s.socks!.port, INTERNAL_NAMES[0]!, web.port));
    assert.equal(t.status().connections, 3);
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => closed(h.socket)));
    const calm = await waitForStatus(t, (x) => x.connections === 1 && x.channels === 0, 'back to one connection');
    assert.equal(calm.state, 'connected');
    assert.equal((await socksGet(s.socks!.port, INTERNAL_NAMES[0]!, web.port)).status, 200);
  } finally {
    await t.close();
  }
});

test('with maxConnections 1, load never opens a second connection', { skip: skip ?? false }, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw, { maxConnections: 1 }), home.dir, { channelsPerConnection: 1 });
  try {
    const s = await t.setMode('on');
    await waitForStatus(t, stateIs('connected'), 'connected');
    const held = await Promise.all([0, 1, 2, 3].map(() => socksConnect(s.socks!.port, INTERNAL_NAMES[0]!, web.port)));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.status().connections, 1);
    assert.equal(t.status().channels, 4);
    for (const h of held) h.socket.destroy();
  } finally {
    await t.close();
  }
});

test('a burst is spread over the pool: CONNECTs past twice channelsPerConnection wait for the connections opened for them', {
  skip: skip ?? false,
}, async () => {
  const t = isolatedTunnel(await gatewayConfig(gw, { maxConnections: 3 }), home.dir, { channelsPerConnection: 2 });
  try {
    const s = await t.setMode('on');
    await waitForStatus(t, stateIs('connected'), 'connected');
    // twelve CONNECTs at once, each held open: without the rule all would land on the first connection
    const held = await Promise.all(
      Array.from({ length: 12 }, (_, i) => socksConnect(s.socks!.port, INTERNAL_NAMES[i % 3]!, web.port)),
    );
    assert.ok(held.every((h) => h.reply === 0));
    assert.equal(t.status().connections, 3);
    const perSession = connectionsTo(gw.sessionPids(), web.port).filter((n) => n > 0);
    assert.equal(perSession.length, 3, `channels per sshd session: ${perSession.join(', ')}`);
    assert.equal(
      perSession.reduce((a, b) => a + b, 0),
      12,
    );
    assert.ok(Math.max(...perSession) <= 6, `channels per sshd session: ${perSession.join(', ')}`);
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => closed(h.socket)));
  } finally {
    await t.close();
  }
});
