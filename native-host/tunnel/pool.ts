// The pool of SSH connections behind one tunnel: which connection carries the next CONNECT (the
// least loaded), when to open another one (every open one is busy, under maxConnections, none
// being opened, not just after a failed try), and when to close one (a connection beyond the first
// after poolIdleMs without a channel; the last one after the owner's idle timeout). The first
// connection is opened by the tunnel's state machine and adopted here; the pool opens only the
// extra ones, one handshake at a time, since an access machine's sshd drops new connections while
// too many are unauthenticated (MaxStartups).

import type { Duplex } from 'node:stream';
import type { ProtocolError } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { ConnectError } from '../ssh/connect.js';

/** What the pool uses of a connection (an SshConnection in production). */
export interface PooledConnection {
  readonly isOpen: boolean;
  close(): void;
  once(event: 'lost', listener: (error: ProtocolError) => void): unknown;
}

export interface PoolEntry<C extends PooledConnection = PooledConnection> {
  readonly conn: C;
  readonly streams: Set<Duplex>;
  /** Channels asked for on this connection and not open yet: load too, for balancing a burst. */
  opening: number;
  idleTimer: NodeJS.Timeout | null;
}

export interface PoolOptions<C extends PooledConnection> {
  log: Logger;
  /** Open another connection when every open one carries this many channels. */
  channelsPerConnection: number;
  /** A connection beyond the first closes after this long without a channel. */
  poolIdleMs: number;
  /** The most connections at once; read at each decision, since settings change. */
  maxConnections(): number;
  /** How long the last connection may stay without a channel before `lastIdle`; 0 = forever. */
  lastIdleMs(): number;
  /** Opens an extra connection. */
  openExtra(signal: AbortSignal): Promise<C>;
  /** The number of connections changed. */
  changed(): void;
  /** A channel opened or closed (counters only). */
  counters(): void;
  /** A channel closed: the tunnel was used just now. */
  activity(): void;
  /** A connection was lost; `remaining` are still open. */
  lost(error: ProtocolError, remaining: number): void;
  /** The last connection had no channel for lastIdleMs(). */
  lastIdle(): void;
  /**
   * An extra connection was adopted, or failed (`failure` says why), or the gateway was busy (null
   * too: logged here, nothing for the user): CONNECTs held for it can be served.
   */
  extraSettled(failure: { error: unknown } | null): void;
}

/** After an extra connection failed to open, do not try another for this long... */
export const POOL_COOLDOWN_MS = 10_000;
/** ...doubled after each failure in a row, up to this. */
export const POOL_COOLDOWN_MAX_MS = 60_000;

/**
 * The gateway closed a new connection before its login completed, while others are up: what sshd
 * does to connections beyond MaxStartups (closed after accept, or during the key exchange). Not
 * the user's problem: the pool stays as it is and tries again later.
 */
export function gatewayBusy(err: unknown): boolean {
  return err instanceof ConnectError && !err.fatal && err.protocolError.code === 'CONNECTION_LOST';
}

/** Channels on a connection, open or being opened. */
export const entryLoad = (e: PoolEntry) => e.streams.size + e.opening;

/**
 * Ends a channel as failed. ssh2's Channel.destroy() ignores its error and closes the channel
 * cleanly, and on a lost connection ssh2 even ends each channel's data with a clean EOF: the error
 * is emitted here so that the SOCKS side resets its client instead of passing on what would look
 * like a complete response.
 */
function abortChannel(s: Duplex, err: Error): void {
  s.on('error', () => {});
  if (!s.destroyed) s.emit('error', err);
  s.destroy();
}

export class ConnectionPool<C extends PooledConnection> {
  private readonly entries: PoolEntry<C>[] = [];
  private readonly perConnection: number;
  /** Bumped by closeAll(): extra connections from before are dropped when they arrive. */
  private generation = 0;
  private extrasOpening = 0;
  private readonly extraAttempts = new Set<AbortController>();
  /** No extra is tried before this time (after failures). */
  private cooldownUntil = 0;
  /** Extras that failed in a row: the cooldown grows with them. */
  private extraFailures = 0;

