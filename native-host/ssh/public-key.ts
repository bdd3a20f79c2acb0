// The public half of a key, found without its passphrase: from an OpenSSH-format private key's
// header or the .pub file beside it; and its fingerprint as OpenSSH prints it.

import crypto from 'node:crypto';
import fs from 'node:fs';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { firstKey } from './key-cache.js';

const { utils } = ssh2;

/** SHA256 fingerprint as OpenSSH prints it. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The public half of an OpenSSH-format private key, readable without the passphrase. */
export function publicFromOpensshPrivate(text: string): ParsedKey | null {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) return null;
  const buf = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (buf.subarray(0, magic.length).toString('latin1') !== magic) return null;
  let pos = magic.length;
  const readString = (): Buffer | null => {
    if (pos + 4 > buf.length) return null;
    const len = buf.readUInt32BE(pos);
    pos += 4;
    if (pos + len > buf.length) return null;
    const out = buf.subarray(pos, pos + len);
    pos += len;
    return out;
  };
  readString(); // cipher
  readString(); // kdf
  readString(); // kdf options
  if (pos + 4 > buf.length) return null;
  pos += 4; // number of keys (always 1)
  const blob = readString();
  if (!blob || blob.length < 4) return null;
  const typeLen = blob.readUInt32BE(0);
  const type = blob.subarray(4, 4 + typeLen).toString('latin1');
  const pub = utils.parseKey(`${type} ${blob.toString('base64')}`);
  return pub instanceof Error ? null : firstKey(pub) instanceof Error ? null : (firstKey(pub) as ParsedKey);
}

export function publicOf(key: ParsedKey): ParsedKey {
  const pub = firstKey(
    utils.parseKey(`${key.type} ${key.getPublicSSH().toString('base64')} ${key.comment ?? ''}`.trim()),
  );
  if (pub instanceof Error) throw pub;
  return pub;
}

/** The public key of a key file, from its OpenSSH-format header or the .pub beside it; never decrypted. */
export async function publicBlobOf(data: Buffer, file: string): Promise<Buffer | null> {
  const pub = publicFromOpensshPrivate(data.toString('utf8')) ?? (await readPublicFile(`${file}.pub`));
  return pub?.getPublicSSH() ?? null;
}

export async function readPublicFile(file: string): Promise<ParsedKey | null> {
  try {
    const k = firstKey(utils.parseKey(await fs.promises.readFile(file)));
    return k instanceof Error ? null : k;
  } catch {
    return null;
  }
}
