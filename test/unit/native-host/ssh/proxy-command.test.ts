// ProxyCommand: what may go into the command, its tokens, where a route uses it, and the child's
// stream (real `sh` children: echo, exit status with its last stderr line, ended on destroy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { once } from 'node:events';
import { parseSshConfig } from '../../../../native-host/ssh/config-parse.js';
import { resolveHostConfig } from '../../../../native-host/ssh/config-resolve.js';
import {
  exitMessage,
  ProxyCommandError,
  proxyCommandFor,
  shellArgs,
  startProxyCommand,
  unsafeHostName,
  unsafeLogin,
} from '../../../../native-host/ssh/proxy-command.js';
import { planRoute, RouteError, type RouteContext } from '../../../../native-host/ssh/route.js';
import { defaultProfile, toTunnelConfig } from '../../../../shared/settings.js';
import type { TunnelConfig } from '../../../../shared/protocol.js';
import { silentLogger, type Logger } from '../../../../native-host/log.js';

const blocks = (text: string) => parseSshConfig(text, '/home/jdoe/.ssh/config').blocks;
const ctx = (over: Partial<RouteContext> = {}): RouteContext => ({
  home: '/home/jdoe',
  localUser: 'jdoe',
  env: {},
  ...over,
});
const config = (over: Partial<TunnelConfig> = {}): TunnelConfig => ({
  ...toTunnelConfig(defaultProfile()),
  port: 0,
  ...over,
});
const resolve = (text: string, host: string) =>
  resolveHostConfig(blocks(text), host, { localUser: 'jdoe', home: '/home/jdoe' });

const GUIDE = `
Host g5k
  User jlogin
  ForwardAgent no
Host *.g5k
  User jlogin
  ProxyCommand ssh g5k -W "$(basename %h .g5k):%p"
  ForwardAgent no
`;

test('host names: letters, digits, . _ - and IPv6 literals pass; shell metacharacters and a leading - do not', () => {
  for (const ok of ['nancy.g5k', 'graphite-3.nancy.g5k', 'my_host', '192.0.2.1', '::1', '2001:db8::1', 'fe80::1.2.3.4'])
    assert.equal(unsafeHostName(ok), null, ok);
  for (const bad of [
    'a;touch /tmp/x.g5k',
    'a$(id).g5k',
    'a`id`.g5k',
    'a|b',
    'a&b',
    'a b',
    "a'b",
    'a"b',
    'a\\b',
    'a>b',
    '[::1]',
    'a*',
    '-oProxyCommand=x',
    '',
    'a\nb',
    'fe80::1%eth0',
  ])
    assert.match(unsafeHostName(bad) ?? '', /cannot be given to ProxyCommand/, JSON.stringify(bad));
  // a control character is never echoed back as is
  assert.doesNotMatch(unsafeHostName('a\x1b[2Jb')!, /\x1b/);
});

test('logins: a safe set only', () => {
  for (const ok of ['jlogin', 'first.last', 'j-doe_2', 'me@example.org', 'a+b'])
    assert.equal(unsafeLogin(ok), null, ok);
  for (const bad of ['j;doe', 'j$(id)', 'j doe', '-l', '', 'j`x`', 'j|x'])
    assert.match(unsafeLogin(bad) ?? '', /cannot be given to ProxyCommand/, bad);
});

test("the guide's ProxyCommand: %h is the name as resolved, %p the port, %r the login, %n as typed, %% a percent", () => {
  assert.equal(proxyCommandFor(resolve(GUIDE, 'nancy.g5k'), 'jdoe'), 'ssh g5k -W "$(basename nancy.g5k .g5k):22"');
  const all = resolve('Host x\n  HostName X.Example\n  Port 2222\n  ProxyCommand nc %h %p # %r %n %%\n', 'x');
  assert.equal(proxyCommandFor(all, 'jdoe'), 'nc x.example 2222 # jdoe x %');
  // no ProxyCommand, or `none`
  assert.equal(proxyCommandFor(resolve(GUIDE, 'g5k'), 'jdoe'), undefined);
  assert.equal(proxyCommandFor(resolve('Host *\n  ProxyCommand none\n', 'x'), 'jdoe'), undefined);
});

test('tokens ProxyCommand does not take are refused, as by OpenSSH', () => {
  assert.throws(() => proxyCommandFor(resolve('Host x\n  ProxyCommand nc %u %h\n', 'x'), 'jdoe'), /token "%u"/);
});

