// `g5k-tunnel install` / `uninstall`: the launcher plus one host manifest per browser (per user by
// default, system-wide with --system). Install keeps a receipt of every file, folder and registry
// key it created, so uninstall removes exactly that and nothing else.

import fs from 'node:fs';
import path from 'node:path';
import {
  BROWSER_NAMES,
  BROWSERS,
  type Browser,
  currentOs,
  type Env,
  familyOf,
  hostManifest,
  installDir,
  launcherPath,
  manifestPath,
  type Os,
  parseBrowserList,
  registryKey,
  type Scope,
} from './browser-paths.js';
import { type FileOps, realFiles, realRunner, type Runner } from './host-io.js';
import { defaultHostMain, launcherScript } from './launcher.js';
import { regAdd, regDelete } from './registry.js';
import { extensionBuilds, extensionLines, packageRoot, packageVersionAt } from './package-layout.js';
import { systemInstallRefusal } from './system-safety.js';
import { homeDir } from '../home.js';
import type { Parsed } from '../../shared/parsed.js';
import { NATIVE_HOST_NAME } from '../../shared/protocol.js';

const RECEIPT_FILE = 'installed.json';

interface InstallOptions {
  os: Os;
  scope: Scope;
  home: string;
  env: Env;
  browsers: Browser[];
  dryRun: boolean;
  nodePath: string;
  hostMain: string;
  /** Where progress lines go (stdout for the command). */
  print: (line: string) => void;
  /** Runs reg.exe (Windows). */
  run: Runner;
  files: FileOps;
}

/** What install created, kept beside the launcher. */
interface Receipt {
  version: 1;
  launcher: string;
  /** Manifest path per browser. */
  manifests: Partial<Record<Browser, string>>;
  /** Registry keys per browser (Windows). */
  registry: Partial<Record<Browser, string>>;
  /** Folders install created (removed by uninstall when empty). */
  dirs: string[];
}

const pathsOf = (os: Os) => (os === 'win32' ? path.win32 : path.posix);

const receiptPath = (o: Pick<InstallOptions, 'os' | 'scope' | 'home' | 'env'>) =>
  pathsOf(o.os).join(installDir(o.os, o.scope, o.home, o.env), RECEIPT_FILE);

function readReceipt(files: FileOps, file: string): Receipt | null {
  try {
    const r = JSON.parse(files.readFile(file)) as Receipt;
    return r && r.version === 1 && typeof r.launcher === 'string'
      ? { ...r, manifests: r.manifests ?? {}, registry: r.registry ?? {}, dirs: r.dirs ?? [] }
      : null;
  } catch {
    return null;
  }
}

/** Folders `mkdir -p dir` would create, outermost first. */
function missingDirs(o: InstallOptions, dir: string): string[] {
  const { dirname } = pathsOf(o.os);
  const out: string[] = [];
  for (let d = dir; !o.files.exists(d); d = dirname(d)) {
    out.unshift(d);
    if (dirname(d) === d) break;
  }
  return out;
}

function mkdirRecorded(o: InstallOptions, dir: string, receipt: Receipt): void {
  for (const d of missingDirs(o, dir)) {
    o.files.mkdir(d);
    if (!receipt.dirs.includes(d)) receipt.dirs.push(d);
  }
}

function install(o: InstallOptions): void {
  const verb = o.dryRun ? 'would write' : 'wrote';
  const launcher = launcherPath(o.os, o.scope, o.home, o.env);
  const rfile = receiptPath(o);
  const { dirname } = pathsOf(o.os);
  const receipt: Receipt = readReceipt(o.files, rfile) ?? {
    version: 1,
    launcher,
    manifests: {},
    registry: {},
    dirs: [],
  };
  receipt.launcher = launcher;

  if (!o.dryRun) {
    mkdirRecorded(o, dirname(launcher), receipt);
    o.files.writeFile(launcher, launcherScript(o.os, o.nodePath, o.hostMain), 0o755);
  }
  o.print(`${verb} ${launcher}  (launcher: ${o.nodePath} ${o.hostMain})`);

  const written = new Set<string>();
  for (const b of o.browsers) {
    const file = manifestPath(b, o.os, o.scope, o.home, o.env);
    if (!written.has(file)) {
      written.add(file);
      if (!o.dryRun) {
        mkdirRecorded(o, dirname(file), receipt);
        o.files.writeFile(file, `${JSON.stringify(hostManifest(familyOf(b), launcher), null, 2)}\n`, 0o644);
      }
    }
    receipt.manifests[b] = file;
    o.print(`${verb} ${file}  (${BROWSER_NAMES[b]})`);
    if (o.os === 'win32') {
      const key = registryKey(b, o.scope);
      if (!o.dryRun) regAdd(o.run, key, file);
      receipt.registry[b] = key;
      o.print(`${o.dryRun ? 'would set' : 'set'} ${key} = ${file}`);
    }
  }
  if (!o.dryRun) o.files.writeFile(rfile, `${JSON.stringify(receipt, null, 2)}\n`, 0o644);
}

