// The tunnel: a loopback SOCKS5 listener whose CONNECTs become direct-tcpip channels over SSH,
// and the state machine around it (see docs/TUNNEL.md):
//
//   off ──mode auto/on──▶ idle (auto) ──first CONNECT──▶ connecting ──▶ connected
//                            ▲                              │   ▲            │ lost
//                            └──── idle timeout (auto) ─────┼───┼────────────┤
//                                                           ▼   │            ▼
//                                       error ◀──fatal── (failure) ──transient──▶ reconnecting
//
// Fatal failures (host key, login, passphrase, settings) wait for the user; transient ones
// (unreachable, timeout, lost) retry with capped exponential backoff, forever in On mode and in
// Auto mode while the tunnel is in use. A waiting CONNECT, the browser going online or a wake from
// sleep tries before the backoff timer, rate-limited (next-try.ts). The parts it drives: the SSH
// connections live in a pool (pool.ts), opened by the dialer (dialer.ts); a CONNECT takes one or
// waits in a queue (connects.ts, waiting.ts). Data does not pass through here: the SOCKS relay
// (socks/relay.ts) joins each channel to its client socket. Every change is a 'status' event; the
// host throttles its pushes.

import { EventEmitter } from 'node:events';
import { DEFAULT_BACKOFF, type BackoffPolicy } from '../../shared/backoff.js';
import { matchHost, type Rule } from '../../shared/patterns.js';
import type {
  Mode,
  ProtocolError,
  Stage,
  StageTiming,
  TestResult,
  TunnelConfig,
  TunnelState,
  TunnelStatus,
} from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { type ProxyCredentials, REPLY, SocksConnectError } from '../socks/listener.js';
import type { Interaction, SshConnection } from '../ssh/connect.js';
import { connectionChanged, type Display, displayOf, errorOf, restrictRules, type RouteSources } from './config.js';
import { Connects } from './connects.js';
import { Dialer } from './dialer.js';
import { type AttemptReason, EARLY_WHY, type EarlyReason, NextTry, type NextTryOptions } from './next-try.js';
import { ConnectionPool, type PoolEntry } from './pool.js';
import { SocksSlot } from './socks-slot.js';
import { WaitingConnects } from './waiting.js';

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

type Entry = PoolEntry<SshConnection>;

export class Tunnel extends EventEmitter {
  private config: TunnelConfig;
  private mode: Mode = 'off';
  private state: TunnelState = 'off';
  private stage: Stage | undefined;
  private since = Date.now();
  private connectedAt: number | undefined;
  private lastError: ProtocolError | undefined;
  private retries = 0;
  private timings: StageTiming[] = [];
  private display: Display;
  private rules: Rule[] = [];
  /** restrictTo holds lines: only the hosts its rules match are served (no rule: none is). */
  private restricted = false;

  private readonly socks: SocksSlot;
  private readonly pool: ConnectionPool<SshConnection>;
  private readonly waiting: WaitingConnects<Entry>;
  private readonly connects: Connects;
  private readonly dialer: Dialer;
  /** Bumped whenever connections are torn down: results of older attempts are dropped. */
  private generation = 0;
  private attempt: AbortController | null = null;
  private readonly nextTry: NextTry;
  private lastActivity = 0;
  private ops: Promise<unknown> = Promise.resolve();
  private closed = false;

  private readonly log: Logger;

