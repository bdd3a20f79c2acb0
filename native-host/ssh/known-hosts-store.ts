// known_hosts files on disk: which ones, reading them, appending an accepted key. The logic is in
// known-hosts.ts; this is the file glue.

import fs from 'node:fs';
import path from 'node:path';
import {
  checkHostKey,
  formatKnownHostsLine,
  parseKnownHosts,
  type HostKey,
  type HostKeyCheck,
  type HostNameOptions,
  type KnownHostsEntry,
} from './known-hosts.js';

/** Bigger than any real known_hosts; guards against a path that names a device or a huge file. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** OpenSSH's defaults; `userFile` (UserKnownHostsFile, or the settings' file) replaces the user pair. */
export function defaultKnownHostsFiles(
  home: string,
  userFile?: string | string[],
): { user: string[]; global: string[] } {
  const given = typeof userFile === 'string' ? (userFile ? [userFile] : []) : (userFile ?? []);
  return {
    user: given.length ? given : [path.join(home, '.ssh', 'known_hosts'), path.join(home, '.ssh', 'known_hosts2')],
    global: systemKnownHostsFiles(),
  };
}

/**
 * The system-wide known_hosts files (GlobalKnownHostsFile's default): /etc/ssh/ssh_known_hosts{,2},
 * or on Windows, as OpenSSH for Windows keeps them, %ProgramData%\ssh\ssh_known_hosts{,2}.
 */
export function systemKnownHostsFiles(
  platform: NodeJS.Platform = process.platform,
  env: Record<string, string | undefined> = process.env,
): string[] {
  if (platform !== 'win32') return ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
  const dir = path.win32.join(env.ProgramData || 'C:\\ProgramData', 'ssh');
  return [path.win32.join(dir, 'ssh_known_hosts'), path.win32.join(dir, 'ssh_known_hosts2')];
}

/** Reads and parses the files in order. Missing files are normal; anything else odd is a warning. */
export function readKnownHostsFiles(files: string[]): { entries: KnownHostsEntry[]; warnings: string[] } {
  const entries: KnownHostsEntry[] = [];
  const warnings: string[] = [];
  for (const file of files) {
    // `UserKnownHostsFile /dev/null` is the usual way to keep no record: an empty file, not a problem
    if (file === '/dev/null') continue;
    let text: string;
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) {
        warnings.push(`${file}: not a regular file, ignored`);
        continue;
      }
      if (st.size > MAX_FILE_BYTES) {
        warnings.push(`${file}: larger than ${MAX_FILE_BYTES} bytes, ignored`);
        continue;
      }
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        warnings.push(`${file}: cannot read (${code ?? (e as Error).message}), ignored`);
      continue;
    }
    const parsed = parseKnownHosts(text, file);
    entries.push(...parsed.entries);
    for (const err of parsed.errors) warnings.push(`${file}:${err.line}: ${err.message}; line skipped`);
  }
  return { entries, warnings };
}

/**
 * checkHostKey over the files, user files first then global ones, as OpenSSH loads them. `debug`
 * hears what `ssh -v` says when the bare host name was consulted for a port other than 22.
 */
export function checkHostKeyInFiles(
  files: string[],
  host: string,
  port: number,
  key: HostKey,
  opts?: HostNameOptions & { warn?: (message: string) => void; debug?: (message: string) => void },
): HostKeyCheck {
  const { entries, warnings } = readKnownHostsFiles(files);
  for (const w of warnings) opts?.warn?.(w);
  const r = checkHostKey(entries, host, port, key, opts);
  if (r.status === 'known' && r.withoutPort)
    opts?.debug?.(`${host}: checking without port identifier: found matching key w/out port (${r.file}:${r.line})`);
  if (r.status === 'unknown' && r.mismatchWithoutPort) {
    const at = `${r.mismatchWithoutPort.file}:${r.mismatchWithoutPort.line}`;
    opts?.debug?.(`${host}: checking without port identifier: ${at} holds another key; treated as unknown`);
  }
  return r;
}

/**
 * Appends one line for this host and key. Creates the folder (0700) and the file (0600) when missing;
 * existing lines are never touched (O_APPEND, one write), only a missing final newline is supplied.
 */
export function appendKnownHost(
  file: string,
  host: string,
  port: number,
  key: HostKey,
  opts?: { hash?: boolean } & HostNameOptions,
): void {
  const line = formatKnownHostsLine(host, port, key, opts);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fd = fs.openSync(file, 'a+', 0o600);
  try {
    const size = fs.fstatSync(fd).size;
    let lead = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) lead = '\n';
    }
    fs.writeSync(fd, `${lead}${line}\n`);
  } finally {
    fs.closeSync(fd);
  }
}
