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
// sleep tries before the backoff timer, rate-limited (next-try.ts). The parts it drives, joined in
// parts.ts: the SSH connections live in a pool (pool.ts), opened by the dialer (dialer.ts); a CONNECT
// takes one or waits in a queue (connects.ts, waiting.ts). What the mode and settings decide is in
// policy.ts and access.ts, the status snapshot in status.ts. Data does not pass through here: the
// SOCKS relay (socks/relay.ts) joins each channel to its client socket. Every change is a 'status'
// event; the host throttles its pushes.

import { EventEmitter } from 'node:events';
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
import type { SshConnection } from '../ssh/connect.js';
import { accessOf } from './access.js';
import { Attempts } from './attempts.js';
import { connectionChanged, type Display, displayOf, errorOf } from './config.js';
import type { Connects } from './connects.js';
import type { Dialer } from './dialer.js';
import type { AttemptReason, EarlyReason, NextTry } from './next-try.js';
import { EARLY_WHY } from './next-try.js';
import type { AttemptEvent, TunnelOptions } from './options.js';
import { joinParts } from './parts.js';
import { wantsConnection } from './policy.js';
import type { ConnectionPool, PoolEntry } from './pool.js';
import { Serial } from './serial.js';
import type { SocksSlot } from './socks-slot.js';
import { snapshot } from './status.js';
import type { WaitingConnects } from './waiting.js';

export type { AttemptEvent, Interaction, TunnelOptions } from './options.js';

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
  private allows: (host: string) => boolean;
  private lastActivity = 0;

  private readonly socks: SocksSlot;
  private readonly pool: ConnectionPool<SshConnection>;
  private readonly waiting: WaitingConnects<PoolEntry<SshConnection>>;
  private readonly connects: Connects;
  private readonly dialer: Dialer;
  private readonly attempts = new Attempts();
  private readonly nextTry: NextTry;
  private readonly ops = new Serial();
  private readonly log: Logger;

  constructor(opts: TunnelOptions) {
    super();
    this.config = opts.config;
    this.log = opts.log;
    this.display = displayOf(opts.config);
    this.allows = accessOf(opts.config, this.log);
    const parts = joinParts(opts, {
      config: () => this.config,
      mode: () => this.mode,
      state: () => this.state,
      lastError: () => this.lastError,
      gateway: () => this.display.gateway,
      openExtra: (signal) => this.open(signal, false),
      changed: () => this.emitNow(),
      counters: () => this.countersChanged(),
      activity: () => (this.lastActivity = Date.now()),
      lost: (error, remaining) => this.onLost(error, remaining),
      lastIdle: () => this.onLastIdle(),
      wantConnection: () => {
        if (this.attempts.busy) return;
        if (this.nextTry.pending) this.tryEarly('connect');
        else this.startConnect('first');
      },
      allows: (host) => this.allows(host),
      retryDue: (reason) => this.retryDue(reason),
    });
    this.pool = parts.pool;
    this.waiting = parts.waiting;
    this.connects = parts.connects;
    this.dialer = parts.dialer;
    this.socks = parts.socks;
    this.nextTry = parts.nextTry;
  }

  // ---------- public API ----------

  status(): TunnelStatus {
    const { state, mode, display, since, timings, stage, connectedAt, retries, lastError, pool, socks } = this;
    const live = { socks: socks.address, bytes: socks.bytes(), connections: pool.size, channels: pool.channels };
    const nextRetryAt = this.nextTry.nextAt;
    return snapshot({
      state,
      mode,
      display,
      since,
      timings,
      stage,
      connectedAt,
      retries,
      lastError,
      nextRetryAt,
      ...live,
    });
  }

  configure(config: TunnelConfig): Promise<TunnelStatus> {
    return this.serial(async () => {
      const old = this.config;
      this.config = config;
      this.allows = accessOf(config, this.log);
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
    return this.dialer.test(config, this.ops.closed);
  }

  close(): Promise<void> {
    return this.ops.close(async () => {
      this.mode = 'off';
      this.dialer.cancelTests();
      await this.shutdown();
    });
  }

  // ---------- control ----------

  /** Runs control operations one at a time; after close() each is a no-op answering the (off) status. */
  private serial(fn: () => Promise<TunnelStatus>): Promise<TunnelStatus> {
    return this.ops.run(fn, () => this.status());
  }

  /** Brings the tunnel where its mode wants it, from wherever it is (not off). */
  private async resume(): Promise<void> {
    if (!(await this.ensureListener())) return;
    if (this.pool.size) {
      this.setState('connected');
      this.pool.rearmIdle();
    } else if (this.attempts.busy || this.nextTry.pending) {
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
    this.attempts.cancel();
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
    if (this.attempts.busy || this.mode === 'off') return;
    this.nextTry.started();
    if (reason !== 'first' && reason !== 'timer' && reason !== 'user')
      this.log.info(`retrying now: ${EARLY_WHY[reason]} (attempt ${this.retries})`);
    this.emit('attempt', { reason, retries: this.retries } satisfies AttemptEvent);
    const attempt = this.attempts.start();
    this.stage = 'tcp';
    this.setState('connecting');
    this.open(attempt.signal, true).then(
      (conn) => {
        if (attempt.stale() || this.mode === 'off') return conn.close();
        this.attempts.settled();
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
        if (attempt.stale()) return;
        this.attempts.settled();
        const { error, fatal } = errorOf(err);
        this.log.warn(`connection failed: ${error.code}${error.detail ? `: ${error.detail}` : ''}`);
        if (fatal) return this.fail(error);
        this.lastError = error;
        this.afterTransientFailure();
      },
    );
  }

  private wantsConnection(): boolean {
    return wantsConnection(this.mode, this.config, this.waiting.size, this.lastActivity);
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
    if (this.attempts.busy || this.state !== 'reconnecting') return;
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
    if (!this.ops.closed) this.emitNow();
  }
}