/** Is `file` a host manifest of ours (so removing it is safe without a receipt)? */
function isOurManifest(files: FileOps, file: string): boolean {
  try {
    return (JSON.parse(files.readFile(file)) as { name?: unknown }).name === NATIVE_HOST_NAME;
  } catch {
    return false;
  }
}

function uninstall(o: InstallOptions): void {
  const verb = o.dryRun ? 'would remove' : 'removed';
  const rfile = receiptPath(o);
  // Without a receipt (deleted by hand), fall back to our manifests at the known places.
  const receipt: Receipt = readReceipt(o.files, rfile) ?? {
    version: 1,
    launcher: launcherPath(o.os, o.scope, o.home, o.env),
    manifests: Object.fromEntries(
      BROWSERS.map((b) => [b, manifestPath(b, o.os, o.scope, o.home, o.env)]).filter(([, f]) =>
        isOurManifest(o.files, f!),
      ),
    ),
    registry: o.os === 'win32' ? Object.fromEntries(BROWSERS.map((b) => [b, registryKey(b, o.scope)])) : {},
    dirs: [],
  };

  const remove = (file: string, what: string) => {
    if (!o.files.exists(file)) return;
    if (!o.dryRun) o.files.rm(file);
    o.print(`${verb} ${file}  (${what})`);
  };

  for (const b of o.browsers) {
    const file = receipt.manifests[b];
    delete receipt.manifests[b];
    // a Windows manifest is shared by a family: keep it while another browser still uses it
    if (file && !Object.values(receipt.manifests).includes(file)) remove(file, BROWSER_NAMES[b]);
    const key = receipt.registry[b];
    delete receipt.registry[b];
    if (key) {
      try {
        if (!o.dryRun) regDelete(o.run, key);
        o.print(`${verb} ${key}`);
      } catch {
        /* the key was not there */
      }
    }
  }

  const left = Object.keys(receipt.manifests).length + Object.keys(receipt.registry).length;
  if (left === 0) {
    remove(receipt.launcher, 'launcher');
    if (!o.dryRun && o.files.exists(rfile)) o.files.rm(rfile);
    // deepest first; a folder that now holds anything else stays
    for (const d of [...receipt.dirs].sort((a, b) => b.length - a.length)) {
      if (o.dryRun) continue;
      try {
        o.files.rmdir(d);
        o.print(`${verb} ${d}${o.os === 'win32' ? '\\' : '/'}`);
      } catch {
        /* not empty or already gone */
      }
    }
  } else if (!o.dryRun) {
    o.files.writeFile(rfile, `${JSON.stringify(receipt, null, 2)}\n`, 0o644);
  }
  if (left > 0) o.print(`kept the launcher: still used by ${Object.keys(receipt.manifests).join(', ')}`);
}

const USAGE = `usage: g5k-tunnel install|uninstall [--browser NAME,...|all] [--system] [--dry-run]
  browsers: ${BROWSERS.join(', ')} (default: all; a manifest for a browser you lack is harmless)
  --system   for every user (needs root): /usr/local/lib/g5k-tunnel and the browsers' system folders
  --dry-run  print what would be written or removed, change nothing`;

export interface InstallContext {
  env?: Env;
  platform?: string;
  nodePath?: string;
  hostMain?: string;
  print?: (line: string) => void;
  printError?: (line: string) => void;
  /** Runs reg.exe; default: really. */
  run?: Runner;
  /** File operations; default: the real file system. */
  files?: FileOps;
}

