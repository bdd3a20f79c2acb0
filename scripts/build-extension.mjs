// Builds the WebExtension: one Vite build of the pages and the background, copied with a manifest and
// the _locales/*/messages.json per browser into dist/browser/{chromium,firefox}/, then zipped by
// web-ext into dist/packages/.
// Usage: node scripts/build-extension.mjs [--no-package]

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, runnerImport } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'extension');
const out = path.join(root, 'dist', 'browser');
const staging = path.join(out, '.staging');
const packages = path.join(root, 'dist', 'packages');
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const wantPackage = !process.argv.includes('--no-package');

const common = {
  root: src,
  configFile: false,
  logLevel: 'warn',
  base: './',
  publicDir: false,
};

async function buildPages() {
  await build({
    ...common,
    build: {
      outDir: staging,
      emptyOutDir: true,
      target: ['chrome120', 'firefox140'],
      // extension pages allow no inline script: no modulepreload polyfill
      modulePreload: { polyfill: false },
      sourcemap: false,
      minify: true,
      rolldownOptions: {
        input: {
          popup: path.join(src, 'popup', 'popup.html'),
          options: path.join(src, 'options', 'options.html'),
          error: path.join(src, 'error-page', 'error.html'),
        },
      },
    },
  });
}

// The background is one self-contained classic script: Firefox loads it with background.scripts,
// Chromium as the service worker, and it must register its listeners before anything is awaited.
async function buildBackground() {
  await build({
    ...common,
    build: {
      outDir: staging,
      emptyOutDir: false,
      target: ['chrome120', 'firefox140'],
      sourcemap: false,
      minify: true,
      lib: {
        entry: path.join(src, 'background', 'main.ts'),
        formats: ['iife'],
        name: 'g5kTunnelBackground',
        fileName: () => 'background.js',
      },
    },
  });
}

async function writeTargets() {
  const { module } = await runnerImport(path.join(src, 'manifest.ts'));
  // the messages are TypeScript (extension/i18n): a key missing in a language fails the type check
  const { module: i18n } = await runnerImport(path.join(src, 'i18n', 'locales.ts'));
  for (const target of ['chromium', 'firefox']) {
    const dir = path.join(out, target);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.cpSync(staging, dir, { recursive: true });
    fs.cpSync(path.join(src, 'icons'), path.join(dir, 'icons'), {
      recursive: true,
      filter: (f) => !f.endsWith('.svg') || fs.statSync(f).isDirectory(),
    });
    for (const [lang, messages] of Object.entries(i18n.LOCALES)) {
      fs.mkdirSync(path.join(dir, '_locales', lang), { recursive: true });
      fs.writeFileSync(path.join(dir, '_locales', lang, 'messages.json'), `${JSON.stringify(messages, null, 2)}\n`);
    }
    fs.writeFileSync(
      path.join(dir, 'manifest.json'),
      `${JSON.stringify(module.manifestFor(target, version), null, 2)}\n`,
    );
  }
  fs.rmSync(staging, { recursive: true, force: true });
}

async function pack() {
  const { default: webExt } = await import('web-ext');
  // web-ext narrates every build on stdout; this script prints its own one-line summary
  (await import('web-ext/util/logger')).consoleStream.startCapturing();
  fs.mkdirSync(packages, { recursive: true });
  for (const target of ['chromium', 'firefox']) {
    await webExt.cmd.build(
      {
        sourceDir: path.join(out, target),
        artifactsDir: packages,
        filename: `g5k-tunnel-${target}-${version}.zip`,
        overwriteDest: true,
      },
      { shouldExitProgram: false },
    );
  }
}

const started = Date.now();
await buildPages();
await buildBackground();
await writeTargets();
if (wantPackage) await pack();
const size = (dir) =>
  fs
    .readdirSync(dir, { recursive: true })
    .reduce(
      (n, f) => n + (fs.statSync(path.join(dir, String(f))).isFile() ? fs.statSync(path.join(dir, String(f))).size : 0),
      0,
    );
console.log(
  `build-extension: dist/browser/{chromium,firefox} (${Math.round(size(path.join(out, 'firefox')) / 1024)} KiB each)` +
    `${wantPackage ? ' and dist/packages/*.zip' : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
