// The Windows set-up, checked where Windows cannot run: install and uninstall with a runner that
// records every reg.exe command and a file system in memory (the exact commands, paths and file
// contents), doctor's registry and agent checks, and OpenSSH for Windows' default paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BROWSERS, hostManifest, type Env } from '../../../../native-host/setup/browser-paths.js';
import type { FileOps, Runner } from '../../../../native-host/setup/host-io.js';
import { installMain, uninstallMain, type InstallContext } from '../../../../native-host/setup/install.js';
import { parseLauncher } from '../../../../native-host/setup/launcher.js';
import { parseRegDefault, regQueryDefault } from '../../../../native-host/setup/registry.js';
import { checkBrowsers } from '../../../../native-host/setup/doctor/local.js';
import { checkAgent } from '../../../../native-host/setup/doctor/ssh.js';
import { tilde, type DoctorOptions } from '../../../../native-host/setup/doctor/check.js';
import { agentKind, defaultAgentSocket, WINDOWS_AGENT_PIPE } from '../../../../native-host/ssh/agent.js';
import { systemSshConfig } from '../../../../native-host/ssh/config-files.js';
import { systemKnownHostsFiles } from '../../../../native-host/ssh/known-hosts-store.js';
import { planRoute } from '../../../../native-host/ssh/route.js';
import { homeDir } from '../../../../native-host/home.js';
import { defaultProfile, toTunnelConfig } from '../../../../shared/settings.js';

const LOCAL = 'C:\\Users\\ada\\AppData\\Local';
const DIR = `${LOCAL}\\g5k-tunnel`;
const NODE = 'C:\\Program Files\\nodejs\\node.exe';
const HOST =
  'C:\\Users\\ada\\AppData\\Roaming\\npm\\node_modules\\g5k-tunnel\\dist\\native-host\\messaging\\host-main.js';
const ENV: Env = { USERPROFILE: 'C:\\Users\\ada', LOCALAPPDATA: LOCAL };

/** A Windows file system in memory: folders, and files with their text and mode. */
function memoryFiles(dirs: string[], files: string[]) {
  const d = new Set(dirs);
  const f = new Map<string, { text: string; mode: number }>(files.map((p) => [p, { text: '', mode: 0o644 }]));
  const ops: FileOps = {
    exists: (p) => d.has(p) || f.has(p),
    readFile(p) {
      const e = f.get(p);
      if (!e) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
      return e.text;
    },
    writeFile(p, text, mode) {
      assert.ok(d.has(path.win32.dirname(p)), `write ${p}: its folder is missing`);
      f.set(p, { text, mode });
    },
    mkdir(p) {
      assert.ok(d.has(path.win32.dirname(p)) && !d.has(p), `mkdir ${p}`);
      d.add(p);
    },
    rm: (p) => void f.delete(p),
    rmdir(p) {
      if ([...d, ...f.keys()].some((x) => x.startsWith(`${p}\\`))) throw new Error(`ENOTEMPTY ${p}`);
      d.delete(p);
    },
  };
  return { ops, dirs: d, files: f };
}

/** A reg.exe stand-in: records each command, keeps the keys, answers query as reg.exe prints. */
function fakeReg() {
  const calls: string[][] = [];
  const keys = new Map<string, string>();
  const run: Runner = (command, args) => {
    calls.push([command, ...args]);
    assert.equal(command, 'reg');
    const [verb, key] = args as [string, string];
    if (verb === 'add') {
      keys.set(key, args[args.indexOf('/d') + 1]!);
      return 'The operation completed successfully.\r\n';
    }
    if (verb === 'delete') {
      if (!keys.delete(key))
        throw new Error('ERROR: The system was unable to find the specified registry key or value.');
      return 'The operation completed successfully.\r\n';
    }
    if (verb === 'query') {
      const v = keys.get(key);
      if (v === undefined) throw new Error('ERROR: The system was unable to find the specified registry key or value.');
      const full = key.replace(/^HKCU\\/, 'HKEY_CURRENT_USER\\').replace(/^HKLM\\/, 'HKEY_LOCAL_MACHINE\\');
      return `\r\n${full}\r\n    (Default)    REG_SZ    ${v}\r\n\r\n`;
    }
    throw new Error(`unexpected reg ${verb}`);
  };
  return { run, calls, keys };
}