test('bad names are refused before substitution: the name as typed, HostName, and the login', () => {
  assert.throws(
    () => proxyCommandFor(resolve(GUIDE, 'a;touch /tmp/x.g5k'), 'jdoe'),
    /host name "a;touch \/tmp\/x\.g5k"/,
  );
  assert.throws(
    () => proxyCommandFor(resolve('Host w\n  HostName a$(id)b\n  ProxyCommand nc %h %p\n', 'w'), 'jdoe'),
    /host name "a\$\(id\)b"/,
  );
  // even when the command does not use the bad value: nothing odd goes near the shell
  assert.throws(() => proxyCommandFor(resolve('Host *\n  ProxyCommand nc gw 22\n', 'a|b'), 'jdoe'), /host name/);
  assert.throws(
    () => proxyCommandFor(resolve('Host x\n  User "a b"\n  ProxyCommand nc %h %p\n', 'x'), 'jdoe'),
    /login/,
  );
  assert.throws(() => proxyCommandFor(resolve('Host x\n  ProxyCommand nc %h %p\n', 'x'), 'me;id'), /login "me;id"/);
});

test('shell: $SHELL -c "exec <command>", /bin/sh without $SHELL', () => {
  assert.deepEqual(shellArgs('ssh g5k -W x:22', { SHELL: '/bin/bash' }), ['/bin/bash', ['-c', 'exec ssh g5k -W x:22']]);
  assert.deepEqual(shellArgs('nc a 22', {}), ['/bin/sh', ['-c', 'exec nc a 22']]);
  assert.deepEqual(shellArgs('nc a 22', { SHELL: '' }), ['/bin/sh', ['-c', 'exec nc a 22']]);
});

test('exit messages: status with the last stderr line, or the signal', () => {
  assert.equal(
    exitMessage(255, null, 'channel 0: open failed'),
    'ProxyCommand exited with status 255: channel 0: open failed',
  );
  assert.equal(exitMessage(1, null, ''), 'ProxyCommand exited with status 1');
  assert.equal(exitMessage(null, 'SIGKILL', ''), 'ProxyCommand was killed by SIGKILL');
});

// ---------- in a route ----------

test("route: the guide's *.g5k host gets the expanded ProxyCommand, and no warning any more", () => {
  const r = planRoute(config({ gateway: 'nancy.g5k' }), blocks(GUIDE), ctx());
  assert.equal(r.hops.length, 1);
  assert.equal(r.hops[0]!.host, 'nancy.g5k');
  assert.equal(r.hops[0]!.user, 'jlogin');
  assert.equal(r.hops[0]!.proxyCommand, 'ssh g5k -W "$(basename nancy.g5k .g5k):22"');
  assert.deepEqual(r.warnings, []);
  assert.equal(planRoute(config({ gateway: 'g5k' }), blocks(GUIDE), ctx()).hops[0]!.proxyCommand, undefined);
});

test('route: a bad name for a ProxyCommand host is a settings error, before anything runs', () => {
  assert.throws(
    () => planRoute(config({ gateway: 'a;touch /tmp/x.g5k' }), blocks(GUIDE), ctx()),
    (e: unknown) => {
      assert.ok(e instanceof RouteError);
      assert.match(e.message, /cannot be given to ProxyCommand/);
      return true;
    },
  );
});

test('route: first of ProxyJump and ProxyCommand wins; -o ProxyCommand=none turns it off', () => {
  const cfg = `
Host pj
  ProxyJump bastion
  ProxyCommand nc %h %p
Host pc
  ProxyCommand nc %h %p
  ProxyJump bastion
`;
  const pj = planRoute(config({ gateway: 'pj' }), blocks(cfg), ctx());
  assert.deepEqual(
    pj.hops.map((h) => [h.host, h.proxyCommand]),
    [
      ['bastion', undefined],
      ['pj', undefined],
    ],
  );
  const pc = planRoute(config({ gateway: 'pc' }), blocks(cfg), ctx());
  assert.deepEqual(
    pc.hops.map((h) => [h.host, h.proxyCommand]),
    [['pc', 'nc pc 22']],
  );
  const off = planRoute(config({ gateway: 'pc' }), blocks(cfg), ctx({ sshOptions: ['ProxyCommand=none'] }));
  assert.deepEqual(
    off.hops.map((h) => [h.host, h.proxyCommand]),
    [['pc', undefined]],
  );
  const over = planRoute(config({ gateway: 'pj' }), blocks(cfg), ctx({ sshOptions: ['ProxyCommand=nc -q0 %h %p'] }));
  assert.deepEqual(
    over.hops.map((h) => [h.host, h.proxyCommand]),
    [['pj', 'nc -q0 pj 22']],
  );
});

