// Reading ssh_config files as OpenSSH does: ~/.ssh/config then /etc/ssh/ssh_config (or one file,
// like `ssh -F`), with Include expanded in place. An Include inside a Host/Match block applies only
// when that block does: its blocks carry the enclosing ones in `within`, which resolveHostConfig checks.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSshConfig, splitArgs, type SshConfigBlock, type SshConfigIssue } from './config-parse.js';
import type { ResolveContext } from './config-resolve.js';
import { matchPattern } from './pattern.js';

/** OpenSSH's READCONF_MAX_DEPTH. */
export const MAX_INCLUDE_DEPTH = 16;
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const SYSTEM_SSH_CONFIG = '/etc/ssh/ssh_config';

/** The system-wide ssh_config: /etc/ssh/ssh_config, or on Windows %ProgramData%\ssh\ssh_config (OpenSSH for Windows). */
export function systemSshConfig(
  platform: NodeJS.Platform = process.platform,
  env: Record<string, string | undefined> = process.env,
): string {
  if (platform !== 'win32') return SYSTEM_SSH_CONFIG;
  return path.win32.join(env.ProgramData || 'C:\\ProgramData', 'ssh', 'ssh_config');
}

interface LoadOptions {
  /** The system-wide file; null to skip it. Default /etc/ssh/ssh_config. */
  systemFile?: string | null;
}

interface LoadedSshConfig {
  blocks: SshConfigBlock[];
  errors: SshConfigIssue[];
  /** Every file read, in order. */
  files: string[];
}

interface Loader {
  home: string;
  systemDir: string;
  blocks: SshConfigBlock[];
  errors: SshConfigIssue[];
  files: string[];
}

/** Expands `*` and `?` in each path component; results sorted, hidden names only for a leading dot. */
function expandGlob(pattern: string): string[] {
  const parts = pattern.split('/');
  let found = [parts[0] === '' ? '/' : '.'];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?]/.test(part)) {
        next.push(path.join(dir, part));
        continue;
      }
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names)
        if ((part.startsWith('.') || !n.startsWith('.')) && matchPattern(n, part)) next.push(path.join(dir, n));
    }
    found = next;
  }
  return found.filter((f) => fs.existsSync(f)).sort();
}

function includeTargets(ld: Loader, arg: string, userConfig: boolean, file: string, line: number): string[] {
  let p = arg;
  if (p.startsWith('~')) {
    if (!userConfig || !(p === '~' || p.startsWith('~/'))) {
      ld.errors.push({
        file,
        line,
        message: `Include "${arg}": only ~/ paths are allowed, and only in a user configuration`,
      });
      return [];
    }
    p = ld.home + p.slice(1);
  } else if (!path.isAbsolute(p)) {
    // Relative paths live in ~/.ssh for user files, in /etc/ssh for system ones (as OpenSSH).
    p = path.join(userConfig ? path.join(ld.home, '.ssh') : ld.systemDir, p);
  }
  return expandGlob(p);
}

function readConfig(ld: Loader, file: string, checkPerm: boolean, explicit: boolean): string | null {
  try {
    const st = fs.statSync(file);
    // `-F /dev/null` is the usual way to say "no configuration"; `-F <(...)` hands over a pipe
    if (st.isCharacterDevice() && file === '/dev/null') return '';
    if (st.isFIFO()) return fs.readFileSync(file, 'utf8').slice(0, MAX_CONFIG_BYTES);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    // As OpenSSH: a file others can write could inject a ProxyCommand, so it is refused.
    const uid = process.getuid?.();
    if (checkPerm && uid !== undefined && ((st.uid !== 0 && st.uid !== uid) || (st.mode & 0o022) !== 0)) {
      ld.errors.push({
        file,
        line: 0,
        message: `bad owner or permissions: make it yours and writable by you only (chmod 600); file ignored`,
      });
      return null;
    }
    if (st.size > MAX_CONFIG_BYTES) {
      ld.errors.push({ file, line: 0, message: 'file too large; ignored' });
      return null;
    }
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (explicit || code !== 'ENOENT')
      ld.errors.push({ file, line: 0, message: `cannot read (${code ?? (e as Error).message})` });
    return null;
  }
}

