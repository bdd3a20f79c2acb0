#!/usr/bin/env node
// Lists every export of the project's TypeScript sources (shared/, native-host/, extension/, testbed/,
// scripts/) that no other file of the repository imports, as `file:line NAME`; exits 1 if there is any.
// Usage: node scripts/lint-exports.mjs [repository folder]
// An export nothing else uses widens a module's surface for nothing: drop the `export`, or the code.
// TypeScript here has no compiler API to ask, so this reads the source itself: comments and template
// text are blanked first, then top-level `export` declarations and lists, and `import`/`export … from`/
// `import()` forms are matched. Whatever it cannot follow (a namespace or dynamic import used as a
// value) counts as using the whole module, so it may miss an unused export but never invents one.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// the repository to check: this one, or the folder given (the unit test checks a small made-up one)
const ROOT = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
const CHECKED = ['shared', 'native-host', 'extension', 'testbed', 'scripts'];
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'artifacts']);
const CODE_EXT = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;

// Deliberate entry points: used from outside the TypeScript sources (a launcher, the browser, a shell).
const ALLOW = {
  // bin/g5k-tunnel calls it; listed here too in case the launcher's form changes
  'native-host/cli/main.ts': ['main'],
};

const ID = '[A-Za-z_$][\\w$]*';

/** Every code file of the repository, relative to ROOT (symlinked folders such as node_modules are skipped). */
function walk(dir, out = []) {
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(rel, out);
    } else if (e.isFile() && (CODE_EXT.test(e.name) || dir === 'bin')) out.push(rel);
  }
  return out;
}

/**
 * The source with comments and the text of template literals replaced by spaces (line breaks kept, so
 * offsets and line numbers still match). Quoted strings stay: module specifiers are strings.
 */
function blank(src) {
  const out = src.split('');
  const wipe = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  const braces = []; // for each open `${`, the brace depth at which it closes
  let depth = 0;
  let prev = ''; // last significant character of code, to tell a regex literal from a division
  let i = 0;
  const n = src.length;
  const template = () => {
    // inside a template literal's text, at i; stop at its closing backquote or at `${`
    const start = i;
    while (i < n) {
      const c = src[i];
      if (c === '\\') i += 2;
      else if (c === '`') {
        wipe(start, i);
        i++;
        prev = '`';
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        wipe(start, i);
        i += 2;
        braces.push(depth);
        depth++;
        prev = '{';
        return;
      } else i++;
    }
    wipe(start, n);
  };
  while (i < n) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      const to = end < 0 ? n : end;
      wipe(i, to);
      i = to;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const to = end < 0 ? n : end + 2;
      wipe(i, to);
      i = to;
    } else if (c === "'" || c === '"') {
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
      i++;
      prev = c;
    } else if (c === '`') {
      i++;
      template();
    } else if (
      c === '/' &&
      (prev === '' ||
        '(,=:[!&|?{};+-*%<>~^'.includes(prev) ||
        /\b(return|typeof|case|in|of)$/.test(src.slice(Math.max(0, i - 7), i).trimEnd()))
    ) {
      // a regex literal: skip it whole, so quotes inside it are not taken for strings
      i++;
      let cls = false;
      while (i < n && src[i] !== '\n') {
        const d = src[i];
        if (d === '\\') i++;
        else if (d === '[') cls = true;
        else if (d === ']') cls = false;
        else if (d === '/' && !cls) break;
        i++;
      }
      i++;
      prev = '/';
    } else {
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (braces.length && braces[braces.length - 1] === depth) {
          braces.pop();
          i++;
          template();
          continue;
        }
      }
      if (!/\s/.test(c)) prev = /[\w$]/.test(c) ? 'a' : c;
      i++;
    }
  }
  return out.join('');
}

/** The file a relative specifier names, as a path relative to ROOT, or null for a package or an unknown file. */
function resolve(from, spec, files) {
  if (!spec.startsWith('.')) return null;
  let abs = path
    .relative(ROOT, path.resolve(ROOT, path.dirname(from), spec))
    .split(path.sep)
    .join('/');
  if (abs.startsWith('dist/')) abs = abs.slice('dist/'.length); // programs started from the build
  const stem = abs.replace(/\.(js|mjs|cjs|ts)$/, '');
  for (const cand of [abs, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.js`, `${stem}.mjs`, `${stem}/index.ts`])
    if (files.has(cand)) return cand;
  return null;
}

const lineOf = (code, offset) => code.slice(0, offset).split('\n').length;

/** `a, type b, c as d` → [{ local: 'a', name: 'a' }, …, { local: 'c', name: 'd' }]. */
function specifiers(list) {
  return list
    .split(',')
    .map((s) => s.trim().replace(/^type\s+/, ''))
    .filter(Boolean)
    .map((s) => {
      const m = s.match(new RegExp(`^(${ID}|'[^']*'|"[^"]*")(?:\\s+as\\s+(${ID}))?$`));
      if (!m) throw new Error(`cannot read the specifier "${s}"`);
      return { local: m[1], name: m[2] ?? m[1] };
    });
}

