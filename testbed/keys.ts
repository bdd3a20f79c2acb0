// The demo's keys, made on first run into .demo/ (ignored by git) and reused after: the gateway's
// host key and the one client key it accepts. The known_hosts file is rewritten on every run, since
// the gateway listens on a new free port each time.

import fs from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';

export interface DemoKeys {
  dir: string;
  hostKey: string;
  /** `ssh-ed25519 AAAA…` of the host key. */
  hostKeyPublic: string;
  /** Unencrypted ed25519 private key (0600) the gateway accepts. */
  clientKey: string;
  clientKeyPublic: string;
}

/** True when ssh2 reads both halves back (ssh2 1.17 makes a malformed ed25519 pair about 1 time in 256). */
function usable(priv: string, pub: string): boolean {
  return !(ssh2.utils.parseKey(priv) instanceof Error) && !(ssh2.utils.parseKey(pub) instanceof Error);
}

/** A fresh ed25519 pair that ssh2 reads back. */
export function generateEd25519Pair(comment = ''): { private: string; public: string } {
  for (let i = 0; ; i++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (usable(pair.private, pair.public) || i >= 16) return pair;
  }
}

function ensurePair(file: string, comment: string): string {
  const kept = fs.existsSync(file) && fs.existsSync(`${file}.pub`);
  if (!kept || !usable(fs.readFileSync(file, 'utf8'), fs.readFileSync(`${file}.pub`, 'utf8'))) {
    const pair = generateEd25519Pair(comment);
    fs.writeFileSync(file, pair.private, { mode: 0o600 });
    fs.writeFileSync(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
  }
  fs.chmodSync(file, 0o600); // OpenSSH refuses a key others can read
  return fs.readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

export function ensureDemoKeys(dir: string): DemoKeys {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const clientKey = path.join(dir, 'id_ed25519');
  return {
    dir,
    hostKey,
    hostKeyPublic: ensurePair(hostKey, 'g5k-tunnel demo gateway'),
    clientKey,
    clientKeyPublic: ensurePair(clientKey, 'g5k-tunnel demo user'),
  };
}

/** known_hosts for the gateway at 127.0.0.1:port, as OpenSSH files a non-22 port. */
export function writeKnownHosts(file: string, port: number, hostKeyPublic: string): void {
  fs.writeFileSync(file, `[127.0.0.1]:${port} ${hostKeyPublic}\n`, { mode: 0o600 });
}
