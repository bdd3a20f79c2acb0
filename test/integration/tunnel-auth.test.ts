// Keys only, in OpenSSH's order, against a real sshd: ssh-agent first, the identity file given,
// else the default names; passphrases asked only for a key the gateway accepts, kept in memory for
// reconnections; every failure named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { canRunSshd, startAgent, KEY_PASSPHRASE, TEST_USER, type Gateway, gatewayConfig } from '../../testbed/sshd.js';
import { unprotectedKeyLines } from '../../native-host/ssh/key-permissions.js';
import {
  isolatedTunnel,
  logSince,
  logSize,
  memoryLogger,
  scriptedUser,
  stateIs,
  tempHome,
  useGateway,
  waitForStatus,
} from '../support/tunnel-kit.js';
import type { TunnelConfig } from '../../shared/protocol.js';

const skip = canRunSshd();
let gw: Gateway;
let home: ReturnType<typeof tempHome>;

useGateway((f) => ({ gw, home } = f));

/** Connects in On mode and returns the first connected or error status. */
async function connectOnce(config: TunnelConfig, opts: Parameters<typeof isolatedTunnel>[2] = {}, homeDir = home.dir) {
  const t = isolatedTunnel(config, homeDir, opts);
  try {
    await t.setMode('on');
    return await waitForStatus(t, (s) => s.state === 'connected' || s.state === 'error', 'connected or error');
  } finally {
    await t.close();
  }
}

test('ssh-agent keys are used first, and the agent alone is enough', { skip: skip ?? false }, async () => {
  const agent = await startAgent([gw.keys.plain]);
  try {
    const s = await connectOnce(await gatewayConfig(gw, { identityFile: '', useAgent: true }), {
      env: { SSH_AUTH_SOCK: agent.socket },
    });
    assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
    // with an encrypted identity file as well, the agent's key logs in before any passphrase question
    const user = scriptedUser({ passphrases: [KEY_PASSPHRASE] });
    const both = await connectOnce(await gatewayConfig(gw, { identityFile: gw.keys.encrypted, useAgent: true }), {
      env: { SSH_AUTH_SOCK: agent.socket },
      interaction: user.interaction,
    });
    assert.equal(both.state, 'connected', JSON.stringify(both.lastError));
    assert.deepEqual(user.asked, []);
    // without the agent the same settings have no key at all
    const s2 = await connectOnce(await gatewayConfig(gw, { identityFile: '', useAgent: false }));
    assert.equal(s2.state, 'error');
    assert.equal(s2.lastError?.code, 'NO_IDENTITY');
  } finally {
    agent.stop();
  }
});

test("OpenSSH's default key names are tried when no identity file is set", { skip: skip ?? false }, async () => {
  const h = tempHome();
  try {
    fs.copyFileSync(gw.keys.plain, path.join(h.ssh, 'id_ed25519'));
    fs.chmodSync(path.join(h.ssh, 'id_ed25519'), 0o600);
    const s = await connectOnce(await gatewayConfig(gw, { identityFile: '' }), {}, h.dir);
    assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
  } finally {
    h.cleanup();
  }
});

test('an encrypted key: the passphrase is asked, retried on a typo, never logged', {
  skip: skip ?? false,
}, async () => {
  const user = scriptedUser({ passphrases: ['typo', KEY_PASSPHRASE] });
  const log = memoryLogger();
  const s = await connectOnce(await gatewayConfig(gw, { identityFile: gw.keys.encrypted }), {
    interaction: user.interaction,
    log,
  });
  assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
  assert.deepEqual(user.asked, [
    { keyFile: gw.keys.encrypted, attempt: 1 },
    { keyFile: gw.keys.encrypted, attempt: 2 },
  ]);
  assert.ok(!log.lines.some((l) => l.includes(KEY_PASSPHRASE) || l.includes('typo')), 'no passphrase in the log');
});

test('a declined passphrase is PASSPHRASE_NEEDED, an error that waits for the user', {
  skip: skip ?? false,
}, async () => {
  const user = scriptedUser({ passphrases: [null] });
  const s = await connectOnce(await gatewayConfig(gw, { identityFile: gw.keys.encrypted }), {
    interaction: user.interaction,
  });
  assert.equal(s.state, 'error');
  assert.equal(s.lastError?.code, 'PASSPHRASE_NEEDED');
  assert.equal(user.asked.length, 1);
});

test('three wrong passphrases give up on the key with PASSPHRASE_NEEDED', { skip: skip ?? false }, async () => {
  const user = scriptedUser({ passphrases: ['a', 'b', 'c', KEY_PASSPHRASE] });
  const s = await connectOnce(await gatewayConfig(gw, { identityFile: gw.keys.encrypted }), {
    interaction: user.interaction,
  });
  assert.equal(s.state, 'error');
  assert.equal(s.lastError?.code, 'PASSPHRASE_NEEDED');
  assert.match(s.lastError?.detail ?? '', /wrong passphrase/);
  assert.deepEqual(
    user.asked.map((a) => a.attempt),
    [1, 2, 3],
  );
});

