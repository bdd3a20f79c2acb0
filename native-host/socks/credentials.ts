// The proxy's credentials: made at random for one session (never stored, never logged), checked in
// constant time whether they come from a SOCKS5 subnegotiation (RFC 1929) or an HTTP
// `Proxy-Authorization: Basic` header. Pure apart from the random source.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Parsed } from '../../shared/parsed.js';

export interface ProxyCredentials {
  username: string;
  password: string;
}

/** Fresh credentials for one session: 48 random bits of name, 192 of password, in URL-safe base64. */
export function makeCredentials(): ProxyCredentials {
  return { username: `g5k-${randomBytes(6).toString('base64url')}`, password: randomBytes(24).toString('base64url') };
}

// Comparing digests gives equal-length inputs to timingSafeEqual, so not even the length leaks.
const digest = (b: Buffer | string) => createHash('sha256').update(b).digest();

/** True when both parts match; the time taken does not depend on where they differ. */
export function credentialsMatch(
  expected: ProxyCredentials,
  username: Buffer | string,
  password: Buffer | string,
): boolean {
  const u = timingSafeEqual(digest(expected.username), digest(username));
  const p = timingSafeEqual(digest(expected.password), digest(password));
  return u && p;
}

/** The header value a client sends. */
export function basicAuthorization(c: ProxyCredentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/** Checks a `Proxy-Authorization` value (`Basic base64(user:password)`). */
export function basicMatches(expected: ProxyCredentials, header: string | null): boolean {
  const m = header ? /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  const decoded = m ? Buffer.from(m[1]!, 'base64') : Buffer.alloc(0);
  const colon = decoded.indexOf(':');
  // a header that is missing or malformed still takes the same path, compared with nothing
  const ok = credentialsMatch(
    expected,
    colon < 0 ? Buffer.alloc(0) : decoded.subarray(0, colon),
    colon < 0 ? Buffer.alloc(0) : decoded.subarray(colon + 1),
  );
  return ok && m !== null && colon >= 0;
}

/**
 * Credentials the user wrote (`user:password`, the first line of a file, or an environment
 * variable); the error says what is wrong without repeating the text.
 */
export function parseCredentials(text: string): Parsed<ProxyCredentials> {
  const line = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)[0]!
    .trim();
  const colon = line.indexOf(':');
  if (colon < 0) return { ok: false, error: 'must be user:password on one line' };
  const username = line.slice(0, colon);
  const password = line.slice(colon + 1);
  if (username === '' || password === '')
    return { ok: false, error: 'needs both a user name and a password (user:password)' };
  if (Buffer.byteLength(username) > 255 || Buffer.byteLength(password) > 255)
    return { ok: false, error: 'user name and password must each be at most 255 bytes (SOCKS5 limit)' };
  return { ok: true, value: { username, password } };
}