  constructor(opts: TunnelOptions) {
    super();
    this.config = opts.config;
    this.log = opts.log;
    this.nextTry = new NextTry({
      ...opts.nextTry,
      backoff: opts.backoff ?? DEFAULT_BACKOFF,
      fire: (reason) => this.retryDue(reason),
      moved: (reason) => {
        this.log.debug(`${EARLY_WHY[reason]}: trying at ${new Date(this.nextTry.nextAt ?? 0).toISOString()}`);
        this.emitNow(); // nextRetryAt moved
      },
    });
    this.display = displayOf(opts.config);
    this.rules = restrictRules(opts.config, this.log);
    this.restricted = opts.config.restrictTo.length > 0;
    this.pool = new ConnectionPool<SshConnection>({
      log: this.log,
      channelsPerConnection: opts.channelsPerConnection ?? 8,
      poolIdleMs: opts.poolIdleMs ?? 30_000,
      maxConnections: () => this.config.maxConnections,
      lastIdleMs: () =>
        this.mode === 'auto' && this.config.idleTimeoutSec > 0 ? this.config.idleTimeoutSec * 1000 : 0,
      openExtra: (signal) => this.open(signal, false),
      changed: () => this.emitNow(),
      counters: () => this.countersChanged(),
      activity: () => (this.lastActivity = Date.now()),
      lost: (error, remaining) => this.onLost(error, remaining),
      lastIdle: () => this.onLastIdle(),
      extraSettled: (failure) => {
        if (failure)
          this.log.warn(
            `extra SSH connection failed: ${errorOf(failure.error).error.detail ?? (failure.error as Error).message}`,
          );
        this.connects.serveWaiters(); // after a failure, the CONNECTs held for it take the connections there are
      },
    });
    this.waiting = new WaitingConnects<Entry>({
      log: this.log,
      fallback: () => {
        const busy = this.pool.pick();
        return busy && this.pool.claim(busy);
      },
      timeoutError: (ms) =>
        new SocksConnectError(
          `no SSH connection to ${this.display.gateway} after ${Math.round(ms / 1000)} s (${this.state})`,
          REPLY.GENERAL_FAILURE,
        ),
    });
    this.connects = new Connects(this.pool, this.waiting, {
      refusal: () =>
        this.mode === 'off'
          ? 'the tunnel is off'
          : this.state === 'error'
            ? `the tunnel needs attention: ${this.lastError?.message ?? 'error'}`
            : null,
      wantConnection: () => {
        if (this.attempt) return;
        if (this.nextTry.pending) this.tryEarly('connect');
        else this.startConnect('first');
      },
      activity: () => (this.lastActivity = Date.now()),
      waitMs: () => this.config.connectTimeoutSec * 1000,
    });
    this.dialer = new Dialer(opts, this.waiting.counting(opts.interaction), this.log);
    this.socks = new SocksSlot({
      host: opts.socksHost ?? '127.0.0.1',
      connect: this.connects.connector,
      allow: (dest) => this.allow(dest),
      log: this.log,
      ...(opts.proxyCredentials ? { credentials: opts.proxyCredentials } : {}),
      counters: () => this.countersChanged(),
    });
  }

  // ---------- public API ----------

  status(): TunnelStatus {
    const bytes = this.socks.bytes();
    const s: TunnelStatus = {
      state: this.state,
      mode: this.mode,
      gateway: this.display.gateway,
      jumps: [...this.display.jumps],
      socks: this.socks.address,
      since: this.since,
      connections: this.pool.size,
      channels: this.pool.channels,
      bytesUp: bytes.up,
      bytesDown: bytes.down,
      timings: this.timings.map((t) => ({ ...t })),
    };
    if (this.state === 'connecting' && this.stage) s.stage = this.stage;
    if (this.connectedAt !== undefined && this.pool.size) s.connectedAt = this.connectedAt;
    if (this.retries > 0 && (this.state === 'reconnecting' || this.state === 'connecting')) s.attempt = this.retries;
    const nextRetryAt = this.nextTry.nextAt;
    if (this.state === 'reconnecting' && nextRetryAt !== undefined) s.nextRetryAt = nextRetryAt;
    if (this.lastError) s.lastError = { ...this.lastError };
    return s;
  }

  configure(config: TunnelConfig): Promise<TunnelStatus> {
    return this.serial(async () => {
      const old = this.config;
      this.config = config;
      this.rules = restrictRules(config, this.log);
      this.restricted = config.restrictTo.length > 0;
      const connChanged = connectionChanged(old, config);
      if (connChanged || !this.pool.size) this.display = displayOf(config);
      if (this.mode === 'off') return this.status();
      const portChanged = old.socksPort !== config.socksPort;
      if (portChanged) await this.socks.close();
      if (connChanged) {
        this.log.info('settings changed: reconnecting with the new ones');
        this.dropConnections();
        this.retries = 0;
      }
      if (connChanged || portChanged || this.state === 'error') {
        this.lastError = undefined;
        await this.resume();
      } else {
        this.pool.rearmIdle();
        this.emitNow();
      }
      return this.status();
    });
  }

