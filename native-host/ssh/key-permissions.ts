// Private key files that others can read are refused, as OpenSSH refuses them (sshkey_perm_ok):
// the verdict from a file's owner and mode, OpenSSH's own words for it, and the error when the
// login fails without such a key. Pure: the caller stats.

import { makeError } from '../../shared/errors.js';
import type { ProtocolError } from '../../shared/protocol.js';

interface KeyFileStat {
  /** st_mode (only the permission bits are looked at). */
  mode: number;
  /** st_uid of the file. */
  uid: number;
}

export interface LocalUser {
  platform: NodeJS.Platform;
  /** This process's uid; undefined where there is none (Windows). */
  uid: number | undefined;
}

type KeyPermissionVerdict = { ok: true } | { ok: false; mode: number; fix: string };

/**
 * OpenSSH's rule: a key file owned by the user must give group and others no access at all
 * (mode & 077 == 0). A file owned by someone else is not judged ("then we don't care"), and
 * Windows has no such modes.
 */
export function checkKeyPermissions(file: string, st: KeyFileStat, me: LocalUser): KeyPermissionVerdict {
  if (me.platform === 'win32' || me.uid === undefined || st.uid !== me.uid) return { ok: true };
  if ((st.mode & 0o077) === 0) return { ok: true };
  return { ok: false, mode: st.mode & 0o777, fix: `chmod 600 ${shellQuote(file)}` };
}

/** `0644`, as OpenSSH prints a mode. */
export function octalMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** The one-line log message for an ignored key; `unprotectedKeyFromLog` reads it back. */
export function unprotectedKeyLog(file: string, mode: number): string {
  return `Permissions ${octalMode(mode)} for '${file}' are too open: this private key is ignored (run chmod 600 ${shellQuote(file)})`;
}

const LOG_LINE = /^Permissions (0[0-7]{3}) for '(.+)' are too open: this private key is ignored/;

export function unprotectedKeyFromLog(message: string): { file: string; mode: number } | null {
  const m = LOG_LINE.exec(message);
  return m ? { file: m[2]!, mode: Number.parseInt(m[1]!, 8) } : null;
}

const BANNER = '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@';

/** What `ssh` prints when it ignores such a key, line for line. */
export function unprotectedKeyLines(file: string, mode: number): string[] {
  return [
    BANNER,
    '@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @',
    BANNER,
    `Permissions ${octalMode(mode)} for '${file}' are too open.`,
    'It is required that your private key files are NOT accessible by others.',
    'This private key will be ignored.',
    `Load key "${file}": bad permissions`,
  ];
}

/** A path as one shell word: unchanged when plain, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./+:@%=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** KEY_PERMISSIONS for a failed login on `hop` that ignored these key files; the hint is the chmod to run. */
export function keyPermissionsError(
  ignored: { file: string; mode: number }[],
  hop: string,
  refused: string[] = [],
): ProtocolError {
  const modes = ignored.map((u) => `${u.file}: permissions ${octalMode(u.mode)} are too open`).join('; ');
  const tried = refused.length ? `; refused: ${refused.join(', ')}` : '';
  return {
    ...makeError('KEY_PERMISSIONS', `${hop}: ${modes}; private key ignored${tried}`),
    hint: `Run chmod 600 ${ignored.map((u) => shellQuote(u.file)).join(' ')}`,
  };
}
