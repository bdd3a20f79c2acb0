// `npm run sign:firefox` (scripts/sign-firefox.mjs) short of AMO itself: without credentials it says
// how to get them; --dry-run prints the web-ext command; with credentials web-ext takes them from the
// environment and gets as far as the network. The secret never shows in the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../testbed/ports.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const SCRIPT = `${ROOT}/scripts/sign-firefox.mjs`;
const SECRET = 'not-a-real-secret-5f0c2e';
const built = fs.existsSync(`${ROOT}/dist/browser/firefox/manifest.json`);

function sign(args: string[], creds: { key?: string; secret?: string }, script = SCRIPT) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.WEB_EXT_API_KEY;
  delete env.WEB_EXT_API_SECRET;
  if (creds.key !== undefined) env.WEB_EXT_API_KEY = creds.key;
  if (creds.secret !== undefined) env.WEB_EXT_API_SECRET = creds.secret;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [script, ...args], { env, cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('without credentials: exit 2 and what to do, before anything is built or sent', async () => {
  for (const args of [[], ['--dry-run']]) {
    const r = await sign(args, {});
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^sign-firefox: WEB_EXT_API_KEY and WEB_EXT_API_SECRET are not set/);
    assert.match(r.stderr, /https:\/\/addons\.mozilla\.org\/developers\/addon\/api\/key\//);
    assert.match(r.stderr, /export WEB_EXT_API_KEY=.* WEB_EXT_API_SECRET=/);
  }
  // half of them: it names the missing one
  const r = await sign([], { key: 'user:1:2' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^sign-firefox: WEB_EXT_API_SECRET is not set/);
});

test('--dry-run prints the exact web-ext command, with extra options passed on, and runs nothing', {
  skip: built ? false : 'dist/browser/firefox not built',
}, async () => {
  const r = await sign(['--dry-run', '--approval-timeout', '0'], { key: 'user:1:2', secret: SECRET });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(
    lines.find((l) => l.startsWith('would run')),
    `would run in ${ROOT}: web-ext sign --channel unlisted --source-dir dist/browser/firefox --artifacts-dir dist/signed --approval-timeout 0`,
  );
  assert.ok(!r.stdout.includes(SECRET) && !r.stdout.includes('user:1:2'), 'no credential in the output');
});

test('with credentials, web-ext reads them from the environment and goes as far as the network', {
  skip: built ? false : 'dist/browser/firefox not built',
}, async () => {
  // AMO at a loopback port where nothing listens: the submission fails at the connection
  const amo = `http://127.0.0.1:${await freePort()}/api/v5/`;
  const r = await sign(['--amo-base-url', amo, '--timeout', '10000'], { key: 'user:1:2', secret: SECRET });
  const out = r.stdout + r.stderr;
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(out, /Missing required argument|Unknown argument/, 'web-ext accepted every argument');
  assert.match(out, /Building web extension from dist\/browser\/firefox/);
  assert.match(out, /fetch failed|ECONNREFUSED/);
  assert.match(r.stderr, /sign-firefox: web-ext sign failed/);
  assert.ok(!out.includes(SECRET), 'the secret never shows');
});

test('--dry-run says it would build first when dist/ lacks the Firefox build of this version', async () => {
  // the script in a checkout of its own, with no dist/ and another version
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-sign-'));
  try {
    fs.mkdirSync(path.join(root, 'scripts'));
    fs.copyFileSync(SCRIPT, path.join(root, 'scripts', 'sign-firefox.mjs'));
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'g5k-tunnel', version: '9.8.7' }));
    fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(root, 'node_modules'));
    const r = await sign(
      ['--dry-run'],
      { key: 'user:1:2', secret: SECRET },
      path.join(root, 'scripts', 'sign-firefox.mjs'),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^would build first: npm run build {2}\(dist\/browser\/firefox is not at version 9\.8\.7\)$/m,
    );
    assert.match(r.stdout, /^would run in .*: web-ext sign --channel unlisted /m);
    assert.ok(!fs.existsSync(path.join(root, 'dist')), 'a dry run builds nothing');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
