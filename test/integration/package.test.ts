// g5k-tunnel as a user installs it without a checkout: `npm pack` (its prepack builds from clean),
// `npm install -g` of the tarball into an empty prefix, then the installed command: --version,
// install (manifests and a launcher that runs the installed host), doctor, and -N -D against a real
// sshd. The pack runs in a copy of the sources, so that its clean build never touches the dist/
// the other tests are running from.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { currentOs, launcherPath, manifestPath } from '../../native-host/setup/browser-paths.js';
import { parseLauncher } from '../../native-host/setup/launcher.js';
import { encodeFrame, FrameDecoder } from '../../native-host/messaging/framing.js';
import { CHROMIUM_ALLOWED_IDS, GECKO_ID } from '../../shared/ids.js';
import { NATIVE_HOST_NAME, PROTOCOL_VERSION } from '../../shared/protocol.js';
import { killAllNow, start } from '../../testbed/children.js';
import { exitOf, listening, startChild } from '../../testbed/child.js';
import { canRunSshd, commandArgs, startGateway, INTERNAL_NAMES, type Gateway } from '../../testbed/sshd.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { freePort } from '../../testbed/ports.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
const run = promisify(execFile);
const OS = currentOs(process.platform);

/** Top-level entries of the checkout that are not sources: built, installed or produced by runs. */
const NOT_SOURCES = new Set(['node_modules', 'dist', 'artifacts', '.demo', '.git']);

let work: string;
/** Why the package could not be made here (no npm, registry unreachable), or null. */
let unavailable: string | null = null;
let packed: { files: { path: string }[]; filename: string };
let packedJson: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
let prefix: string;
let pkgDir: string;
let home: string;
let gw: Gateway | undefined;
let web: InternalWeb | undefined;

/** The environment of a user whose HOME is the temporary one and whose PATH has the prefix's bin. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    PATH: [path.join(prefix, 'bin'), path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter),
    SSH_AUTH_SOCK: '',
  };
  for (const k of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME']) delete env[k];
  return env;
}

const NETWORK_FAILURE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network request/;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-package-'));
  const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8' });
  if (npmVersion.status !== 0) {
    unavailable = 'npm is not installed';
    return;
  }

  // a fresh checkout: the sources only, with the installed devDependencies
  const src = path.join(work, 'src');
  fs.cpSync(ROOT, src, {
    recursive: true,
    filter: (f) => !NOT_SOURCES.has(path.relative(ROOT, f).split(path.sep)[0]!),
  });
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(src, 'node_modules'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: src,
    maxBuffer: 16 << 20,
  });
  [packed] = JSON.parse(stdout) as [typeof packed];
  const tarball = path.join(work, packed.filename);

  prefix = path.join(work, 'prefix');
  fs.mkdirSync(prefix);
  // ssh2's install scripts only try to build optional native speed-ups; it runs without them. npm
  // keeps this user's HOME (its cache and settings); the installed command gets a temporary one.
  const npmInstall = spawnSync(
    'npm',
    ['install', '-g', '--prefix', prefix, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball],
    { encoding: 'utf8', timeout: 180_000 },
  );
  if (npmInstall.status !== 0) {
    const said = `${npmInstall.stdout}${npmInstall.stderr}`;
    if (NETWORK_FAILURE.test(said)) {
      unavailable = `the npm registry is unreachable, so ssh2 cannot be installed: ${said.trim().split('\n').slice(-3).join(' ')}`;
      return;
    }
    throw new Error(`npm install -g of the tarball failed:\n${said}`);
  }
  pkgDir = path.join(prefix, 'lib', 'node_modules', 'g5k-tunnel');
  packedJson = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as typeof packedJson;
  home = path.join(work, 'home');
  fs.mkdirSync(home);
});

after(async () => {
  killAllNow();
  await web?.close();
  await gw?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The installed command, started as a user starts it: by name, through the prefix's bin. */