interface InstallArgs {
  browsers: Browser[];
  scope: Scope;
  dryRun: boolean;
}

/** Parses the options shared by install and uninstall. */
function parseInstallArgs(args: string[]): Parsed<InstallArgs> {
  let browsers: Browser[] = [...BROWSERS];
  let scope: Scope = 'user';
  let dryRun = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--system') scope = 'system';
    else if (a === '--user') scope = 'user';
    else if (a === '--dry-run' || a === '-n') dryRun = true;
    else if (a === '--browser' || a === '--browsers' || a.startsWith('--browser=') || a.startsWith('--browsers=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined) return { ok: false, error: `${a} needs a value, e.g. --browser firefox,chromium` };
      const r = parseBrowserList(v);
      if (!r.ok) return r;
      browsers = r.value;
    } else return { ok: false, error: `unknown option ${a}` };
  }
  return { ok: true, value: { browsers, scope, dryRun } };
}

async function run(verb: 'install' | 'uninstall', args: string[], ctx: InstallContext = {}): Promise<number> {
  const print = ctx.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const printError = ctx.printError ?? ((l: string) => process.stderr.write(`g5k-tunnel ${verb}: ${l}\n`));
  if (args.includes('--help') || args.includes('-h')) {
    print(USAGE);
    return 0;
  }
  const parsed = parseInstallArgs(args);
  if (!parsed.ok) {
    printError(`${parsed.error}\n${USAGE}`);
    return 2;
  }
  const env = ctx.env ?? process.env;
  const o: InstallOptions = {
    os: currentOs(ctx.platform ?? process.platform),
    scope: parsed.value.scope,
    home: homeDir(env, (ctx.platform ?? process.platform) as NodeJS.Platform),
    env,
    browsers: parsed.value.browsers,
    dryRun: parsed.value.dryRun,
    nodePath: ctx.nodePath ?? process.execPath,
    hostMain: ctx.hostMain ?? defaultHostMain(),
    print,
    run: ctx.run ?? realRunner,
    files: ctx.files ?? realFiles,
  };
  if (verb === 'install' && !o.dryRun && !o.files.exists(o.hostMain)) {
    printError(`the host is not built (${o.hostMain} is missing): run \`npm run build\` first, then install again`);
    return 1;
  }
  // Windows has ACLs, not modes: Program Files is writable by administrators only by default
  if (verb === 'install' && o.scope === 'system' && o.os !== 'win32') {
    const refusal = systemInstallRefusal(o.nodePath, o.hostMain);
    if (refusal) {
      printError(refusal);
      return 1;
    }
  }
  try {
    if (verb === 'install') {
      install(o);
      // the extension shipped beside this host: the folders to load (a checkout's or the npm package's)
      const root = packageRoot();
      const builds = extensionBuilds(root, packageVersionAt(root) ?? '', [...new Set(o.browsers.map(familyOf))]);
      for (const line of extensionLines(builds, fs.existsSync)) print(line);
      if (!o.dryRun) print('done: reload the extension, then check everything with `g5k-tunnel doctor`');
    } else uninstall(o);
    return 0;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EACCES' || err.code === 'EPERM')
      printError(
        `cannot write ${err.path ?? ''}: permission denied. ${o.scope === 'system' ? 'System-wide needs root: run it with sudo.' : 'Check the owner of that folder.'}`,
      );
    else if (err.code === 'ENOENT' && (err as { syscall?: string }).syscall?.startsWith('spawn'))
      printError('the `reg` command is missing: run this from a Windows command prompt');
    else printError(err.message);
    return 1;
  }
}

export const installMain = (args: string[], ctx?: InstallContext) => run('install', args, ctx);
export const uninstallMain = (args: string[], ctx?: InstallContext) => run('uninstall', args, ctx);

/** `main(['install', ...options])` or `main(['uninstall', ...options])`. */
export async function main(args: string[], ctx?: InstallContext): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'install' || verb === 'uninstall') return run(verb, rest, ctx);
  process.stderr.write(`g5k-tunnel: expected install or uninstall, got ${verb ?? 'nothing'}\n${USAGE}\n`);
  return 2;
}
