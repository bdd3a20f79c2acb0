// The headless demo end to end, as `npm start` runs it without a display: it must exit 0, leave
// its screenshots and summary, prove the pages came through its gateway, and leave no process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_BIN } from '../../testbed/browsers.js';
import * as proc from '../../testbed/proc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const runJs = path.join(root, 'dist', 'scripts', 'demo', 'run.js');
const artifacts = path.join(root, 'artifacts', 'demo');

/** Pids of live processes that belong to a demo run: its Chromium profile, or its host's HOME. */
function demoProcesses(): number[] {
  const hostHome = `HOME=${path.join(root, '.demo', 'home')}`;
  return proc.livePids((pid) => proc.cmdline(pid).includes('g5k-demo-profile-') || proc.environHas(pid, hostHome));
}

/** Width and height from a PNG's IHDR chunk, or null when the file is not a PNG. */
function pngSize(file: string): { width: number; height: number } | null {
  const b = fs.readFileSync(file);
  if (!b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return null;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

const skip = !fs.existsSync(CHROMIUM_BIN)
  ? `Chromium missing (${CHROMIUM_BIN}): bash scripts/setup.sh chromium`
  : false;

test('npm start without a display: the headless demo passes every step, saves screenshots, leaves nothing running', {
  skip,
  timeout: 240_000,
}, async () => {
  // another checkout's demo may be running: only processes that appear during this run count
  const before = new Set(demoProcesses());
  const env = { ...process.env };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  const child = spawn(process.execPath, [runJs], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGINT'), 200_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);

  assert.equal(code, 0, `the demo failed:\n${out}`);
  assert.match(out, /✓ open http:\/\/dashboard\.nancy\.grid5000\.fr\/ .*channels? opened by the gateway/);
  assert.match(
    out,
    /✓ open http:\/\/jupyter\.nancy\.grid5000\.fr\/ and echo over a WebSocket .*"Out\[1\]: hello from the browser"/,
  );
  assert.match(out, /^\[\s*\d+\.\d+s\] ✓ /m, 'each step is printed with its timing');

  for (const f of ['dashboard.png', 'jupyter.png', 'popup.png']) {
    const size = pngSize(path.join(artifacts, f));
    assert.ok(size && size.width > 100 && size.height > 100, `${f} is a real screenshot`);
  }
  const summary = JSON.parse(fs.readFileSync(path.join(artifacts, 'summary.json'), 'utf8'));
  assert.equal(summary.ok, true);
  assert.equal(summary.headless, true);
  assert.ok(summary.channels['dashboard.nancy.grid5000.fr'] >= 1);
  assert.ok(summary.channels['jupyter.nancy.grid5000.fr'] >= 1);
  assert.ok(summary.steps.every((s: { ok: boolean }) => s.ok));

  assert.deepEqual(
    demoProcesses().filter((p) => !before.has(p)),
    [],
    'the demo left processes behind',
  );
});
