// The launcher a browser starts as the native-messaging host. Browsers start hosts without the
// user's shell or PATH (and a Node script is not an executable on Windows), so the launcher names
// the node binary and the host script by absolute paths.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Os } from './browser-paths.js';

/** The host entry point compiled next to this module: dist/native-host/messaging/host-main.js. */
export function defaultHostMain(): string {
  return fileURLToPath(new URL('../messaging/host-main.js', import.meta.url));
}

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Environment variables a launcher sets before starting the host (tests and the demo use them). */
type LauncherEnv = Record<string, string>;

function checkEnvNames(env: LauncherEnv): void {
  for (const k of Object.keys(env))
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`"${k}" is not an environment variable name`);
}

/** The launcher's text: a POSIX sh script, or a .bat file on Windows. */
export function launcherScript(os: Os, nodePath: string, hostMain: string, env: LauncherEnv = {}): string {
  checkEnvNames(env);
  if (os === 'win32') {
    if (/["\r\n]/.test(nodePath + hostMain + Object.values(env).join('')))
      throw new Error('a path or value holds a double quote or a line break: a .bat cannot quote it');
    // cmd expands %VAR% even inside quotes: double the percent signs
    const pct = (s: string) => s.replace(/%/g, '%%');
    const q = (s: string) => `"${pct(s)}"`;
    return [
      '@echo off',
      'rem g5k-tunnel native-messaging host, written by `g5k-tunnel install`.',
      ...Object.entries(env).map(([k, v]) => `set "${k}=${pct(v)}"`),
      `${q(nodePath)} ${q(hostMain)} %*`,
      '',
    ].join('\r\n');
  }
  return [
    '#!/bin/sh',
    '# g5k-tunnel native-messaging host, written by `g5k-tunnel install`.',
    '# Browsers start it without a login shell: node is named by its absolute path.',
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shQuote(v)}`),
    `exec ${shQuote(nodePath)} ${shQuote(hostMain)} "$@"`,
    '',
  ].join('\n');
}

/** Reads back the node binary and host script a launcher names, or null if it is not ours. */
export function parseLauncher(text: string): { nodePath: string; hostMain: string } | null {
  const sh = /^exec ('(?:[^']|'\\'')*') ('(?:[^']|'\\'')*') "\$@"$/m.exec(text);
  if (sh) {
    const un = (s: string) => s.slice(1, -1).replace(/'\\''/g, "'");
    return { nodePath: un(sh[1]!), hostMain: un(sh[2]!) };
  }
  const bat = /^"([^"]+)" "([^"]+)" %\*\r?$/m.exec(text);
  if (bat) return { nodePath: bat[1]!.replace(/%%/g, '%'), hostMain: bat[2]!.replace(/%%/g, '%') };
  return null;
}

/** Writes the launcher (mode 0755), creating its folder. */
export function writeLauncher(file: string, os: Os, nodePath: string, hostMain: string, env: LauncherEnv = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, launcherScript(os, nodePath, hostMain, env), { mode: 0o755 });
  fs.chmodSync(file, 0o755); // an existing file keeps its old mode otherwise
}
