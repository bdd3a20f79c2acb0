// scripts/lint-exports.mjs: every export of the sources must be imported by another file. Run on a small
// made-up repository, it must name exactly the exports nothing else imports, whatever the import's form.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/test/unit/scripts/lint-exports.test.js → the repository root
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const SCRIPT = path.join(ROOT, 'scripts/lint-exports.mjs');

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs the check on a repository made of `files`; its exit code and the lines it printed. */
function lint(files: Record<string, string>): { code: number | null; lines: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-exports-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
  return { code: r.status, lines: r.stdout.split('\n').filter(Boolean) };
}

test('an export nothing else imports is named with its line; one imported elsewhere is not', () => {
  const r = lint({
    'shared/a.ts': [
      '// a module',
      'export const USED = 1;',
      'export function unused(): number {',
      '  return USED;',
      '}',
      'export interface Shape {}',
      'export type Alias = Shape;',
      'const local = 2;',
      'export { local, local as renamed };',
    ].join('\n'),
    'native-host/b.ts': "import { USED, type Shape } from '../shared/a.js';\nexport const b: Shape = USED;\n",
    'test/b.test.ts': "import { b } from '../native-host/b.js';\nvoid b;\n",
  });
  assert.deepEqual(r.lines, [
    'shared/a.ts:3 unused',
    'shared/a.ts:7 Alias',
    'shared/a.ts:9 local',
    'shared/a.ts:9 renamed',
  ]);
  assert.equal(r.code, 1);
});

test('every form of import counts: type, default, namespace, re-export, barrel, dynamic, a launcher', () => {
  const r = lint({
    'shared/m.ts': [
      'export const viaNs = 1;',
      'export const viaType = 2;',
      'export const viaReexport = 3;',
      'export const viaStar = 4;',
      'export const viaDynamic = 5;',
      'export const viaDestructure = 6;',
      'export const nobody = 7;',
      'export default 8;',
    ].join('\n'),
    'shared/barrel.ts': "export * from './m.js';\nexport { viaReexport as again } from './m.js';\n",
    'scripts/use.ts': [
      "import seven, * as m from '../shared/m.js';",
      "import type { viaType } from '../shared/m.js';",
      "import { viaStar, again } from '../shared/barrel.js';",
      'const t: typeof viaType = 2;',
      'void [seven, m.viaNs, t, viaStar, again];',
      "const x = (await import('../shared/m.js')).viaDynamic;",
      "const { viaDestructure } = await import('../shared/m.js');",
      'void [x, viaDestructure];',
    ].join('\n'),
    'testbed/prog.ts': 'export function main(): void {}\n',
    'bin/tool': "import('../dist/testbed/prog.js').then((p) => p.main());\n",
  });
  assert.deepEqual(r.lines, ['shared/m.ts:7 nobody']);
});

test('comments and strings are not read as code, and nothing outside the checked folders is reported', () => {
  const r = lint({
    'shared/c.ts': [
      'export const text = `',
      'export const inTemplate = 1;',
      '`;',
      '/*',
      'export const inComment = 1;',
      '*/',
      'export const re = /[\'"`]/;',
      'export const after = 1;',
    ].join('\n'),
    'scripts/d.ts': [
      "// import { text } from '../shared/c.js';",
      "import { re } from '../shared/c.js';",
      'void re;',
    ].join('\n'),
    'test/support/kit.ts': 'export const onlyForTests = 1;\n',
  });
  assert.deepEqual(r.lines, ['shared/c.ts:1 text', 'shared/c.ts:8 after']);
});
