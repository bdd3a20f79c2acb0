// Grid'5000's SSH guide as written: `Host *.g5k` with `ProxyCommand ssh g5k -W "$(basename %h .g5k):%p"`,
// adapted to a real sshd, with real OpenSSH ssh as the ProxyCommand. The g5k-tunnel command must do
// what OpenSSH's own `ssh -N -D` does with the same file (the oracle), end its ProxyCommand child
// when it stops, and never hand a name with shell metacharacters to a shell. `.g5k` names asked
// through the SOCKS port reach the name without `.g5k`, as the gateway resolves it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { killAllNow } from '../../testbed/children.js';
import { exitOf, listening, startChild } from '../../testbed/child.js';
import {
  canRunSshd,
  startGateway,
  INTERNAL_NAMES,
  INTERNAL_SHORT_NAME,
  type Gateway,
  gatewayConfig,
} from '../../testbed/sshd.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { freePort } from '../../testbed/ports.js';
import { writeGuideSshConfig } from '../support/guide-ssh-config.js';
import { isolatedTunnel, socksGet, stateIs, waitForStatus } from '../support/tunnel-kit.js';

const BIN = fileURLToPath(new URL('../../../bin/g5k-tunnel', import.meta.url));
const skip = canRunSshd() ?? false;
const run = promisify(execFile);

let gw: Gateway;
let web: InternalWeb;
let home: string;
let sshConfig: string;
/** A file that a shell would create if a host name reached it; in lower case, as %h is. */
const marker = path.join(os.tmpdir(), `g5k-pwned-${process.pid}`).toLowerCase();

before(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-proxycmd-'));
  if (skip) return;
  // `nancy` is a name the gateway resolves (to itself): `ssh g5k -W nancy:port` lands on the same sshd
  gw = await startGateway({ extraHosts: ['127.0.0.1 nancy'] });
  web = await startInternalWeb();
  const ssh = path.join(home, '.ssh');
  fs.mkdirSync(ssh, { mode: 0o700 });
  ({ config: sshConfig } = writeGuideSshConfig(gw, ssh, {
    knownAs: ['linger.g5k'],
    login: ['  ForwardAgent no'],
    // a ProxyCommand that outlives its connection: once ssh is done, the same process sleeps on
    before: ({ config }) => [
      'Host linger.g5k',
      `  ProxyCommand sh -c 'ssh -F ${config} g5k -W nancy:%p; exec sleep 600'`,
    ],
    after: ({ login }) => [
      // a HostName that would run a command if it reached a shell (the destination grammar cannot
      // see it: it comes from this file, not from the command line or the settings)
      'Host trap',
      `  HostName a$(>${marker})`,
      `  Port ${gw.port}`,
      ...login,
      '  ProxyCommand echo %h',
      // a machine reached through a jump host that itself needs the ProxyCommand
      'Host inner',
      '  HostName 127.0.0.1',
      `  Port ${gw.port}`,
      '  ProxyJump nancy.g5k',
      ...login,
    ],
  }));
});

after(async () => {
  killAllNow();
  await web?.close();
  await gw?.stop();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(marker, { force: true });
});

/** A command in its own session (no terminal, nothing can be asked), with the temporary HOME. */
const start = (cmd: string, args: string[]) =>
  startChild(cmd, args, {
    env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '', SHELL: '/bin/sh' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });

/** The command, reading ~/.ssh/config from the temporary HOME. */
const tunnel = (socks: number, dest: string) => start(process.execPath, [BIN, '-N', '-D', String(socks), dest]);
/** OpenSSH with the same file (-F, since ssh takes ~ from the passwd entry, not $HOME). */
const openssh = (socks: number, dest: string) =>
  start('ssh', ['-F', sshConfig, '-o', 'BatchMode=yes', '-N', '-D', String(socks), dest]);

async function curl(socks: number, host: string): Promise<string> {
  const { stdout } = await run('curl', [
    '-sS',
    '--max-time',
    '20',
    '--socks5-hostname',
    `127.0.0.1:${socks}`,
    `http://${host}:${web.port}/`,
  ]);
  return stdout;
}