function g5k(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start('g5k-tunnel', args, { env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Spawns a launcher as a browser does, sends one framed message, returns the first framed reply. */
async function talk(launcher: string, message: unknown, origin: string): Promise<unknown> {
  const child = start(launcher, [origin], { stdio: ['pipe', 'pipe', 'pipe'], env: userEnv() });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const reply = await new Promise<unknown>((resolve, reject) => {
    const d = new FrameDecoder();
    const timer = setTimeout(() => reject(new Error(`no reply within 15 s; stderr: ${stderr}`)), 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      for (const f of d.push(c))
        if (f.kind === 'message') {
          clearTimeout(timer);
          resolve(f.value);
        }
    });
    child.once('error', reject);
    child.stdin!.write(encodeFrame(message));
  });
  child.stdin!.end(); // a host exits on stdin EOF
  assert.equal(await exited, 0, `the host should exit 0 on stdin EOF; stderr: ${stderr}`);
  return reply;
}

const skipOn = OS === 'win32' ? 'the launcher here is a POSIX sh script' : false;

test('the tarball holds the built host, the command and both extensions, and nothing else', {
  skip: skipOn,
}, (t) => {
  if (unavailable) return t.skip(unavailable);
  const files = packed.files.map((f) => f.path).sort();
  for (const f of [
    'package.json',
    'README.md',
    'bin/g5k-tunnel',
    'dist/native-host/cli/main.js',
    'dist/native-host/command/g5k-tunnel.js',
    'dist/native-host/command/tunnel.js',
    'dist/native-host/messaging/host-main.js',
    'dist/native-host/setup/install.js',
    'dist/shared/protocol.js',
    'dist/browser/chromium/manifest.json',
    'dist/browser/firefox/manifest.json',
    'dist/browser/firefox/background.js',
    `dist/packages/g5k-tunnel-chromium-${pkg.version}.zip`,
    `dist/packages/g5k-tunnel-firefox-${pkg.version}.zip`,
  ])
    assert.ok(files.includes(f), `the package holds ${f}`);
  const allowed =
    /^(package\.json|README\.md|LICENSE|bin\/g5k-tunnel|dist\/(native-host|shared|browser\/(chromium|firefox)|packages)\/.*)$/;
  assert.deepEqual(
    files.filter((f) => !allowed.test(f) || f.endsWith('.map') || f.endsWith('.ts')),
    [],
    'nothing from the tests, the testbed, the scripts, the sources or source maps',
  );
  // the host's one runtime dependency; the extension carries its polyfill in its own bundle
  assert.deepEqual(Object.keys(packedJson.dependencies ?? {}), ['ssh2']);
  assert.ok(!fs.existsSync(path.join(pkgDir, 'node_modules', 'webextension-polyfill')));
  assert.match(
    fs.readFileSync(path.join(pkgDir, 'dist/browser/firefox/background.js'), 'utf8'),
    /define\(.webextension-polyfill./,
    'the polyfill is bundled into the background script',
  );
});

test('the installed `g5k-tunnel --version` prints the version of package.json', { skip: skipOn }, async (t) => {
  if (unavailable) return t.skip(unavailable);
  const r = await g5k(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `g5k-tunnel ${pkg.version}\n`);
});

test('the installed `g5k-tunnel install` points the browsers at the installed host, which answers hello', {
  skip: skipOn,
}, async (t) => {
  if (unavailable) return t.skip(unavailable);
  const r = await g5k(['install']);
  assert.equal(r.code, 0, r.stderr);

  const launcher = launcherPath(OS, 'user', home);
  assert.deepEqual(parseLauncher(fs.readFileSync(launcher, 'utf8')), {
    nodePath: process.execPath,
    hostMain: path.join(fs.realpathSync(pkgDir), 'dist', 'native-host', 'messaging', 'host-main.js'),
  });
  for (const b of ['firefox', 'chromium'] as const) {
    const m = JSON.parse(fs.readFileSync(manifestPath(b, OS, 'user', home), 'utf8')) as Record<string, unknown>;
    assert.equal(m.name, NATIVE_HOST_NAME);
    assert.equal(m.path, launcher);
    if (b === 'firefox') assert.deepEqual(m.allowed_extensions, [GECKO_ID]);
    else assert.ok((m.allowed_origins as string[]).includes(`chrome-extension://${CHROMIUM_ALLOWED_IDS[0]}/`));
  }

  // it names the extension folders and zips of the installed package, and they are there
  const installed = fs.realpathSync(pkgDir);
  for (const [name, target] of [
    ['Firefox', 'firefox'],
    ['Chrome, Chromium, Brave, Edge and Vivaldi', 'chromium'],
  ] as const) {
    const folder = path.join(installed, 'dist', 'browser', target);
    const zip = path.join(installed, 'dist', 'packages', `g5k-tunnel-${target}-${pkg.version}.zip`);
    assert.ok(r.stdout.includes(`the extension for ${name}: ${folder}\n`), r.stdout);
    assert.ok(r.stdout.includes(`package: ${zip}\n`), r.stdout);
    assert.ok(fs.existsSync(path.join(folder, 'manifest.json')), `${folder}/manifest.json`);
    assert.ok(fs.statSync(zip).size > 1000, zip);
  }

  const reply = (await talk(
    launcher,
    { type: 'hello', id: 1, protocol: PROTOCOL_VERSION, client: 'package-test' },
    `chrome-extension://${CHROMIUM_ALLOWED_IDS[0]}/`,
  )) as { type: string; id: number; ok: boolean; result: { protocol: number } };
  assert.equal(reply.type, 'response');
  assert.equal(reply.id, 1);
  assert.equal(reply.ok, true);
  assert.equal(reply.result.protocol, PROTOCOL_VERSION);
});

const noSshd = OS === 'win32' ? 'no sshd on Windows' : canRunSshd();

test('the installed `g5k-tunnel doctor` finds the installed launcher and host sound', {
  skip: skipOn,
}, async (t) => {
  if (unavailable) return t.skip(unavailable);
  // a launcher must exist for doctor to follow it (the install test may not have run first)
  assert.equal((await g5k(['install', '--browser', 'firefox'])).code, 0);
  const r = await g5k(['doctor', '--gateway', 'gw@127.0.0.1', '--port', String(await freePort()), '--timeout', '2']);
  const hostMain = path.join(fs.realpathSync(pkgDir), 'dist', 'native-host', 'messaging', 'host-main.js');
  assert.match(r.stdout, /^✓ Firefox: host manifest .* allows the extension$/m);
  assert.ok(r.stdout.includes(`✓ launcher ~/.local/share/g5k-tunnel/g5k-tunnel-host starts ${hostMain}\n`), r.stdout);
  // doctor runs every check to the end: here nothing listens at the gateway's port and HOME has no
  // key, so it reports those as broken and exits 1
  assert.match(r.stdout, /^✗ gateway 127\.0\.0\.1:\d+/m);
  assert.match(r.stdout, /^\d+ problems? to fix/m);
  assert.equal(r.code, 1);
});

test('the installed `g5k-tunnel -N -D` carries a request through a real sshd', {
  skip: skipOn || (noSshd ?? false),
}, async (t) => {
  if (unavailable) return t.skip(unavailable);
  gw = await startGateway();
  web = await startInternalWeb();
  const socks = await freePort();
  const c = startChild('g5k-tunnel', commandArgs(gw, socks), { env: userEnv() });
  await listening(c, socks);
  const { stdout: page } = await run('curl', [
    '-sS',
    '--max-time',
    '20',
    '--socks5-hostname',
    `127.0.0.1:${socks}`,
    `http://${INTERNAL_NAMES[0]}:${web.port}/`,
  ]);
  assert.match(page, /Internal page/);
  assert.ok(web.hits.some((h) => h.viaGateway && h.host.startsWith(INTERNAL_NAMES[0]!)));
  c.proc.kill('SIGINT');
  assert.equal(await exitOf(c), 0, c.err());
});
