// How the tunnel's parts are joined: the connection pool, the queue of CONNECTs waiting for a
// connection, the CONNECT path, the dialer, the SOCKS listener slot and the next-try timer. The tunnel (the owner) gives
// what only it knows (its mode, state and settings) and says what to do when something happens.

import { DEFAULT_BACKOFF } from '../../shared/backoff.js';
import type { Mode, ProtocolError, TunnelConfig, TunnelState } from '../../shared/protocol.js';
import { REPLY, SocksConnectError } from '../socks/listener.js';
import type { SshConnection } from '../ssh/connect.js';
import { errorOf } from './config.js';
import { Connects } from './connects.js';
import { Dialer } from './dialer.js';
import { type AttemptReason, EARLY_WHY, NextTry } from './next-try.js';
import type { TunnelOptions } from './options.js';
import { lastIdleMs, refusal, waitTimeoutMessage } from './policy.js';
import { ConnectionPool, type PoolEntry } from './pool.js';
import { SocksSlot } from './socks-slot.js';
import { WaitingConnects } from './waiting.js';

interface PartsOwner {
  config(): TunnelConfig;
  mode(): Mode;
  state(): TunnelState;
  lastError(): ProtocolError | undefined;
  /** The gateway as shown, for messages. */
  gateway(): string;
  /** Opens a connection beyond the first (it does not drive the state). */
  openExtra(signal: AbortSignal): Promise<SshConnection>;
  /** The status changed. */
  changed(): void;
  /** Channel or byte counters moved. */
  counters(): void;
  /** A CONNECT came in or a channel moved: the tunnel is in use. */
  activity(): void;
  /** A connection of the pool was lost; `remaining` are still open. */
  lost(error: ProtocolError, remaining: number): void;
  /** The last connection carried no channel for the idle timeout. */
  lastIdle(): void;
  /** A CONNECT found no connection: start one unless one is on its way. */
  wantConnection(): void;
  /** restrictTo: is this destination served? */
  allows(host: string): boolean;
  /** The scheduled try is due (its timer, or an early reason). */
  retryDue(reason: AttemptReason): void;
}

interface Parts {
  pool: ConnectionPool<SshConnection>;
  waiting: WaitingConnects<PoolEntry<SshConnection>>;
  connects: Connects;
  dialer: Dialer;
  socks: SocksSlot;
  nextTry: NextTry;
}

export function joinParts(opts: TunnelOptions, owner: PartsOwner): Parts {
  const log = opts.log;
  const pool: ConnectionPool<SshConnection> = new ConnectionPool<SshConnection>({
    log,
    channelsPerConnection: opts.channelsPerConnection ?? 8,
    poolIdleMs: opts.poolIdleMs ?? 30_000,
    maxConnections: () => owner.config().maxConnections,
    lastIdleMs: () => lastIdleMs(owner.mode(), owner.config()),
    openExtra: (signal) => owner.openExtra(signal),
    changed: () => owner.changed(),
    counters: () => owner.counters(),
    activity: () => owner.activity(),
    lost: (error, remaining) => owner.lost(error, remaining),
    lastIdle: () => owner.lastIdle(),
    extraSettled: (failure) => {
      if (failure)
        log.warn(
          `extra SSH connection failed: ${errorOf(failure.error).error.detail ?? (failure.error as Error).message}`,
        );
      connects.serveWaiters(); // after a failure, the CONNECTs held for it take the connections there are
    },
  });
  const waiting = new WaitingConnects<PoolEntry<SshConnection>>({
    log,
    fallback: () => {
      const busy = pool.pick();
      return busy && pool.claim(busy);
    },
    timeoutError: (ms) =>
      new SocksConnectError(waitTimeoutMessage(owner.gateway(), ms, owner.state()), REPLY.GENERAL_FAILURE),
  });
  const connects = new Connects(pool, waiting, {
    refusal: () => refusal(owner.mode(), owner.state(), owner.lastError()),
    wantConnection: () => owner.wantConnection(),
    activity: () => owner.activity(),
    waitMs: () => owner.config().connectTimeoutSec * 1000,
  });
  const dialer = new Dialer(opts, waiting.counting(opts.interaction), log);
  const socks = new SocksSlot({
    host: opts.socksHost ?? '127.0.0.1',
    connect: connects.connector,
    allow: (dest) => owner.allows(dest.host),
    log,
    ...(opts.proxyCredentials ? { credentials: opts.proxyCredentials } : {}),
    counters: () => owner.counters(),
  });
  const nextTry: NextTry = new NextTry({
    ...opts.nextTry,
    backoff: opts.backoff ?? DEFAULT_BACKOFF,
    fire: (reason) => owner.retryDue(reason),
    moved: (reason) => {
      log.debug(`${EARLY_WHY[reason]}: trying at ${new Date(nextTry.nextAt ?? 0).toISOString()}`);
      owner.changed(); // nextRetryAt moved
    },
  });
  return { pool, waiting, connects, dialer, socks, nextTry };
}
