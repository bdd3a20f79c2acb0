// What a Tunnel is built from (its settings, where it asks the user, its pool and retry tuning), and
// the 'attempt' event it reports each SSH attempt with.

import type { BackoffPolicy } from '../../shared/backoff.js';
import type { TunnelConfig } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import type { ProxyCredentials } from '../socks/listener.js';
import type { Interaction } from '../ssh/connect.js';
import type { RouteSources } from './config.js';
import type { AttemptReason, NextTryOptions } from './next-try.js';

export type { Interaction } from '../ssh/connect.js';

export interface TunnelOptions extends RouteSources {
  config: TunnelConfig;
  interaction: Interaction;
  log: Logger;
  /** Where the SOCKS listener binds: 127.0.0.1 (default), ::1 or localhost. */
  socksHost?: string;
  /** Credentials the listener requires (SOCKS5 username/password and HTTP proxy); none = open port. */
  proxyCredentials?: ProxyCredentials;
  /** Pool: open another connection when every open one carries this many channels (default 8). */
  channelsPerConnection?: number;
  /** Pool: a connection beyond the first closes after this long without a channel (default 30 s). */
  poolIdleMs?: number;
  backoff?: BackoffPolicy;
  /** Early tries (a waiting CONNECT, network-changed, a wake): their gap, and the sleep watch. */
  nextTry?: Omit<NextTryOptions, 'backoff' | 'fire'>;
}

/** The 'attempt' event: an SSH attempt (not an extra pool connection) starts. */
export interface AttemptEvent {
  reason: AttemptReason;
  /** Failed attempts since the last connection. */
  retries: number;
}