const WIN_KEYS = {
  firefox: 'HKCU\\Software\\Mozilla\\NativeMessagingHosts\\g5k_tunnel',
  chrome: 'HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\g5k_tunnel',
  chromium: 'HKCU\\Software\\Chromium\\NativeMessagingHosts\\g5k_tunnel',
  brave: 'HKCU\\Software\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts\\g5k_tunnel',
  edge: 'HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\g5k_tunnel',
  vivaldi: 'HKCU\\Software\\Vivaldi\\NativeMessagingHosts\\g5k_tunnel',
};
const GECKO = `${DIR}\\g5k_tunnel.gecko.json`;
const CHROMIUM = `${DIR}\\g5k_tunnel.chromium.json`;

function windowsMachine() {
  const mem = memoryFiles(['C:\\', 'C:\\Users', 'C:\\Users\\ada', 'C:\\Users\\ada\\AppData', LOCAL], [HOST]);
  const reg = fakeReg();
  const lines: string[] = [];
  const errors: string[] = [];
  const ctx: InstallContext = {
    env: ENV,
    platform: 'win32',
    nodePath: NODE,
    hostMain: HOST,
    run: reg.run,
    files: mem.ops,
    print: (l) => lines.push(l),
    printError: (l) => errors.push(l),
  };
  return { mem, reg, lines, errors, ctx };
}

test('install on Windows: the .bat launcher, one manifest per family, and exactly these reg.exe commands', async () => {
  const m = windowsMachine();
  assert.equal(await installMain([], m.ctx), 0, m.errors.join('\n'));

  assert.deepEqual(
    m.reg.calls,
    BROWSERS.map((b) => [
      'reg',
      'add',
      WIN_KEYS[b],
      '/ve',
      '/t',
      'REG_SZ',
      '/d',
      b === 'firefox' ? GECKO : CHROMIUM,
      '/f',
    ]),
  );
  // the files written, with their contents
  assert.deepEqual(
    [...m.mem.files.keys()].sort(),
    [HOST, `${DIR}\\g5k-tunnel-host.bat`, `${DIR}\\installed.json`, CHROMIUM, GECKO].sort(),
  );
  assert.ok(m.mem.dirs.has(DIR));
  const bat = m.mem.files.get(`${DIR}\\g5k-tunnel-host.bat`)!.text;
  assert.equal(
    bat,
    '@echo off\r\nrem g5k-tunnel native-messaging host, written by `g5k-tunnel install`.\r\n' +
      `"${NODE}" "${HOST}" %*\r\n`,
  );
  assert.deepEqual(parseLauncher(bat), { nodePath: NODE, hostMain: HOST });
  const launcher = `${DIR}\\g5k-tunnel-host.bat`;
  assert.deepEqual(JSON.parse(m.mem.files.get(GECKO)!.text), hostManifest('gecko', launcher));
  assert.deepEqual(JSON.parse(m.mem.files.get(CHROMIUM)!.text), hostManifest('chromium', launcher));
  const receipt = JSON.parse(m.mem.files.get(`${DIR}\\installed.json`)!.text);
  assert.deepEqual(receipt.registry, WIN_KEYS);
  assert.deepEqual(receipt.dirs, [DIR]);
  assert.ok(m.lines.includes(`set ${WIN_KEYS.edge} = ${CHROMIUM}`));
});

test('uninstall on Windows: reg delete per key, the shared manifest kept while a browser uses it, then everything gone', async () => {
  const m = windowsMachine();
  assert.equal(await installMain([], m.ctx), 0);
  m.reg.calls.length = 0;

  assert.equal(await uninstallMain(['--browser', 'chrome,firefox'], m.ctx), 0);
  assert.deepEqual(m.reg.calls, [
    ['reg', 'delete', WIN_KEYS.chrome, '/f'],
    ['reg', 'delete', WIN_KEYS.firefox, '/f'],
  ]);
  assert.ok(!m.mem.files.has(GECKO), 'no gecko browser left: its manifest goes');
  assert.ok(m.mem.files.has(CHROMIUM), 'Chromium, Edge... still use the chromium manifest');
  assert.ok(m.mem.files.has(`${DIR}\\g5k-tunnel-host.bat`));

  m.reg.calls.length = 0;
  assert.equal(await uninstallMain([], m.ctx), 0);
  assert.deepEqual(
    m.reg.calls,
    (['chromium', 'brave', 'edge', 'vivaldi'] as const).map((b) => ['reg', 'delete', WIN_KEYS[b], '/f']),
  );
  assert.deepEqual([...m.mem.files.keys()], [HOST]);
  assert.ok(!m.mem.dirs.has(DIR));
  assert.equal(m.reg.keys.size, 0);
  assert.ok(m.lines.includes(`removed ${DIR}\\`));
});

