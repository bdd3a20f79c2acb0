// Is a system-wide install safe? Every user's browser would run the launcher `install --system`
// writes, and it runs a node binary and the host's files: if any user but root can change one of
// them (or a folder above one, which lets them swap it), that user's code runs in everyone's
// browser. So every path in the chain must be owned by root and writable by no group or other,
// as OpenSSH asks of the files it trusts (safe_path). Pure: the file system comes in as `FsView`.

import fs from 'node:fs';
import path from 'node:path';

export interface PathInfo {
  uid: number;
  /** st_mode: permission bits and file type. */
  mode: number;
  kind: 'dir' | 'file' | 'symlink' | 'other';
}

/** The file system calls the check needs (tests pass a fake one). */
export interface FsView {
  /** lstat: a symlink is reported as one, not followed. Null when the path does not exist. */
  lstat(p: string): PathInfo | null;
  /** Entries of a folder (names only). */
  readdir(p: string): string[];
  /** The path with every symlink resolved. */
  realpath(p: string): string;
}

interface UnsafePath {
  path: string;
  /** What is wrong, e.g. "owned by uid 1000" or "writable by its group (mode 0775)". */
  reason: string;
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** Why `info` may be changed by someone other than root, or null when only root can change it. */
export function unsafeReason(info: PathInfo): string | null {
  if (info.uid !== 0) return `owned by uid ${info.uid}, not root`;
  // a symlink's own mode means nothing: what counts is its folder and its target
  if (info.kind === 'symlink') return null;
  if (info.mode & 0o002) return `writable by every user (mode ${octal(info.mode)})`;
  if (info.mode & 0o020) return `writable by its group (mode ${octal(info.mode)})`;
  return null;
}

/** `p` and every folder above it, outermost first: / first, `p` last. */
export function chainOf(p: string): string[] {
  const out: string[] = [];
  for (let d = path.resolve(p); ; d = path.dirname(d)) {
    out.unshift(d);
    if (path.dirname(d) === d) return out;
  }
}

/**
 * The first path among `roots` (each with every folder above it, and each folder's whole content)
 * that someone other than root could change, or null when there is none. Symlinks are followed
 * and their targets checked the same way; a missing root is reported, as it cannot be trusted.
 */
export function findUnsafePath(roots: string[], view: FsView): UnsafePath | null {
  const seen = new Set<string>();
  const checkOne = (p: string): UnsafePath | null => {
    if (seen.has(p)) return null;
    seen.add(p);
    const info = view.lstat(p);
    if (!info) return { path: p, reason: 'does not exist' };
    const why = unsafeReason(info);
    return why ? { path: p, reason: why } : null;
  };
  // the path's folders, then the path; a symlink's target is checked as a new root
  const visit = (p: string, depth: number): UnsafePath | null => {
    for (const d of chainOf(path.dirname(p))) {
      const bad = checkOne(d);
      if (bad) return bad;
    }
    return walk(p, depth);
  };
  const walk = (p: string, depth: number): UnsafePath | null => {
    const first = !seen.has(p);
    const bad = checkOne(p);
    if (bad || !first) return bad;
    const info = view.lstat(p)!;
    if (info.kind === 'symlink') {
      if (depth > 40) return { path: p, reason: 'too many levels of symbolic links' };
      let target: string;
      try {
        target = view.realpath(p);
      } catch {
        return { path: p, reason: 'a symbolic link to nothing' };
      }
      return visit(target, depth + 1);
    }
    if (info.kind === 'dir')
      for (const name of view.readdir(p).sort()) {
        const bad2 = walk(path.join(p, name), depth);
        if (bad2) return bad2;
      }
    return null;
  };
  for (const r of roots) {
    const bad = visit(path.resolve(r), 0);
    if (bad) return bad;
  }
  return null;
}

/** The real file system, for `findUnsafePath`. */
export const realFs: FsView = {
  lstat(p) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return null;
    }
    const kind = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    return { uid: st.uid, mode: st.mode, kind };
  },
  readdir: (p) => fs.readdirSync(p),
  realpath: (p) => fs.realpathSync(p),
};

/** The folder of the host's package: the nearest one above `hostMain` holding package.json. */
export function hostPackageRoot(hostMain: string, exists: (p: string) => boolean = fs.existsSync): string {
  for (let d = path.dirname(path.resolve(hostMain)); ; d = path.dirname(d)) {
    if (exists(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) return path.dirname(path.resolve(hostMain));
  }
}

/**
 * Refuses a system-wide install that runs files a user could change: the node binary and the
 * host's package (its dist/, its node_modules, package.json), each with every folder above it.
 * Returns the message to print, or null when the install is safe.
 */
export function systemInstallRefusal(nodePath: string, hostMain: string, view: FsView = realFs): string | null {
  const root = hostPackageRoot(hostMain, (p) => view.lstat(p) !== null);
  const bad = findUnsafePath([nodePath, root], view);
  if (!bad) return null;
  return [
    `refusing a system-wide install: ${bad.path} is ${bad.reason}.`,
    'Every user would run the launcher, so the node binary, the host package and every folder above them must be owned by root and writable by no one else.',
    'Install the package as root instead (`sudo npm install -g g5k-tunnel`, whose files root owns), then run `sudo g5k-tunnel install --system`;',
    'or install for your user only: `g5k-tunnel install`.',
  ].join('\n');
}