  setMode(mode: Mode): Promise<TunnelStatus> {
    return this.serial(async () => {
      const was = this.mode;
      this.mode = mode;
      if (was !== mode) this.log.info(`mode ${mode}`);
      if (mode === 'off') {
        await this.shutdown();
        return this.status();
      }
      // choosing a mode is a user action: it clears an error that was waiting for one
      if (this.state === 'error') this.lastError = undefined;
      await this.resume();
      return this.status();
    });
  }

  retry(): Promise<TunnelStatus> {
    return this.serial(async () => {
      if (this.mode === 'off') return this.status();
      if (this.state === 'error') {
        this.log.info('retrying after an error');
        this.retries = 0;
        if (!(await this.ensureListener())) return this.status();
        this.startConnect('user');
      } else if (this.state === 'reconnecting') {
        this.log.info('retrying now');
        this.startConnect('user');
      }
      return this.status();
    });
  }

  /**
   * The network may be back (the browser went online): a reconnecting tunnel tries now rather than
   * after its backoff, at most once per gap. Nothing else changes: a connected tunnel's keepalives
   * tell whether its connection survived, and errors wait for the user.
   */
  networkChanged(): Promise<TunnelStatus> {
    return this.serial(async () => {
      this.tryEarly('network');
      return this.status();
    });
  }

  testConnection(config: TunnelConfig): Promise<TestResult> {
    return this.dialer.test(config, this.closed);
  }

  close(): Promise<void> {
    const run = this.ops.then(async () => {
      if (this.closed) return;
      this.mode = 'off';
      this.dialer.cancelTests();
      await this.shutdown();
      this.closed = true;
    });
    this.ops = run.catch(() => {});
    return run;
  }

  // ---------- control ----------

  /** Runs control operations one at a time, so that listeners and connections never race. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    // after close() every operation is a no-op answering the (off) status
    const run = this.ops.then(() => (this.closed ? (this.status() as T) : fn()));
    this.ops = run.catch(() => {});
    return run;
  }

  /** Brings the tunnel where its mode wants it, from wherever it is (not off). */
  private async resume(): Promise<void> {
    if (!(await this.ensureListener())) return;
    if (this.pool.size) {
      this.setState('connected');
      this.pool.rearmIdle();
    } else if (this.attempt || this.nextTry.pending) {
      this.emitNow(); // already on its way
    } else if (this.mode === 'on' || this.waiting.size) {
      this.startConnect('first');
    } else {
      this.setState('idle');
    }
  }

  private async ensureListener(): Promise<boolean> {
    const error = await this.socks.open(this.config.socksPort);
    if (!error) return true;
    this.log.error(`SOCKS listener: ${error.detail}`);
    this.fail(error);
    return false;
  }

  /** Mode off (or close): nothing left open. */
  private async shutdown(): Promise<void> {
    this.dropConnections();
    this.connects.rejectWaiters('the tunnel was turned off');
    this.retries = 0;
    this.lastError = undefined;
    await this.socks.close();
    this.setState('off');
  }

  /** Closes every connection and cancels attempts and retries; waiters keep waiting. */
  private dropConnections(): void {
    this.generation++;
    this.attempt?.abort();
    this.attempt = null;
    this.nextTry.cancel();
    this.pool.closeAll();
    this.connectedAt = undefined;
  }

  private fail(error: ProtocolError): void {
    this.lastError = error;
    this.connects.rejectWaiters(error.message);
    this.setState('error');
  }

  // ---------- connecting ----------

  /** One SSH connection as configured. `primary` ones drive the state and the stage shown. */
  private open(signal: AbortSignal, primary: boolean): Promise<SshConnection> {
    if (!primary) return this.dialer.open(this.config, signal, { timings: [] });
    const timings: StageTiming[] = [];
    return this.dialer.open(this.config, signal, {
      timings,
      onRoute: (route) => {
        this.display = { gateway: route.gateway, jumps: route.jumps };
        this.timings = timings;
      },
      onStage: (stage) => {
        this.stage = stage;
        this.emitNow();
      },
    });
  }