function loadFile(
  ld: Loader,
  file: string,
  opts: { userConfig: boolean; checkPerm: boolean; explicit: boolean; depth: number; within: SshConfigBlock[] },
): void {
  const text = readConfig(ld, file, opts.checkPerm, opts.explicit);
  if (text === null) return;
  ld.files.push(file);
  const parsed = parseSshConfig(text, file);
  ld.errors.push(...parsed.errors);
  for (const b of parsed.blocks) {
    const header: SshConfigBlock = {
      ...b,
      options: [],
      optionLines: [],
      ...(opts.within.length ? { within: opts.within } : {}),
    };
    ld.blocks.push(header);
    let cur = header;
    b.options.forEach(([key, value], i) => {
      const line = b.optionLines?.[i] ?? b.line;
      if (key !== 'include') {
        cur.options.push([key, value]);
        cur.optionLines!.push(line);
        return;
      }
      const within = [header, ...opts.within];
      if (opts.depth >= MAX_INCLUDE_DEPTH) {
        ld.errors.push({ file, line, message: `Include nested more than ${MAX_INCLUDE_DEPTH} deep; ignored` });
      } else {
        for (const arg of splitArgs(value)) {
          for (const target of includeTargets(ld, arg, opts.userConfig, file, line)) {
            loadFile(ld, target, {
              userConfig: opts.userConfig,
              checkPerm: true,
              explicit: false,
              depth: opts.depth + 1,
              within,
            });
          }
        }
      }
      // The rest of the enclosing block: applies when the block does, as before the Include.
      cur = { kind: 'host', patterns: ['*'], options: [], optionLines: [], file, line, within };
      ld.blocks.push(cur);
    });
  }
}

/** Reads the configuration with its errors. `file` set: only that file, like `ssh -F file` (`none`: no file). */
export function loadSshConfigDetailed(file: string | undefined, home: string, opts: LoadOptions = {}): LoadedSshConfig {
  const systemFile = opts.systemFile === undefined ? systemSshConfig() : opts.systemFile;
  const ld: Loader = {
    home,
    systemDir: path.dirname(systemFile ?? systemSshConfig()),
    blocks: [],
    errors: [],
    files: [],
  };
  const base = { depth: 0, within: [] as SshConfigBlock[] };
  if (file === 'none') {
    // `ssh -F none`: no configuration file at all
  } else if (file !== undefined) {
    loadFile(ld, file, { ...base, userConfig: true, checkPerm: false, explicit: true });
  } else {
    loadFile(ld, path.join(home, '.ssh', 'config'), { ...base, userConfig: true, checkPerm: true, explicit: false });
    if (systemFile) loadFile(ld, systemFile, { ...base, userConfig: false, checkPerm: false, explicit: false });
  }
  return { blocks: ld.blocks, errors: ld.errors, files: ld.files };
}

/** The blocks only; errors go to `warn` (a missing default file is not one). */
export function loadSshConfig(
  file: string | undefined,
  home: string,
  opts: LoadOptions & { warn?: (message: string) => void } = {},
): SshConfigBlock[] {
  const r = loadSshConfigDetailed(file, home, opts);
  for (const e of r.errors) opts.warn?.(`${e.file}${e.line ? ` line ${e.line}` : ''}: ${e.message}`);
  return r.blocks;
}

/** This process's user, home (from the password database, as ssh uses), host name and uid. */
export function localResolveContext(overrides?: string[]): ResolveContext {
  const info = os.userInfo();
  return {
    localUser: info.username,
    home: info.homedir,
    localHost: os.hostname(),
    ...(process.getuid ? { uid: process.getuid() } : {}),
    ...(overrides ? { overrides } : {}),
  };
}