test('no passphrase is asked for an encrypted key the gateway would refuse', { skip: skip ?? false }, async () => {
  const h = tempHome();
  try {
    const other = path.join(h.dir, 'id_other_enc');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'other secret', '-f', other]);
    fs.rmSync(`${other}.pub`); // the public half must come from the private key file itself
    const user = scriptedUser({ passphrases: ['other secret'] });
    const s = await connectOnce(await gatewayConfig(gw, { identityFile: other }), { interaction: user.interaction });
    assert.equal(s.lastError?.code, 'AUTH_FAILED');
    assert.deepEqual(user.asked, [], 'OpenSSH asks only once the server has accepted the public key');
  } finally {
    h.cleanup();
  }
});

test('a key the gateway refuses is AUTH_FAILED naming the keys offered', { skip: skip ?? false }, async () => {
  const s = await connectOnce(await gatewayConfig(gw, { identityFile: gw.keys.wrong }));
  assert.equal(s.state, 'error');
  assert.equal(s.lastError?.code, 'AUTH_FAILED');
  assert.ok(s.lastError?.detail?.includes(gw.keys.wrong), s.lastError?.detail);
});

test('an identity file that is missing or not a private key is KEY_UNREADABLE', { skip: skip ?? false }, async () => {
  const missing = await connectOnce(await gatewayConfig(gw, { identityFile: path.join(home.dir, 'nope') }));
  assert.equal(missing.lastError?.code, 'KEY_UNREADABLE');
  assert.match(missing.lastError?.detail ?? '', /nope: no such file/);
  const pub = await connectOnce(await gatewayConfig(gw, { identityFile: `${gw.keys.plain}.pub` }));
  assert.equal(pub.lastError?.code, 'KEY_UNREADABLE');
  assert.match(pub.lastError?.detail ?? '', /public key/);
});

