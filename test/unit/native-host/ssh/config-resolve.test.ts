// ssh_config resolution: one host's effective options; each expectation was checked against `ssh -G`
// (OpenSSH 9.2), and test/integration/ssh-config-oracle.test.ts compares with it live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseSshConfig, type SshConfigBlock } from '../../../../native-host/ssh/config-parse.js';
import {
  expandProxyCommand,
  resolveHostConfig,
  type ResolveContext,
} from '../../../../native-host/ssh/config-resolve.js';

const ctx: ResolveContext = { localUser: 'me', home: '/home/me', localHost: 'laptop.example.org', uid: 1000 };

function resolve(text: string, host: string, extra: Partial<ResolveContext> = {}) {
  const { blocks, errors } = parseSshConfig(text, 'cfg');
  assert.deepEqual(errors, [], 'fixture text has no errors');
  return resolveHostConfig(blocks, host, { ...ctx, ...extra });
}

test('first value wins; Host takes several globs; a matching !pattern vetoes the block', () => {
  const text = `
Host gw !bad-* *.grid5000.fr
  User g5kuser
  Port 2222
Host *.nancy.grid5000.fr
  User nancyuser
  HostName real-%h
Host *
  User fallback
  Port 22
`;
  assert.equal(resolve(text, 'gw').user, 'g5kuser');
  assert.equal(resolve(text, 'gw').port, 2222);
  const nancy = resolve(text, 'node.nancy.grid5000.fr');
  assert.equal(nancy.user, 'g5kuser', 'an earlier block wins over a later, more specific one');
  assert.equal(nancy.hostName, 'real-node.nancy.grid5000.fr');
  assert.equal(resolve(text, 'bad-1.grid5000.fr').user, 'fallback');
  assert.equal(resolve(text, 'bad-1.grid5000.fr').port, 22);
  assert.equal(resolve(text, 'elsewhere').user, 'fallback');
});

test('Host matches the name as typed (case-sensitive), HostName comes out in lower case', () => {
  const text = 'Host GW\n  Port 1111\nHost gw\n  Port 2222\n  HostName Access.Grid5000.FR\n';
  assert.equal(resolve(text, 'GW').port, 1111);
  assert.equal(resolve(text, 'GW').hostName, 'gw');
  assert.equal(resolve(text, 'gw').port, 2222);
  assert.equal(resolve(text, 'gw').hostName, 'access.grid5000.fr');
  assert.equal(resolve(text, 'Gw').port, undefined);
});

