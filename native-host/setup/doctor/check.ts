// What a doctor check is (a mark, what was found, what to do), the options doctor runs with, and
// the small helpers every check uses. Pure.

import { homeDir } from '../../home.js';
import type { Env } from '../browser-paths.js';
import type { Runner } from '../host-io.js';

export type Mark = 'ok' | 'warn' | 'fail';
export interface Check {
  mark: Mark;
  /** What was checked and what was found. */
  text: string;
  /** What to do about it (for ! and ✗). */
  fix?: string;
}

export interface DoctorOptions {
  env: Env;
  platform: string;
  /** Host name or ~/.ssh/config alias, as in the options page. */
  gateway: string;
  /** 0 = from ~/.ssh/config, else 22 (as the settings' port). */
  port: number;
  /** '' = from ~/.ssh/config, else the local user. */
  user?: string;
  /** Jump hosts, as the options page's list (like -J). */
  jumps?: string[];
  /** Like ssh -F: this file instead of ~/.ssh/config and /etc/ssh/ssh_config. */
  sshConfigFile?: string;
  /** The system-wide ssh_config; null skips it (default /etc/ssh/ssh_config). */
  systemSshConfigFile?: string | null;
  socksPort: number;
  /** Identity files to check (like -i); [] = the ssh config's IdentityFile lines, else OpenSSH's defaults. */
  identities: string[];
  /** known_hosts files (like the options page's); [] = the ssh config's, else OpenSSH's defaults. */
  knownHosts: string[];
  timeoutMs: number;
  /** Runs reg.exe (Windows); default: really. */
  run?: Runner;
}

export const ok = (text: string): Check => ({ mark: 'ok', text });
export const warn = (text: string, fix?: string): Check => ({ mark: 'warn', text, ...(fix ? { fix } : {}) });
export const fail = (text: string, fix?: string): Check => ({ mark: 'fail', text, ...(fix ? { fix } : {}) });

/** A path under the home folder written with ~, as users read it. */
export const tilde = (p: string, env: Env) => {
  const h = homeDir(env);
  // Windows paths may use either separator after %USERPROFILE%
  return p === h ? '~' : p.startsWith(`${h}/`) || p.startsWith(`${h}\\`) ? `~${p.slice(h.length)}` : p;
};