test('uninstall on Windows without the receipt: every browser key is deleted, a missing one is no error', async () => {
  const m = windowsMachine();
  assert.equal(await installMain(['--browser', 'edge'], m.ctx), 0);
  m.mem.files.delete(`${DIR}\\installed.json`);
  m.reg.calls.length = 0;
  assert.equal(await uninstallMain([], m.ctx), 0, m.errors.join('\n'));
  assert.deepEqual(
    m.reg.calls,
    BROWSERS.map((b) => ['reg', 'delete', WIN_KEYS[b], '/f']),
  );
  assert.deepEqual(
    m.lines.filter((l) => l.startsWith('removed HKCU')),
    [`removed ${WIN_KEYS.edge}`],
  );
  assert.ok(!m.mem.files.has(CHROMIUM));
});

test('reg query output: the default value is read, with spaces in the path; no key is null', () => {
  const text =
    '\r\nHKEY_CURRENT_USER\\Software\\Google\\Chrome\\NativeMessagingHosts\\g5k_tunnel\r\n' +
    '    (Default)    REG_SZ    C:\\Users\\Ada Lovelace\\AppData\\Local\\g5k-tunnel\\g5k_tunnel.chromium.json\r\n\r\n';
  assert.equal(parseRegDefault(text), 'C:\\Users\\Ada Lovelace\\AppData\\Local\\g5k-tunnel\\g5k_tunnel.chromium.json');
  // a localized "(Default)" label
  assert.equal(parseRegDefault('    (Standard)    REG_SZ    C:\\x.json\r\n'), 'C:\\x.json');
  assert.equal(parseRegDefault('nothing here'), null);
  const reg = fakeReg();
  assert.equal(regQueryDefault(reg.run, WIN_KEYS.chrome), null);
  assert.deepEqual(reg.calls, [['reg', 'query', WIN_KEYS.chrome, '/ve']]);
});

function doctorOptions(run: Runner, env: Env = ENV): DoctorOptions {
  return {
    env,
    platform: 'win32',
    gateway: 'access.grid5000.fr',
    port: 0,
    socksPort: 1080,
    identities: [],
    knownHosts: [],
    timeoutMs: 2000,
    run,
  };
}

