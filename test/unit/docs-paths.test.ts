// The README and docs/*.md name repository files in backticks (`native-host/ssh/route.ts`) and link
// to each other; every such path must exist, so that a rename or a move cannot leave a doc pointing
// at nothing.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/test/unit/docs-paths.test.js → the repository root
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const TOP = ['native-host', 'shared', 'extension', 'testbed', 'scripts', 'test'];
// A path starts at one of TOP, not inside a longer path (`dist/native-host/…`) or a URL.
const PATH_RE = new RegExp(`(?<![\\w./@:~-])((?:${TOP.join('|')})/[\\w./-]*)`, 'g');
const FILE_EXT = /\.(ts|mjs|html|css|json|md|sh)$/;

/** Repository paths named inside backticks in `markdown`: files with a known extension, and folders. */
function backtickedPaths(markdown: string): string[] {
  const out: string[] = [];
  for (const span of markdown.matchAll(/`([^`\n]+)`/g)) {
    const code = span[1] ?? '';
    for (const m of code.matchAll(PATH_RE)) {
      const p = m[1] ?? '';
      const next = code[(m.index ?? 0) + p.length];
      // a pattern (`native-host/{cli,ssh}/`, `test/unit/*.ts`, `scripts/<name>`) names no single path
      if (next !== undefined && '{*<$'.includes(next)) continue;
      const last = p.replace(/\/$/, '').split('/').pop() ?? '';
      if (p.endsWith('/') || FILE_EXT.test(p) || !last.includes('.')) out.push(p.replace(/\.$/, ''));
    }
  }
  return out;
}

// A bare file name (`route.ts`) names a source file somewhere in the tree.
const BARE_RE = /(?<![\w./@:~*-])([\w-][\w.-]*\.(?:ts|mjs))(?![\w/])/g;

/** Bare source file names (`config-parse.ts`) inside backticks in `markdown`. */
function backtickedNames(markdown: string): string[] {
  const out: string[] = [];
  for (const span of markdown.matchAll(/`([^`\n]+)`/g))
    for (const m of (span[1] ?? '').matchAll(BARE_RE)) out.push(m[1] ?? '');
  return out;
}

/** Every file name under the repository's own folders (not node_modules, dist or generated ones). */
function fileNames(dir: string, out = new Set<string>()): Set<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!['node_modules', 'dist', '.git', 'artifacts', '.demo'].includes(e.name))
        fileNames(path.join(dir, e.name), out);
    } else out.add(e.name);
  }
  return out;
}

/** Relative link targets (`[x](docs/SSH.md#anchor)`) in `markdown`, without the anchor. */
function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = (m[1] ?? '').split('#')[0] ?? '';
    if (target === '' || /^[a-z]+:/i.test(target)) continue;
    out.push(target);
  }
  return out;
}

const docs = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('docs name paths that exist', () => {
  it('finds backticked paths and skips patterns, URLs and built files', () => {
    const md = [
      'See `native-host/ssh/route.ts`, `test/unit/` and `shared` alone;',
      '`npm test -- test/unit/shared/pac.test.ts`, `dist/native-host/messaging/host-main.js`,',
      '`native-host/{cli,ssh}/`, `test/unit/*.test.ts`, `https://example.org/test/x.ts`, `scripts/bench`.',
    ].join('\n');
    assert.deepEqual(backtickedPaths(md), [
      'native-host/ssh/route.ts',
      'test/unit/',
      'test/unit/shared/pac.test.ts',
      'scripts/bench',
    ]);
    assert.deepEqual(
      backtickedNames('`config-parse.ts`, `native-host/ssh/route.ts`, `*.fuzz.test.ts`, `host-main.js`'),
      ['config-parse.ts'],
    );
    assert.deepEqual(relativeLinks('[a](docs/SSH.md#proxycommand) [b](https://x.org/y) [c](#top) [d](images/p.png)'), [
      'docs/SSH.md',
      'images/p.png',
    ]);
  });

  const names = fileNames(ROOT);
  for (const doc of docs) {
    it(doc, () => {
      const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
      const missing = [
        ...backtickedPaths(text).filter((p) => !fs.existsSync(path.join(ROOT, p))),
        ...backtickedNames(text).filter((n) => !names.has(n)),
      ];
      const dir = path.dirname(path.join(ROOT, doc));
      const broken = relativeLinks(text).filter((l) => !fs.existsSync(path.resolve(dir, l)));
      assert.deepEqual({ missing, broken }, { missing: [], broken: [] }, `${doc} names paths that do not exist`);
    });
  }
});
