import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  commandTunnelConfig,
  parseCommandLine,
  parseDynamic,
  parseSshOption,
  sshOptionsFor,
  type RunArgs,
  type UsageProblem,
} from '../../../../native-host/cli/args.js';
import type { Parsed } from '../../../../shared/parsed.js';
import { splitArgs } from '../../../../native-host/ssh/config-parse.js';
import { checkTunnelConfig } from '../../../../shared/protocol.js';

/** The command a command line asks for; fails on a usage mistake. */
function command(argv: string[]) {
  const r = parseCommandLine(argv);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value;
}
const run = (...argv: string[]): RunArgs => {
  const c = command(argv);
  assert.equal(c.kind, 'run');
  return (c as { args: RunArgs }).args;
};
/** The mistake's message; fails when the argument was accepted. */
function refusal<T>(r: Parsed<T, UsageProblem>): string {
  assert.equal(r.ok, false, `accepted: ${JSON.stringify(r)}`);
  return r.ok ? '' : r.error.message;
}
const usage = (argv: string[], re: RegExp) => assert.match(refusal(parseCommandLine(argv)), re);

test("the Grid'5000 wiki command line", () => {
  const a = run('-N', '-D', '7777', 'jdoe@access.grid5000.fr');
  assert.equal(a.socksPort, 7777);
  assert.equal(a.bindAddress, '127.0.0.1');
  assert.equal(a.host, 'access.grid5000.fr');
  assert.equal(a.user, 'jdoe');
  assert.equal(a.port, 0);
});

test('getopt clusters, attached arguments and options after the destination', () => {
  const a = run('-NvvD1080', '-p2222', 'g5k', '-l', 'me', '-i', '/k1', '-i/k2', '-q');
  assert.equal(a.socksPort, 1080);
  assert.equal(a.verbosity, 2);
  assert.equal(a.port, 2222);
  assert.equal(a.user, 'me');
  assert.deepEqual(a.identityFiles, ['/k1', '/k2']);
  assert.equal(a.quiet, true);
  assert.equal(a.host, 'g5k');
});

test('-l and -p win over the destination, wherever they appear', () => {
  const a = run('-D', '1080', 'ssh://alice@gw.example:2200', '-l', 'bob');
  assert.equal(a.user, 'bob');
  assert.equal(a.port, 2200);
  const b = run('-p', '22', '-D', '1080', 'ssh://alice@[::1]:2200');
  assert.equal(b.host, '::1');
  assert.equal(b.user, 'alice');
  assert.equal(b.port, 22);
  assert.equal(run('-D', '1', 'a@b@host').user, 'a@b', 'the last @ splits, as in ssh');
});

test('-D: every form ssh accepts, loopback only', () => {
  assert.deepEqual(parseDynamic('1080'), { ok: true, value: { bind: '127.0.0.1', port: 1080 } });
  assert.deepEqual(parseDynamic('localhost:1080'), { ok: true, value: { bind: 'localhost', port: 1080 } });
  assert.deepEqual(parseDynamic('127.0.0.1/1080'), { ok: true, value: { bind: '127.0.0.1', port: 1080 } });
  assert.deepEqual(parseDynamic('[::1]:1080'), { ok: true, value: { bind: '::1', port: 1080 } });
  for (const bad of ['0.0.0.0:1080', '*:1080', ':1080', '192.168.1.5:1080', '[::]:1080'])
    assert.match(refusal(parseDynamic(bad)), /refusing to listen on .*loopback only/, bad);
  for (const bad of ['0', '65536', 'http', '1080x', ''])
    assert.match(refusal(parseDynamic(bad)), /Bad dynamic forwarding specification/, bad);
});

test('-J takes a comma list; none clears it', () => {
  assert.deepEqual(run('-D', '1', '-J', 'a@j1,j2:2022', 'h').jumps, ['a@j1', 'j2:2022']);
  assert.deepEqual(run('-D', '1', '-J', 'none', 'h').jumps, []);
  usage(['-D', '1', '-J', 'a,,b', 'h'], /Bad jump host in -J a,,b: .*entry 2 is empty/);
  usage(['-D', '1', '-J', 'j1:22x', 'h'], /Bad jump host in -J j1:22x: .*port "22x"/);
  usage(['-D', '1', '-J', 'j1,-oProxyCommand=x', 'h'], /Bad jump host .*cannot start with "-"/);
  assert.deepEqual(run('-D', '1', '-J', 'ssh://u@[::1]:2022', 'h').jumps, ['u@[::1]:2022']);
});

test('-o: Key=Value or Key Value, any case, checked like ssh', () => {
  assert.deepEqual(parseSshOption('port=2222'), { ok: true, value: 'Port=2222' });
  assert.deepEqual(parseSshOption('StrictHostKeyChecking accept-new'), {
    ok: true,
    value: 'StrictHostKeyChecking=accept-new',
  });
  assert.deepEqual(parseSshOption('UserKnownHostsFile = "/tmp/k h"'), {
    ok: true,
    value: 'UserKnownHostsFile="/tmp/k h"',
  });
  assert.deepEqual(parseSshOption('UserKnownHostsFile /a /b'), { ok: true, value: 'UserKnownHostsFile=/a /b' });
  assert.deepEqual(parseSshOption('IdentitiesOnly=YES'), { ok: true, value: 'IdentitiesOnly=yes' });
  assert.match(refusal(parseSshOption('Compression=yes')), /Bad configuration option: compression/);
  assert.match(refusal(parseSshOption('Port=abc')), /Bad value for Port/);
  assert.match(refusal(parseSshOption('ConnectTimeout=')), /Missing argument/);
  assert.match(refusal(parseSshOption('ServerAliveCountMax=0')), /Bad value/);
  const a = run('-D', '1', '-o', 'ProxyJump=j', '-oBatchMode=yes', 'h');
  assert.deepEqual(a.sshOptions, ['ProxyJump=j', 'BatchMode=yes']);
  assert.equal(a.batchMode, true);
});

