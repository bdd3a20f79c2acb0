// The Firefox build as addons.mozilla.org's linter sees it (web-ext lint): no error, no warning.
// It reads the built folder, so a manifest field, a permission or a pattern in the bundled code
// that Firefox would flag fails here, not at signing time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const build = `${root}dist/browser/firefox`;
const webExt = `${root}node_modules/web-ext/bin/web-ext.js`;

interface Message {
  code: string;
  message: string;
  file?: string;
}

test('web-ext lint finds nothing in the Firefox build', {
  skip: fs.existsSync(`${build}/manifest.json`) ? false : 'no Firefox build (npm run build)',
}, async () => {
  // web-ext exits non-zero when it finds errors: the JSON report is what counts, either way
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [webExt, 'lint', '--source-dir', build, '--self-hosted', '--output', 'json'],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
    errors: Message[];
    warnings: Message[];
    notices: Message[];
    metadata: { manifestVersion: number };
  };
  const show = (list: Message[]) => list.map((m) => `${m.code} ${m.file ?? ''}: ${m.message}`).join('\n');
  assert.equal(report.metadata.manifestVersion, 3);
  assert.deepEqual(report.errors, [], show(report.errors));
  assert.deepEqual(report.warnings, [], show(report.warnings));
});