test('defaults when nothing applies', () => {
  const cfg = resolve('', 'gw');
  assert.equal(cfg.hostName, 'gw');
  assert.equal(cfg.originalHost, 'gw');
  assert.equal(cfg.port, undefined);
  assert.equal(cfg.user, undefined);
  assert.equal(cfg.identityFilesFromConfig, false);
  assert.deepEqual(cfg.identityFiles.slice(0, 4), [
    '/home/me/.ssh/id_rsa',
    '/home/me/.ssh/id_ecdsa',
    '/home/me/.ssh/id_ecdsa_sk',
    '/home/me/.ssh/id_ed25519',
  ]);
  assert.deepEqual(cfg.userKnownHostsFiles, ['/home/me/.ssh/known_hosts', '/home/me/.ssh/known_hosts2']);
  assert.deepEqual(cfg.globalKnownHostsFiles, ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  assert.equal(cfg.strictHostKeyChecking, undefined);
  assert.deepEqual(cfg.warnings, []);
});

test('tokens and ~ in IdentityFile, UserKnownHostsFile and IdentityAgent', () => {
  const text = `
Host gw
  HostName access.grid5000.fr
  User jdoe
  Port 2200
  HostKeyAlias G5K
  IdentityFile ~/.ssh/%h_%p_%r_%u_%%
  IdentityFile %d/keys/%n-%k-%i-%l-%L
  IdentityFile ~/.ssh/%h_%p_%r_%u_%%
  UserKnownHostsFile ~/kh/%C "/with space/%h"
  IdentityAgent ~/agent-%r.sock
`;
  const cfg = resolve(text, 'gw');
  assert.deepEqual(cfg.identityFiles, [
    '/home/me/.ssh/access.grid5000.fr_2200_jdoe_me_%',
    '/home/me/keys/gw-g5k-1000-laptop.example.org-laptop',
  ]);
  assert.equal(cfg.identityFilesFromConfig, true);
  const c = createHash('sha1').update('laptop.example.orgaccess.grid5000.fr2200jdoe').digest('hex');
  assert.deepEqual(cfg.userKnownHostsFiles, [`/home/me/kh/${c}`, '/with space/access.grid5000.fr']);
  assert.equal(cfg.identityAgent, '/home/me/agent-jdoe.sock');
  assert.equal(cfg.hostKeyAlias, 'g5k');
  // names, not paths, are left for the caller
  assert.equal(resolve('IdentityAgent SSH_AUTH_SOCK', 'x').identityAgent, 'SSH_AUTH_SOCK');
  assert.equal(resolve('IdentityAgent none', 'x').identityAgent, 'none');
  // GlobalKnownHostsFile is not expanded by OpenSSH
  assert.deepEqual(resolve('GlobalKnownHostsFile ~/g%h', 'x').globalKnownHostsFiles, ['~/g%h']);
  assert.deepEqual(resolve('UserKnownHostsFile none', 'x').userKnownHostsFiles, []);
});

test("a bad token or another user's ~ is an error that names the line", () => {
  assert.throws(() => resolve('Host x\n  IdentityFile ~/%z', 'x'), /cfg line 2: unknown or unavailable token "%z"/);
  assert.throws(
    () => resolve('Host x\n  HostName %p.example', 'x'),
    /cfg line 2 \(HostName\): unknown or unavailable token "%p"/,
  );
  assert.throws(() => resolve('IdentityFile ~bob/.ssh/id', 'x'), /another user's home/);
  assert.equal(resolve('IdentityFile ~me/.ssh/id', 'x').identityFiles[0], '/home/me/.ssh/id');
  assert.throws(() => resolve('IdentityFile %l', 'x', { localHost: undefined }), /unavailable token "%l"/);
});

test('ProxyJump and ProxyCommand: whichever comes first wins; none disables', () => {
  const text = `
Host pc
  ProxyCommand ssh -W %h:%p gw # kept as written
  ProxyJump other
Host pj
  ProxyJump first,u@second:2222
  ProxyCommand nc %h %p
Host off
  ProxyJump none
Host *
  ProxyJump fallback
`;
  const pc = resolve(text, 'pc');
  assert.equal(pc.proxyCommand, 'ssh -W %h:%p gw # kept as written');
  assert.equal(pc.proxyJump, undefined);
  assert.equal(expandProxyCommand(pc, 'me'), 'ssh -W pc:22 gw # kept as written');
  const pj = resolve(text, 'pj');
  assert.equal(pj.proxyJump, 'first,u@second:2222');
  assert.equal(pj.proxyCommand, undefined);
  assert.equal(resolve(text, 'off').proxyJump, undefined);
  assert.equal(resolve(text, 'other').proxyJump, 'fallback');
});

test('values are normalised: StrictHostKeyChecking, yes/no flags, times', () => {
  const r = (line: string) => resolve(line, 'x');
  assert.equal(r('StrictHostKeyChecking off').strictHostKeyChecking, 'no');
  assert.equal(r('StrictHostKeyChecking FALSE').strictHostKeyChecking, 'no');
  assert.equal(r('StrictHostKeyChecking true').strictHostKeyChecking, 'yes');
  assert.equal(r('StrictHostKeyChecking accept-new').strictHostKeyChecking, 'accept-new');
  assert.equal(r('StrictHostKeyChecking ask').strictHostKeyChecking, 'ask');
  assert.equal(r('ServerAliveInterval 1m').serverAliveInterval, 60);
  assert.equal(r('ServerAliveCountMax 5').serverAliveCountMax, 5);
  assert.equal(r('ConnectTimeout none').connectTimeout, undefined);
  assert.equal(r('ConnectTimeout 20').connectTimeout, 20);
  assert.equal(r('HashKnownHosts yes').hashKnownHosts, true);
  assert.equal(r('IdentitiesOnly no').identitiesOnly, false);
});

test('-o overrides come first and so win; Host, Match and Include are refused there', () => {
  const text = 'Host gw\n  User fromfile\n  Port 2222\n';
  const cfg = resolve(text, 'gw', { overrides: ['User=cli', 'StrictHostKeyChecking no'] });
  assert.equal(cfg.user, 'cli');
  assert.equal(cfg.port, 2222);
  assert.equal(cfg.strictHostKeyChecking, 'no');
  assert.throws(() => resolve(text, 'gw', { overrides: ['Port=x'] }), /-o "Port=x": bad port/);
  assert.throws(() => resolve(text, 'gw', { overrides: ['Host *'] }), /not allowed on the command line/);
  assert.throws(() => resolve(text, 'gw', { overrides: ['Include /etc/passwd'] }), /not allowed on the command line/);
});

test('Match all, host (HostName so far), originalhost, user (User so far), localuser, and !negation', () => {
  const text = `
Host gw
  HostName access.grid5000.fr
Match host *.grid5000.fr originalhost gw
  Port 2201
Match !host *.grid5000.fr
  Port 2202
Host *
  User jdoe
Match user jdoe
  ServerAliveInterval 10
Match user jdoe,!jdoe
  ServerAliveCountMax 9
Match localuser me
  ConnectTimeout 7
Match all
  HashKnownHosts yes
`;
  const gw = resolve(text, 'gw');
  assert.equal(gw.port, 2201);
  assert.equal(gw.serverAliveInterval, 10);
  assert.equal(gw.serverAliveCountMax, undefined);
  assert.equal(gw.connectTimeout, 7);
  assert.equal(gw.hashKnownHosts, true);
  assert.equal(resolve(text, 'elsewhere').port, 2202);
  assert.equal(resolve(text, 'x.grid5000.fr').port, undefined);
  assert.equal(resolve(text, 'gw', { localUser: 'other' }).connectTimeout, undefined);
  // Match user sees the User set before it: here none yet, so the local user
  assert.equal(resolve('Match user me\n  Port 2203\n', 'gw').port, 2203);
});

test('unsupported Match criteria never apply, and say so once, when the file is read', () => {
  const { blocks, errors } = parseSshConfig('Match exec "true"\n  Port 2204\nMatch final\n  User f\n', 'cfg');
  assert.deepEqual(
    errors.map((e) => `${e.line}: ${e.message}`),
    [
      '1: Match exec: not supported, this block never applies',
      '3: Match final: not supported, this block never applies',
    ],
  );
  const cfg = resolveHostConfig(blocks, 'gw', ctx);
  assert.equal(cfg.port, undefined);
  assert.equal(cfg.user, undefined);
  assert.deepEqual(cfg.warnings, [], 'not reported a second time for each host resolved');
});

test('blocks gated by `within` apply only when the enclosing block applies, judged once in order', () => {
  const outer: SshConfigBlock = { kind: 'host', patterns: ['gw'], options: [['user', 'outer']], file: 'a', line: 1 };
  const inner: SshConfigBlock = {
    kind: 'host',
    patterns: ['*'],
    options: [['port', '2205']],
    file: 'b',
    line: 0,
    within: [outer],
  };
  const innerHost: SshConfigBlock = {
    kind: 'host',
    patterns: ['other'],
    options: [['port', '2206']],
    file: 'b',
    line: 3,
    within: [outer],
  };
  const blocks = [outer, inner, innerHost];
  assert.equal(resolveHostConfig(blocks, 'gw', ctx).port, 2205);
  assert.equal(resolveHostConfig(blocks, 'other', ctx).port, undefined, 'the enclosing Host gw does not apply');
  // A Match judged at its header: a User set later inside does not change it
  const m: SshConfigBlock = {
    kind: 'match',
    patterns: ['user', 'me'],
    options: [['user', 'changed']],
    file: 'a',
    line: 1,
  };
  const after: SshConfigBlock = {
    kind: 'host',
    patterns: ['*'],
    options: [['port', '2207']],
    file: 'a',
    line: 3,
    within: [m],
  };
  assert.equal(resolveHostConfig([m, after], 'gw', ctx).port, 2207);
});

test('an Include left in the blocks is reported, not silently dropped', () => {
  const { blocks } = parseSshConfig('Include other.conf\n', 'cfg');
  assert.deepEqual(resolveHostConfig(blocks, 'x', ctx).warnings, [
    'cfg line 1: Include not expanded (load the configuration with loadSshConfig)',
  ]);
});
