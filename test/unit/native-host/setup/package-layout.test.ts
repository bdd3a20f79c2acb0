// Where install says the extension lies: the folders and zips of a checkout or an installed package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  extensionBuilds,
  extensionLines,
  packageRoot,
  packageVersionAt,
} from '../../../../native-host/setup/package-layout.js';

test('packageRoot is the folder with package.json, three levels above dist/native-host/setup', () => {
  const root = packageRoot();
  assert.equal(packageVersionAt(root), JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  assert.ok(fs.existsSync(path.join(root, 'dist', 'native-host', 'setup', 'package-layout.js')));
});

test('packageVersionAt: null without a readable package.json', () => {
  assert.equal(packageVersionAt('/nonexistent/g5k'), null);
});

test('extensionBuilds: one entry per family, Firefox first, zips named as the build names them', () => {
  assert.deepEqual(extensionBuilds('/opt/g', '1.2.3', ['chromium', 'gecko', 'chromium']), [
    {
      family: 'gecko',
      folder: '/opt/g/dist/browser/firefox',
      zip: '/opt/g/dist/packages/g5k-tunnel-firefox-1.2.3.zip',
    },
    {
      family: 'chromium',
      folder: '/opt/g/dist/browser/chromium',
      zip: '/opt/g/dist/packages/g5k-tunnel-chromium-1.2.3.zip',
    },
  ]);
  assert.deepEqual(
    extensionBuilds('/opt/g', '1.2.3', ['chromium']).map((b) => b.family),
    ['chromium'],
  );
});

test('extensionLines: each built folder with how to load it and its zip; a missing build says to build', () => {
  const builds = extensionBuilds('/opt/g', '1.2.3', ['gecko', 'chromium']);
  const present = new Set([
    '/opt/g/dist/browser/firefox/manifest.json',
    '/opt/g/dist/packages/g5k-tunnel-firefox-1.2.3.zip',
  ]);
  const lines = extensionLines(builds, (p) => present.has(p));
  assert.equal(lines[0], 'the extension for Firefox: /opt/g/dist/browser/firefox');
  assert.match(lines[1]!, /about:debugging.*Load Temporary Add-on/);
  assert.equal(lines[2], '  package: /opt/g/dist/packages/g5k-tunnel-firefox-1.2.3.zip');
  assert.match(
    lines[3]!,
    /^the extension for Chrome, .* is not built \(\/opt\/g\/dist\/browser\/chromium is missing\): run `npm run build`$/,
  );
  assert.equal(lines.length, 4);

  // a folder without its zip (a build with --no-package): no package line
  present.delete('/opt/g/dist/packages/g5k-tunnel-firefox-1.2.3.zip');
  assert.ok(!extensionLines(builds, (p) => present.has(p)).some((l) => l.includes('package:')));
});