function main() {
  const all = walk('');
  const files = new Set(all);
  const codes = new Map(all.map((f) => [f, blank(fs.readFileSync(path.join(ROOT, f), 'utf8'))]));

  /** file → Map(name → line) of what it exports. */
  const exports = new Map();
  /** file → Set of names other files import from it; '*' = all of them. */
  const used = new Map();
  /** [barrel, target] for `export * from`. */
  const stars = [];
  const use = (file, name) => {
    if (!used.has(file)) used.set(file, new Set());
    used.get(file).add(name);
  };
  const exported = (file, name, line) => {
    if (!exports.has(file)) exports.set(file, new Map());
    // an overloaded function is reported at its first signature
    if (!exports.get(file).has(name)) exports.get(file).set(name, line);
  };
  const checked = (f) => CHECKED.some((d) => f.startsWith(`${d}/`)) && /\.tsx?$/.test(f) && !f.endsWith('.d.ts');

  for (const [file, code] of codes) {
    const own = checked(file);
    const importsFrom = (spec) => {
      const target = resolve(file, spec, files);
      return target && target !== file ? target : null;
    };
    // a namespace (`* as ns`, or a dynamic import bound to a name): the names read off it
    const namespace = (target, ns, after) => {
      const rest = code.slice(after);
      const uses = [
        ...rest.matchAll(new RegExp(`(?<![\\w$.])${ns.replace(/\$/g, '\\$')}\\b(\\s*\\??\\.\\s*(${ID}))?`, 'g')),
      ];
      for (const u of uses) use(target, u[2] ?? '*');
    };

    // export declarations
    if (own) {
      const decl = new RegExp(
        `^export\\s+(?:declare\\s+)?(?:default\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:const\\s+enum|function\\s*\\*?|const|let|var|class|interface|type|enum|namespace)\\s+(${ID})`,
        'gm',
      );
      for (const m of code.matchAll(decl))
        exported(file, /^export\s+default\b/.test(m[0]) ? 'default' : m[1], lineOf(code, m.index));
      for (const m of code.matchAll(/^export\s+default\b(?!\s+(?:abstract\s+|async\s+)?(?:function|class)\b)/gm))
        exported(file, 'default', lineOf(code, m.index));
      for (const m of code.matchAll(/^export\s+(?:const|let|var)\s*[{[]/gm))
        throw new Error(`${file}:${lineOf(code, m.index)}: a destructuring export is not read; list its names instead`);
    }
    // export { … } [from …] and export * from …
    for (const m of code.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}(?:\s*from\s*(['"])([^'"]+)\2)?/gm)) {
      const target = m[3] ? importsFrom(m[3]) : null;
      for (const s of specifiers(m[1])) {
        if (own) exported(file, s.name, lineOf(code, m.index));
        if (target) use(target, s.local);
      }
    }
    for (const m of code.matchAll(/^export\s+(?:type\s+)?\*\s*(?:as\s+(\S+)\s+)?from\s*(['"])([^'"]+)\2/gm)) {
      const target = importsFrom(m[3]);
      if (m[1]) {
        if (own) exported(file, m[1], lineOf(code, m.index));
        if (target) use(target, '*');
      } else if (target) stars.push([file, target]);
    }
    // static imports
    for (const m of code.matchAll(/^import\s+(?:type\s+)?([^'"]*?)\s*from\s*(['"])([^'"]+)\2/gm)) {
      const target = importsFrom(m[3]);
      if (!target) continue;
      let clause = m[1].trim();
      const braces = clause.match(/\{([^}]*)\}/);
      if (braces) {
        for (const s of specifiers(braces[1])) use(target, s.local);
        clause = clause.replace(braces[0], '');
      }
      for (const part of clause
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const ns = part.match(new RegExp(`^\\*\\s*as\\s+(${ID})$`));
        if (ns) namespace(target, ns[1], m.index + m[0].length);
        else use(target, 'default');
      }
    }
    // dynamic imports and import types: `(await import(x)).a`, `import(x).a`, `const { a } = await import(x)`,
    // `const m = await import(x)`, `import(x).then((m) => m.a)`; any other use takes the whole module
    for (const m of code.matchAll(/\bimport\(\s*(['"])([^'"]+)\1\s*\)/g)) {
      const target = importsFrom(m[2]);
      if (!target) continue;
      const before = code.slice(Math.max(0, m.index - 300), m.index);
      const after = code.slice(m.index + m[0].length);
      let r;
      if ((r = after.match(new RegExp(`^\\s*\\)?\\s*\\.\\s*(${ID})`))) && r[1] !== 'then') use(target, r[1]);
      else if ((r = before.match(/(?:const|let|var)\s*\{([^}]*)\}\s*=\s*(?:await\s*)?\(?\s*$/)))
        for (const s of r[1]
          .split(',')
          .map((p) => p.trim().split(/\s*:\s*/)[0])
          .filter(Boolean))
          use(target, s);
      else if ((r = before.match(new RegExp(`(?:const|let|var)\\s+(${ID})\\s*=\\s*(?:await\\s*)?\\(?\\s*$`))))
        namespace(target, r[1], m.index + m[0].length);
      else if ((r = after.match(new RegExp(`^\\s*\\.then\\(\\s*\\(?\\s*(${ID})\\s*\\)?\\s*=>`))))
        namespace(target, r[1], m.index + m[0].length + r[0].length);
      else use(target, '*');
    }
  }

  // names taken from a barrel that it only passes on (`export * from`) are used in the module behind it
  for (let changed = true; changed; ) {
    changed = false;
    for (const [barrel, target] of stars)
      for (const name of used.get(barrel) ?? []) {
        if (exports.get(barrel)?.has(name) || used.get(target)?.has(name)) continue;
        use(target, name);
        changed = true;
      }
  }

  const unused = [];
  for (const [file, names] of exports) {
    const u = used.get(file) ?? new Set();
    if (u.has('*')) continue;
    for (const [name, line] of names)
      if (!u.has(name) && !(ALLOW[file] ?? []).includes(name)) unused.push({ file, line, name });
  }
  unused.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  for (const { file, line, name } of unused) console.log(`${file}:${line} ${name}`);
  if (unused.length) {
    console.error(`lint-exports: ${unused.length} export(s) nothing else imports: drop the \`export\`, or the code`);
    process.exit(1);
  }
}

main();
