// Host keys checked against known_hosts before any login attempt, per policy, against a real sshd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { canRunSshd, type Gateway, gatewayConfig } from '../../testbed/sshd.js';
import {
  isolatedTunnel,
  logSince,
  logSize,
  scriptedUser,
  type tempHome,
  useGateway,
  waitForStatus,
} from '../support/tunnel-kit.js';
import type { HostKeyPolicy, TunnelConfig } from '../../shared/protocol.js';

const skip = canRunSshd();
let gw: Gateway;
let home: ReturnType<typeof tempHome>;

useGateway((f) => ({ gw, home } = f));

/** The fingerprint of an `ssh-ed25519 AAAA…` line, computed here independently of the code under test. */
const fingerprintOf = (publicLine: string) =>
  `SHA256:${createHash('sha256')
    .update(Buffer.from(publicLine.split(' ')[1]!, 'base64'))
    .digest('base64')
    .replace(/=+$/, '')}`;

async function connectOnce(config: TunnelConfig, user = scriptedUser()) {
  const t = isolatedTunnel(config, home.dir, { interaction: user.interaction });
  try {
    await t.setMode('on');
    return await waitForStatus(t, (s) => s.state === 'connected' || s.state === 'error', 'connected or error');
  } finally {
    await t.close();
  }
}

function emptyKnownHosts(name: string): string {
  const f = path.join(home.dir, name);
  fs.writeFileSync(f, '');
  return f;
}

test('a known host key connects without a question', { skip: skip ?? false }, async () => {
  const user = scriptedUser();
  const s = await connectOnce(await gatewayConfig(gw), user);
  assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
  assert.equal(user.hostKeyQuestions.length, 0);
});

test('an unknown key under "yes" is HOSTKEY_UNKNOWN, refused before any login attempt', {
  skip: skip ?? false,
}, async () => {
  const kh = emptyKnownHosts('kh-yes');
  const from = logSize(gw.logFile);
  const s = await connectOnce(await gatewayConfig(gw, { knownHostsFile: kh, strictHostKeyChecking: 'yes' }));
  assert.equal(s.state, 'error');
  assert.equal(s.lastError?.code, 'HOSTKEY_UNKNOWN');
  assert.ok(s.lastError?.detail?.includes(fingerprintOf(gw.hostKeyPublic)), s.lastError?.detail);
  assert.equal(fs.readFileSync(kh, 'utf8'), '', 'nothing written');
  await new Promise((r) => setTimeout(r, 200)); // let sshd write its log line
  assert.doesNotMatch(logSince(gw.logFile, from), /publickey/i, 'the gateway saw no login attempt');
});

test('"ask": the user sees the fingerprint; accepting stores the key and connects', {
  skip: skip ?? false,
}, async () => {
  const kh = emptyKnownHosts('kh-ask');
  const user = scriptedUser({ acceptHostKey: true });
  const s = await connectOnce(await gatewayConfig(gw, { knownHostsFile: kh, strictHostKeyChecking: 'ask' }), user);
  assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
  assert.equal(user.hostKeyQuestions.length, 1);
  const q = user.hostKeyQuestions[0]!;
  assert.equal(q.host, '127.0.0.1');
  assert.equal(q.port, gw.port);
  assert.equal(q.keyType, 'ssh-ed25519');
  assert.equal(q.fingerprint, fingerprintOf(gw.hostKeyPublic));
  assert.equal(q.knownHostsFile, kh);
  assert.equal(fs.readFileSync(kh, 'utf8').trim(), `[127.0.0.1]:${gw.port} ${gw.hostKeyPublic}`);
  // and the next connection knows it
  const again = scriptedUser();
  assert.equal(
    (await connectOnce(await gatewayConfig(gw, { knownHostsFile: kh, strictHostKeyChecking: 'ask' }), again)).state,
    'connected',
  );
  assert.equal(again.hostKeyQuestions.length, 0);
});

test('"ask": declining is HOSTKEY_UNKNOWN and stores nothing', { skip: skip ?? false }, async () => {
  const kh = emptyKnownHosts('kh-decline');
  const user = scriptedUser({ acceptHostKey: false });
  const s = await connectOnce(await gatewayConfig(gw, { knownHostsFile: kh, strictHostKeyChecking: 'ask' }), user);
  assert.equal(s.lastError?.code, 'HOSTKEY_UNKNOWN');
  assert.equal(user.hostKeyQuestions.length, 1);
  assert.equal(fs.readFileSync(kh, 'utf8'), '');
});

