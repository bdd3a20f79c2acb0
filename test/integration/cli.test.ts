// The g5k-tunnel command as a user runs it, against a real sshd, with curl as the SOCKS client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { killAllNow } from '../../testbed/children.js';
import { exitOf, listening, startChild, type Child } from '../../testbed/child.js';
import {
  canRunSshd,
  commandArgs,
  startGateway,
  INTERNAL_NAMES,
  KEY_PASSPHRASE,
  type Gateway,
} from '../../testbed/sshd.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { freePort } from '../../testbed/ports.js';

const BIN = fileURLToPath(new URL('../../../bin/g5k-tunnel', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const noSshd = canRunSshd();
const skip = noSshd ?? false;
const run = promisify(execFile);

let gw: Gateway;
let web: InternalWeb;
let home: string;
before(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-cli-'));
  if (noSshd) return;
  gw = await startGateway();
  web = await startInternalWeb();
});

after(async () => {
  killAllNow();
  await web?.close();
  await gw?.stop();
  fs.rmSync(home, { recursive: true, force: true });
});

/** Starts the command in its own session (no controlling terminal: nothing can be asked). */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  return startChild(process.execPath, [BIN, ...args], {
    env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '', ...env },
  });
}

async function curlInternal(socksPort: number): Promise<string> {
  const { stdout } = await run('curl', [
    '-sS',
    '--max-time',
    '20',
    '--socks5-hostname',
    `127.0.0.1:${socksPort}`,
    `http://${INTERNAL_NAMES[0]}:${web.port}/`,
  ]);
  return stdout;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const base = (socks: number, key: string, knownHosts = gw.knownHosts) => commandArgs(gw, socks, { key, knownHosts });

test('curl through `g5k-tunnel -N -D` reaches an internal name via the gateway; SIGINT exits 0 and frees the port', {
  skip,
}, async () => {
  const socks = await freePort();
  const c = cli(base(socks, gw.keys.plain));
  await listening(c, socks);
  const page = await curlInternal(socks);
  assert.match(page, /Internal page/);
  assert.match(page, /via-gateway/);
  assert.ok(web.hits.some((h) => h.viaGateway && h.host.startsWith(INTERNAL_NAMES[0]!)));
  c.proc.kill('SIGINT');
  assert.equal(await exitOf(c), 0);
  assert.equal(c.err(), '', 'quiet on success, like ssh');
  assert.ok(await portIsFree(socks), 'the SOCKS port is free again');
});

test('-v prints each stage with its time and where it listens', { skip }, async () => {
  const socks = await freePort();
  const c = cli(['-v', ...base(socks, gw.keys.plain)]);
  await listening(c, socks);
  await curlInternal(socks);
  const deadline = Date.now() + 20_000;
  while (!/Local forwarding listening/.test(c.err()) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  c.proc.kill('SIGTERM');
  assert.equal(await exitOf(c), 0);
  assert.match(c.err(), /debug1: Connection established to .*\(\d+ ms\)/);
  assert.match(c.err(), /debug1: Authenticated to .*\(\d+ ms\)/);
  assert.match(c.err(), new RegExp(`debug1: Local forwarding listening on 127\\.0\\.0\\.1 port ${socks}\\.`));
});

test('a key the gateway refuses: Permission denied (publickey), exit 255', { skip }, async () => {
  const c = cli(base(await freePort(), gw.keys.wrong));
  assert.equal(await exitOf(c), 255);
  assert.match(c.err(), new RegExp(`g5k-tunnel: ${gw.user}@127\\.0\\.0\\.1: Permission denied \\(publickey\\)\\.`));
});

test('nothing listens on the port: Connection refused, exit 255', { skip }, async () => {
  const closed = await freePort();
  const c = cli([
    '-N',
    '-D',
    String(await freePort()),
    '-p',
    String(closed),
    '-i',
    gw.keys.plain,
    `${gw.user}@127.0.0.1`,
  ]);
  assert.equal(await exitOf(c), 255);
  assert.match(c.err(), new RegExp(`g5k-tunnel: connect to host 127\\.0\\.0\\.1 port ${closed}: Connection refused`));
});

test('a changed host key: the big warning with the file and line, exit 255', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(home, 'kh-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'other')]);
  const other = fs.readFileSync(path.join(dir, 'other.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  const kh = path.join(dir, 'known_hosts');
  fs.writeFileSync(kh, `# a comment\n[127.0.0.1]:${gw.port} ${other}\n`);
  const c = cli(base(await freePort(), gw.keys.plain, kh));
  assert.equal(await exitOf(c), 255);
  const err = c.err();
  assert.match(err, /WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!/);
  assert.ok(err.includes(`Offending ED25519 key in ${kh}:2`), err);
  assert.match(err, /Host key verification failed\./);
});

test('an unknown host key without a terminal: Host key verification failed, exit 255', { skip }, async () => {
  const kh = path.join(home, 'empty_known_hosts');
  fs.writeFileSync(kh, '');
  const c = cli(base(await freePort(), gw.keys.plain, kh));
  assert.equal(await exitOf(c), 255);
  assert.match(c.err(), /Host key verification failed\./);
  assert.equal(fs.readFileSync(kh, 'utf8'), '', 'nothing added without the user saying yes');
});

test('a passphrase-protected key without a terminal fails like ssh in BatchMode', { skip }, async () => {
  const c = cli(base(await freePort(), gw.keys.encrypted));
  assert.equal(await exitOf(c), 255);
  assert.match(c.err(), /Permission denied \(publickey\)\./);
});

test('-F: a Host alias from the given config file', { skip }, async () => {
  const cfg = path.join(home, 'ssh_config');
  fs.writeFileSync(
    cfg,
    [
      'Host g5k-test',
      '  HostName 127.0.0.1',
      `  Port ${gw.port}`,
      `  User ${gw.user}`,
      `  IdentityFile ${gw.keys.plain}`,
      `  UserKnownHostsFile ${gw.knownHosts}`,
      '',
    ].join('\n'),
  );
  const socks = await freePort();
  const c = cli(['-N', '-D', `localhost:${socks}`, '-F', cfg, 'g5k-test']);
  await listening(c, socks);
  assert.match(await curlInternal(socks), /via-gateway/);
  c.proc.kill('SIGINT');
  assert.equal(await exitOf(c), 0);
});

test('a non-loopback bind address is refused before anything listens (exit 2)', async () => {
  const socks = await freePort();
  const c = cli(['-N', '-D', `0.0.0.0:${socks}`, 'user@access.grid5000.fr']);
  assert.equal(await exitOf(c), 2);
  assert.match(c.err(), /refusing to listen on '0\.0\.0\.0'.*loopback only/);
  assert.ok(await portIsFree(socks));
});

test('usage errors exit 2 with a clear message', async () => {
  const c = cli(['-N', '-D', '1080', '-o', 'Compression=yes', 'host']);
  assert.equal(await exitOf(c), 2);
  assert.match(c.err(), /Bad configuration option: compression/);
  const d = cli(['host']);
  assert.equal(await exitOf(d), 2);
  assert.match(d.err(), /-D \[bind_address:\]port is required/);
  assert.match(d.err(), /usage: g5k-tunnel/);
});

test('--version and --help', async () => {
  const v = cli(['--version']);
  assert.equal(await exitOf(v), 0);
  assert.equal(v.out().trim(), `g5k-tunnel ${pkg.version}`);
  const h = cli(['--help']);
  assert.equal(await exitOf(h), 0);
  assert.match(h.out(), /-D \[bind_address:\]port/);
});

/** The command on a pseudo-terminal (script(1)): its controlling terminal, as for a user. */
function onTerminal(args: string[]) {
  // `exec`: the command alone is the terminal's foreground job, as when a user types it. Without
  // it a shell that does not exec its last command (dash) stays in the job and dies of the Ctrl-C.
  const cmd = ['exec', ...[process.execPath, BIN, ...args].map((a) => `'${a}'`)].join(' ');
  const child = startChild('script', ['-qec', cmd, '/dev/null'], {
    env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '', SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const screen = child.out;
  return {
    ...child,
    err: screen,
    screen,
    type: (s: string) => child.proc.stdin!.write(s),
    async seen(re: RegExp) {
      const deadline = Date.now() + 20_000;
      while (!re.test(screen())) {
        if (Date.now() > deadline) throw new Error(`never saw ${re}; screen:\n${screen()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

test('on a terminal: Ctrl-C at the passphrase prompt exits 0', { skip }, async () => {
  const t = onTerminal(base(await freePort(), gw.keys.encrypted));
  await t.seen(/Enter passphrase for key '.*': $/);
  t.type('wrong\x7f\x7f');
  t.type('\x03');
  assert.equal(await exitOf(t), 0);
  assert.ok(!t.screen().includes('wro'), 'typed characters are not echoed');
});

test('on a terminal: the host key question and the passphrase (echo off), then Ctrl-C', { skip }, async () => {
  const socks = await freePort();
  const kh = path.join(home, 'tty_known_hosts');
  fs.writeFileSync(kh, '');
  const t = onTerminal(base(socks, gw.keys.encrypted, kh));
  const proc = t.proc;
  const seen = t.seen;
  await seen(/Are you sure you want to continue connecting \(yes\/no\/\[fingerprint\]\)\? /);
  assert.match(t.screen(), /ED25519 key fingerprint is SHA256:/);
  proc.stdin!.write('yes\r');
  await seen(new RegExp(`Enter passphrase for key '${gw.keys.encrypted}': `));
  proc.stdin!.write(`${KEY_PASSPHRASE}\r`);
  await listening(t, socks);
  assert.match(await curlInternal(socks), /via-gateway/);
  proc.stdin!.write('\x03'); // Ctrl-C on the terminal
  assert.equal(await exitOf(t), 0);
  assert.ok(!t.screen().includes(KEY_PASSPHRASE), 'the passphrase is not echoed');
  // saved as ssh saves it (hashed when /etc/ssh/ssh_config says HashKnownHosts): ssh-keygen finds it
  assert.ok(fs.readFileSync(kh, 'utf8').includes(gw.hostKeyPublic));
  assert.match(
    execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${gw.port}`, '-f', kh], { encoding: 'utf8' }),
    /ssh-ed25519/,
  );
});

test('after the first connection, a lost connection is re-established and said so', { skip }, async () => {
  const socks = await freePort();
  const c = cli(base(socks, gw.keys.plain));
  await listening(c, socks);
  assert.match(await curlInternal(socks), /via-gateway/);
  for (const pid of gw.sessionPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + 30_000;
  while (!/reconnected/.test(c.err()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(c.err(), /connection to .* lost.*reconnecting/);
  assert.match(c.err(), /reconnected to /);
  assert.match(await curlInternal(socks), /via-gateway/);
  c.proc.kill('SIGTERM');
  assert.equal(await exitOf(c), 0);
});

test("a private key others can read: ssh's UNPROTECTED PRIVATE KEY FILE lines, the chmod to run, exit 255", {
  skip,
}, async () => {
  const dir = fs.mkdtempSync(path.join(home, 'open-key-'));
  const key = path.join(dir, 'id_ed25519');
  fs.copyFileSync(gw.keys.plain, key);
  fs.chmodSync(key, 0o644);
  const c = cli(base(await freePort(), key));
  assert.equal(await exitOf(c), 255);
  const lines = c.err().split('\n');
  const start = lines.indexOf('@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @');
  assert.ok(start > 0, c.err());
  // the same lines as ssh prints for this file (see tunnel-auth.test.ts for ssh itself saying them)
  assert.deepEqual(lines.slice(start - 1, start + 6), [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    `Permissions 0644 for '${key}' are too open.`,
    'It is required that your private key files are NOT accessible by others.',
    'This private key will be ignored.',
    `Load key "${key}": bad permissions`,
  ]);
  assert.ok(lines.includes(`g5k-tunnel: ${gw.user}@127.0.0.1: Permission denied (publickey).`), c.err());
  assert.ok(lines.includes(`g5k-tunnel: Run chmod 600 ${key}`), c.err());
  assert.equal(c.err().split('UNPROTECTED').length, 2, 'said once');

  // -q: only the failure itself
  const quiet = cli(['-q', ...base(await freePort(), key)]);
  assert.equal(await exitOf(quiet), 255);
  assert.doesNotMatch(quiet.err(), /UNPROTECTED/);
  assert.match(quiet.err(), /Permission denied \(publickey\)\./);
});