  constructor(private readonly o: PoolOptions<C>) {
    this.perConnection = Math.max(1, o.channelsPerConnection);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Extra connections being opened (their handshake in flight): 0 or 1. */
  get opening(): number {
    return this.extrasOpening;
  }

  /** Open channels over every connection. */
  get channels(): number {
    let n = 0;
    for (const e of this.entries) n += e.streams.size;
    return n;
  }

  has(entry: PoolEntry<C>): boolean {
    return this.entries.includes(entry);
  }

  adopt(conn: C): PoolEntry<C> {
    const entry: PoolEntry<C> = { conn, streams: new Set(), opening: 0, idleTimer: null };
    this.entries.push(entry);
    conn.once('lost', (error: ProtocolError) => this.onLost(entry, error));
    this.rearmIdle();
    this.o.changed();
    return entry;
  }

  /**
   * Closes every connection (their channels reset) and, unless told otherwise, cancels the extra
   * ones being opened (an extra that arrives after an idle close is still adopted).
   */
  closeAll(cancelExtras = true): void {
    if (cancelExtras) {
      this.generation++;
      for (const a of this.extraAttempts) a.abort();
    }
    for (const e of this.entries.splice(0)) this.closeEntry(e);
  }

  /**
   * The least loaded connection; opens another in the background when all are busy, unless one is
   * being opened already (one handshake at a time), the pool is full, or a failure is cooling down.
   */
  pick(): PoolEntry<C> | null {
    let best: PoolEntry<C> | null = null;
    for (const e of this.entries) if (e.conn.isOpen && (!best || entryLoad(e) < entryLoad(best))) best = e;
    if (!best) return null;
    if (
      entryLoad(best) >= this.perConnection &&
      this.extrasOpening === 0 &&
      this.entries.length < this.o.maxConnections() &&
      Date.now() >= this.cooldownUntil
    )
      this.openExtra();
    return best;
  }

  /** In a burst: `e` already carries twice channelsPerConnection and another connection is on its way. */
  overloaded(e: PoolEntry<C>): boolean {
    return this.extrasOpening > 0 && entryLoad(e) >= 2 * this.perConnection;
  }

  /** Counts a channel about to be opened on `e`, so that the next pick sees it. */
  claim(e: PoolEntry<C>): PoolEntry<C> {
    e.opening++;
    return e;
  }

  /** The channel claimed on `e` is open (then tracked) or failed. */
  release(e: PoolEntry<C>): void {
    e.opening--;
  }

  /** Counts an open channel on `e` until it closes. */
  track(entry: PoolEntry<C>, stream: Duplex): void {
    entry.streams.add(stream);
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    this.o.counters();
    stream.once('close', () => {
      entry.streams.delete(stream);
      this.o.activity();
      if (this.has(entry)) this.rearmIdle();
      this.o.counters();
    });
  }

  /**
   * Idle timers: a connection without channels closes after poolIdleMs while others remain; the
   * last one after lastIdleMs() (0: never).
   */
  rearmIdle(): void {
    for (const e of this.entries) {
      if (e.idleTimer) clearTimeout(e.idleTimer);
      e.idleTimer = null;
      if (entryLoad(e) > 0) continue;
      const ms = this.entries.length > 1 ? this.o.poolIdleMs : this.o.lastIdleMs();
      if (ms > 0) e.idleTimer = setTimeout(() => this.onIdle(e), ms);
    }
  }

  private openExtra(): void {
    const gen = this.generation;
    this.extrasOpening++;
    const ac = new AbortController();
    this.extraAttempts.add(ac);
    this.o.log.debug(
      `opening SSH connection ${this.entries.length + this.extrasOpening} of at most ${this.o.maxConnections()}`,
    );
    this.o.openExtra(ac.signal).then(
      (conn) => {
        this.extrasOpening--;
        this.extraAttempts.delete(ac);
        if (gen !== this.generation) return conn.close();
        this.extraFailures = 0;
        this.o.log.debug(`extra SSH connection ready (${this.entries.length + 1} open)`);
        this.adopt(conn);
        this.o.extraSettled(null);
      },
      (err: unknown) => {
        this.extrasOpening--;
        this.extraAttempts.delete(ac);
        if (gen !== this.generation) return;
        const ms = Math.min(POOL_COOLDOWN_MS * 2 ** this.extraFailures, POOL_COOLDOWN_MAX_MS);
        this.extraFailures++;
        this.cooldownUntil = Date.now() + ms;
        const up = this.entries.filter((e) => e.conn.isOpen).length;
        if (up > 0 && gatewayBusy(err)) {
          this.o.log.info(
            `the gateway is busy (it closed a new SSH connection before login: ${(err as Error).message}); ` +
              `staying with ${up} connection${up > 1 ? 's' : ''}, next try in ${ms / 1000} s`,
          );
          return this.o.extraSettled(null);
        }
        this.o.log.debug(`extra SSH connection failed; next try in ${ms / 1000} s`);
        this.o.extraSettled({ error: err });
      },
    );
  }

  private onLost(entry: PoolEntry<C>, error: ProtocolError): void {
    const i = this.entries.indexOf(entry);
    if (i < 0) return;
    this.entries.splice(i, 1);
    this.closeEntry(entry, error.detail ?? error.message);
    this.o.log.warn(`${error.message}${error.detail ? ` (${error.detail})` : ''}`);
    this.o.lost(error, this.entries.length);
  }

  private onIdle(entry: PoolEntry<C>): void {
    entry.idleTimer = null;
    if (entryLoad(entry) > 0 || !this.has(entry)) return;
    if (this.entries.length > 1) {
      this.o.log.debug('closing an idle pooled SSH connection');
      this.entries.splice(this.entries.indexOf(entry), 1);
      this.closeEntry(entry);
      this.rearmIdle();
      return this.o.changed();
    }
    this.o.lastIdle();
  }

  /** Ends a connection; its channels in flight are reset so that clients see an error, not a clean end. */
  private closeEntry(entry: PoolEntry<C>, why?: string): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    const err = new Error(why ?? 'the SSH connection was closed');
    for (const s of entry.streams) abortChannel(s, err);
    entry.conn.close();
  }
}
