// known_hosts files on disk, with OpenSSH's tools as the oracle: fresh keys from ssh-keygen,
// fingerprints from `ssh-keygen -lf`, hashed files from `ssh-keygen -H`, lookups with
// `ssh-keygen -F`, lines from `ssh-keyscan` against a real sshd, and the key ssh2 hands to its
// hostVerifier checked against them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { fingerprint, hostKeyFromBlob, type HostKey } from '../../native-host/ssh/known-hosts.js';
import {
  appendKnownHost,
  checkHostKeyInFiles,
  defaultKnownHostsFiles,
  readKnownHostsFiles,
} from '../../native-host/ssh/known-hosts-store.js';
import { canRunSshd, startGateway } from '../../testbed/sshd.js';

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-kh-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A fresh key pair from ssh-keygen; returns the public key and its .pub path. */
function newKey(name: string, type: string, bits?: number): { key: HostKey; pub: string; line: string } {
  const file = path.join(tmp, name);
  execFileSync(
    'ssh-keygen',
    ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', name, '-f', file],
    { stdio: 'ignore' },
  );
  const line = fs.readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  return { key: hostKeyFromBlob(Buffer.from(line.split(' ')[1]!, 'base64')), pub: `${file}.pub`, line };
}

function keygenFind(host: string, file: string): string {
  try {
    return execFileSync('ssh-keygen', ['-F', host, '-f', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return ''; // exit 1: not found
  }
}

test('fingerprint matches ssh-keygen -lf for fresh keys of every type', () => {
  for (const [type, bits] of [['ed25519'], ['ecdsa', 256], ['ecdsa', 384], ['ecdsa', 521], ['rsa', 3072]] as [
    string,
    number?,
  ][]) {
    const k = newKey(`fp_${type}${bits ?? ''}`, type, bits);
    const out = execFileSync('ssh-keygen', ['-lf', k.pub], { encoding: 'utf8' });
    assert.equal(fingerprint(k.key.blob), out.split(' ')[1], `${type} ${bits ?? ''}`);
  }
});

test('files hashed by ssh-keygen -H are read; hashed lines we write are found by ssh-keygen -F', () => {
  const a = newKey('h_a', 'ed25519');
  const b = newKey('h_b', 'ecdsa', 256);
  const file = path.join(tmp, 'hashed_known_hosts');
  fs.writeFileSync(file, `gw.example.org ${a.line}\n[gw.example.org]:2222 ${b.line}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
  fs.rmSync(`${file}.old`);
  assert.ok(fs.readFileSync(file, 'utf8').startsWith('|1|'), 'ssh-keygen hashed the file');
  assert.equal(checkHostKeyInFiles([file], 'gw.example.org', 22, a.key).status, 'known');
  assert.equal(checkHostKeyInFiles([file], 'gw.example.org', 2222, b.key).status, 'known');
  // [gw.example.org]:2222 holds only the ECDSA key: the ed25519 one is another key for it, as for ssh
  assert.equal(checkHostKeyInFiles([file], 'gw.example.org', 2222, a.key).status, 'changed');
  // no [gw.example.org]:2200 line: the bare name's key is taken, another key is unknown (OpenSSH's fallback)
  assert.equal(checkHostKeyInFiles([file], 'gw.example.org', 2200, a.key).status, 'known');
  assert.equal(checkHostKeyInFiles([file], 'gw.example.org', 2200, b.key).status, 'unknown');

  const ours = path.join(tmp, 'ours_hashed');
  appendKnownHost(ours, 'Node-1.Example.org', 2222, a.key, { hash: true });
  appendKnownHost(ours, 'node-2.example.org', 22, b.key, { hash: true });
  assert.doesNotMatch(fs.readFileSync(ours, 'utf8'), /example/, 'no clear-text name left');
  assert.match(keygenFind('[node-1.example.org]:2222', ours), /ssh-ed25519/);
  assert.match(keygenFind('node-2.example.org', ours), /ecdsa-sha2-nistp256/);
  assert.equal(keygenFind('node-1.example.org', ours), '', 'port 2222 is not port 22');
});

test('appendKnownHost creates ~/.ssh 0700 and the file 0600, and never rewrites what is there', () => {
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home);
  const file = defaultKnownHostsFiles(home).user[0]!;
  const k = newKey('app_a', 'ed25519');
  appendKnownHost(file, 'gw.example.org', 22, k.key);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.readFileSync(file, 'utf8'), `gw.example.org ${k.line}\n`);
  assert.match(keygenFind('gw.example.org', file), /ssh-ed25519/);

  // a hand-edited file with no final newline: the old bytes stay, the new line starts on its own
  const before = '# mine\nold.example.org ssh-ed25519 AAAA-not-checked';
  fs.writeFileSync(file, before);
  fs.chmodSync(file, 0o644);
  appendKnownHost(file, '127.0.0.1', 2222, k.key);
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.startsWith(`${before}\n`));
  assert.equal(text.slice(before.length + 1), `[127.0.0.1]:2222 ${k.line}\n`);
  assert.equal(fs.statSync(file).mode & 0o777, 0o644, 'an existing file keeps its mode');
  assert.equal(checkHostKeyInFiles([file], '127.0.0.1', 2222, k.key).status, 'known');
});

test('checkHostKeyInFiles: user files then global ones; missing files are fine; bad lines are warned about', () => {
  const a = newKey('f_a', 'ed25519');
  const b = newKey('f_b', 'ed25519');
  const user = path.join(tmp, 'user_kh');
  const global = path.join(tmp, 'global_kh');
  fs.writeFileSync(user, `gw.example.org ${a.line}\nbroken line\n`);
  fs.writeFileSync(global, `other.example.org ${b.line}\n@revoked * ${b.line}\n`);
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const files = [path.join(tmp, 'missing'), user, global];
  assert.deepEqual(checkHostKeyInFiles(files, 'gw.example.org', 22, a.key, { warn }), {
    status: 'known',
    file: user,
    line: 1,
  });
  assert.deepEqual(warnings, [`${user}:2: no base64 key data after "line"; line skipped`]);
  // a revocation in the global file wins over a matching line
  assert.deepEqual(checkHostKeyInFiles(files, 'other.example.org', 22, b.key), {
    status: 'revoked',
    file: global,
    line: 2,
  });
  // a directory where a file should be is skipped with a warning, not a crash
  const w2: string[] = [];
  assert.equal(
    checkHostKeyInFiles([tmp, user], 'gw.example.org', 22, a.key, { warn: (m) => w2.push(m) }).status,
    'known',
  );
  assert.match(w2[0]!, /not a regular file/);
  assert.deepEqual(readKnownHostsFiles([path.join(tmp, 'nope', 'deeper')]), { entries: [], warnings: [] });
  assert.deepEqual(
    readKnownHostsFiles(['/dev/null']),
    { entries: [], warnings: [] },
    'UserKnownHostsFile /dev/null is no warning',
  );
});

test('defaultKnownHostsFiles: OpenSSH defaults, or the given file in place of the user pair', () => {
  assert.deepEqual(defaultKnownHostsFiles('/home/u'), {
    user: ['/home/u/.ssh/known_hosts', '/home/u/.ssh/known_hosts2'],
    global: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
  });
  assert.deepEqual(defaultKnownHostsFiles('/home/u', '/x/kh').user, ['/x/kh']);
  assert.deepEqual(defaultKnownHostsFiles('/home/u', '').user, [
    '/home/u/.ssh/known_hosts',
    '/home/u/.ssh/known_hosts2',
  ]);
});

/** The host key blob ssh2 hands to hostVerifier; the handshake is then refused. */
function presentedKey(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    let blob: Buffer | null = null;
    const timer = setTimeout(() => {
      c.end();
      reject(new Error('no host key within 15 s'));
    }, 15000);
    c.on('error', () => {
      clearTimeout(timer);
      c.end();
      if (blob) resolve(blob);
      else reject(new Error('handshake failed before the host key'));
    });
    c.connect({
      host: '127.0.0.1',
      port,
      username: 'nobody',
      hostVerifier: (key: Buffer) => {
        blob = Buffer.from(key);
        return false;
      },
    });
  });
}

test('a real sshd: ssh-keyscan lines and the key ssh2 presents agree; a new host key is "changed"', {
  skip: canRunSshd() ?? false,
}, async () => {
  const gw = await startGateway();
  try {
    const scanned = path.join(tmp, 'scanned');
    const out = execFileSync('ssh-keyscan', ['-p', String(gw.port), '-t', 'ed25519', '127.0.0.1'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    fs.writeFileSync(scanned, out);
    const first = hostKeyFromBlob(await presentedKey(gw.port));
    assert.equal(first.type, 'ssh-ed25519');
    assert.equal(`${first.type} ${first.blob.toString('base64')}`, gw.hostKeyPublic);
    assert.deepEqual(checkHostKeyInFiles([scanned], '127.0.0.1', gw.port, first), {
      status: 'known',
      file: scanned,
      line: 1,
    });
    assert.equal(checkHostKeyInFiles([gw.knownHosts], '127.0.0.1', gw.port, first).status, 'known');
    assert.equal(checkHostKeyInFiles([gw.knownHosts], '127.0.0.1', 22, first).status, 'unknown');

    const old = fs.readFileSync(gw.knownHosts, 'utf8');
    const oldFile = path.join(tmp, 'old_known_hosts');
    fs.writeFileSync(oldFile, old);
    await gw.restart({ newHostKey: true });
    const second = hostKeyFromBlob(await presentedKey(gw.port));
    const r = checkHostKeyInFiles([oldFile], '127.0.0.1', gw.port, second);
    assert.equal(r.status, 'changed');
    assert.equal(r.status === 'changed' && r.knownFingerprint, fingerprint(first.blob));
  } finally {
    await gw.stop();
  }
});

/** `ssh` itself against the gateway with this known_hosts file: what it says about the host key. */
function sshVerdict(port: number, knownHosts: string, strict: string, extra: string[] = []): string {
  try {
    execFileSync(
      'ssh',
      [
        ...extra,
        '-F',
        'none',
        '-p',
        String(port),
        '-o',
        'BatchMode=yes',
        '-o',
        `StrictHostKeyChecking=${strict}`,
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'IdentityFile=/dev/null',
        'nobody@127.0.0.1',
        'true',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 },
    );
    return 'connected';
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? '');
  }
}

test('only a key of another type on file: OpenSSH refuses it as CHANGED even with accept-new, and so do we', {
  skip: canRunSshd() ?? false,
}, async () => {
  const gw = await startGateway();
  try {
    const presented = hostKeyFromBlob(await presentedKey(gw.port));
    assert.equal(presented.type, 'ssh-ed25519');
    const ecdsa = newKey('other_type_ecdsa', 'ecdsa', 256);
    const file = path.join(tmp, 'other_type_kh');
    fs.writeFileSync(file, `[127.0.0.1]:${gw.port} ${ecdsa.line}\n`);
    const said = sshVerdict(gw.port, file, 'accept-new');
    assert.match(said, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
    assert.match(said, new RegExp(`Offending ECDSA key in ${file}:1`));
    assert.deepEqual(checkHostKeyInFiles([file], '127.0.0.1', gw.port, presented), {
      status: 'changed',
      file,
      line: 1,
      knownType: 'ecdsa-sha2-nistp256',
      knownFingerprint: fingerprint(ecdsa.key.blob),
    });
    assert.equal(fs.readFileSync(file, 'utf8'), `[127.0.0.1]:${gw.port} ${ecdsa.line}\n`, 'ssh added nothing');
  } finally {
    await gw.stop();
  }
});

test('port other than 22, only the bare host name on file: OpenSSH and we agree on the right key, a wrong one, and what is written', {
  skip: canRunSshd() ?? false,
}, async () => {
  const gw = await startGateway();
  try {
    const presented = hostKeyFromBlob(await presentedKey(gw.port));
    const right = path.join(tmp, 'bare_right_kh');
    fs.writeFileSync(right, `127.0.0.1 ${gw.hostKeyPublic}\n`);
    // the right key: ssh takes it (the login then fails, after the host key was accepted)
    const ok = sshVerdict(gw.port, right, 'yes', ['-v']);
    assert.match(ok, /checking without port identifier/);
    assert.match(ok, /found matching key w\/out port/);
    assert.doesNotMatch(ok, /Host key verification failed/);
    assert.match(ok, /Permission denied/);
    const debug: string[] = [];
    assert.deepEqual(checkHostKeyInFiles([right], '127.0.0.1', gw.port, presented, { debug: (m) => debug.push(m) }), {
      status: 'known',
      file: right,
      line: 1,
      withoutPort: true,
    });
    assert.match(debug.join('\n'), /found matching key w\/out port/);

    // a wrong key under the bare name: unknown to ssh (strict checking refuses, no CHANGED warning)
    const wrongKey = newKey('bare_wrong', 'ed25519');
    const wrong = path.join(tmp, 'bare_wrong_kh');
    fs.writeFileSync(wrong, `127.0.0.1 ${wrongKey.line}\n`);
    const refused = sshVerdict(gw.port, wrong, 'yes', ['-v']);
    assert.match(refused, /checking without port identifier/);
    assert.doesNotMatch(refused, /found matching key w\/out port/);
    assert.doesNotMatch(refused, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
    assert.match(
      refused,
      /No ED25519 host key is known for \[127\.0\.0\.1\]:\d+ and you have requested strict checking/,
    );
    assert.match(refused, /Host key verification failed/);
    assert.deepEqual(checkHostKeyInFiles([wrong], '127.0.0.1', gw.port, presented), {
      status: 'unknown',
      otherTypesKnown: [],
      mismatchWithoutPort: { file: wrong, line: 1 },
    });

    // accepted as new: ssh writes [host]:port under the bare line, and so do we
    const theirs = path.join(tmp, 'bare_theirs_kh');
    const ours = path.join(tmp, 'bare_ours_kh');
    fs.writeFileSync(theirs, `127.0.0.1 ${wrongKey.line}\n`);
    fs.writeFileSync(ours, `127.0.0.1 ${wrongKey.line}\n`);
    assert.match(sshVerdict(gw.port, theirs, 'accept-new'), /Permanently added '\[127\.0\.0\.1\]:\d+'/);
    appendKnownHost(ours, '127.0.0.1', gw.port, presented);
    const lines = (f: string) =>
      fs
        .readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ').slice(0, 3).join(' '));
    assert.deepEqual(lines(ours), lines(theirs));
    assert.equal(lines(ours)[1], `[127.0.0.1]:${gw.port} ${gw.hostKeyPublic}`);
    assert.equal(checkHostKeyInFiles([theirs], '127.0.0.1', gw.port, presented).status, 'known');
    // now that [127.0.0.1]:port is on file, it alone decides: the bare line's key is a change there
    assert.match(sshVerdict(gw.port, theirs, 'yes'), /Permission denied/);
    assert.equal(checkHostKeyInFiles([theirs], '127.0.0.1', gw.port, wrongKey.key).status, 'changed');
  } finally {
    await gw.stop();
  }
});
