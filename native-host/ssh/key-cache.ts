// Decrypted private keys of this process, in memory only, and which key logged in where: shared by
// reconnections and pooled connections, so that a passphrase is asked once and a later login can
// sign with the key that worked without asking the server first. Nothing here is written anywhere.

import type { ParsedKey } from 'ssh2';

export const MAX_PASSPHRASE_ATTEMPTS = 3;

/** Asks the passphrase of `keyFile`; null when the user declines. */
export type AskPassphrase = (keyFile: string, attempt: number) => Promise<string | null>;

export type Unlock = ParsedKey | 'declined' | 'wrong';

/** Decrypted private keys of this process, memory only. One prompt per key file, even when several
 *  connections need it at once. */
export class KeyCache {
  /** Login target (user@host:port) → the public key blob it last took. */
  private readonly logins = new Map<string, Buffer>();
  private readonly keys = new Map<string, { stamp: string; key: ParsedKey }>();
  private readonly pending = new Map<string, Promise<Unlock>>();

  get(file: string, stamp: string): ParsedKey | undefined {
    const hit = this.keys.get(file);
    return hit && hit.stamp === stamp ? hit.key : undefined;
  }

  /** Decrypts an encrypted key file, asking its passphrase up to MAX_PASSPHRASE_ATTEMPTS times. */
  unlock(file: string, stamp: string, data: Buffer, ask: AskPassphrase): Promise<Unlock> {
    const cached = this.get(file, stamp);
    if (cached) return Promise.resolve(cached);
    let p = this.pending.get(file);
    if (!p) {
      p = this.askAndDecrypt(file, stamp, data, ask).finally(() => this.pending.delete(file));
      this.pending.set(file, p);
    }
    return p;
  }

  private async askAndDecrypt(file: string, stamp: string, data: Buffer, ask: AskPassphrase): Promise<Unlock> {
    // loaded here, not with this module: a tunnel's dialer holds a KeyCache before any connection
    const { utils } = (await import('ssh2')).default;
    for (let attempt = 1; attempt <= MAX_PASSPHRASE_ATTEMPTS; attempt++) {
      const pass = await ask(file, attempt);
      if (pass === null) return 'declined';
      const key = firstKey(utils.parseKey(data, Buffer.from(pass, 'utf8')));
      if (!(key instanceof Error) && key.isPrivateKey()) {
        this.keys.set(file, { stamp, key });
        return key;
      }
    }
    return 'wrong';
  }

  /** The public key that last logged in to `target`, if any. */
  loginKey(target: string): Buffer | undefined {
    return this.logins.get(target);
  }

  rememberLogin(target: string, blob: Buffer): void {
    this.logins.set(target, blob);
  }

  clear(): void {
    this.keys.clear();
    this.logins.clear();
  }
}

export function firstKey(k: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  return Array.isArray(k) ? (k[0] ?? new Error('no key in file')) : k;
}