test('doctor on Windows: the registry keys are queried (HKCU and HKLM), the manifest each names is checked', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-win-doctor-'));
  try {
    const launcher = path.join(dir, 'g5k-tunnel-host.bat');
    fs.writeFileSync(launcher, `@echo off\r\n"${process.execPath}" "${path.join(dir, 'host.js')}" %*\r\n`);
    const gecko = path.join(dir, 'g5k_tunnel.gecko.json');
    fs.writeFileSync(gecko, JSON.stringify(hostManifest('gecko', launcher)));
    const reg = fakeReg();
    reg.keys.set(WIN_KEYS.firefox, gecko);
    const r = checkBrowsers(doctorOptions(reg.run), 'win32');
    assert.deepEqual(
      reg.calls,
      BROWSERS.flatMap((b) => [
        ['reg', 'query', WIN_KEYS[b], '/ve'],
        ['reg', 'query', WIN_KEYS[b].replace(/^HKCU/, 'HKLM'), '/ve'],
      ]),
    );
    assert.equal(r.checks.length, 1);
    assert.equal(r.checks[0]!.mark, 'ok');
    assert.match(r.checks[0]!.text, /^Firefox: host manifest .*g5k_tunnel\.gecko\.json allows the extension$/);
    assert.deepEqual([...r.launchers], [launcher]);

    // a key naming a manifest that was deleted
    reg.keys.set(WIN_KEYS.edge, path.join(dir, 'gone.json'));
    const gone = checkBrowsers(doctorOptions(reg.run), 'win32').checks.find((c) => /^Microsoft Edge/.test(c.text));
    assert.equal(gone?.mark, 'fail');
    assert.match(gone.fix!, /g5k-tunnel install --browser edge/);

    // nothing registered at all: a failure, not "no browser found"
    const none = checkBrowsers(doctorOptions(fakeReg().run), 'win32').checks;
    assert.equal(none.length, 1);
    assert.equal(none[0]!.mark, 'fail');
    assert.match(none[0]!.text, /no browser has the host registered \(reg query HKCU\\Software\\Google/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ssh-agent on Windows: the OpenSSH agent pipe unless SSH_AUTH_SOCK is set; pageant and Cygwin sockets by their own clients', () => {
  assert.equal(WINDOWS_AGENT_PIPE, '\\\\.\\pipe\\openssh-ssh-agent');
  assert.equal(defaultAgentSocket('win32'), WINDOWS_AGENT_PIPE);
  assert.equal(defaultAgentSocket('linux'), null);
  assert.equal(defaultAgentSocket('darwin'), null);
  assert.equal(agentKind(WINDOWS_AGENT_PIPE, 'win32'), 'openssh');
  assert.equal(agentKind('//./pipe/my-agent', 'win32'), 'openssh');
  assert.equal(agentKind('pageant', 'win32'), 'pageant');
  assert.equal(agentKind('C:\\Users\\ada\\AppData\\Local\\Temp\\ssh-XXXX\\agent.123', 'win32'), 'cygwin');
  assert.equal(agentKind('/tmp/ssh-XXXX/agent.123', 'linux'), 'openssh');

  const config = { ...toTunnelConfig(defaultProfile()), gateway: 'access.grid5000.fr', port: 22, user: 'ada' };
  const plan = (env: NodeJS.ProcessEnv) =>
    planRoute(config, [], { home: 'C:\\Users\\ada', localUser: 'ada', env, platform: 'win32' }).hops.at(-1)!.auth;
  assert.equal(plan({}).agentSocket, WINDOWS_AGENT_PIPE);
  assert.equal(plan({ SSH_AUTH_SOCK: '\\\\.\\pipe\\other-agent' }).agentSocket, '\\\\.\\pipe\\other-agent');
  assert.equal(
    planRoute(config, [], { home: '/home/ada', localUser: 'ada', env: {}, platform: 'linux' }).hops.at(-1)!.auth
      .agentSocket,
    null,
  );
});

test('doctor on Windows: an agent pipe that does not answer means the agent service is not started', async () => {
  const o = doctorOptions(fakeReg().run);
  const r = await checkAgent(o, WINDOWS_AGENT_PIPE);
  assert.equal(r.check.mark, 'fail');
  assert.match(r.check.text, /^ssh-agent at \\\\\.\\pipe\\openssh-ssh-agent cannot be reached/);
  assert.match(r.check.fix!, /Start-Service ssh-agent/);
});

test("OpenSSH for Windows' files: %USERPROFILE%\\.ssh for the user, %ProgramData%\\ssh for the system", () => {
  assert.equal(systemSshConfig('win32', { ProgramData: 'D:\\ProgramData' }), 'D:\\ProgramData\\ssh\\ssh_config');
  assert.equal(systemSshConfig('win32', {}), 'C:\\ProgramData\\ssh\\ssh_config');
  assert.equal(systemSshConfig('linux', {}), '/etc/ssh/ssh_config');
  assert.deepEqual(systemKnownHostsFiles('win32', { ProgramData: 'C:\\ProgramData' }), [
    'C:\\ProgramData\\ssh\\ssh_known_hosts',
    'C:\\ProgramData\\ssh\\ssh_known_hosts2',
  ]);
  assert.deepEqual(systemKnownHostsFiles('linux', {}), ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
});

test('the home folder on Windows is %USERPROFILE%, as OpenSSH for Windows reads it; elsewhere $HOME', () => {
  const env = { HOME: '/c/Users/ada', USERPROFILE: 'C:\\Users\\ada' };
  assert.equal(homeDir(env, 'win32'), 'C:\\Users\\ada');
  assert.equal(homeDir({ HOME: 'C:\\Users\\ada' }, 'win32'), 'C:\\Users\\ada');
  assert.equal(homeDir(env, 'linux'), '/c/Users/ada');
});

test('doctor writes paths under %USERPROFILE% with ~, either separator', () => {
  assert.equal(tilde('C:\\Users\\ada\\.ssh\\id_ed25519', ENV), '~\\.ssh\\id_ed25519');
  assert.equal(tilde('C:\\Users\\ada/.ssh/known_hosts', ENV), '~/.ssh/known_hosts');
  assert.equal(tilde('C:\\Users\\adam\\x', ENV), 'C:\\Users\\adam\\x');
});
