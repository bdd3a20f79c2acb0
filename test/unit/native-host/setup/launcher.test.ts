import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launcherScript, parseLauncher, writeLauncher } from '../../../../native-host/setup/launcher.js';

test('the sh launcher sets its variables, quoted, and runs node on the host script', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-'));
  try {
    const main = path.join(dir, "it's main.js");
    fs.writeFileSync(main, 'process.stdout.write(JSON.stringify([process.env.G5K_A, process.argv.slice(2)]));');
    const file = path.join(dir, 'bin', 'host.sh');
    writeLauncher(file, 'linux', process.execPath, main, { G5K_A: `it's $HOME "x"` });
    assert.equal(fs.statSync(file).mode & 0o777, 0o755);
    const out = execFileSync(file, ['arg 1'], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), [`it's $HOME "x"`, ['arg 1']]);
    assert.deepEqual(parseLauncher(fs.readFileSync(file, 'utf8')), { nodePath: process.execPath, hostMain: main });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the .bat launcher doubles percent signs, and a variable name must be a name', () => {
  const bat = launcherScript('win32', 'C:\\node.exe', 'C:\\a%b\\host.js', { X: '50%' });
  assert.match(bat, /^set "X=50%%"\r$/m);
  assert.deepEqual(parseLauncher(bat), { nodePath: 'C:\\node.exe', hostMain: 'C:\\a%b\\host.js' });
  assert.throws(() => launcherScript('linux', '/n', '/h', { 'A;rm': 'x' }), /not an environment variable name/);
});
