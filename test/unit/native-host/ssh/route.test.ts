import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planRoute, resolveRoute, RouteError, type RouteContext } from '../../../../native-host/ssh/route.js';
import { silentLogger } from '../../../../native-host/log.js';
import { parseSshConfig } from '../../../../native-host/ssh/config-parse.js';
import { defaultProfile, toTunnelConfig } from '../../../../shared/settings.js';
import type { TunnelConfig } from '../../../../shared/protocol.js';

const HOME = '/home/jdoe';
const ctx = (over: Partial<RouteContext> = {}): RouteContext => ({
  home: HOME,
  localUser: 'jdoe',
  env: { SSH_AUTH_SOCK: '/run/agent.sock' },
  ...over,
});
const blocks = (text: string) => parseSshConfig(text, '/home/jdoe/.ssh/config').blocks;
const config = (over: Partial<TunnelConfig> = {}): TunnelConfig => ({
  ...toTunnelConfig(defaultProfile()),
  port: 0,
  ...over,
});

const G5K = `
Host g5k
  HostName access.grid5000.fr
  User jlogin
  Port 2222
  IdentityFile ~/.ssh/g5k_key
  ServerAliveInterval 99
Host *.g5k
  ProxyJump g5k
  User jlogin
Host loop
  ProxyJump loop2
Host loop2
  ProxyJump loop
`;

