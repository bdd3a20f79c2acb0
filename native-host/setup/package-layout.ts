// Where the built parts lie, in a checkout and in the package npm installed alike: both keep this
// module at dist/native-host/setup/, the extension at dist/browser/<target>/ and its zip packages at
// dist/packages/. `g5k-tunnel install` prints them so that the user knows which folder to load.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Family } from './browser-paths.js';

/** The folder holding package.json and dist/. */
export function packageRoot(): string {
  return path.resolve(fileURLToPath(new URL('../../../', import.meta.url)));
}

interface ExtensionBuild {
  family: Family;
  /** The unpacked extension: dist/browser/chromium or dist/browser/firefox. */
  folder: string;
  /** Its zip package, named as scripts/build-extension.mjs names it. */
  zip: string;
}

const TARGET: Record<Family, string> = { gecko: 'firefox', chromium: 'chromium' };

/** The extension builds for these browser families (each once, Firefox first). */
export function extensionBuilds(root: string, version: string, families: readonly Family[]): ExtensionBuild[] {
  return (['gecko', 'chromium'] as const)
    .filter((f) => families.includes(f))
    .map((family) => ({
      family,
      folder: path.join(root, 'dist', 'browser', TARGET[family]),
      zip: path.join(root, 'dist', 'packages', `g5k-tunnel-${TARGET[family]}-${version}.zip`),
    }));
}

const LOAD: Record<Family, { name: string; how: string }> = {
  gecko: {
    name: 'Firefox',
    how: 'about:debugging#/runtime/this-firefox, Load Temporary Add-on…, pick its manifest.json (to keep it across restarts, see the README)',
  },
  chromium: {
    name: 'Chrome, Chromium, Brave, Edge and Vivaldi',
    how: 'chrome://extensions, turn on Developer mode, Load unpacked, pick this folder',
  },
};

/** What install prints about the extension: each folder to load and how, or that it is not built. */
export function extensionLines(builds: readonly ExtensionBuild[], exists: (p: string) => boolean): string[] {
  const out: string[] = [];
  for (const b of builds) {
    const { name, how } = LOAD[b.family];
    if (!exists(path.join(b.folder, 'manifest.json'))) {
      out.push(`the extension for ${name} is not built (${b.folder} is missing): run \`npm run build\``);
      continue;
    }
    out.push(`the extension for ${name}: ${b.folder}`);
    out.push(`  load it: ${how}`);
    if (exists(b.zip)) out.push(`  package: ${b.zip}`);
  }
  return out;
}

/** The package's version, from its package.json; null when unreadable. */
export function packageVersionAt(root: string): string | null {
  try {
    const v = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}
