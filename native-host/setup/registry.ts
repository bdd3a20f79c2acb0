// The Windows registry keys browsers read to find a native-messaging host, through reg.exe: the
// key's default value is the manifest's path. The exact command lines are built here (and tested).

import type { Runner } from './host-io.js';

/** `reg add KEY /ve /t REG_SZ /d VALUE /f`: sets the default value, creating the key. */
const regAddArgs = (key: string, value: string): string[] => ['add', key, '/ve', '/t', 'REG_SZ', '/d', value, '/f'];

/** `reg delete KEY /f`: removes the key and its values, without asking. */
const regDeleteArgs = (key: string): string[] => ['delete', key, '/f'];

/** `reg query KEY /ve`: prints the default value. */
const regQueryArgs = (key: string): string[] => ['query', key, '/ve'];

/**
 * The default value in `reg query /ve` output, e.g.
 * `HKEY_CURRENT_USER\Software\...\g5k_tunnel\r\n    (Default)    REG_SZ    C:\...\g5k_tunnel.gecko.json`
 * (the "(Default)" label is translated on some Windows, so only the type is looked for).
 */
export function parseRegDefault(text: string): string | null {
  const m = /\sREG_(?:EXPAND_)?SZ\s+(.+?)\s*$/m.exec(text);
  return m ? m[1]! : null;
}

export function regAdd(run: Runner, key: string, value: string): void {
  run('reg', regAddArgs(key, value));
}

export function regDelete(run: Runner, key: string): void {
  run('reg', regDeleteArgs(key));
}

/** The key's default value, or null when the key (or the value) is absent. */
export function regQueryDefault(run: Runner, key: string): string | null {
  try {
    return parseRegDefault(run('reg', regQueryArgs(key)));
  } catch {
    return null; // reg query exits 1 when the key is absent
  }
}
