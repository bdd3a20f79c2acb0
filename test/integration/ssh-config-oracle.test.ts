// OpenSSH as the oracle: `ssh -G -F config host` prints the resolved configuration without
// connecting; loadSshConfig + resolveHostConfig must agree with it over a fixture that uses
// wildcards, negation, first-wins, Include (inside a Host block, and in one that does not apply),
// tokens, ProxyJump and Match. Also the loader's own rules: relative Include, permissions, depth.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadSshConfig,
  loadSshConfigDetailed,
  localResolveContext,
  MAX_INCLUDE_DEPTH,
} from '../../native-host/ssh/config-files.js';
import { resolveHostConfig, type HostConfig } from '../../native-host/ssh/config-resolve.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/ssh/', import.meta.url));
const ctx = localResolveContext();
let tmp = '';
let configFile = '';

const hasSsh = (() => {
  try {
    execFileSync('ssh', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-sshcfg-'));
  fs.cpSync(FIX, tmp, { recursive: true });
  for (const f of ['config', 'config.d/10-users.conf', 'never.d/inactive.conf']) {
    const p = path.join(tmp, f);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replaceAll('@DIR@', tmp));
  }
  // OpenSSH refuses included files that others can write; keep the copy's modes strict.
  for (const f of fs.readdirSync(tmp, { recursive: true }) as string[])
    fs.chmodSync(path.join(tmp, f), fs.statSync(path.join(tmp, f)).isDirectory() ? 0o755 : 0o644);
  configFile = path.join(tmp, 'config');
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** `ssh -G` output: keyword → values (identityfile may repeat). */
function sshG(host: string): Map<string, string[]> {
  const out = execFileSync('ssh', ['-G', '-F', configFile, host], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const k = line.slice(0, sp);
    m.set(k, [...(m.get(k) ?? []), line.slice(sp + 1)]);
  }
  return m;
}

/** ssh -G prints IdentityFile unexpanded; expand it here, independently, with ssh's own values. */
function expandLikeSsh(p: string, g: Map<string, string[]>): string {
  const t: Record<string, string> = {
    h: g.get('hostname')![0]!,
    p: g.get('port')![0]!,
    r: g.get('user')![0]!,
    u: ctx.localUser,
    d: ctx.home,
    '%': '%',
  };
  return p.replace(/^~(?=\/|$)/, ctx.home).replace(/%(.)/g, (_, k: string) => t[k] ?? `%${k}`);
}

function ours(cfg: HostConfig) {
  return {
    hostname: cfg.hostName,
    port: String(cfg.port ?? 22),
    user: cfg.user ?? ctx.localUser,
    identityfile: cfg.identityFiles,
    proxyjump: cfg.proxyJump,
    stricthostkeychecking: cfg.strictHostKeyChecking ?? 'ask',
    serveraliveinterval: String(cfg.serverAliveInterval ?? 0),
    connecttimeout: cfg.connectTimeout === undefined ? 'none' : String(cfg.connectTimeout),
    hostkeyalias: cfg.hostKeyAlias,
    userknownhostsfile: cfg.userKnownHostsFiles.join(' '),
  };
}

function theirs(g: Map<string, string[]>) {
  const one = (k: string) => g.get(k)?.[0];
  const strict: Record<string, string> = { true: 'yes', false: 'no', ask: 'ask', 'accept-new': 'accept-new' };
  return {
    hostname: one('hostname'),
    port: one('port'),
    user: one('user'),
    identityfile: (g.get('identityfile') ?? []).map((p) => expandLikeSsh(p, g)),
    proxyjump: one('proxyjump'),
    stricthostkeychecking: strict[one('stricthostkeychecking')!],
    serveraliveinterval: one('serveraliveinterval'),
    connecttimeout: one('connecttimeout'),
    hostkeyalias: one('hostkeyalias'),
    userknownhostsfile: one('userknownhostsfile'),
  };
}

const HOSTS = [
  'g5k',
  'G5K',
  'node.g5k',
  'node.nancy.g5k',
  'bad.g5k',
  'lab',
  'lab-1',
  'lab-22',
  'alias-x',
  'never',
  'elsewhere.example.org',
];

test('resolveHostConfig agrees with ssh -G on every fixture host', {
  skip: hasSsh ? false : 'ssh not installed',
}, () => {
  const errors: string[] = [];
  const blocks = loadSshConfig(configFile, ctx.home, { warn: (m) => errors.push(m) });
  assert.deepEqual(errors, []);
  for (const host of HOSTS) {
    assert.deepEqual(ours(resolveHostConfig(blocks, host, ctx)), theirs(sshG(host)), host);
  }
});

test('the fixture exercises what it claims (so the comparison above cannot pass vacuously)', () => {
  const blocks = loadSshConfig(configFile, ctx.home);
  const r = (h: string) => resolveHostConfig(blocks, h, ctx);
  assert.equal(r('lab').user, 'labuser', 'Include inside a Host block applies to that host');
  assert.equal(r('lab-1').user, 'lab1user', 'Host blocks of the included file');
  assert.equal(r('lab').serverAliveInterval, 60, 'the enclosing block goes on after the Include');
  assert.equal(r('lab').connectTimeout, 9, 'Match host (after HostName) and user (from the Include)');
  assert.equal(r('elsewhere.example.org').user, undefined, 'an Include under Host lab does not leak');
  assert.equal(r('never').port, 7777, 'an Include under Host never applies to never');
  assert.equal(
    r('elsewhere.example.org').user,
    undefined,
    '... and brings nothing, not even its Host *, to other hosts',
  );
  assert.equal(r('elsewhere.example.org').port, 2023, 'negated Match criteria');
  assert.equal(r('node.g5k').port, undefined);
  assert.equal(r('node.nancy.g5k').user, 'jdoe', 'first value wins');
  assert.equal(r('node.nancy.g5k').hostName, 'node.nancy.g5k.internal', '%h in HostName');
  assert.equal(r('bad.g5k').proxyJump, undefined, 'negation');
  assert.equal(r('bad.g5k').strictHostKeyChecking, 'no');
  assert.equal(r('alias-x').proxyJump, 'u1@jump1:2022,jump2');
  assert.ok(!r('lab').identityFiles.some((f) => f.includes('hidden')));
  assert.ok(r('lab').identityFiles.includes(`${ctx.home}/.ssh/id_lab`), 'glob picked 20-keys.conf');
});

test('relative Include paths are read from ~/.ssh, and ~/ paths from home', () => {
  const home = path.join(tmp, 'home');
  fs.mkdirSync(path.join(home, '.ssh', 'conf.d'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, '.ssh', 'config'), 'Include conf.d/*\nInclude ~/extra.conf\nHost *\n  User last\n', {
    mode: 0o600,
  });
  fs.writeFileSync(path.join(home, '.ssh', 'conf.d', 'a'), 'Host gw\n  Port 2022\n', { mode: 0o600 });
  fs.writeFileSync(path.join(home, 'extra.conf'), 'User extra\n', { mode: 0o600 });
  const r = loadSshConfigDetailed(undefined, home, { systemFile: null });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.files, [
    path.join(home, '.ssh', 'config'),
    path.join(home, '.ssh', 'conf.d', 'a'),
    path.join(home, 'extra.conf'),
  ]);
  const cfg = resolveHostConfig(r.blocks, 'gw', { ...ctx, home });
  assert.equal(cfg.port, 2022);
  assert.equal(cfg.user, 'extra');
});

test('the system file comes after the user file; its relative Includes live beside it', () => {
  const home = path.join(tmp, 'home2');
  const etc = path.join(tmp, 'etc-ssh');
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
  fs.mkdirSync(path.join(etc, 'ssh_config.d'), { recursive: true });
  fs.writeFileSync(path.join(home, '.ssh', 'config'), 'Host gw\n  Port 2022\n', { mode: 0o600 });
  fs.writeFileSync(path.join(etc, 'ssh_config'), 'Include ssh_config.d/*.conf\nHost *\n  Port 22\n');
  fs.writeFileSync(path.join(etc, 'ssh_config.d', 'site.conf'), 'User site\n', { mode: 0o644 });
  const blocks = loadSshConfig(undefined, home, { systemFile: path.join(etc, 'ssh_config') });
  const cfg = resolveHostConfig(blocks, 'gw', { ...ctx, home });
  assert.equal(cfg.port, 2022);
  assert.equal(cfg.user, 'site');
  assert.equal(resolveHostConfig(blocks, 'other', { ...ctx, home }).port, 22);
});

test('missing default files are fine; a missing -F file, a file others can write, and deep Include loops are errors', () => {
  const home = path.join(tmp, 'empty-home');
  fs.mkdirSync(home);
  const none = loadSshConfigDetailed(undefined, home, { systemFile: path.join(tmp, 'no-such-system-file') });
  assert.deepEqual(none, { blocks: [], errors: [], files: [] });

  const missing = loadSshConfigDetailed(path.join(tmp, 'nope'), home);
  assert.equal(missing.blocks.length, 0);
  assert.match(missing.errors[0]!.message, /cannot read \(ENOENT\)/);

  const open = path.join(tmp, 'world-writable.conf');
  fs.writeFileSync(open, 'User injected\nProxyCommand evil\n');
  fs.chmodSync(open, 0o666);
  const main = path.join(tmp, 'main.conf');
  fs.writeFileSync(main, `Include ${open}\n`);
  const perm = loadSshConfigDetailed(main, home);
  assert.match(perm.errors[0]!.message, /bad owner or permissions.*chmod 600/);
  assert.equal(resolveHostConfig(perm.blocks, 'gw', ctx).proxyCommand, undefined);

  const loop = path.join(tmp, 'loop.conf');
  fs.writeFileSync(loop, `Port 2022\nInclude ${loop}\n`);
  const deep = loadSshConfigDetailed(loop, home);
  assert.equal(deep.files.length, MAX_INCLUDE_DEPTH + 1);
  assert.match(deep.errors[0]!.message, /nested more than 16 deep/);
  assert.equal(resolveHostConfig(deep.blocks, 'gw', ctx).port, 2022);
});

test('ProxyJump and ProxyCommand: which one applies agrees with ssh -G, `ProxyJump none` included', {
  skip: hasSsh ? false : 'ssh not installed',
}, () => {
  const file = path.join(tmp, 'proxy.conf');
  fs.writeFileSync(
    file,
    `${[
      'Host jn',
      '  ProxyJump none',
      'Host pn',
      '  ProxyCommand none',
      'Host pc',
      '  ProxyCommand nc %h %p',
      'Host pj',
      '  ProxyJump j1',
      'Host *',
      '  ProxyCommand ssh gw -W %h:%p',
      '  ProxyJump j2',
    ].join('\n')}\n`,
    { mode: 0o600 },
  );
  const blocks = loadSshConfig(file, ctx.home);
  for (const host of ['jn', 'pn', 'pc', 'pj', 'other']) {
    const g = execFileSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const line = (k: string) => new RegExp(`^${k} (.*)$`, 'm').exec(g)?.[1];
    const cfg = resolveHostConfig(blocks, host, ctx);
    assert.deepEqual(
      { jump: cfg.proxyJump, command: cfg.proxyCommand },
      { jump: line('proxyjump'), command: line('proxycommand') },
      host,
    );
  }
  assert.equal(resolveHostConfig(blocks, 'jn', ctx).proxyCommand, 'ssh gw -W %h:%p', 'the case where `none` matters');
});

test('-F none reads no file at all, as ssh -F none', () => {
  const home = path.join(tmp, 'home-f-none');
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
  fs.writeFileSync(path.join(home, '.ssh', 'config'), 'Port 2222\n', { mode: 0o600 });
  assert.deepEqual(loadSshConfigDetailed('none', home), { blocks: [], errors: [], files: [] });
});

test('-F /dev/null is an empty file and -F from a pipe is read, as ssh reads them; a folder is an error', () => {
  const home = path.join(tmp, 'home-f-devnull');
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
  fs.writeFileSync(path.join(home, '.ssh', 'config'), 'Port 2222\n', { mode: 0o600 });
  assert.deepEqual(loadSshConfigDetailed('/dev/null', home).errors, []);
  assert.deepEqual(loadSshConfigDetailed('/dev/null', home).blocks.length, 0);
  assert.match(
    execFileSync('ssh', ['-G', '-F', '/dev/null', 'x'], { encoding: 'utf8' }),
    /^port 22$/m,
    'the oracle agrees',
  );

  const fifo = path.join(tmp, 'config.fifo');
  execFileSync('mkfifo', [fifo]);
  // the writer blocks until the reader opens the pipe, as with `-F <(...)`
  const writer = spawn('sh', ['-c', `printf 'Host x\\n  Port 2200\\n' > '${fifo}'`], { stdio: 'ignore' });
  const piped = loadSshConfigDetailed(fifo, home);
  writer.kill();
  assert.deepEqual(piped.errors, []);
  assert.equal(resolveHostConfig(piped.blocks, 'x', { localUser: 'me', home }).port, 2200);

  assert.match(loadSshConfigDetailed(tmp, home).errors[0]?.message ?? '', /cannot read \(EISDIR\)/);
});
