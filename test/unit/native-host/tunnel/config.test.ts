// What the tunnel makes of its settings: which changes need a new SSH connection, the gateway's
// name, the restrictTo rules, and the protocol error of each kind of failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeError } from '../../../../shared/errors.js';
import type { TunnelConfig } from '../../../../shared/protocol.js';
import { silentLogger } from '../../../../native-host/log.js';
import { ConnectError } from '../../../../native-host/ssh/connect.js';
import { RouteError } from '../../../../native-host/ssh/route.js';
import {
  connectionChanged,
  displayOf,
  errorOf,
  listenError,
  restrictRules,
} from '../../../../native-host/tunnel/config.js';

const base: TunnelConfig = {
  gateway: 'access.grid5000.fr',
  port: 0,
  user: 'jdoe',
  jumps: [],
  identityFile: '',
  useAgent: true,
  socksPort: 1080,
  idleTimeoutSec: 300,
  keepaliveIntervalSec: 30,
  keepaliveCountMax: 3,
  connectTimeoutSec: 15,
  strictHostKeyChecking: 'ask',
  knownHostsFile: '',
  restrictTo: [],
  maxConnections: 4,
};

test('a new SSH connection for the fields SSH uses, not for the others', () => {
  assert.equal(connectionChanged(base, { ...base }), false);
  assert.equal(connectionChanged(base, { ...base, jumps: [] }), false, 'compared by value');
  for (const change of [
    { gateway: 'other' },
    { port: 2222 },
    { user: 'x' },
    { jumps: ['j'] },
    { identityFile: '/k' },
    { useAgent: false },
    { keepaliveIntervalSec: 5 },
    { connectTimeoutSec: 5 },
    { strictHostKeyChecking: 'yes' as const },
    { knownHostsFile: '/kh' },
  ])
    assert.equal(connectionChanged(base, { ...base, ...change }), true, JSON.stringify(change));
  for (const change of [{ socksPort: 1081 }, { idleTimeoutSec: 0 }, { restrictTo: ['*.fr'] }, { maxConnections: 1 }])
    assert.equal(connectionChanged(base, { ...base, ...change }), false, JSON.stringify(change));
});

test('the gateway is shown as the settings name it', () => {
  assert.deepEqual(displayOf(base), { gateway: 'jdoe@access.grid5000.fr', jumps: [] });
  assert.deepEqual(displayOf({ ...base, user: '', port: 2222, jumps: ['j1'] }), {
    gateway: 'access.grid5000.fr:2222',
    jumps: ['j1'],
  });
});

test('restrictTo: bad patterns are logged and skipped', () => {
  const warned: string[] = [];
  const log = { ...silentLogger, warn: (m: string) => void warned.push(m) };
  assert.equal(restrictRules({ ...base, restrictTo: [] }, log).length, 0);
  assert.equal(restrictRules({ ...base, restrictTo: ['*.grid5000.fr', '[bad'] }, log).length, 1);
  assert.equal(warned.length, 1);
  assert.match(warned[0]!, /\[bad/);
});

test('failures: connection errors keep their code, bad settings and bugs are fatal', () => {
  const lost = makeError('CONNECTION_LOST', 'gone');
  assert.deepEqual(errorOf(new ConnectError(lost, false)), { error: lost, fatal: false });
  const route = errorOf(new RouteError('ProxyJump loop'));
  assert.equal(route.error.code, 'NOT_CONFIGURED');
  assert.equal(route.fatal, true);
  const bug = errorOf(new TypeError('x is undefined'));
  assert.equal(bug.error.code, 'INTERNAL');
  assert.equal(bug.fatal, true);
});

test('a SOCKS port that cannot be used says why', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(listenError(err('EADDRINUSE'), '127.0.0.1:1080').code, 'SOCKS_PORT_IN_USE');
  assert.match(listenError(err('EACCES'), '127.0.0.1:80').detail ?? '', /permission denied/);
  assert.equal(listenError(err('EINVAL'), '127.0.0.1:1080').code, 'INTERNAL');
});
