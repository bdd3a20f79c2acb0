// What one SSH connection attempt is given: each machine on the way (Hop), the user's answers
// (Interaction), the attempt's context, and how its failures are classified (ConnectError).

import { isFatalCode, makeError } from '../../shared/errors.js';
import type { HostKeyPolicy, ProtocolError, Stage, StageTiming } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import type { AuthPlan, KeyCache } from './auth.js';

/** Questions only the user can answer. The native host forwards them to the popup, the CLI to the terminal. */
export interface Interaction {
  askPassphrase(keyFile: string, attempt: number): Promise<string | null>;
  confirmHostKey(q: {
    host: string;
    port: number;
    keyType: string;
    fingerprint: string;
    knownHostsFile: string;
    otherTypesKnown: string[];
  }): Promise<boolean>;
}

/** One machine on the way, fully resolved (see resolve.ts). */
export interface Hop {
  /** For messages and timings: user@host:port as given. */
  label: string;
  /** Where to connect (HostName). */
  host: string;
  port: number;
  user: string;
  /** ProxyCommand, expanded: its stdin/stdout carry this hop instead of TCP or a channel. */
  proxyCommand?: string;
  /** HostKeyAlias, when set: the name looked up in known_hosts instead of host and port. */
  hostKeyAlias?: string;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** Write accepted keys hashed (HashKnownHosts). */
  hashKnownHosts: boolean;
  policy: HostKeyPolicy;
  auth: AuthPlan;
  connectTimeoutMs: number;
  /** 0 = no keepalive. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

export interface ConnectContext {
  interaction: Interaction;
  keys: KeyCache;
  log: Logger;
  onStage?(stage: Stage, hop: string): void;
  /** Aborting destroys whatever is half open; the promise then rejects with a non-fatal error. */
  signal?: AbortSignal;
  /** Stop after authentication of the last hop (no forwarding stage): a connection test. */
  authOnly?: boolean;
  /** Filled in as stages complete, so a caller can show progress (and what a failure got through). */
  timings?: StageTiming[];
}

/** A failed attempt: what to tell the user, and whether trying again later can help. */
export class ConnectError extends Error {
  constructor(
    readonly protocolError: ProtocolError,
    readonly fatal: boolean,
  ) {
    super(protocolError.detail ? `${protocolError.message} (${protocolError.detail})` : protocolError.message);
  }
}

/** Failures that need the user (retrying cannot fix them): the error table's `fatal` column. */
export const isFatal = (e: ProtocolError) => isFatalCode(e.code);

export const fail = (code: Parameters<typeof makeError>[0], detail: string, message?: string) => {
  const e = makeError(code, detail, message);
  return new ConnectError(e, isFatal(e));
};

export function abortError(): ConnectError {
  return new ConnectError(makeError('CONNECTION_LOST', 'connection attempt cancelled'), false);
}

export const now = () => performance.now();