test('the passphrase is kept in memory for reconnections: asked once', { skip: skip ?? false }, async () => {
  const user = scriptedUser({ passphrases: [KEY_PASSPHRASE] });
  const config = await gatewayConfig(gw, { identityFile: gw.keys.encrypted });
  const t = isolatedTunnel(config, home.dir, {
    interaction: user.interaction,
    backoff: { baseMs: 50, capMs: 200, factor: 2, jitter: 0 },
  });
  try {
    await t.setMode('on');
    const first = await waitForStatus(t, stateIs('connected'), 'connected');
    for (const pid of gw.sessionPids()) {
      // sshd's pre-authentication child may have exited by itself since it was listed
      try {
        process.kill(pid, 'SIGKILL');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
    await waitForStatus(t, (s) => s.state === 'reconnecting', 'reconnecting');
    const again = await waitForStatus(t, stateIs('connected'), 'connected again');
    assert.ok(again.connectedAt! > first.connectedAt!);
    assert.equal(user.asked.length, 1);
  } finally {
    await t.close();
  }
});

test('RSA keys log in (rsa-sha2 signatures), including an old PEM-encrypted key without its .pub', {
  skip: skip ?? false,
}, async () => {
  const h = tempHome();
  const authorized = path.join(gw.dir, 'authorized_keys');
  const before = fs.readFileSync(authorized, 'utf8');
  try {
    const plain = path.join(h.dir, 'id_rsa_plain');
    const pem = path.join(h.dir, 'id_rsa_pem');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-N', '', '-f', plain]);
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-m', 'PEM', '-N', KEY_PASSPHRASE, '-f', pem]);
    fs.appendFileSync(authorized, fs.readFileSync(`${plain}.pub`, 'utf8') + fs.readFileSync(`${pem}.pub`, 'utf8'));
    fs.rmSync(`${pem}.pub`);
    assert.equal((await connectOnce(await gatewayConfig(gw, { identityFile: plain }))).state, 'connected');
    const user = scriptedUser({ passphrases: [KEY_PASSPHRASE] });
    const s = await connectOnce(await gatewayConfig(gw, { identityFile: pem }), { interaction: user.interaction });
    assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
    assert.equal(user.asked.length, 1);
  } finally {
    fs.writeFileSync(authorized, before);
    h.cleanup();
  }
});

/** A copy of a test key (and its .pub) with the given mode, in a fresh home. */
function keyCopy(h: ReturnType<typeof tempHome>, from: string, name: string, mode: number): string {
  const file = path.join(h.ssh, name);
  fs.copyFileSync(from, file);
  fs.copyFileSync(`${from}.pub`, `${file}.pub`);
  fs.chmodSync(file, mode);
  return file;
}

/** The SHA256 fingerprint sshd logs for a key, from its .pub, computed here independently. */
const fingerprintOf = (file: string) =>
  `SHA256:${createHash('sha256')
    .update(Buffer.from(fs.readFileSync(`${file}.pub`, 'utf8').split(' ')[1]!, 'base64'))
    .digest('base64')
    .replace(/=+$/, '')}`;

/** `ssh` itself with this identity file, as the oracle: its exit status and what it printed. */
function sshWith(key: string, agentSocket = ''): { status: number | null; stderr: string } {
  const r = spawnSync(
    'ssh',
    [
      '-F',
      'none',
      '-i',
      key,
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${gw.knownHosts}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-p',
      String(gw.port),
      `${gw.user}@127.0.0.1`,
      'true',
    ],
    { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, timeout: 15_000 },
  );
  // ssh ends its log lines with \r\n
  return { status: r.status, stderr: r.stderr.replace(/\r\n/g, '\n') };
}

test('an identity file others can read is ignored before it is offered: KEY_PERMISSIONS with the chmod, as ssh', {
  skip: skip ?? false,
}, async () => {
  const h = tempHome();
  try {
    const key = keyCopy(h, gw.keys.plain, 'id_open', 0o644);
    const log = memoryLogger();
    const from = logSize(gw.logFile);
    const s = await connectOnce(await gatewayConfig(gw, { identityFile: key }), { log }, h.dir);
    assert.equal(s.state, 'error');
    assert.equal(s.lastError?.code, 'KEY_PERMISSIONS', JSON.stringify(s.lastError));
    assert.equal(s.lastError?.hint, `Run chmod 600 ${key}`);
    assert.ok(s.lastError?.detail?.includes(`${key}: permissions 0644 are too open`), s.lastError?.detail);
    assert.ok(
      log.lines.some((l) => l.startsWith(`warn Permissions 0644 for '${key}' are too open`)),
      log.lines.join('\n'),
    );
    await new Promise((r) => setTimeout(r, 200)); // let sshd write its log lines
    const seen = logSince(gw.logFile, from);
    assert.ok(!seen.includes(fingerprintOf(key)), 'the key was never offered');
    assert.doesNotMatch(seen, /publickey/i, 'no login attempt with any key');

    // the oracle: ssh refuses the same file in these words, and so fails too
    const ssh = sshWith(key);
    assert.equal(ssh.status, 255);
    assert.ok(ssh.stderr.includes(unprotectedKeyLines(key, 0o644).join('\n')), ssh.stderr);

    // once private, the same file logs in, for ssh and for us
    fs.chmodSync(key, 0o600);
    assert.equal(sshWith(key).status, 0);
    const ok = await connectOnce(await gatewayConfig(gw, { identityFile: key }), {}, h.dir);
    assert.equal(ok.state, 'connected', JSON.stringify(ok.lastError));
  } finally {
    h.cleanup();
  }
});

test('a default key others can read is only warned about when an agent key logs in', {
  skip: skip ?? false,
}, async () => {
  const h = tempHome();
  const agent = await startAgent([gw.keys.plain]);
  try {
    const key = keyCopy(h, gw.keys.wrong, 'id_ed25519', 0o640);
    const log = memoryLogger();
    const s = await connectOnce(
      await gatewayConfig(gw, { identityFile: '', useAgent: true }),
      { env: { SSH_AUTH_SOCK: agent.socket }, log },
      h.dir,
    );
    assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
    assert.ok(
      log.lines.some((l) => l.startsWith(`warn Permissions 0640 for '${key}' are too open`)),
      log.lines.join('\n'),
    );
    // without the agent no key is left: KEY_PERMISSIONS, naming the default file
    const alone = await connectOnce(await gatewayConfig(gw, { identityFile: '', useAgent: false }), {}, h.dir);
    assert.equal(alone.lastError?.code, 'KEY_PERMISSIONS');
    assert.equal(alone.lastError?.hint, `Run chmod 600 ${key}`);
  } finally {
    agent.stop();
    h.cleanup();
  }
});

test('a key file whose key the agent holds is signed by the agent and never read, so not warned about (as ssh)', {
  skip: skip ?? false,
}, async () => {
  const h = tempHome();
  const agent = await startAgent([gw.keys.plain]);
  try {
    const key = keyCopy(h, gw.keys.plain, 'id_twin', 0o644);
    const ssh = sshWith(key, agent.socket);
    assert.equal(ssh.status, 0, ssh.stderr);
    assert.doesNotMatch(ssh.stderr, /UNPROTECTED/);
    const log = memoryLogger();
    const s = await connectOnce(
      await gatewayConfig(gw, { identityFile: key, useAgent: true }),
      { env: { SSH_AUTH_SOCK: agent.socket }, log },
      h.dir,
    );
    assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
    assert.ok(!log.lines.some((l) => /too open/.test(l)), log.lines.join('\n'));
  } finally {
    agent.stop();
    h.cleanup();
  }
});

test('a key file owned by another user is not judged by its mode, as ssh ("then we don\'t care")', {
  skip: skip ?? false,
}, async () => {
  const h = tempHome();
  try {
    const key = keyCopy(h, gw.keys.plain, 'id_theirs', 0o644);
    const uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim());
    fs.chownSync(key, uid, -1);
    const ssh = sshWith(key);
    assert.equal(ssh.status, 0, ssh.stderr);
    const s = await connectOnce(await gatewayConfig(gw, { identityFile: key }), {}, h.dir);
    assert.equal(s.state, 'connected', JSON.stringify(s.lastError));
  } finally {
    h.cleanup();
  }
});
