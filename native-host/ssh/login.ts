// The login of one hop: every identity behind one ssh2 agent (see auth.ts), offered in OpenSSH's
// order, and one round trip saved where it is safe. ssh2, like OpenSSH, first asks the server
// whether it would take a key (a publickey request without signature, answered PK_OK) and signs
// only then. For the one key we are confident about — the key that logged in to this hop before,
// or a first identity file that signs without asking the user — the signed request goes at once:
// a refusal costs a signature made locally, never a prompt (see Identities.signsAtOnce).
// Authentication only starts after the key exchange, hence after the host key was accepted.

import type { AuthHandlerMiddleware, Client as SshClient, ParsedKey } from 'ssh2';
import { authFailure, type Identities } from './auth.js';
import { ConnectError, isFatal, type Hop } from './hop.js';

type Sign = (data: Buffer, cb: (signature: Buffer) => void) => void;
type AuthPK = (username: string, key: ParsedKey, keyAlgo: string | undefined, cbSign?: Sign) => void;

/** The hash an RSA signature algorithm names (other key types have theirs fixed). */
function hashOf(keyAlgo: string | undefined): string | undefined {
  if (keyAlgo === 'rsa-sha2-256') return 'sha256';
  if (keyAlgo === 'rsa-sha2-512') return 'sha512';
  if (keyAlgo === 'ssh-rsa') return 'sha1';
  return undefined;
}

/**
 * Lets the first publickey request for a key `identities` can sign at once carry its signature.
 * ssh2 1.17 builds both kinds of request in Protocol#authPK (with a signing callback: the signed
 * one) and treats a refused signed request as a refused query, so its order of keys and algorithms
 * goes on unchanged. Where ssh2 is not shaped so, nothing changes: the query is sent.
 */
function signAtOnce(client: SshClient, identities: Identities, onSkip: (why: string) => void): void {
  const proto = (client as unknown as { _protocol?: { authPK?: AuthPK } })._protocol;
  const authPK = proto?.authPK;
  if (!proto || typeof authPK !== 'function' || authPK.length !== 4) return onSkip('ssh2 has no Protocol#authPK');
  let used = false;
  proto.authPK = function (this: unknown, username, key, keyAlgo, cbSign) {
    if (cbSign || used || !identities.signsAtOnce(key)) return authPK.call(this, username, key, keyAlgo, cbSign);
    used = true;
    return authPK.call(this, username, key, keyAlgo, (data, send) =>
      identities.sign(key, data, { hash: hashOf(keyAlgo) as never }, (err, signature) => {
        if (err || !signature) {
          // ask first after all: ssh2's own path then deals with the key as usual
          onSkip(`signing at once failed: ${err?.message ?? 'no signature'}`);
          return authPK.call(this, username, key, keyAlgo);
        }
        send(signature);
      }),
    );
  };
}

/**
 * ssh2's authHandler for one hop: all identities as one agent, once; then the failure, explained.
 * `failed` receives the error to report when no key was taken.
 */
export function loginHandler(
  client: SshClient,
  hop: Hop,
  identities: Identities,
  failed: (e: ConnectError) => void,
  debug: (m: string) => void,
): AuthHandlerMiddleware {
  let offered = false;
  return (_left, _partial, next) => {
    if (!offered) {
      offered = true;
      signAtOnce(client, identities, (why) => debug(`${hop.label}: ${why}`));
      return next({ type: 'agent', username: hop.user, agent: identities });
    }
    const e = authFailure(identities.report, hop.label);
    failed(new ConnectError(e, isFatal(e)));
    return next(false as never);
  };
}

/** Which logins `Identities` remembers: the hop's user, address and port. */
export const loginTarget = (hop: Hop) => `${hop.user}@${hop.host}:${hop.port}`;
