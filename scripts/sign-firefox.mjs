// `npm run sign:firefox`: has addons.mozilla.org sign the Firefox extension as an unlisted add-on,
// the one kind of package a release Firefox keeps across restarts without publishing it. web-ext
// reads the credentials from WEB_EXT_API_KEY and WEB_EXT_API_SECRET itself, so they never appear on
// a command line or in this script's output. Builds first when dist/ lacks the current version.
// Usage: node scripts/sign-firefox.mjs [--dry-run] [more web-ext sign options, e.g. --approval-timeout 0]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIR = 'dist/browser/firefox';
const ARTIFACTS_DIR = 'dist/signed';
const CREDENTIALS = ['WEB_EXT_API_KEY', 'WEB_EXT_API_SECRET'];

const argv = process.argv.slice(2);
const dryRun = argv.includes('--dry-run');
const extra = argv.filter((a) => a !== '--dry-run');
const say = (line) => process.stdout.write(`${line}\n`);
const fail = (code, text) => {
  process.stderr.write(`sign-firefox: ${text}\n`);
  process.exit(code);
};

if (extra.includes('--help') || extra.includes('-h')) {
  say(`usage: npm run sign:firefox [-- --dry-run] [-- more web-ext sign options]
Signs ${SOURCE_DIR} on addons.mozilla.org (channel unlisted) and saves the .xpi in ${ARTIFACTS_DIR}/.
Needs WEB_EXT_API_KEY and WEB_EXT_API_SECRET in the environment. --dry-run prints the command only.`);
  process.exit(0);
}

const missing = CREDENTIALS.filter((name) => !process.env[name]);
if (missing.length > 0)
  fail(
    2,
    `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: signing needs your addons.mozilla.org API credentials.
  1. Sign in at https://addons.mozilla.org/developers/addon/api/key/ and generate credentials
     (the "JWT issuer" is the key, the "JWT secret" the secret).
  2. Put them in the environment, not in a file under version control:
       export WEB_EXT_API_KEY='user:12345:678' WEB_EXT_API_SECRET='...'
  3. Run npm run sign:firefox again. The signed .xpi lands in ${ARTIFACTS_DIR}/.`,
  );

const webExt = path.join(root, 'node_modules', 'web-ext', 'bin', 'web-ext.js');
if (!fs.existsSync(webExt))
  fail(1, `web-ext is not installed (${path.relative(root, webExt)} is missing): run \`npm ci\` in ${root} first`);

/** The version dist/ was built at, or null when the Firefox build is missing. */
function builtVersion() {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, SOURCE_DIR, 'manifest.json'), 'utf8')).version ?? null;
  } catch {
    return null;
  }
}
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const needsBuild = builtVersion() !== version;

const args = ['sign', '--channel', 'unlisted', '--source-dir', SOURCE_DIR, '--artifacts-dir', ARTIFACTS_DIR, ...extra];
if (dryRun) {
  if (needsBuild) say(`would build first: npm run build  (${SOURCE_DIR} is not at version ${version})`);
  say(`would run in ${root}: web-ext ${args.join(' ')}`);
  say(`  (web-ext from node_modules/web-ext; ${CREDENTIALS.join(' and ')} from the environment)`);
  process.exit(0);
}

const inRoot = { cwd: root, stdio: 'inherit' };
if (needsBuild) {
  say(`building first: ${SOURCE_DIR} is not at version ${version}`);
  const build = spawnSync('npm', ['run', '-s', 'build'], { ...inRoot, shell: process.platform === 'win32' });
  if (build.status !== 0) fail(1, 'the build failed (see above)');
}
const sign = spawnSync(process.execPath, [webExt, ...args], inRoot);
if (sign.error) fail(1, sign.error.message);
if (sign.status === 0)
  say(`signed: the .xpi is in ${ARTIFACTS_DIR}/; in Firefox, about:addons, the gear menu, Install Add-on From File…`);
else
  process.stderr.write(
    'sign-firefox: web-ext sign failed (see above). If AMO says the version exists: it signs each version once, so raise "version" in package.json and sign again.\n',
  );
process.exit(sign.status ?? 1);
