// known_hosts as OpenSSH reads and writes it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): parse, look a
// host key up, fingerprint, format a new line. Pure: no file access (see known-hosts-store.ts).

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { matchPatternList } from './pattern.js';

export interface HostKey {
  /** e.g. 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa': the blob's first SSH string. */
  type: string;
  /** The public key in SSH wire format: the bytes of a known_hosts line's base64 field. */
  blob: Buffer;
}

export interface KnownHostsEntry {
  file: string;
  line: number;
  marker: '' | 'revoked' | 'cert-authority';
  /** Patterns as written (may be negated with `!`); empty for a hashed entry. */
  hosts: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  blob: Buffer;
}

export type HostKeyCheck =
  /** `withoutPort`: found under the bare host name, no entry naming `[host]:port` (see checkHostKey). */
  | { status: 'known'; file: string; line: number; withoutPort?: true }
  | { status: 'revoked'; file: string; line: number }
  | { status: 'changed'; file: string; line: number; knownType: string; knownFingerprint: string }
  /**
   * `otherTypesKnown` is always empty: any other key on file for the host makes it 'changed'.
   * `mismatchWithoutPort`: the bare host name holds another key; for a port other than 22 that is
   * not a change (it may well be another server on the same machine), only a reason to ask.
   */
  | { status: 'unknown'; otherTypesKnown: []; mismatchWithoutPort?: { file: string; line: number } };

export interface HostNameOptions {
  /** HostKeyAlias: when set, it is the name looked up and written, instead of host and port (as OpenSSH). */
  alias?: string;
}

const SHA1_LEN = 20;
const HASH_MAGIC = '|1|';

/** Reads the key type from an SSH wire-format public key; throws if the blob is not one. */
export function hostKeyFromBlob(blob: Buffer): HostKey {
  if (blob.length < 4) throw new Error('not an SSH public key: too short');
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len >= blob.length) throw new Error('not an SSH public key: bad key type length');
  const type = blob.toString('latin1', 4, 4 + len);
  if (!/^[\x21-\x7e]+$/.test(type)) throw new Error('not an SSH public key: bad key type name');
  return { type, blob };
}

/** 'SHA256:' and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -lf` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The name OpenSSH files a host under: `host` on port 22, `[host]:port` otherwise; lower case. */
export function knownHostsName(host: string, port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`bad port ${port}: use a number from 1 to 65535`);
  const h = host.toLowerCase();
  return port === 22 || port === 0 ? h : `[${h}]:${port}`;
}