test('usage errors say what is wrong', () => {
  usage([], /no destination/);
  usage(['host'], /-D \[bind_address:\]port is required/);
  usage(['-D', '1', 'host', 'uptime'], /runs no remote command/);
  usage(['-D', '1', '-x', 'host'], /unknown option -- x/);
  usage(['-D', '1', '-f', 'host'], /foreground/);
  usage(['-D', '1', '-L', '80:h:80', 'host'], /only dynamic forwarding/);
  usage(['-D', '1', 'host', '-p'], /requires an argument -- p/);
  usage(['-D', '1', '-p', '70000', 'host'], /Bad port/);
  usage(['-D', '1', '@host'], /empty user/);
  usage(['-D', '1', 'ssh://u@h:port'], /Bad destination 'ssh:\/\/u@h:port' \(port "port" is not a number/);
  usage(['-D', '1', 'ssh://%E0@h'], /Bad destination .*bad %-escape in the user name/);
  usage(['-D', '1', 'ssh://u@h/path'], /Bad destination .*cannot have a path/);
  usage(['--frobnicate'], /unknown option --frobnicate/);
});

test('a mistake in how the command is written shows the usage; a refused value does not', () => {
  const showsUsage = (argv: string[]) => {
    const r = parseCommandLine(argv);
    assert.equal(r.ok, false, argv.join(' '));
    return !r.ok && r.error.showUsage;
  };
  assert.equal(showsUsage([]), true);
  assert.equal(showsUsage(['-D', '1', '-x', 'host']), true);
  assert.equal(showsUsage(['-D', '1', '-f', 'host']), false);
  assert.equal(showsUsage(['-D', '1', '-p', '70000', 'host']), false);
  assert.equal(showsUsage(['-D', '1', '@host']), false);
});

test('help, version and subcommands', () => {
  assert.deepEqual(command(['--help']), { kind: 'help' });
  assert.deepEqual(command(['-D', '1', '-h', 'x']), { kind: 'help' });
  assert.deepEqual(command(['--version']), { kind: 'version' });
  assert.deepEqual(command(['-V']), { kind: 'version' });
  assert.deepEqual(command(['doctor', '--json']), { kind: 'subcommand', name: 'doctor', args: ['--json'] });
  assert.deepEqual(command(['install']), { kind: 'subcommand', name: 'install', args: [] });
});

test('the tunnel config: what was given, else "from ssh config or the default"', () => {
  const c = commandTunnelConfig(run('-D', '1080', '-J', 'j', '-i', '/k', 'u@h'));
  assert.equal(checkTunnelConfig(c), null);
  assert.equal(c.gateway, 'h');
  assert.equal(c.user, 'u');
  assert.equal(c.port, 0);
  assert.equal(c.identityFile, '/k');
  assert.deepEqual(c.jumps, ['j']);
  assert.equal(c.socksPort, 1080);
  assert.equal(c.strictHostKeyChecking, 'ask');
  assert.equal(c.knownHostsFile, '');
  assert.equal(commandTunnelConfig(run('-D', '1', 'h')).identityFile, '');
});

test('every -i is tried: the first as the identity file, the others as IdentityFile lines', () => {
  const a = run('-D', '1', '-i', '/k1', '-i', '/my keys/k"2', '-o', 'Port=2', 'h');
  assert.equal(commandTunnelConfig(a).identityFile, '/k1');
  const lines = sshOptionsFor(a);
  assert.equal(lines[0], 'Port=2');
  assert.deepEqual(splitArgs(lines[1]!.slice('IdentityFile='.length)), ['/my keys/k"2']);
});

test('--connections sets the pool size of the tunnel, 1 by default, 1-16', () => {
  assert.equal(commandTunnelConfig(run('-D', '1080', 'h')).maxConnections, 1);
  assert.equal(commandTunnelConfig(run('-D', '1080', '--connections', '4', 'h')).maxConnections, 4);
  assert.equal(commandTunnelConfig(run('--connections=3', '-D', '1080', 'h')).maxConnections, 3);
  usage(['-D', '1080', '--connections', '0', 'h'], /--connections takes a whole number from 1 to 16/);
  usage(['-D', '1080', '--connections', 'x', 'h'], /--connections/);
  usage(['-D', '1080', 'h', '--connections'], /--connections/);
});

test('-l takes a login as the destination grammar does: "@" allowed, shell characters refused', () => {
  assert.equal(run('-D', '1', '-l', 'first.last@example.org', 'h').user, 'first.last@example.org');
  usage(['-D', '1', '-l', 'a;id', 'h'], /Bad login 'a;id' \(.*not a valid user name\)/);
  usage(['-D', '1', '-l', '-oX', 'h'], /cannot start with "-"/);
});

test('--socks-auth-file takes a file (attached or separate); the port is open without it', () => {
  const run = (argv: string[]) => {
    const c = command(argv);
    assert.equal(c.kind, 'run');
    return c.kind === 'run' ? c.args : (null as never);
  };
  assert.equal(run(['-N', '-D', '1080', 'host']).socksAuthFile, null);
  assert.equal(run(['-N', '-D', '1080', '--socks-auth-file', '/tmp/a', 'host']).socksAuthFile, '/tmp/a');
  assert.equal(run(['--socks-auth-file=/tmp/b', '-D1080', 'host']).socksAuthFile, '/tmp/b');
  usage(['-D', '1080', 'host', '--socks-auth-file'], /needs a file/);
});