for (const policy of ['accept-new', 'no'] as HostKeyPolicy[]) {
  test(`"${policy}": an unknown key is stored and used without a question`, { skip: skip ?? false }, async () => {
    const kh = emptyKnownHosts(`kh-${policy}`);
    const user = scriptedUser();
    const s = await connectOnce(await gatewayConfig(gw, { knownHostsFile: kh, strictHostKeyChecking: policy }), user);
    assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
    assert.equal(user.hostKeyQuestions.length, 0);
    assert.match(fs.readFileSync(kh, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${gw.port} ssh-ed25519 `));
  });
}

test('port other than 22, only the bare host name on file: its key connects without a question', {
  skip: skip ?? false,
}, async () => {
  const kh = path.join(home.dir, 'kh-bare-right');
  fs.writeFileSync(kh, `${gw.host} ${gw.hostKeyPublic}\n`);
  const user = scriptedUser();
  const s = await connectOnce(await gatewayConfig(gw, { knownHostsFile: kh, strictHostKeyChecking: 'yes' }), user);
  assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
  assert.equal(user.hostKeyQuestions.length, 0);
  assert.equal(fs.readFileSync(kh, 'utf8'), `${gw.host} ${gw.hostKeyPublic}\n`, 'nothing written');
});

test('port other than 22, another key under the bare host name: unknown (asked), not changed; accepted as [host]:port', {
  skip: skip ?? false,
}, async () => {
  const otherKey = fs.readFileSync(`${gw.keys.wrong}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  const kh = path.join(home.dir, 'kh-bare-wrong');
  fs.writeFileSync(kh, `${gw.host} ${otherKey}\n`);
  const from = logSize(gw.logFile);
  const strict = await connectOnce(await gatewayConfig(gw, { knownHostsFile: kh, strictHostKeyChecking: 'yes' }));
  assert.equal(strict.lastError?.code, 'HOSTKEY_UNKNOWN', JSON.stringify(strict.lastError));
  await new Promise((r) => setTimeout(r, 200));
  assert.doesNotMatch(logSince(gw.logFile, from), /publickey/i, 'the gateway saw no login attempt');

  const user = scriptedUser({ acceptHostKey: true });
  const s = await connectOnce(await gatewayConfig(gw, { knownHostsFile: kh, strictHostKeyChecking: 'ask' }), user);
  assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
  assert.equal(user.hostKeyQuestions.length, 1);
  assert.equal(user.hostKeyQuestions[0]!.fingerprint, fingerprintOf(gw.hostKeyPublic));
  assert.equal(
    fs.readFileSync(kh, 'utf8'),
    `${gw.host} ${otherKey}\n[${gw.host}]:${gw.port} ${gw.hostKeyPublic}\n`,
    'the bare line stays; the new key is filed under [host]:port',
  );
});

test('a revoked key is HOSTKEY_REVOKED', { skip: skip ?? false }, async () => {
  const kh = path.join(home.dir, 'kh-revoked');
  fs.writeFileSync(kh, `@revoked * ${gw.hostKeyPublic}\n[127.0.0.1]:${gw.port} ${gw.hostKeyPublic}\n`);
  const s = await connectOnce(await gatewayConfig(gw, { knownHostsFile: kh, strictHostKeyChecking: 'no' }));
  assert.equal(s.lastError?.code, 'HOSTKEY_REVOKED');
  assert.ok(s.lastError?.detail?.includes(`${kh}:1`));
});

test('a changed key is HOSTKEY_CHANGED, naming file:line and both fingerprints, whatever the policy', {
  skip: skip ?? false,
}, async () => {
  const kh = path.join(home.dir, 'kh-changed');
  fs.writeFileSync(kh, `# the old key\n[127.0.0.1]:${gw.port} ${gw.hostKeyPublic}\n`);
  const oldFp = fingerprintOf(gw.hostKeyPublic);
  await gw.restart({ newHostKey: true });
  const newFp = fingerprintOf(gw.hostKeyPublic);
  for (const policy of ['no', 'accept-new', 'ask'] as HostKeyPolicy[]) {
    const user = scriptedUser({ acceptHostKey: true });
    const from = logSize(gw.logFile);
    const s = await connectOnce(await gatewayConfig(gw, { knownHostsFile: kh, strictHostKeyChecking: policy }), user);
    assert.equal(s.state, 'error', policy);
    assert.equal(s.lastError?.code, 'HOSTKEY_CHANGED');
    const d = s.lastError?.detail ?? '';
    assert.ok(d.includes(`${kh}:2`) && d.includes(oldFp) && d.includes(newFp), d);
    assert.equal(user.hostKeyQuestions.length, 0, 'never offered to accept a changed key');
    await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(logSince(gw.logFile, from), /publickey/i);
  }
  assert.equal(fs.readFileSync(kh, 'utf8').split('\n').length, 3, 'known_hosts untouched');
});