function lookupName(host: string, port: number, opts?: HostNameOptions): string {
  return opts?.alias ? opts.alias.toLowerCase() : knownHostsName(host, port);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeHashed(field: string): { salt: Buffer; hash: Buffer } | null {
  if (!field.startsWith(HASH_MAGIC)) return null;
  const [salt64, hash64, ...rest] = field.slice(HASH_MAGIC.length).split('|');
  if (rest.length || !salt64 || !hash64 || !BASE64.test(salt64) || !BASE64.test(hash64)) return null;
  const salt = Buffer.from(salt64, 'base64');
  const hash = Buffer.from(hash64, 'base64');
  return salt.length === SHA1_LEN && hash.length === SHA1_LEN ? { salt, hash } : null;
}

function hashName(name: string, salt: Buffer): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

type Parsed = { entry: KnownHostsEntry } | { error: string } | null;

function parseLine(text: string, file: string, line: number): Parsed {
  const trimmed = text.replace(/^[ \t]+/, '').replace(/[ \t\r]+$/, '');
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  const fields = trimmed.split(/[ \t]+/);
  let marker: KnownHostsEntry['marker'] = '';
  if (fields[0]!.startsWith('@')) {
    const m = fields.shift()!;
    if (m === '@revoked') marker = 'revoked';
    else if (m === '@cert-authority') marker = 'cert-authority';
    else return { error: `unknown marker "${m}" (only @revoked and @cert-authority exist)` };
  }
  const [hostField, keyType, key64] = fields;
  if (!hostField || !keyType) return { error: 'missing host names or key' };
  if (/^\d+$/.test(keyType)) return { error: 'SSH protocol 1 key: not supported, remove the line' };
  if (!key64 || !BASE64.test(key64)) return { error: `no base64 key data after "${keyType}"` };
  const blob = Buffer.from(key64, 'base64');
  let type: string;
  try {
    type = hostKeyFromBlob(blob).type;
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (type !== keyType) return { error: `key type "${keyType}" does not match the key data ("${type}")` };
  if (hostField.startsWith('|')) {
    const hashed = decodeHashed(hostField);
    if (!hashed) return { error: 'malformed hashed host name (expected |1|salt|hash)' };
    return { entry: { file, line, marker, hosts: [], hashed, keyType, blob } };
  }
  return { entry: { file, line, marker, hosts: hostField.split(',').filter((h) => h !== ''), keyType, blob } };
}

/** Parses a known_hosts file; bad lines are returned as errors and left out, as OpenSSH skips them. */
export function parseKnownHosts(
  text: string,
  file: string,
): { entries: KnownHostsEntry[]; errors: { line: number; message: string }[] } {
  const entries: KnownHostsEntry[] = [];
  const errors: { line: number; message: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const r = parseLine(raw, file, i + 1);
    if (!r) return;
    if ('error' in r) errors.push({ line: i + 1, message: r.error });
    else entries.push(r.entry);
  });
  return { entries, errors };
}

/** Does this entry's host field name `name` (already in knownHostsName form)? */
export function entryMatches(e: KnownHostsEntry, name: string): boolean {
  if (e.hashed) return hashName(name, e.hashed.salt).equals(e.hashed.hash);
  return matchPatternList(name, e.hosts, true) === 1;
}

/**
 * Looks a presented host key up, in this order: revoked (this key under @revoked on any line,
 * whatever its host field: stricter than OpenSSH, which honours only the lines naming this host, so
 * that a revoked key is never trusted) > known (this key for this host) > changed (any other key
 * for this host, of any type: OpenSSH's HOST_CHANGED, since an attacker chooses the key type it
 * presents) > unknown (no key at all for this host). @cert-authority lines never vouch for a plain
 * key, so a host known only through a CA is unknown.
 *
 * For a port other than 22 with no line naming `[host]:port` (and no HostKeyAlias), the bare host
 * name is then checked read-only, as OpenSSH does ("checking without port identifier"): its key is
 * accepted ('known', withoutPort), while any other key there leaves the host 'unknown' (asked about
 * under StrictHostKeyChecking), never 'changed'. A line naming `[host]:port` always wins.
 */
export function checkHostKey(
  entries: KnownHostsEntry[],
  host: string,
  port: number,
  key: HostKey,
  opts?: HostNameOptions,
): HostKeyCheck {
  const revoked = entries.find((e) => e.marker === 'revoked' && e.blob.equals(key.blob));
  if (revoked) return { status: 'revoked', file: revoked.file, line: revoked.line };
  const named = checkName(entries, lookupName(host, port, opts), key);
  if (named.status !== 'unknown' || !checksWithoutPort(port, opts)) return named;
  const bare = checkName(entries, knownHostsName(host, 22), key);
  if (bare.status === 'known') return { ...bare, withoutPort: true };
  if (bare.status === 'changed')
    return { status: 'unknown', otherTypesKnown: [], mismatchWithoutPort: { file: bare.file, line: bare.line } };
  return named;
}

/** OpenSSH falls back to the bare host name only for a real port other than 22 and no HostKeyAlias. */
function checksWithoutPort(port: number, opts?: HostNameOptions): boolean {
  return !opts?.alias && port !== 22 && port !== 0;
}

/** known / changed / unknown for one name (revoked keys are handled before). */
function checkName(entries: KnownHostsEntry[], name: string, key: HostKey): HostKeyCheck {
  const others: KnownHostsEntry[] = [];
  for (const e of entries) {
    if (e.marker !== '' || !entryMatches(e, name)) continue;
    if (e.blob.equals(key.blob)) return { status: 'known', file: e.file, line: e.line };
    others.push(e);
  }
  // Name the old key of the same type when there is one: that is the line to replace.
  const changed = others.find((e) => e.keyType === key.type) ?? others[0];
  if (changed) {
    return {
      status: 'changed',
      file: changed.file,
      line: changed.line,
      knownType: changed.keyType,
      knownFingerprint: fingerprint(changed.blob),
    };
  }
  return { status: 'unknown', otherTypesKnown: [] };
}

/**
 * Key types on file for this host, in file order: the client should offer these host key algorithms
 * first, as OpenSSH does, so that a server with several keys shows one we can check. With none under
 * `[host]:port`, the bare name's types (which checkHostKey then accepts) are given: OpenSSH does not
 * do this, but it only changes which of its keys the server shows, never what is accepted.
 */
export function knownHostKeyTypes(
  entries: KnownHostsEntry[],
  host: string,
  port: number,
  opts?: HostNameOptions,
): string[] {
  const typesOf = (name: string) =>
    entries.filter((e) => e.marker === '' && entryMatches(e, name)).map((e) => e.keyType);
  let types = typesOf(lookupName(host, port, opts));
  if (types.length === 0 && checksWithoutPort(port, opts)) types = typesOf(knownHostsName(host, 22));
  return [...new Set(types)];
}

/** One known_hosts line (no newline) for this host, hashed with a fresh salt if asked (`HashKnownHosts`). */
export function formatKnownHostsLine(
  host: string,
  port: number,
  key: HostKey,
  opts?: { hash?: boolean } & HostNameOptions,
): string {
  // A name with spaces, commas or glob characters would turn into other fields or into a pattern.
  const target = opts?.alias ?? host;
  if (!/^[A-Za-z0-9._:%-]+$/.test(target))
    throw new Error(`cannot write "${target}" to known_hosts: not a host name or address`);
  if (hostKeyFromBlob(key.blob).type !== key.type) throw new Error(`key type ${key.type} does not match the key data`);
  const name = lookupName(host, port, opts);
  let field = name;
  if (opts?.hash) {
    const salt = randomBytes(SHA1_LEN);
    field = `${HASH_MAGIC}${salt.toString('base64')}|${hashName(name, salt).toString('base64')}`;
  }
  return `${field} ${key.type} ${key.blob.toString('base64')}`;
}