test('route: jump hosts given in the settings (like -J) replace the gateway ProxyCommand, with a warning', () => {
  const r = planRoute(config({ gateway: 'nancy.g5k', jumps: ['bastion'] }), blocks(GUIDE), ctx());
  assert.deepEqual(
    r.hops.map((h) => [h.host, h.proxyCommand]),
    [
      ['bastion', undefined],
      ['nancy.g5k', undefined],
    ],
  );
  assert.match(r.warnings.join('\n'), /nancy\.g5k: ProxyCommand ignored/);
});

test('route: a jump host with a ProxyCommand starts the chain; on a later hop it is ignored with a warning', () => {
  const cfg = `${GUIDE}
Host inner
  ProxyJump site.g5k
Host two
  ProxyJump a,site.g5k
`;
  const r = planRoute(config({ gateway: 'inner' }), blocks(cfg), ctx());
  assert.deepEqual(
    r.hops.map((h) => [h.host, h.proxyCommand]),
    [
      ['site.g5k', 'ssh g5k -W "$(basename site.g5k .g5k):22"'],
      ['inner', undefined],
    ],
  );
  const two = planRoute(config({ gateway: 'two' }), blocks(cfg), ctx());
  assert.deepEqual(
    two.hops.map((h) => [h.host, h.proxyCommand]),
    [
      ['a', undefined],
      ['site.g5k', undefined],
      ['two', undefined],
    ],
  );
  assert.match(two.warnings.join('\n'), /site\.g5k: ProxyCommand ignored, since it is not the first hop/);
});

// ---------- the child's stream ----------

const lines = (): Logger & { lines: string[] } => {
  const out: string[] = [];
  const add = (m: string) => void out.push(m);
  return { lines: out, debug: add, info: add, warn: add, error: add };
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
};

test('stream: what is written reaches the child; what it prints comes back; its stderr goes to the log', async () => {
  const log = lines();
  const s = await startProxyCommand("sh -c 'echo to-log >&2; exec cat'", {
    log,
    label: 'hop',
    env: { SHELL: '/bin/sh' },
  });
  s.write('ping\n');
  const [data] = await once(s, 'data');
  assert.equal(String(data), 'ping\n');
  s.end();
  await once(s, 'end').catch(() => {});
  assert.ok(
    log.lines.some((l) => l === 'hop: ProxyCommand: to-log'),
    log.lines.join('\n'),
  );
  s.destroy();
});

test('stream: a non-zero exit is an error with the last stderr line', async () => {
  const s = await startProxyCommand(`sh -c "echo first >&2; echo 'stdio forwarding failed' >&2; exit 255"`, {
    log: silentLogger,
    label: 'hop',
    env: { SHELL: '/bin/sh' },
  });
  const [err] = await once(s, 'error');
  assert.ok(err instanceof ProxyCommandError);
  assert.equal((err as Error).message, 'ProxyCommand exited with status 255: stdio forwarding failed');
});

test('stream: a shell that cannot start is a ProxyCommandError', async () => {
  await assert.rejects(
    startProxyCommand('true', { log: silentLogger, label: 'hop', env: { SHELL: '/nonexistent/shell' } }),
    (e: unknown) => e instanceof ProxyCommandError && /could not be started/.test((e as Error).message),
  );
});

test('stream: destroying it ends the child, SIGKILL after the grace period if SIGTERM is ignored', async () => {
  const s = await startProxyCommand('sleep 60', { log: silentLogger, label: 'hop', env: { SHELL: '/bin/sh' } });
  const pid = s.child.pid!;
  assert.ok(alive(pid));
  s.destroy();
  await once(s.child, 'exit');
  assert.ok(!alive(pid), 'gone after destroy');

  const stubborn = await startProxyCommand(`sh -c "trap '' TERM; echo ready; while :; do sleep 0.1; done"`, {
    log: silentLogger,
    label: 'hop',
    env: { SHELL: '/bin/sh' },
  });
  await once(stubborn, 'data'); // the trap is set
  const t0 = Date.now();
  stubborn.destroy();
  const [, signal] = await once(stubborn.child, 'exit');
  assert.equal(signal, 'SIGKILL');
  assert.ok(Date.now() - t0 >= 1500, 'SIGTERM first, then a grace period');
});
