// `g5k-tunnel install` / `uninstall` against a temporary HOME: every browser's manifest, the launcher,
// and the launcher really starting a host that answers over native-messaging framing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSERS, launcherPath, manifestPath, registryKey } from '../../native-host/setup/browser-paths.js';
import { installMain, main, uninstallMain, type InstallContext } from '../../native-host/setup/install.js';
import { launcherScript, parseLauncher } from '../../native-host/setup/launcher.js';
import { findUnsafePath, realFs } from '../../native-host/setup/system-safety.js';
import { encodeFrame, FrameDecoder } from '../../native-host/messaging/framing.js';
import { CHROMIUM_ALLOWED_IDS, GECKO_ID } from '../../shared/ids.js';
import { NATIVE_HOST_NAME, PROTOCOL_VERSION } from '../../shared/protocol.js';

const REAL_HOST_MAIN = fileURLToPath(new URL('../../native-host/messaging/host-main.js', import.meta.url));

/** Every file and folder under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(path.relative(dir, p) + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

interface Env {
  home: string;
  lines: string[];
  errors: string[];
  ctx: InstallContext;
  /** A stand-in host script: answers every framed message with {echo: message}. */
  echoHost: string;
  done(): void;
}

function makeEnv(extra: Partial<InstallContext> = {}): Env {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-install-'));
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  const echoHost = path.join(root, 'echo host.mjs'); // a space, to prove the launcher quotes
  const framing = new URL('../../native-host/messaging/framing.js', import.meta.url).href;
  fs.writeFileSync(
    echoHost,
    `import { encodeFrame, FrameDecoder } from ${JSON.stringify(framing)};
     const d = new FrameDecoder();
     process.stdin.on('data', (c) => { for (const f of d.push(c)) if (f.kind === 'message') process.stdout.write(encodeFrame({ echo: f.value, argv: process.argv.slice(2) })); });
     process.stdin.on('end', () => process.exit(0));\n`,
  );
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    home,
    lines,
    errors,
    echoHost,
    ctx: {
      env: { HOME: home },
      platform: 'linux',
      hostMain: echoHost,
      print: (l) => lines.push(l),
      printError: (l) => errors.push(l),
      ...extra,
    },
    done: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** Spawns the launcher as a browser does, sends one framed message, returns the first framed reply. */
async function talk(launcher: string, message: unknown, args: string[], home: string): Promise<unknown> {
  // the host's log goes under this HOME, not the real one
  const env = { ...process.env, HOME: home, XDG_STATE_HOME: path.join(home, '.local/state') };
  const child = spawn(launcher, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const reply = await new Promise<unknown>((resolve, reject) => {
      const d = new FrameDecoder();
      const timer = setTimeout(() => reject(new Error(`no reply within 15 s; stderr: ${stderr}`)), 15_000);
      child.stdout.on('data', (c: Buffer) => {
        for (const f of d.push(c))
          if (f.kind === 'message') {
            clearTimeout(timer);
            resolve(f.value);
          }
      });
      child.once('error', reject);
      child.stdin.write(encodeFrame(message));
    });
    child.stdin.end(); // a host must exit on stdin EOF
    assert.equal(await exited, 0, `the host should exit 0 on stdin EOF; stderr: ${stderr}`);
    return reply;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

test('install writes an executable launcher and a valid manifest for every browser; uninstall removes exactly that', async () => {
  const e = makeEnv();
  try {
    // things the user already has must survive uninstall
    fs.mkdirSync(path.join(e.home, '.config/chromium'), { recursive: true });
    fs.writeFileSync(path.join(e.home, '.config/chromium/Local State'), '{}');
    const before = tree(e.home);

    assert.equal(await installMain([], e.ctx), 0, e.errors.join('\n'));
    const launcher = launcherPath('linux', 'user', e.home);
    assert.equal(launcher, path.join(e.home, '.local/share/g5k-tunnel/g5k-tunnel-host'));
    assert.ok(fs.statSync(launcher).mode & 0o111, 'the launcher is executable');
    assert.deepEqual(parseLauncher(fs.readFileSync(launcher, 'utf8')), {
      nodePath: process.execPath,
      hostMain: e.echoHost,
    });
    assert.ok(
      e.lines.some((l) => l.includes(launcher)),
      'prints the launcher it wrote',
    );

    for (const b of BROWSERS) {
      const file = manifestPath(b, 'linux', 'user', e.home);
      assert.ok(
        e.lines.some((l) => l.includes(file)),
        `prints ${file}`,
      );
      const m = JSON.parse(fs.readFileSync(file, 'utf8'));
      assert.equal(m.name, NATIVE_HOST_NAME);
      assert.equal(m.type, 'stdio');
      assert.equal(m.path, launcher);
      if (b === 'firefox') {
        assert.deepEqual(m.allowed_extensions, [GECKO_ID]);
        assert.equal(m.allowed_origins, undefined);
      } else {
        assert.deepEqual(
          m.allowed_origins,
          CHROMIUM_ALLOWED_IDS.map((id) => `chrome-extension://${id}/`),
        );
        assert.equal(m.allowed_extensions, undefined);
      }
    }
    // the launcher starts a host and passes the browser's arguments through
    const reply = (await talk(launcher, { type: 'ping' }, ['chrome-extension://x/'], e.home)) as {
      echo: unknown;
      argv: string[];
    };
    assert.deepEqual(reply, { echo: { type: 'ping' }, argv: ['chrome-extension://x/'] });

    // installing twice is harmless
    assert.equal(await installMain([], e.ctx), 0);

    e.lines.length = 0;
    assert.equal(await uninstallMain([], e.ctx), 0, e.errors.join('\n'));
    for (const b of BROWSERS)
      assert.ok(
        e.lines.some((l) => l.includes(manifestPath(b, 'linux', 'user', e.home))),
        `uninstall prints the ${b} manifest`,
      );
    assert.ok(e.lines.some((l) => l.includes(launcher)));
    assert.deepEqual(tree(e.home), before, 'uninstall leaves HOME as it was');
  } finally {
    e.done();
  }
});

test('--browser limits install and uninstall to those browsers; the launcher stays while a manifest uses it', async () => {
  const e = makeEnv();
  try {
    assert.equal(await main(['install', '--browser', 'firefox,chromium'], e.ctx), 0);
    const made = BROWSERS.filter((b) => fs.existsSync(manifestPath(b, 'linux', 'user', e.home)));
    assert.deepEqual(made, ['firefox', 'chromium']);
    assert.equal(await main(['uninstall', '--browser=firefox'], e.ctx), 0);
    assert.ok(!fs.existsSync(manifestPath('firefox', 'linux', 'user', e.home)));
    assert.ok(fs.existsSync(manifestPath('chromium', 'linux', 'user', e.home)));
    assert.ok(fs.existsSync(launcherPath('linux', 'user', e.home)), 'Chromium still needs the launcher');
    assert.equal(await main(['uninstall'], e.ctx), 0);
    assert.deepEqual(tree(e.home), []);
  } finally {
    e.done();
  }
});

test('uninstall without the receipt still removes our manifests, and only ours', async () => {
  const e = makeEnv();
  try {
    assert.equal(await installMain(['--browser', 'chrome,firefox'], e.ctx), 0);
    fs.rmSync(path.join(e.home, '.local/share/g5k-tunnel/installed.json'));
    const foreign = path.join(e.home, '.config/vivaldi/NativeMessagingHosts/g5k_tunnel.json');
    fs.mkdirSync(path.dirname(foreign), { recursive: true });
    fs.writeFileSync(foreign, JSON.stringify({ name: 'someone_else' }));
    assert.equal(await uninstallMain([], e.ctx), 0);
    assert.ok(!fs.existsSync(manifestPath('chrome', 'linux', 'user', e.home)));
    assert.ok(!fs.existsSync(manifestPath('firefox', 'linux', 'user', e.home)));
    assert.ok(!fs.existsSync(launcherPath('linux', 'user', e.home)));
    assert.ok(fs.existsSync(foreign), 'a file that is not our manifest is left alone');
  } finally {
    e.done();
  }
});

test('--dry-run prints every path and writes nothing', async () => {
  const e = makeEnv();
  try {
    assert.equal(await installMain(['--dry-run'], e.ctx), 0);
    assert.deepEqual(tree(e.home), []);
    for (const b of BROWSERS)
      assert.ok(e.lines.some((l) => l.startsWith(`would write ${manifestPath(b, 'linux', 'user', e.home)}`)));
  } finally {
    e.done();
  }
});

/** A host package only root can change: <base>/pkg/{package.json,dist/native-host/messaging/host-main.js}. */
function rootOwnedPackage(base: string): { pkg: string; hostMain: string } {
  const pkg = path.join(base, 'pkg');
  const messaging = path.join(pkg, 'dist', 'native-host', 'messaging');
  fs.mkdirSync(messaging, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(pkg, 'package.json'), '{"name":"g5k-tunnel","type":"module"}\n', { mode: 0o644 });
  const hostMain = path.join(messaging, 'host-main.js');
  fs.writeFileSync(hostMain, '\n', { mode: 0o644 });
  for (let d = messaging; d !== base; d = path.dirname(d)) fs.chmodSync(d, 0o755);
  fs.chmodSync(base, 0o755);
  return { pkg, hostMain };
}

// Real folders under root's home (root-owned, 0700 or 0755): /tmp is world-writable, so it would be refused.
const asRoot =
  process.getuid?.() === 0 &&
  (fs.statSync(os.homedir()).mode & 0o022) === 0 &&
  findUnsafePath([process.execPath, os.homedir()], { ...realFs, readdir: () => [] }) === null;

test('--system refuses a host a user could change (a group-writable parent, a file owned by a user), naming the path; accepts it all root-owned 0755', {
  skip: asRoot ? false : 'needs root, and a root home folder that only root can write',
}, async () => {
  const e = makeEnv();
  const base = fs.mkdtempSync(path.join(os.homedir(), 'g5k-system-'));
  try {
    const { pkg, hostMain } = rootOwnedPackage(base);
    const ctx = { ...e.ctx, hostMain, nodePath: fs.realpathSync(process.execPath) };

    // all root-owned 0755: accepted (dry run: the system folders are left alone)
    assert.equal(await installMain(['--system', '--dry-run'], ctx), 0, e.errors.join('\n'));
    assert.ok(e.lines.some((l) => l.startsWith('would write /usr/local/lib/g5k-tunnel/g5k-tunnel-host')));
    assert.ok(e.lines.some((l) => l.startsWith('would write /usr/lib/mozilla/native-messaging-hosts/g5k_tunnel.json')));
    assert.ok(e.lines.some((l) => l.startsWith('would write /etc/chromium/native-messaging-hosts/g5k_tunnel.json')));
    assert.deepEqual(e.errors, []);

    // one group-writable parent: refused, and that folder is named
    fs.chmodSync(path.join(pkg, 'dist'), 0o775);
    e.lines.length = 0;
    assert.equal(await installMain(['--system', '--dry-run'], ctx), 1);
    assert.equal(e.lines.length, 0, 'nothing is written, or said to be');
    assert.match(
      e.errors.join('\n'),
      new RegExp(`^refusing a system-wide install: ${path.join(pkg, 'dist')} is writable by its group \\(mode 0775\\)`),
    );
    assert.match(e.errors.join('\n'), /sudo npm install -g g5k-tunnel/);
    fs.chmodSync(path.join(pkg, 'dist'), 0o755);

    // a file in the package owned by a user
    fs.chownSync(path.join(pkg, 'package.json'), 1000, 1000);
    e.errors.length = 0;
    assert.equal(await installMain(['--system'], ctx), 1);
    assert.match(e.errors.join('\n'), new RegExp(`${path.join(pkg, 'package.json')} is owned by uid 1000, not root`));
    assert.equal(e.lines.length, 0);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
    e.done();
  }
});

test('--system refuses a host under a world-writable folder such as /tmp', {
  skip: os.tmpdir() === '/tmp' ? false : 'the temporary folder is not /tmp',
}, async () => {
  const e = makeEnv();
  try {
    assert.equal(await installMain(['--system', '--dry-run'], e.ctx), 1);
    assert.match(e.errors.join('\n'), /^refusing a system-wide install: \/tmp is writable by every user \(mode 1777\)/);
    assert.deepEqual(e.lines, []);
  } finally {
    e.done();
  }
});

test('on Windows: a .bat launcher, one manifest per family beside it, and an HKCU key per browser (dry run)', async () => {
  const e = makeEnv({ platform: 'win32' });
  try {
    e.ctx.env = { HOME: 'C:\\Users\\ada', LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' };
    assert.equal(await installMain(['--dry-run'], e.ctx), 0);
    assert.ok(
      e.lines.some((l) => l.startsWith('would write C:\\Users\\ada\\AppData\\Local\\g5k-tunnel\\g5k-tunnel-host.bat')),
    );
    for (const b of BROWSERS)
      assert.ok(
        e.lines.some((l) =>
          l.startsWith(`would set ${registryKey(b, 'user')} = C:\\Users\\ada\\AppData\\Local\\g5k-tunnel\\g5k_tunnel.`),
        ),
      );
  } finally {
    e.done();
  }
});

test('launcher text: sh quoting and the Windows .bat both read back to the same paths', () => {
  const odd = {
    nodePath: "/opt/it's node/bin/node",
    hostMain: '/home/ada/g5k tunnel/dist/native-host/messaging/host-main.js',
  };
  assert.deepEqual(parseLauncher(launcherScript('linux', odd.nodePath, odd.hostMain)), odd);
  const win = { nodePath: 'C:\\Program Files\\nodejs\\node.exe', hostMain: 'C:\\Users\\ada\\100%\\host-main.js' };
  const bat = launcherScript('win32', win.nodePath, win.hostMain);
  assert.match(bat, /^@echo off\r\n/);
  assert.match(bat, /100%%/, 'percent signs are doubled for cmd');
  assert.deepEqual(parseLauncher(bat), win);
  assert.throws(() => launcherScript('win32', 'C:\\a"b\\node.exe', win.hostMain), /double quote/);
});

test('bad input: an unknown browser or option, and an unbuilt host, each get a clear error', async () => {
  const e = makeEnv();
  try {
    assert.equal(await installMain(['--browser', 'netscape'], e.ctx), 2);
    assert.match(e.errors.join('\n'), /unknown browser "netscape"/);
    assert.equal(await installMain(['--frobnicate'], e.ctx), 2);
    assert.match(e.errors.join('\n'), /unknown option --frobnicate/);
    assert.equal(await installMain([], { ...e.ctx, hostMain: path.join(e.home, 'missing.js') }), 1);
    assert.match(e.errors.join('\n'), /not built.*npm run build/);
    assert.deepEqual(tree(e.home), [], 'nothing written after an error');
  } finally {
    e.done();
  }
});

test('the installed launcher starts the real host, which answers hello', {
  skip: fs.existsSync(REAL_HOST_MAIN) ? false : 'dist/native-host/messaging/host-main.js not built yet',
}, async () => {
  const e = makeEnv({ hostMain: REAL_HOST_MAIN });
  try {
    assert.equal(await installMain(['--browser', 'chromium'], e.ctx), 0);
    const launcher = launcherPath('linux', 'user', e.home);
    const reply = (await talk(
      launcher,
      { type: 'hello', id: 1, protocol: PROTOCOL_VERSION, client: 'install-test' },
      [`chrome-extension://${CHROMIUM_ALLOWED_IDS[0]}/`],
      e.home,
    )) as { type: string; id: number; ok: boolean; result: { protocol: number } };
    assert.equal(reply.type, 'response');
    assert.equal(reply.id, 1);
    assert.equal(reply.ok, true);
    assert.equal(reply.result.protocol, PROTOCOL_VERSION);
  } finally {
    e.done();
  }
});
