// `g5k-tunnel doctor` against a temporary HOME, a real ssh-agent and a real sshd: every check passes
// when things are right, and each one fails, and says what to do, when its link is broken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  runDoctor,
  main as doctorMain,
  type Check,
  type DoctorOptions,
  formatCheck,
  parseDoctorArgs,
} from '../../native-host/setup/doctor/main.js';
import { nodeVersionOk } from '../../native-host/setup/doctor/local.js';
import { installMain } from '../../native-host/setup/install.js';
import { DEFAULT_IDENTITY_NAMES } from '../../native-host/ssh/auth.js';
import { launcherPath, manifestPath } from '../../native-host/setup/browser-paths.js';
import { launcherScript } from '../../native-host/setup/launcher.js';
import { canRunSshd, makeKeys, startAgent, startGateway } from '../../testbed/sshd.js';
import { freePort } from '../../testbed/ports.js';
import { writeGuideSshConfig } from '../support/guide-ssh-config.js';

const skipSshd = canRunSshd();

interface Home {
  root: string;
  home: string;
  bin: string;
  hostMain: string;
  opts(extra?: Partial<DoctorOptions>): DoctorOptions;
  done(): void;
}

/** A temporary HOME, and a PATH holding only a fake `firefox` and `chromium` (never run, only found). */
function makeHome(): Home {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-doctor-'));
  const home = path.join(root, 'home');
  const bin = path.join(root, 'bin');
  fs.mkdirSync(home);
  fs.mkdirSync(bin);
  for (const b of ['firefox', 'chromium']) fs.writeFileSync(path.join(bin, b), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const hostMain = path.join(root, 'host-main.js');
  fs.writeFileSync(hostMain, 'process.stdin.resume();\n');
  return {
    root,
    home,
    bin,
    hostMain,
    opts: ({ env, ...extra } = {}) => ({
      env: { HOME: home, PATH: bin, ...env },
      platform: 'linux',
      gateway: '127.0.0.1',
      port: 1, // replaced by each test
      socksPort: 1,
      identities: [],
      knownHosts: [],
      timeoutMs: 3000,
      ...extra,
    }),
    done: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

function find(checks: Check[], re: RegExp): Check {
  const c = checks.find((x) => re.test(x.text));
  assert.ok(c, `no check matching ${re}; got:\n${checks.map(formatCheck).join('\n')}`);
  return c;
}

/** ~/.ssh (0700) in the temporary HOME, holding a copy of `key` (0600) as `name`. */
function sshDirWithKey(h: Home, key: string, name: string): string {
  const ssh = path.join(h.home, '.ssh');
  fs.mkdirSync(ssh, { mode: 0o700 });
  fs.copyFileSync(key, path.join(ssh, name));
  fs.chmodSync(path.join(ssh, name), 0o600);
  return ssh;
}

const install = (h: Home) =>
  installMain(['--browser', 'firefox,chromium'], {
    env: { HOME: h.home },
    platform: 'linux',
    hostMain: h.hostMain,
    print: () => {},
  });

test('node version threshold is 20.19', () => {
  assert.equal(nodeVersionOk('v20.19.0'), true);
  assert.equal(nodeVersionOk('v22.1.0'), true);
  assert.equal(nodeVersionOk('v20.18.3'), false);
  assert.equal(nodeVersionOk('v18.20.0'), false);
});

test('a fresh machine: missing manifests, no key, unreachable gateway, busy port, each a ✗ with a fix; exit 1', async () => {
  const h = makeHome();
  const closedPort = await freePort();
  const busy = net.createServer((s) => s.end('HTTP/1.0 400 nope\r\n\r\n'));
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const busyPort = (busy.address() as net.AddressInfo).port;
  try {
    const checks = await runDoctor(h.opts({ port: closedPort, socksPort: busyPort }));
    assert.equal(find(checks, /^Firefox: no host manifest/).mark, 'fail');
    assert.match(find(checks, /^Chromium: no host manifest/).fix!, /g5k-tunnel install --browser chromium/);
    assert.equal(
      checks.filter((c) => /^(Google Chrome|Brave|Vivaldi|Microsoft Edge)/.test(c.text)).length,
      0,
      'browsers not installed are not reported',
    );
    assert.equal(find(checks, /no ssh-agent/).mark, 'warn');
    const key = find(checks, /no SSH key/);
    assert.equal(key.mark, 'fail');
    assert.match(key.fix!, /ssh-keygen/);
    assert.equal(find(checks, /known_hosts has no key for \[127\.0\.0\.1\]:/).mark, 'warn');
    const gw = find(checks, /gateway 127\.0\.0\.1:\d+ unreachable: connection refused/);
    assert.equal(gw.mark, 'fail');
    assert.equal(find(checks, new RegExp(`SOCKS port ${busyPort} is taken by another program`)).mark, 'fail');
    assert.equal(find(checks, /no host log yet/).mark, 'warn');

    const out: string[] = [];
    const code = await doctorMain(
      ['--gateway', `127.0.0.1:${closedPort}`, '--socks-port', String(busyPort), '--timeout', '3'],
      h.opts().env,
      (l) => out.push(l),
    );
    assert.equal(code, 1);
    assert.ok(
      out.some((l) => l.startsWith('✗ Firefox: no host manifest → run `g5k-tunnel install --browser firefox`')),
      out.join('\n'),
    );
    assert.match(out.at(-1)!, /problems? to fix/);
  } finally {
    busy.close();
    h.done();
  }
});

test('manifest and launcher faults: not executable, extension not allowed, node gone, host script gone', async () => {
  const h = makeHome();
  try {
    assert.equal(await install(h), 0);
    const base = h.opts({ port: await freePort(), socksPort: await freePort() });
    let checks = await runDoctor(base);
    assert.equal(find(checks, /^Firefox: host manifest .* allows the extension/).mark, 'ok');
    assert.equal(find(checks, /^Chromium: host manifest .* allows the extension/).mark, 'ok');
    assert.equal(find(checks, /^launcher's node .* v\d+/).mark, 'ok');
    assert.equal(find(checks, /^launcher .* starts /).mark, 'ok');

    const launcher = launcherPath('linux', 'user', h.home);
    fs.chmodSync(launcher, 0o644);
    checks = await runDoctor(base);
    assert.equal(find(checks, /^Firefox: launcher .* is not executable/).mark, 'fail');
    fs.chmodSync(launcher, 0o755);

    const chromiumManifest = manifestPath('chromium', 'linux', 'user', h.home);
    const m = JSON.parse(fs.readFileSync(chromiumManifest, 'utf8'));
    fs.writeFileSync(
      chromiumManifest,
      JSON.stringify({ ...m, allowed_origins: ['chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/'] }),
    );
    checks = await runDoctor(base);
    assert.equal(find(checks, /^Chromium: .* does not allow the extension/).mark, 'fail');
    fs.writeFileSync(chromiumManifest, '{ not json');
    checks = await runDoctor(base);
    assert.equal(find(checks, /^Chromium: .* is not valid JSON/).mark, 'fail');

    fs.writeFileSync(launcher, launcherScript('linux', path.join(h.root, 'old-node/bin/node'), h.hostMain));
    checks = await runDoctor(base);
    assert.match(find(checks, /old-node\/bin\/node, which is gone/).fix!, /install/);

    fs.writeFileSync(launcher, launcherScript('linux', process.execPath, path.join(h.root, 'moved.js')));
    checks = await runDoctor(base);
    assert.equal(find(checks, /moved\.js, which is missing/).mark, 'fail');
  } finally {
    h.done();
  }
});

test('keys: agent unreachable, empty agent, agent with a key; key file and ~/.ssh permissions; encrypted key', async () => {
  const h = makeHome();
  const ssh = path.join(h.home, '.ssh');
  fs.mkdirSync(ssh, { mode: 0o700 });
  const keys = makeKeys(ssh); // id_ed25519, id_ed25519_enc, id_ed25519_wrong
  const agent = await startAgent([keys.plain]);
  const empty = await startAgent([]);
  try {
    const base = { port: await freePort(), socksPort: await freePort() };
    let checks = await runDoctor(h.opts({ ...base, env: { SSH_AUTH_SOCK: path.join(h.root, 'no-agent.sock') } }));
    assert.equal(find(checks, /ssh-agent at .* cannot be reached/).mark, 'fail');

    checks = await runDoctor(h.opts({ ...base, env: { SSH_AUTH_SOCK: empty.socket } }));
    assert.equal(find(checks, /ssh-agent at .* holds no key/).mark, 'warn');

    checks = await runDoctor(h.opts({ ...base, env: { SSH_AUTH_SOCK: agent.socket } }));
    assert.equal(find(checks, /ssh-agent holds 1 key: ssh-ed25519 SHA256:/).mark, 'ok');
    assert.equal(find(checks, /identity file ~\/\.ssh\/id_ed25519 \(ssh-ed25519, mode 600\)/).mark, 'ok');
    assert.equal(find(checks, /^~\/\.ssh \(mode 700\)/).mark, 'ok');

    fs.chmodSync(keys.plain, 0o644);
    fs.chmodSync(ssh, 0o755);
    checks = await runDoctor(h.opts(base));
    const k = find(checks, /identity file ~\/\.ssh\/id_ed25519 is readable by other users/);
    assert.equal(k.mark, 'fail');
    assert.equal(k.fix, `chmod 600 ${keys.plain}`);
    assert.equal(find(checks, /~\/\.ssh is open to other users \(mode 755\)/).fix, 'chmod 700 ~/.ssh');

    checks = await runDoctor(h.opts({ ...base, identities: [keys.encrypted] }));
    assert.equal(find(checks, /identity file ~\/\.ssh\/id_ed25519_enc \(passphrase-protected/).mark, 'ok');
    fs.writeFileSync(path.join(ssh, 'garbage'), 'not a key', { mode: 0o600 });
    checks = await runDoctor(h.opts({ ...base, identities: [path.join(ssh, 'garbage'), path.join(ssh, 'nope')] }));
    assert.equal(find(checks, /garbage cannot be read as an SSH private key/).mark, 'fail');
    assert.equal(find(checks, /nope does not exist/).mark, 'fail');
  } finally {
    agent.stop();
    empty.stop();
    h.done();
  }
});

test('without --identity, the key files checked are the ones the tunnel tries', async () => {
  const h = makeHome();
  const ssh = path.join(h.home, '.ssh');
  fs.mkdirSync(ssh, { mode: 0o700 });
  for (const n of [...DEFAULT_IDENTITY_NAMES, 'id_ed25519_sk', 'id_other'])
    fs.writeFileSync(path.join(ssh, n), 'not a key', { mode: 0o600 });
  try {
    const checks = await runDoctor(h.opts({ port: await freePort(), socksPort: await freePort() }));
    const keyFiles = checks
      .filter((c) => /^identity file /.test(c.text))
      .map((c) => /~\/\.ssh\/(\S+)/.exec(c.text)![1]);
    assert.deepEqual(keyFiles, DEFAULT_IDENTITY_NAMES);
  } finally {
    h.done();
  }
});

test('gateway: banner and host key checked against known_hosts (match, unknown, changed, revoked, hashed)', {
  skip: skipSshd ?? false,
}, async () => {
  const h = makeHome();
  const gw = await startGateway();
  try {
    const base = { port: gw.port, socksPort: await freePort() };
    let checks = await runDoctor(h.opts({ ...base, knownHosts: [gw.knownHosts] }));
    assert.equal(find(checks, new RegExp(`gateway 127\\.0\\.0\\.1:${gw.port} answers: SSH-2\\.0-OpenSSH`)).mark, 'ok');
    assert.equal(find(checks, /known_hosts matches \[127\.0\.0\.1\]:\d+'s host key ssh-ed25519 SHA256:/).mark, 'ok');

    // the default file, ~/.ssh/known_hosts, when no file is named; missing → a warning with the fix
    checks = await runDoctor(h.opts(base));
    assert.match(
      find(checks, /known_hosts has no key for \[127\.0\.0\.1\]:\d+; it presents ssh-ed25519/).fix!,
      new RegExp(`ssh -p ${gw.port} 127\\.0\\.0\\.1`),
    );

    // only a key of another type on file: as OpenSSH, that is a changed key, not an unknown one
    const otherType = path.join(h.root, 'ecdsa_only_known_hosts');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', path.join(h.root, 'other_ecdsa')]);
    const ecdsaLine = fs.readFileSync(path.join(h.root, 'other_ecdsa.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    fs.writeFileSync(otherType, `[127.0.0.1]:${gw.port} ${ecdsaLine}\n`);
    checks = await runDoctor(h.opts({ ...base, knownHosts: [otherType] }));
    assert.equal(find(checks, /host key CHANGED: it presents ssh-ed25519/).mark, 'fail');

    // a hashed entry (ssh-keygen -H style) for the same key also matches
    const crypto = await import('node:crypto');
    const salt = crypto.randomBytes(20);
    const hash = crypto.createHmac('sha1', salt).update(`[127.0.0.1]:${gw.port}`).digest('base64');
    fs.mkdirSync(path.join(h.home, '.ssh'));
    fs.writeFileSync(
      path.join(h.home, '.ssh/known_hosts'),
      `|1|${salt.toString('base64')}|${hash} ${gw.hostKeyPublic}\n`,
    );
    checks = await runDoctor(h.opts(base));
    assert.equal(find(checks, /known_hosts matches/).mark, 'ok');

    const old = gw.hostKeyPublic;
    await gw.restart({ newHostKey: true });
    const stale = path.join(h.root, 'stale_known_hosts');
    fs.writeFileSync(stale, `[127.0.0.1]:${gw.port} ${old}\n`);
    checks = await runDoctor(h.opts({ ...base, knownHosts: [stale] }));
    const changed = find(checks, /host key CHANGED/);
    assert.equal(changed.mark, 'fail');
    assert.match(changed.fix!, /ssh-keygen -R/);

    const revoked = path.join(h.root, 'revoked_known_hosts');
    fs.writeFileSync(revoked, `@revoked * ${gw.hostKeyPublic}\n[127.0.0.1]:${gw.port} ${gw.hostKeyPublic}\n`);
    checks = await runDoctor(h.opts({ ...base, knownHosts: [revoked] }));
    assert.equal(find(checks, /marked @revoked/).mark, 'fail');
  } finally {
    await gw.stop();
    h.done();
  }
});

test('an ssh config alias: the checks follow HostName, Port, User, IdentityFile, UserKnownHostsFile, HostKeyAlias and ProxyJump', {
  skip: skipSshd ?? false,
}, async () => {
  const h = makeHome();
  const gw = await startGateway();
  const ssh = sshDirWithKey(h, gw.keys.plain, 'g5k_key');
  fs.writeFileSync(path.join(ssh, 'id_ed25519'), 'a default key the alias does not use', { mode: 0o600 });
  fs.writeFileSync(path.join(ssh, 'g5k_known_hosts'), `g5k-gateway ${gw.hostKeyPublic}\n`);
  const config = [
    'Host g5k',
    '  HostName 127.0.0.1',
    `  Port ${gw.port}`,
    '  User g5ktest',
    '  IdentityFile ~/.ssh/g5k_key',
    '  IdentityFile ~/.ssh/gone_key',
    '  UserKnownHostsFile ~/.ssh/g5k_known_hosts',
    '  HostKeyAlias g5k-gateway',
    '  IdentityAgent none',
    'Host behind',
    '  HostName node-1.internal',
    '  User g5ktest',
    '  ProxyJump g5k',
    'Host loop',
    '  ProxyJump loop',
  ].join('\n');
  fs.writeFileSync(path.join(ssh, 'config'), `${config}\n`, { mode: 0o600 });
  try {
    const base = { port: 0, socksPort: await freePort(), systemSshConfigFile: null };
    let checks = await runDoctor(
      h.opts({ ...base, gateway: 'g5k', env: { SSH_AUTH_SOCK: path.join(h.root, 'unused.sock') } }),
    );
    assert.equal(find(checks, /ssh-agent not used for this gateway \(IdentityAgent none/).mark, 'ok');
    assert.equal(find(checks, /^SSH route to g5k: /).text, `SSH route to g5k: g5ktest@127.0.0.1:${gw.port}`);
    assert.equal(find(checks, new RegExp(`^gateway 127\\.0\\.0\\.1:${gw.port} answers`)).mark, 'ok');
    // the key is looked up under the alias, in the file the config names
    assert.match(find(checks, /^known_hosts matches g5k-gateway's host key/).text, /g5k_known_hosts:1/);
    assert.equal(find(checks, /identity file ~\/\.ssh\/g5k_key \(ssh-ed25519/).mark, 'ok');
    const gone = find(checks, /identity file ~\/\.ssh\/gone_key, named in your ssh config, does not exist/);
    assert.equal(gone.mark, 'warn');
    // default key names are not tried when the config names keys: still checked, but said so, never a failure
    const defaults = checks.filter((c) => /id_ed25519/.test(c.text));
    assert.equal(defaults.length, 1, defaults.map(formatCheck).join('\n'));
    assert.match(defaults[0]!.text, /not tried by the tunnel for this gateway/);
    assert.equal(defaults[0]!.mark, 'warn');

    // behind a jump host: the jump host is reached, the gateway's key can only be looked up
    checks = await runDoctor(h.opts({ ...base, gateway: 'behind' }));
    assert.equal(
      find(checks, /^SSH route to behind: /).text,
      `SSH route to behind: g5ktest@127.0.0.1:${gw.port} → g5ktest@node-1.internal:22`,
    );
    assert.equal(find(checks, new RegExp(`^jump host 127\\.0\\.0\\.1:${gw.port} answers`)).mark, 'ok');
    assert.equal(find(checks, /^known_hosts matches g5k-gateway's host key/).mark, 'ok');
    const inner = find(checks, /^known_hosts has no key for node-1\.internal/);
    assert.equal(inner.mark, 'warn');
    assert.match(inner.fix!, /`ssh behind`/);
    assert.ok(
      !checks.some((c) => /node-1\.internal:22 (answers|unreachable)/.test(c.text)),
      'the gateway behind the jump is not dialled directly',
    );

    // a route the tunnel could not take is a failure with the reason
    checks = await runDoctor(h.opts({ ...base, gateway: 'loop' }));
    assert.match(find(checks, /^SSH route to loop: /).text, /ProxyJump loop/);
    assert.equal(find(checks, /^SSH route to loop: /).mark, 'fail');

    // -F and --gateway user@host:port on the command line
    const out: string[] = [];
    await doctorMain(
      ['-F', path.join(ssh, 'config'), '--gateway', `someone@g5k:${gw.port}`, '--socks-port', String(base.socksPort)],
      h.opts().env,
      (l) => out.push(l),
    );
    assert.ok(out.includes(`✓ SSH route to g5k: someone@127.0.0.1:${gw.port}`), out.join('\n'));
  } finally {
    await gw.stop();
    h.done();
  }
});

test('SOCKS port held by a SOCKS5 server is a warning, not a failure; a free one passes', async () => {
  const socks = net.createServer((s) => s.once('data', () => s.end(Buffer.from([5, 0]))));
  await new Promise<void>((r) => socks.listen(0, '127.0.0.1', r));
  const h = makeHome();
  try {
    const port = (socks.address() as net.AddressInfo).port;
    let checks = await runDoctor(h.opts({ port: await freePort(), socksPort: port }));
    assert.equal(find(checks, /taken by a SOCKS5 server/).mark, 'warn');
    const free = await freePort();
    checks = await runDoctor(h.opts({ port: await freePort(), socksPort: free }));
    assert.equal(find(checks, new RegExp(`SOCKS port 127\\.0\\.0\\.1:${free} is free`)).mark, 'ok');
  } finally {
    socks.close();
    h.done();
  }
});

test('everything right: exit 0, and the log line names the host log', { skip: skipSshd ?? false }, async () => {
  const h = makeHome();
  const gw = await startGateway();
  const ssh = sshDirWithKey(h, gw.keys.plain, 'id_ed25519');
  fs.copyFileSync(gw.knownHosts, path.join(ssh, 'known_hosts'));
  const agent = await startAgent([gw.keys.plain]);
  try {
    assert.equal(await install(h), 0);
    const log = path.join(h.home, '.local/state/g5k-tunnel/host.log');
    fs.mkdirSync(path.dirname(log), { recursive: true });
    fs.writeFileSync(log, 'started\n');
    const out: string[] = [];
    const env = { HOME: h.home, PATH: h.bin, SSH_AUTH_SOCK: agent.socket };
    const code = await doctorMain(
      ['--gateway', `g5ktest@127.0.0.1:${gw.port}`, '--socks-port', String(await freePort())],
      env,
      (l) => out.push(l),
    );
    assert.equal(code, 0, out.join('\n'));
    assert.ok(
      out.every((l) => !l.startsWith('✗')),
      out.join('\n'),
    );
    assert.ok(
      out.some((l) => l.startsWith(`✓ host log: ${log}`)),
      out.join('\n'),
    );
    assert.match(out.at(-1)!, /^no problem found/);
  } finally {
    agent.stop();
    await gw.stop();
    h.done();
  }
});

test('key files judged as the tunnel judges them: an agent key turns a bad key file into a warning; another owner and Windows are not judged; default keys are checked beside --identity', async () => {
  const h = makeHome();
  const ssh = path.join(h.home, '.ssh');
  fs.mkdirSync(ssh, { mode: 0o700 });
  const keys = makeKeys(ssh); // id_ed25519 (a default name), id_ed25519_enc, id_ed25519_wrong
  const agent = await startAgent([keys.wrong]);
  try {
    const base = { port: await freePort(), socksPort: await freePort() };
    fs.chmodSync(keys.plain, 0o640);

    // no agent: the tunnel would have no key, a failure with OpenSSH's fix
    let checks = await runDoctor(h.opts(base));
    let k = find(checks, /identity file ~\/\.ssh\/id_ed25519 is readable by other users \(mode 640\): ssh ignores it$/);
    assert.equal(k.mark, 'fail');
    assert.equal(k.fix, `chmod 600 ${keys.plain}`);

    // an agent key may still log in: a warning only
    checks = await runDoctor(h.opts({ ...base, env: { SSH_AUTH_SOCK: agent.socket } }));
    k = find(checks, /identity file ~\/\.ssh\/id_ed25519 is readable by other users .*ssh-agent keys may still log in/);
    assert.equal(k.mark, 'warn');

    // --identity names another key: the default id_ed25519 is still checked, as a warning
    checks = await runDoctor(h.opts({ ...base, identities: [keys.encrypted] }));
    assert.equal(find(checks, /identity file ~\/\.ssh\/id_ed25519_enc \(passphrase-protected/).mark, 'ok');
    k = find(checks, /identity file ~\/\.ssh\/id_ed25519 is readable by other users .*not tried by the tunnel/);
    assert.equal(k.mark, 'warn');
    assert.ok(!checks.some((c) => c.mark === 'fail' && /identity file/.test(c.text)));

    // on Windows there are no such modes (as in the tunnel)
    checks = await runDoctor(h.opts({ ...base, platform: 'win32' }));
    assert.equal(find(checks, /identity file ~\/\.ssh\/id_ed25519 \(ssh-ed25519, mode 640\)/).mark, 'ok');

    // a key owned by another user is not judged: OpenSSH does not either
    fs.chownSync(keys.plain, 4242, 4242);
    checks = await runDoctor(h.opts(base));
    assert.equal(find(checks, /identity file ~\/\.ssh\/id_ed25519 \(ssh-ed25519, mode 640\)/).mark, 'ok');
  } finally {
    agent.stop();
    h.done();
  }
});

test('a gateway on a port other than 22 with only a bare-name known_hosts line: matched with a note, or unknown for another key', {
  skip: skipSshd ?? false,
}, async () => {
  const h = makeHome();
  const gw = await startGateway();
  try {
    const base = { port: gw.port, socksPort: await freePort() };
    const bareKnown = path.join(h.root, 'bare_known_hosts');
    fs.writeFileSync(bareKnown, `127.0.0.1 ${gw.hostKeyPublic}\n`);
    let checks = await runDoctor(h.opts({ ...base, knownHosts: [bareKnown] }));
    const c = find(
      checks,
      /known_hosts matches \[127\.0\.0\.1\]:\d+'s host key ssh-ed25519 SHA256:\S+ under the bare name 127\.0\.0\.1/,
    );
    assert.equal(c.mark, 'ok');
    assert.match(
      c.text,
      new RegExp(`bare_known_hosts:1\\): no \\[127\\.0\\.0\\.1\\]:${gw.port} line, which ssh accepts too`),
    );

    // the bare name holds another key: unknown (maybe another server on port 22), never "changed"
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(h.root, 'other')]);
    const other = fs.readFileSync(path.join(h.root, 'other.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    fs.writeFileSync(bareKnown, `127.0.0.1 ${other}\n`);
    checks = await runDoctor(h.opts({ ...base, knownHosts: [bareKnown] }));
    const u = find(
      checks,
      /known_hosts has no key for \[127\.0\.0\.1\]:\d+; it presents ssh-ed25519 .* the line for the bare name 127\.0\.0\.1 \(.*bare_known_hosts:1\) holds another key: unknown/,
    );
    assert.equal(u.mark, 'warn');
    assert.match(u.fix!, new RegExp(`ssh -p ${gw.port} 127\\.0\\.0\\.1`));
    assert.ok(!checks.some((x) => /CHANGED/.test(x.text)));

    // a [host]:port line wins over the bare name: no note
    fs.appendFileSync(bareKnown, `[127.0.0.1]:${gw.port} ${gw.hostKeyPublic}\n`);
    checks = await runDoctor(h.opts({ ...base, knownHosts: [bareKnown] }));
    assert.doesNotMatch(find(checks, /known_hosts matches/).text, /bare name/);
  } finally {
    await gw.stop();
    h.done();
  }
});

test("Grid'5000's guide config (Host *.g5k with a ProxyCommand): the first machine is reached through its ProxyCommand, as the tunnel reaches it", {
  skip: skipSshd ?? false,
}, async () => {
  const h = makeHome();
  // `nancy` is a name the gateway resolves (to itself): `ssh g5k -W nancy:port` lands on the same sshd
  const gw = await startGateway({ extraHosts: ['127.0.0.1 nancy'] });
  const ssh = path.join(h.home, '.ssh');
  fs.mkdirSync(ssh, { mode: 0o700 });
  const pidFile = path.join(h.root, 'silent.pid');
  const { config } = writeGuideSshConfig(gw, ssh, {
    before: () => [
      // ssh's own failure: a message on stderr, status 255
      'Host broken.g5k',
      `  ProxyCommand sh -c 'echo "debug noise" >&2; echo "ssh: connect to host g5k port 22: Connection refused" >&2; exit 255'`,
      // a command that never speaks: its pid kept, to see that it is ended
      'Host silent.g5k',
      `  ProxyCommand sh -c 'echo $$ > ${pidFile}; exec sleep 600'`,
    ],
  });
  try {
    const base = {
      port: 0,
      socksPort: await freePort(),
      systemSshConfigFile: null,
      // the ProxyCommand runs with this environment: OpenSSH's ssh must be on its PATH
      env: { PATH: `${h.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, SSH_AUTH_SOCK: '', SHELL: '/bin/sh' },
    };
    let checks = await runDoctor(h.opts({ ...base, gateway: 'nancy.g5k' }));
    const route = find(checks, /^SSH route to nancy\.g5k: /);
    assert.equal(route.mark, 'ok');
    assert.equal(
      route.text,
      `SSH route to nancy.g5k: ${gw.user}@nancy.g5k:${gw.port}, reached through ProxyCommand: ssh -F ${config} g5k -W "$(basename nancy.g5k .g5k):${gw.port}"`,
    );
    const banner = find(
      checks,
      new RegExp(`^gateway nancy\\.g5k:${gw.port} answers through its ProxyCommand: SSH-2\\.0-`),
    );
    assert.equal(banner.mark, 'ok');
    // the key came through the ProxyCommand too, and is compared under the name the tunnel checks
    const known = find(checks, /^known_hosts matches \[nancy\.g5k\]:\d+'s host key ssh-ed25519/);
    assert.equal(known.mark, 'ok');
    assert.ok(
      !checks.some((c) => /does not resolve|unreachable|key exchange/.test(c.text)),
      checks.map(formatCheck).join('\n'),
    );

    // a ProxyCommand that fails: ✗ with its exit status and its last stderr line
    checks = await runDoctor(h.opts({ ...base, gateway: 'broken.g5k' }));
    const broken = find(checks, /^gateway broken\.g5k:\d+ unreachable through its ProxyCommand/);
    assert.equal(broken.mark, 'fail');
    assert.match(
      broken.text,
      /: ProxyCommand exited with status 255: ssh: connect to host g5k port 22: Connection refused$/,
    );
    assert.match(broken.fix!, /run the ProxyCommand of your ssh config by hand/);

    // one that never answers: ✗ after the timeout, and the command is ended
    checks = await runDoctor(h.opts({ ...base, gateway: 'silent.g5k', timeoutMs: 1000 }));
    const silent = find(checks, /^gateway silent\.g5k:\d+ unreachable through its ProxyCommand/);
    assert.equal(silent.mark, 'fail');
    assert.match(silent.text, /no answer within 1000 ms/);
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    const gone = async () => {
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return true;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    assert.ok(await gone(), `the ProxyCommand (pid ${pid}) still runs after the probe`);
  } finally {
    await gw.stop();
    h.done();
  }
});

test('SOCKS port 0 (automatic, the options page default): nothing to check; --socks-port takes it', async () => {
  const h = makeHome();
  try {
    const checks = await runDoctor(h.opts({ port: await freePort(), socksPort: 0 }));
    const c = find(checks, /^SOCKS port automatic \(0\)/);
    assert.equal(c.mark, 'ok');
    assert.match(c.text, /nothing to check/);
    const o = parseDoctorArgs(['--socks-port', '0'], h.opts().env, 'linux');
    assert.equal(o.ok ? o.value.socksPort : o.error, 0);
    assert.equal(parseDoctorArgs(['--socks-port', '65536'], h.opts().env, 'linux').ok, false);
  } finally {
    h.done();
  }
});