  private startConnect(reason: AttemptReason): void {
    if (this.attempt || this.mode === 'off') return;
    this.nextTry.started();
    if (reason !== 'first' && reason !== 'timer' && reason !== 'user')
      this.log.info(`retrying now: ${EARLY_WHY[reason]} (attempt ${this.retries})`);
    this.emit('attempt', { reason, retries: this.retries } satisfies AttemptEvent);
    const gen = this.generation;
    const ac = new AbortController();
    this.attempt = ac;
    this.stage = 'tcp';
    this.setState('connecting');
    this.open(ac.signal, true).then(
      (conn) => {
        if (gen !== this.generation || this.mode === 'off') return conn.close();
        this.attempt = null;
        this.retries = 0;
        this.lastError = undefined;
        this.connectedAt = Date.now();
        this.log.info(
          `connected to ${this.display.gateway}${this.display.jumps.length ? ` through ${this.display.jumps.join(', ')}` : ''}`,
        );
        this.pool.adopt(conn);
        this.setState('connected');
        this.connects.serveWaiters();
      },
      (err: unknown) => {
        if (gen !== this.generation) return;
        this.attempt = null;
        const { error, fatal } = errorOf(err);
        this.log.warn(`connection failed: ${error.code}${error.detail ? `: ${error.detail}` : ''}`);
        if (fatal) return this.fail(error);
        this.lastError = error;
        this.afterTransientFailure();
      },
    );
  }

  /** Auto mode keeps trying while CONNECTs wait or the tunnel was used within the idle timeout. */
  private wantsConnection(): boolean {
    if (this.mode === 'on') return true;
    if (this.mode !== 'auto') return false;
    if (this.waiting.size > 0 || this.config.idleTimeoutSec === 0) return true;
    return Date.now() - this.lastActivity < this.config.idleTimeoutSec * 1000;
  }

  private afterTransientFailure(): void {
    if (!this.wantsConnection()) {
      this.retries = 0;
      this.setState(this.mode === 'off' ? 'off' : 'idle');
      return;
    }
    this.retries++;
    const delay = this.nextTry.schedule(this.retries);
    this.log.info(`reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${this.retries})`);
    this.setState('reconnecting');
  }

  /** The scheduled try is due (its timer, or an early reason). */
  private retryDue(reason: AttemptReason): void {
    if (this.wantsConnection()) this.startConnect(reason);
    else {
      this.retries = 0;
      this.setState('idle');
    }
  }

  /** A reason to think the network is back: try before the timer, rate-limited; never two at once. */
  private tryEarly(reason: EarlyReason): void {
    if (this.attempt || this.state !== 'reconnecting') return;
    this.nextTry.early(reason);
  }

  /** A connection of the pool was lost; the last one lost means reconnecting. */
  private onLost(error: ProtocolError, remaining: number): void {
    if (remaining) return this.emitNow();
    this.connectedAt = undefined;
    this.lastError = error;
    this.afterTransientFailure();
  }

  /** Auto mode: the last connection carried no channel for idleTimeoutSec. */
  private onLastIdle(): void {
    if (this.mode !== 'auto' || this.waiting.size) return;
    this.log.info(`no channel for ${this.config.idleTimeoutSec} s: closing SSH until the next request`);
    this.pool.closeAll(false);
    this.connectedAt = undefined;
    this.setState('idle');
  }

  // ---------- SOCKS side ----------

  private allow(dest: { host: string }): boolean {
    // a list whose lines all are comments or mistakes allows nothing, not everything
    return !this.restricted || matchHost(this.rules, dest.host);
  }

  // ---------- status ----------

  private setState(state: TunnelState): void {
    if (state !== this.state) {
      this.since = Date.now();
      this.log.debug(`state ${this.state} → ${state}`);
    }
    this.state = state;
    if (state !== 'connecting') this.stage = undefined;
    this.emitNow();
  }

  private emitNow(): void {
    this.emit('status', this.status());
  }

  /** Channel and byte counters changed; the host throttles what it pushes. */
  private countersChanged(): void {
    if (!this.closed) this.emitNow();
  }
}