test('defaults: port 22, the local user, agent then default key names, OpenSSH known_hosts files', () => {
  const r = planRoute(config({ gateway: 'access.grid5000.fr' }), [], ctx());
  assert.equal(r.hops.length, 1);
  const h = r.hops[0]!;
  assert.equal(h.host, 'access.grid5000.fr');
  assert.equal(h.port, 22);
  assert.equal(h.user, 'jdoe');
  assert.equal(r.gateway, 'jdoe@access.grid5000.fr:22');
  assert.equal(h.auth.agentSocket, '/run/agent.sock');
  assert.deepEqual(
    h.auth.files.map((f) => f.path),
    ['id_rsa', 'id_ecdsa', 'id_ed25519', 'id_dsa'].map((n) => `${HOME}/.ssh/${n}`),
  );
  assert.ok(h.auth.files.every((f) => !f.explicit));
  assert.deepEqual(h.userKnownHostsFiles, [`${HOME}/.ssh/known_hosts`, `${HOME}/.ssh/known_hosts2`]);
  assert.deepEqual(h.globalKnownHostsFiles, ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  assert.equal(h.policy, 'ask');
  assert.equal(h.connectTimeoutMs, 20_000);
  assert.equal(h.keepaliveIntervalMs, 15_000);
  assert.equal(h.keepaliveCountMax, 3);
});

test('empty settings fields come from ~/.ssh/config; its IdentityFile replaces the default names', () => {
  const h = planRoute(config({ gateway: 'g5k', user: '' }), blocks(G5K), ctx()).hops[0]!;
  assert.equal(h.host, 'access.grid5000.fr');
  assert.equal(h.port, 2222);
  assert.equal(h.user, 'jlogin');
  assert.deepEqual(h.auth.files, [{ path: `${HOME}/.ssh/g5k_key`, explicit: false }]);
});

test('non-empty settings fields win over ~/.ssh/config, like -p, -l and -i', () => {
  const h = planRoute(
    config({ gateway: 'g5k', port: 2200, user: 'alice', identityFile: '~/.ssh/mine' }),
    blocks(G5K),
    ctx(),
  ).hops[0]!;
  assert.equal(h.port, 2200);
  assert.equal(h.user, 'alice');
  assert.deepEqual(h.auth.files, [
    { path: `${HOME}/.ssh/mine`, explicit: true },
    { path: `${HOME}/.ssh/g5k_key`, explicit: false },
  ]);
  // no ~/.ssh/config key: -i alone, no default names
  const bare = planRoute(config({ gateway: 'x.example', identityFile: '/k' }), [], ctx()).hops[0]!;
  assert.deepEqual(bare.auth.files, [{ path: '/k', explicit: true }]);
});

test('-o lines win over everything, first value first', () => {
  const h = planRoute(
    config({ gateway: 'g5k', port: 2200, user: 'alice' }),
    blocks(G5K),
    ctx({ sshOptions: ['Port=3000', 'User=bob', 'Port=4000'] }),
  ).hops[0]!;
  assert.equal(h.port, 3000);
  assert.equal(h.user, 'bob');
  const k = planRoute(
    config({ gateway: 'g5k' }),
    blocks(G5K),
    ctx({ sshOptions: ['ServerAliveInterval=7', 'ConnectTimeout=3'] }),
  ).hops[0]!;
  assert.equal(k.keepaliveIntervalMs, 7000);
  assert.equal(k.connectTimeoutMs, 3000);
});

test('keepalive and timeouts come from the settings rather than ~/.ssh/config', () => {
  const h = planRoute(config({ gateway: 'g5k', keepaliveIntervalSec: 30 }), blocks(G5K), ctx()).hops[0]!;
  assert.equal(h.keepaliveIntervalMs, 30_000);
});

test('ProxyJump from ~/.ssh/config: the jump host is resolved with its own block', () => {
  const r = planRoute(config({ gateway: 'nancy.g5k' }), blocks(G5K), ctx());
  assert.deepEqual(
    r.hops.map((h) => [h.host, h.port, h.user]),
    [
      ['access.grid5000.fr', 2222, 'jlogin'],
      ['nancy.g5k', 22, 'jlogin'],
    ],
  );
  assert.deepEqual(r.jumps, ['jlogin@access.grid5000.fr:2222']);
});

test('settings jump hosts act like -J (over ProxyJump); -o ProxyJump wins over both', () => {
  const j = planRoute(config({ gateway: 'nancy.g5k', jumps: ['bob@bastion.example:2022'] }), blocks(G5K), ctx());
  assert.deepEqual(
    j.hops.map((h) => h.label),
    ['bob@bastion.example:2022', 'jlogin@nancy.g5k:22'],
  );
  const o = planRoute(
    config({ gateway: 'nancy.g5k', jumps: ['bob@bastion.example'] }),
    blocks(G5K),
    ctx({ sshOptions: ['ProxyJump=none'] }),
  );
  assert.equal(o.hops.length, 1);
});

test('a ProxyJump loop and a malformed jump host are clear errors', () => {
  assert.throws(() => planRoute(config({ gateway: 'loop' }), blocks(G5K), ctx()), RouteError);
  assert.throws(
    () => planRoute(config({ gateway: 'a.example', jumps: ['bad host'] }), [], ctx()),
    (e: Error) => e instanceof RouteError && /jump hosts/.test(e.message) && /bad host/.test(e.message),
  );
});

test('host key policy: the stricter of the settings and ~/.ssh/config, unless -o says otherwise', () => {
  const strictFile = blocks('Host *\n  StrictHostKeyChecking yes\n');
  const looseFile = blocks('Host *\n  StrictHostKeyChecking no\n');
  assert.equal(
    planRoute(config({ gateway: 'h', strictHostKeyChecking: 'ask' }), strictFile, ctx()).hops[0]!.policy,
    'yes',
  );
  assert.equal(
    planRoute(config({ gateway: 'h', strictHostKeyChecking: 'ask' }), looseFile, ctx()).hops[0]!.policy,
    'ask',
  );
  assert.equal(
    planRoute(
      config({ gateway: 'h', strictHostKeyChecking: 'ask' }),
      strictFile,
      ctx({ sshOptions: ['StrictHostKeyChecking=accept-new'] }),
    ).hops[0]!.policy,
    'accept-new',
  );
});

test('known_hosts: the settings file replaces the user files; -o UserKnownHostsFile wins', () => {
  const h = planRoute(config({ gateway: 'h', knownHostsFile: '~/kh' }), [], ctx()).hops[0]!;
  assert.deepEqual(h.userKnownHostsFiles, [`${HOME}/kh`]);
  const odd = planRoute(config({ gateway: 'h', knownHostsFile: '/data/100%/my "hosts"' }), [], ctx()).hops[0]!;
  assert.deepEqual(odd.userKnownHostsFiles, ['/data/100%/my "hosts"'], 'the settings path is taken literally');
  const o = planRoute(
    config({ gateway: 'h', knownHostsFile: '~/kh' }),
    [],
    ctx({ sshOptions: ['UserKnownHostsFile=/o/kh'] }),
  ).hops[0]!;
  assert.deepEqual(o.userKnownHostsFiles, ['/o/kh']);
  const alias = planRoute(
    config({ gateway: 'h' }),
    blocks('Host h\n  HostKeyAlias gw-alias\n  HashKnownHosts yes\n'),
    ctx(),
  ).hops[0]!;
  assert.equal(alias.hostKeyAlias, 'gw-alias');
  assert.equal(alias.hashKnownHosts, true);
});

test('agent: off when useAgent is false or IdentityAgent none; IdentityAgent paths and $VARS are honoured', () => {
  assert.equal(planRoute(config({ gateway: 'h', useAgent: false }), [], ctx()).hops[0]!.auth.agentSocket, null);
  assert.equal(
    planRoute(config({ gateway: 'h' }), blocks('Host h\n  IdentityAgent none\n'), ctx()).hops[0]!.auth.agentSocket,
    null,
  );
  assert.equal(
    planRoute(config({ gateway: 'h' }), blocks('Host h\n  IdentityAgent ~/agent.sock\n'), ctx()).hops[0]!.auth
      .agentSocket,
    `${HOME}/agent.sock`,
  );
  assert.equal(
    planRoute(
      config({ gateway: 'h' }),
      blocks('Host h\n  IdentityAgent $MY_AGENT\n'),
      ctx({ env: { MY_AGENT: '/x.sock' } }),
    ).hops[0]!.auth.agentSocket,
    '/x.sock',
  );
  assert.equal(planRoute(config({ gateway: 'h' }), [], ctx({ env: {} })).hops[0]!.auth.agentSocket, null);
  assert.equal(
    planRoute(config({ gateway: 'h' }), blocks('Host h\n  IdentitiesOnly yes\n'), ctx()).hops[0]!.auth.identitiesOnly,
    true,
  );
});

test('%l, %L, %C and %i in ~/.ssh/config expand from the local host name and uid', () => {
  const file = blocks('Host h\n  IdentityFile ~/.ssh/%L_%i\n  UserKnownHostsFile ~/.ssh/kh_%l ~/.ssh/kh_%C\n');
  const h = planRoute(
    config({ gateway: 'h', user: 'alice' }),
    file,
    ctx({ localHost: 'node-1.example.org', uid: 1234 }),
  ).hops[0]!;
  assert.deepEqual(
    h.auth.files.map((f) => f.path),
    [`${HOME}/.ssh/node-1_1234`],
  );
  const c = createHash('sha1').update('node-1.example.orgh22alice').digest('hex');
  assert.deepEqual(h.userKnownHostsFiles, [`${HOME}/.ssh/kh_node-1.example.org`, `${HOME}/.ssh/kh_${c}`]);
});

test('resolveRoute knows this machine: its host name and uid fill %l and %i of ~/.ssh/config', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-resolve-'));
  try {
    fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    fs.writeFileSync(path.join(home, '.ssh', 'config'), 'Host h\n  IdentityFile ~/.ssh/id_%l_%i\n', { mode: 0o600 });
    const r = resolveRoute(config({ gateway: 'h' }), {
      home,
      localUser: 'jdoe',
      env: {},
      log: silentLogger,
      systemConfigFile: null,
    });
    assert.deepEqual(
      r.hops[0]!.auth.files.map((f) => f.path),
      [path.join(home, '.ssh', `id_${os.hostname()}_${process.getuid!()}`)],
    );
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