/** Pids whose parent is `pid`, with their command lines. */
function childrenOf(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      out.push({ pid: Number(d), cmd: fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function gone(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

test("the guide's config: `g5k-tunnel -N -D nancy.g5k` reaches an internal name, as `ssh -N -D nancy.g5k` does", {
  skip,
}, async () => {
  for (const [who, startIt] of [
    ['g5k-tunnel', tunnel],
    ['ssh (oracle)', openssh],
  ] as const) {
    const socks = await freePort();
    const c = startIt(socks, 'nancy.g5k');
    await listening(c, socks);
    const hits = web.hits.length;
    const page = await curl(socks, INTERNAL_NAMES[0]!);
    assert.match(page, /Internal page/, who);
    assert.match(page, /via-gateway/, who);
    assert.ok(
      web.hits.slice(hits).some((h) => h.viaGateway),
      who,
    );
    // bulk data through the child's pipes
    const { stdout: size } = await run('curl', [
      '-sS',
      '--max-time',
      '30',
      '--socks5-hostname',
      `127.0.0.1:${socks}`,
      '-o',
      '/dev/null',
      '-w',
      '%{size_download}',
      `http://${INTERNAL_NAMES[0]}:${web.port}/bytes/20000000`,
    ]);
    assert.equal(size, '20000000', who);
    c.proc.kill('SIGTERM');
    await exitOf(c);
    if (who === 'g5k-tunnel') assert.equal(c.err(), '', 'quiet on success, like ssh');
  }
});

test('the ProxyCommand child runs while the tunnel is up and is gone once it stops', { skip }, async () => {
  const socks = await freePort();
  const c = tunnel(socks, 'nancy.g5k');
  await listening(c, socks);
  assert.match(await curl(socks, INTERNAL_NAMES[0]!), /via-gateway/);
  const kids = childrenOf(c.proc.pid!).filter((k) => / -W /.test(k.cmd));
  assert.equal(kids.length, 1, JSON.stringify(childrenOf(c.proc.pid!)));
  // exec: the shell became ssh itself, with %h and %p filled in
  assert.match(kids[0]!.cmd, new RegExp(`^ssh -F \\S+ g5k -W nancy:${gw.port}\\s*$`));
  assert.ok(alive(kids[0]!.pid));
  c.proc.kill('SIGINT');
  assert.equal(await exitOf(c), 0);
  assert.ok(await gone(kids[0]!.pid), 'the ProxyCommand outlived the tunnel');
});

test('a ProxyCommand that would outlive its connection is ended with it', { skip }, async () => {
  // from the command, stopped by Ctrl-C
  const socks = await freePort();
  const c = tunnel(socks, 'linger.g5k');
  await listening(c, socks);
  assert.match(await curl(socks, INTERNAL_NAMES[0]!), /via-gateway/);
  const kids = childrenOf(c.proc.pid!).filter((k) => k.cmd.startsWith('sh -c'));
  assert.equal(kids.length, 1, JSON.stringify(childrenOf(c.proc.pid!)));
  c.proc.kill('SIGINT');
  assert.equal(await exitOf(c), 0);
  assert.ok(await gone(kids[0]!.pid), 'the ProxyCommand outlived the command');
  // in a long-lived host: the connection closes when the tunnel is turned off
  const t = isolatedTunnel(
    { ...(await gatewayConfig(gw)), gateway: 'linger.g5k', port: 0, user: '', knownHostsFile: '' },
    home,
  );
  let pid = 0;
  try {
    await t.setMode('on');
    await waitForStatus(t, stateIs('connected'), 'connected');
    const mine = childrenOf(process.pid).filter((k) => k.cmd.startsWith('sh -c'));
    assert.equal(mine.length, 1, JSON.stringify(childrenOf(process.pid)));
    pid = mine[0]!.pid;
    await t.setMode('off');
    assert.ok(await gone(pid), 'the ProxyCommand outlived its connection');
  } finally {
    await t.close();
  }
});

test('a ProxyCommand that fails: exit 255 and its last stderr line, as ssh fails too', { skip }, async () => {
  const c = tunnel(await freePort(), 'nosuch.g5k');
  assert.equal(await exitOf(c), 255);
  // `ssh -W` to a name the gateway does not know ends with this line and status 255
  assert.match(c.err(), /ProxyCommand exited with status 255: stdio forwarding failed/);
  const o = openssh(await freePort(), 'nosuch.g5k');
  assert.equal(await exitOf(o), 255, 'the oracle fails too');
  assert.match(o.err(), /stdio forwarding failed/);
});

test('-o ProxyCommand: a command that exits 255 is reported with its status and last stderr line', {
  skip,
}, async () => {
  const c = start(process.execPath, [
    BIN,
    '-N',
    '-D',
    String(await freePort()),
    '-o',
    `ProxyCommand=sh -c 'echo starting >&2; echo "%h: no route to the site" >&2; exit 255'`,
    'somewhere.example',
  ]);
  assert.equal(await exitOf(c), 255);
  assert.match(c.err(), /ProxyCommand exited with status 255: somewhere\.example: no route to the site\)/);
});

test('a jump host reached through its ProxyCommand carries the rest of the chain, as with ssh', { skip }, async () => {
  for (const [who, startIt] of [
    ['g5k-tunnel', tunnel],
    ['ssh (oracle)', openssh],
  ] as const) {
    const socks = await freePort();
    const c = startIt(socks, 'inner');
    await listening(c, socks);
    assert.match(await curl(socks, INTERNAL_NAMES[1]!), /via-gateway/, who);
    const kids = childrenOf(c.proc.pid!);
    c.proc.kill('SIGTERM');
    await exitOf(c);
    for (const k of kids) assert.ok(await gone(k.pid), `${who}: ${k.cmd} left behind`);
  }
});

test('a host name with shell metacharacters never reaches a shell', { skip }, async () => {
  fs.rmSync(marker, { force: true });
  // were it run, `$(basename %h .g5k)` would run touch
  const evil = `a;touch ${marker};.g5k`;
  // the command refuses one with a blank as a destination
  const c = tunnel(await freePort(), evil);
  assert.notEqual(await exitOf(c), 0);
  // and one without a blank: the destination grammar refuses it as a usage error
  const sneaky = tunnel(await freePort(), `a$(>${marker}).g5k`);
  assert.equal(await exitOf(sneaky), 2);
  assert.ok(!fs.existsSync(marker), `${marker} was created: a shell ran`);
  assert.match(sneaky.err(), /is not a host name or address/);
  // a HostName from ~/.ssh/config is checked before the ProxyCommand runs
  const trap = tunnel(await freePort(), 'trap');
  assert.equal(await exitOf(trap), 255);
  assert.ok(!fs.existsSync(marker), `${marker} was created: a shell ran`);
  assert.match(trap.err(), /host name "a\$\(>.*\)" cannot be given to ProxyCommand/);
  // the tunnel itself (settings from the extension) refuses it before running the ProxyCommand
  const t = isolatedTunnel({ ...(await gatewayConfig(gw)), gateway: 'trap', port: 0, user: '' }, home);
  try {
    await t.setMode('on');
    const s = await waitForStatus(t, (x) => x.state === 'error' || x.state === 'reconnecting', 'a failure');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!fs.existsSync(marker), `${marker} was created: a shell ran`);
    assert.equal(s.state, 'error');
    assert.equal(s.lastError?.code, 'NOT_CONFIGURED');
    assert.match(s.lastError?.detail ?? '', /cannot be given to ProxyCommand/);
  } finally {
    await t.close();
  }
});

test('`.g5k` names through the SOCKS port reach the name without `.g5k`, as the gateway resolves it', {
  skip,
}, async () => {
  const short = `${INTERNAL_SHORT_NAME}.g5k`;
  // through the command and the guide's config
  const socks = await freePort();
  const c = tunnel(socks, 'nancy.g5k');
  await listening(c, socks);
  const hits = web.hits.length;
  assert.match(await curl(socks, short), /via-gateway/);
  assert.ok(web.hits.slice(hits).some((h) => h.viaGateway && h.host.startsWith(short)));
  c.proc.kill('SIGTERM');
  await exitOf(c);
  // through a tunnel straight to the gateway: a SOCKS CONNECT by name
  const t = isolatedTunnel(await gatewayConfig(gw), home);
  try {
    await t.setMode('on');
    const s = await waitForStatus(t, stateIs('connected'), 'connected');
    const r = await socksGet(s.socks!.port, short, web.port, '/g5k');
    assert.equal(r.reply, 0);
    assert.equal(r.status, 200);
    assert.equal(web.hits.at(-1)?.path, '/g5k');
    assert.equal(web.hits.at(-1)?.viaGateway, true);
  } finally {
    await t.close();
  }
});
