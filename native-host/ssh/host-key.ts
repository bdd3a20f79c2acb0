// The host key of a hop: which key types to ask the server for (those on file first), and the
// check against known_hosts, run before any authentication: known keys pass, changed or revoked
// ones never do, unknown ones as StrictHostKeyChecking says (asking the user under 'ask').

import { appendKnownHost, checkHostKeyInFiles, readKnownHostsFiles } from './known-hosts-store.js';
import { fingerprint, hostKeyFromBlob, knownHostKeyTypes, knownHostsName, type HostKey } from './known-hosts.js';
import { type ConnectContext, type ConnectError, fail, type Hop } from './hop.js';
import type { StageTimer } from './stage-timer.js';

/** Host key algorithms with the types already on file first, so the server shows a key we can check (as OpenSSH). */
const DEFAULT_HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export function hostKeyAlgorithms(hop: Hop): string[] {
  let known: string[] = [];
  try {
    const { entries } = readKnownHostsFiles([...hop.userKnownHostsFiles, ...hop.globalKnownHostsFiles]);
    known = knownHostKeyTypes(entries, hop.host, hop.port, hop.hostKeyAlias ? { alias: hop.hostKeyAlias } : undefined);
  } catch {
    /* unreadable files: the check itself will say so */
  }
  const first = known
    .flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]))
    .filter((a) => DEFAULT_HOST_KEY_ALGOS.includes(a));
  return [...new Set([...first, ...DEFAULT_HOST_KEY_ALGOS])];
}

/** null when the key may be used; else why not. Asks the user only for an unknown key under 'ask'. */
export async function verifyHostKey(
  hop: Hop,
  blob: Buffer,
  ctx: ConnectContext,
  timer: StageTimer,
): Promise<ConnectError | null> {
  const key: HostKey = hostKeyFromBlob(blob);
  const fp = fingerprint(blob);
  const files = [...hop.userKnownHostsFiles, ...hop.globalKnownHostsFiles];
  const alias = hop.hostKeyAlias ? { alias: hop.hostKeyAlias } : {};
  const check = checkHostKeyInFiles(files, hop.host, hop.port, key, {
    ...alias,
    warn: (m) => ctx.log.warn(m),
    debug: (m) => ctx.log.debug(m),
  });
  const name = hop.hostKeyAlias ?? knownHostsName(hop.host, hop.port);
  switch (check.status) {
    case 'known':
      return null;
    case 'revoked':
      return fail('HOSTKEY_REVOKED', `${name} presented ${key.type} ${fp}, revoked at ${check.file}:${check.line}`);
    case 'changed':
      // never connect, whatever the policy: this is what a man in the middle looks like
      return fail(
        'HOSTKEY_CHANGED',
        `${name} now presents ${key.type} ${fp}; ${check.file}:${check.line} holds ${check.knownType} ${check.knownFingerprint}`,
      );
    case 'unknown':
      break;
  }
  const userFile = hop.userKnownHostsFiles[0];
  if (hop.policy === 'yes' || !userFile) {
    return fail(
      'HOSTKEY_UNKNOWN',
      `${name} presented ${key.type} ${fp}, found in none of ${files.join(', ')} (StrictHostKeyChecking ${hop.policy})`,
    );
  }
  if (hop.policy === 'ask') {
    timer.pause();
    let ok = false;
    try {
      ok = await ctx.interaction.confirmHostKey({
        host: hop.hostKeyAlias ?? hop.host,
        port: hop.port,
        keyType: key.type,
        fingerprint: fp,
        knownHostsFile: userFile,
        otherTypesKnown: check.otherTypesKnown,
      });
    } finally {
      timer.resume();
    }
    if (!ok) return fail('HOSTKEY_UNKNOWN', `${name} presented ${key.type} ${fp}; the key was not accepted`);
  }
  try {
    appendKnownHost(userFile, hop.host, hop.port, key, { hash: hop.hashKnownHosts, ...alias });
    ctx.log.info(`added ${name} (${key.type} ${fp}) to ${userFile}`);
  } catch (err) {
    // like OpenSSH: the key was accepted for this connection even if it cannot be saved
    ctx.log.warn(`could not add ${name} to ${userFile}: ${(err as Error).message}`);
  }
  return null;
}
