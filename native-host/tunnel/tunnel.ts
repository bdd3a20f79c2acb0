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
// Auto mode while the tunnel is in use. Data does not pass through this module: the SOCKS server
// relays each channel to its client socket.

import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import { makeError } from '../../shared/errors.js';
import { matchHost, parseRules, type Rule } from '../../shared/patterns.js';
import { gatewayName } from '../../shared/g5k-names.js';
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
import { KeyCache } from '../ssh/auth.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from '../../shared/backoff.js';
import { toSocksConnectError } from '../socks/open-failures.js';
import type { Logger } from '../log.js';
import { resolveRoute, RouteError, type Route } from '../ssh/route.js';
import {
  listenSocks,
  REPLY,
  SocksConnectError,
  type Connector,
  type Destination,
  type SocksServer,
} from '../socks/listener.js';
import { ConnectError, openConnection, type Interaction, type SshConnection } from '../ssh/connect.js';

export type { Interaction } from '../ssh/connect.js';

export interface TunnelOptions {
  config: TunnelConfig;
  interaction: Interaction;
  log: Logger;
  home?: string;
  localUser?: string;
  sshConfigFile?: string;
  /** OpenSSH -o lines, they win over everything (first value wins) */
  sshOptions?: string[];
  env?: NodeJS.ProcessEnv;
  /** /etc/ssh/ssh_config by default; null skips it. */
  systemSshConfigFile?: string | null;
  /** Where the SOCKS listener binds: 127.0.0.1 (default), ::1 or localhost. */
  socksHost?: string;
  /** Pool: open another connection when every open one carries this many channels (default 8). */
  channelsPerConnection?: number;
  /** Pool: a connection beyond the first closes after this long without a channel (default 30 s). */
  poolIdleMs?: number;
  backoff?: BackoffPolicy;
}

/** A CONNECT never waits longer than this for a connection, even while the user types a passphrase. */
const WAIT_HARD_CAP_MS = 120_000;
/** Counters (channels, bytes) are pushed at most this often; state changes go out at once. */
const STATUS_THROTTLE_MS = 250;
/** After a pooled connection failed to open, do not try another for this long. */
const POOL_COOLDOWN_MS = 10_000;

/** Settings whose change means a new SSH connection. */
const CONNECTION_FIELDS: (keyof TunnelConfig)[] = [
  'gateway',
  'port',
  'user',
  'jumps',
  'identityFile',
  'useAgent',
  'keepaliveIntervalSec',
  'keepaliveCountMax',
  'connectTimeoutSec',
  'strictHostKeyChecking',
  'knownHostsFile',
];

interface PoolEntry {
  conn: SshConnection;
  streams: Set<Duplex>;
  /** Channels asked for on this connection and not open yet: load too, for balancing a burst. */
  opening: number;
  idleTimer: NodeJS.Timeout | null;
}

interface Waiter {
  resolve(e: PoolEntry): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | null;
  cleanup(): void;
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Channels on a connection, open or being opened. */
const load = (e: PoolEntry) => e.streams.size + e.opening;

/** Counts a channel about to be opened on `e`, so that the next pick sees it. */
function claim(e: PoolEntry): PoolEntry {
  e.opening++;
  return e;
}

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

function errorOf(err: unknown): { error: ProtocolError; fatal: boolean } {
  if (err instanceof ConnectError) return { error: err.protocolError, fatal: err.fatal };
  if (err instanceof RouteError)
    return { error: makeError('NOT_CONFIGURED', err.message, 'The tunnel settings cannot be used.'), fatal: true };
  // an unexpected failure: stop rather than retry a bug in a loop
  return { error: makeError('INTERNAL', (err as Error)?.message ?? String(err)), fatal: true };
}

export class Tunnel extends EventEmitter {
  private config: TunnelConfig;
  private mode: Mode = 'off';
  private state: TunnelState = 'off';
  private stage: Stage | undefined;
  private since = Date.now();
  private connectedAt: number | undefined;
  private lastError: ProtocolError | undefined;
  private retries = 0;
  private nextRetryAt: number | undefined;
  private timings: StageTiming[] = [];
  private display: { gateway: string; jumps: string[] };
  private rules: Rule[] = [];

  private socks: SocksServer | null = null;
  private bytesBase = { up: 0, down: 0 };
  private readonly pool: PoolEntry[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly keys = new KeyCache();
  /** Bumped whenever connections are torn down: results of older attempts are dropped. */
  private generation = 0;
  private attempt: AbortController | null = null;
  /** Connection tests in flight, cancelled by close(). */
  private readonly tests = new Set<AbortController>();
  private extrasOpening = 0;
  private readonly extraAttempts = new Set<AbortController>();
  private extraFailedAt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private emitTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private lastBytes = -1;
  private lastActivity = 0;
  private promptsPending = 0;
  private lastPromptEndedAt = 0;
  private ops: Promise<unknown> = Promise.resolve();
  private closed = false;

  private readonly log: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly perConnection: number;
  private readonly poolIdleMs: number;

  constructor(private readonly opts: TunnelOptions) {
    super();
    this.config = opts.config;
    this.log = opts.log;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.perConnection = Math.max(1, opts.channelsPerConnection ?? 8);
    this.poolIdleMs = opts.poolIdleMs ?? 30_000;
    this.display = this.displayOf(opts.config);
    this.rules = this.parseRestrict(opts.config);
  }

  // ---------- public API ----------

  status(): TunnelStatus {
    const stats = this.socks?.stats();
    const s: TunnelStatus = {
      state: this.state,
      mode: this.mode,
      gateway: this.display.gateway,
      jumps: [...this.display.jumps],
      socks: this.socks ? { host: this.socks.host, port: this.socks.port } : null,
      since: this.since,
      connections: this.pool.length,
      channels: this.channelCount(),
      bytesUp: this.bytesBase.up + (stats?.bytesUp ?? 0),
      bytesDown: this.bytesBase.down + (stats?.bytesDown ?? 0),
      timings: this.timings.map((t) => ({ ...t })),
    };
    if (this.state === 'connecting' && this.stage) s.stage = this.stage;
    if (this.connectedAt !== undefined && this.pool.length) s.connectedAt = this.connectedAt;
    if (this.retries > 0 && (this.state === 'reconnecting' || this.state === 'connecting')) s.attempt = this.retries;
    if (this.state === 'reconnecting' && this.nextRetryAt !== undefined) s.nextRetryAt = this.nextRetryAt;
    if (this.lastError) s.lastError = { ...this.lastError };
    return s;
  }

  configure(config: TunnelConfig): Promise<TunnelStatus> {
    return this.serial(async () => {
      const old = this.config;
      this.config = config;
      this.rules = this.parseRestrict(config);
      const connChanged = CONNECTION_FIELDS.some((k) => !sameValue(old[k], config[k]));
      if (connChanged || !this.pool.length) this.display = this.displayOf(config);
      if (this.mode === 'off') return this.status();
      const portChanged = old.socksPort !== config.socksPort;
      if (portChanged) await this.closeListener();
      if (connChanged) {
        this.log.info('settings changed: reconnecting with the new ones');
        this.dropConnections();
        this.retries = 0;
      }
      if (connChanged || portChanged || this.state === 'error') {
        this.lastError = undefined;
        await this.resume();
      } else {
        this.rearmIdle();
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
        this.startConnect();
      } else if (this.state === 'reconnecting') {
        this.log.info('retrying now');
        this.startConnect();
      }
      return this.status();
    });
  }

  async testConnection(config: TunnelConfig): Promise<TestResult> {
    const timings: StageTiming[] = [];
    const ac = new AbortController();
    this.tests.add(ac);
    try {
      if (this.closed) throw new ConnectError(makeError('INTERNAL', 'the tunnel is closed'), true);
      const route = this.route(config);
      const conn = await openConnection(route.hops, {
        interaction: this.interaction,
        keys: this.keys,
        log: this.log,
        authOnly: true,
        signal: ac.signal,
        timings,
      });
      conn.close();
      return { timings, ...(conn.serverBanner ? { serverBanner: conn.serverBanner } : {}) };
    } catch (err) {
      const { error } = errorOf(err);
      throw Object.assign(new Error(error.detail ? `${error.message} ${error.detail}` : error.message), {
        protocolError: error,
        timings,
      });
    } finally {
      this.tests.delete(ac);
    }
  }

  close(): Promise<void> {
    const run = this.ops.then(async () => {
      if (this.closed) return;
      this.mode = 'off';
      for (const t of this.tests) t.abort();
      await this.shutdown();
      this.closed = true;
      if (this.emitTimer) clearTimeout(this.emitTimer);
      this.emitTimer = null;
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
    if (this.pool.length) {
      this.setState('connected');
      this.rearmIdle();
    } else if (this.attempt || this.retryTimer) {
      this.emitNow(); // already on its way
    } else if (this.mode === 'on' || this.waiters.size) {
      this.startConnect();
    } else {
      this.setState('idle');
    }
  }

  private async ensureListener(): Promise<boolean> {
    if (this.socks) return true;
    try {
      this.socks = await listenSocks({
        host: this.opts.socksHost ?? '127.0.0.1',
        port: this.config.socksPort,
        connect: this.connector,
        allow: (dest) => this.allow(dest),
        log: this.log,
      });
      this.statsTimer = setInterval(() => this.pollCounters(), 1000);
      this.statsTimer.unref();
      return true;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const where = `${this.opts.socksHost ?? '127.0.0.1'}:${this.config.socksPort}`;
      const error =
        e.code === 'EADDRINUSE'
          ? makeError('SOCKS_PORT_IN_USE', `${where} is already in use`)
          : e.code === 'EACCES'
            ? makeError(
                'SOCKS_PORT_IN_USE',
                `${where}: permission denied (ports below 1024 need privileges)`,
                'The local SOCKS port cannot be used.',
              )
            : makeError('INTERNAL', `cannot listen on ${where}: ${e.message}`);
      this.log.error(`SOCKS listener: ${error.detail}`);
      this.fail(error);
      return false;
    }
  }

  private async closeListener(): Promise<void> {
    const s = this.socks;
    if (!s) return;
    this.socks = null;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    const st = s.stats();
    this.bytesBase.up += st.bytesUp;
    this.bytesBase.down += st.bytesDown;
    await s.close();
  }

  /** Mode off (or close): nothing left open. */
  private async shutdown(): Promise<void> {
    this.dropConnections();
    this.rejectWaiters('the tunnel was turned off');
    this.retries = 0;
    this.lastError = undefined;
    await this.closeListener();
    this.setState('off');
  }

  /** Closes every connection and cancels attempts and retries; waiters keep waiting. */
  private dropConnections(): void {
    this.generation++;
    this.attempt?.abort();
    this.attempt = null;
    for (const a of this.extraAttempts) a.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.nextRetryAt = undefined;
    for (const e of this.pool.splice(0)) this.closeEntry(e);
    this.connectedAt = undefined;
  }

  private fail(error: ProtocolError): void {
    this.lastError = error;
    this.rejectWaiters(error.message);
    this.setState('error');
  }

  // ---------- connecting ----------

  private route(config: TunnelConfig = this.config): Route {
    return resolveRoute(config, {
      home: this.opts.home ?? os.homedir(),
      localUser: this.opts.localUser ?? os.userInfo().username,
      env: this.opts.env ?? process.env,
      log: this.log,
      ...(this.opts.sshConfigFile !== undefined ? { sshConfigFile: this.opts.sshConfigFile } : {}),
      ...(this.opts.sshOptions ? { sshOptions: this.opts.sshOptions } : {}),
      ...(this.opts.systemSshConfigFile !== undefined ? { systemConfigFile: this.opts.systemSshConfigFile } : {}),
    });
  }

  /** One SSH connection as configured. `primary` ones drive the state and the stage shown. */
  private async open(signal: AbortSignal, primary: boolean): Promise<SshConnection> {
    const route = this.route();
    if (primary) this.display = { gateway: route.gateway, jumps: route.jumps };
    const timings: StageTiming[] = [];
    if (primary) this.timings = timings;
    return openConnection(route.hops, {
      interaction: this.interaction,
      keys: this.keys,
      log: this.log,
      signal,
      timings,
      ...(primary
        ? {
            onStage: (stage: Stage) => {
              this.stage = stage;
              this.emitNow();
            },
          }
        : {}),
    });
  }

  private startConnect(): void {
    if (this.attempt || this.mode === 'off') return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.nextRetryAt = undefined;
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
        this.adopt(conn);
        this.setState('connected');
        this.serveWaiters();
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
    if (this.waiters.size > 0 || this.config.idleTimeoutSec === 0) return true;
    return Date.now() - this.lastActivity < this.config.idleTimeoutSec * 1000;
  }

  private afterTransientFailure(): void {
    if (!this.wantsConnection()) {
      this.retries = 0;
      this.setState(this.mode === 'off' ? 'off' : 'idle');
      return;
    }
    this.retries++;
    const delay = backoffDelay(this.retries, this.backoff);
    this.nextRetryAt = Date.now() + delay;
    this.log.info(`reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${this.retries})`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.wantsConnection()) this.startConnect();
      else {
        this.retries = 0;
        this.setState('idle');
      }
    }, delay);
    this.setState('reconnecting');
  }

  private adopt(conn: SshConnection): PoolEntry {
    const entry: PoolEntry = { conn, streams: new Set(), opening: 0, idleTimer: null };
    this.pool.push(entry);
    conn.once('lost', (error: ProtocolError) => this.onLost(entry, error));
    this.rearmIdle();
    this.emitNow();
    return entry;
  }

  private onLost(entry: PoolEntry, error: ProtocolError): void {
    const i = this.pool.indexOf(entry);
    if (i < 0) return;
    this.pool.splice(i, 1);
    this.closeEntry(entry, error.detail ?? error.message);
    this.log.warn(`${error.message}${error.detail ? ` (${error.detail})` : ''}`);
    if (this.pool.length) return this.emitNow();
    this.connectedAt = undefined;
    this.lastError = error;
    this.afterTransientFailure();
  }

  /** Ends a connection; its channels in flight are reset so that clients see an error, not a clean end. */
  private closeEntry(entry: PoolEntry, why?: string): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    const err = new Error(why ?? 'the SSH connection was closed');
    for (const s of entry.streams) abortChannel(s, err);
    entry.conn.close();
  }

  // ---------- the pool ----------

  private channelCount(): number {
    let n = 0;
    for (const e of this.pool) n += e.streams.size;
    return n;
  }

  /** The least loaded connection; opens another in the background when all are busy. */
  private pick(): PoolEntry | null {
    let best: PoolEntry | null = null;
    for (const e of this.pool) if (e.conn.isOpen && (!best || load(e) < load(best))) best = e;
    if (!best) return null;
    if (
      load(best) >= this.perConnection &&
      this.pool.length + this.extrasOpening < this.config.maxConnections &&
      Date.now() - this.extraFailedAt > POOL_COOLDOWN_MS
    )
      this.openExtra();
    return best;
  }

  private openExtra(): void {
    const gen = this.generation;
    this.extrasOpening++;
    const ac = new AbortController();
    this.extraAttempts.add(ac);
    this.log.debug(
      `opening SSH connection ${this.pool.length + this.extrasOpening} of at most ${this.config.maxConnections}`,
    );
    this.open(ac.signal, false).then(
      (conn) => {
        this.extrasOpening--;
        this.extraAttempts.delete(ac);
        if (gen !== this.generation || this.mode === 'off') return conn.close();
        this.adopt(conn);
        this.serveWaiters();
      },
      (err: unknown) => {
        this.extrasOpening--;
        this.extraAttempts.delete(ac);
        if (gen !== this.generation) return;
        this.extraFailedAt = Date.now();
        this.log.warn(`extra SSH connection failed: ${errorOf(err).error.detail ?? (err as Error).message}`);
        this.serveWaiters(); // the CONNECTs held for it take the connections there are
      },
    );
  }

  /**
   * Idle timers: a connection without channels closes after poolIdleMs while others remain; the
   * last one closes after idleTimeoutSec in Auto mode (→ idle).
   */
  private rearmIdle(): void {
    for (const e of this.pool) {
      if (e.idleTimer) clearTimeout(e.idleTimer);
      e.idleTimer = null;
      if (load(e) > 0) continue;
      const last = this.pool.length === 1;
      const ms = !last
        ? this.poolIdleMs
        : this.mode === 'auto' && this.config.idleTimeoutSec > 0
          ? this.config.idleTimeoutSec * 1000
          : 0;
      if (ms > 0) e.idleTimer = setTimeout(() => this.onIdle(e), ms);
    }
  }

  private onIdle(entry: PoolEntry): void {
    entry.idleTimer = null;
    if (load(entry) > 0 || !this.pool.includes(entry)) return;
    if (this.pool.length > 1) {
      this.log.debug('closing an idle pooled SSH connection');
      this.pool.splice(this.pool.indexOf(entry), 1);
      this.closeEntry(entry);
      this.rearmIdle();
      return this.emitNow();
    }
    if (this.mode !== 'auto' || this.waiters.size) return;
    this.log.info(`no channel for ${this.config.idleTimeoutSec} s: closing SSH until the next request`);
    this.pool.splice(0);
    this.closeEntry(entry);
    this.connectedAt = undefined;
    this.setState('idle');
  }

  // ---------- SOCKS side ----------

  private allow(dest: Destination): boolean {
    return this.rules.length === 0 || matchHost(this.rules, dest.host);
  }

  private readonly connector: Connector = async (dest, signal) => {
    for (let tries = 0; ; tries++) {
      const entry = await this.acquire(signal);
      let stream: Duplex;
      try {
        stream = await entry.conn.forwardOut(gatewayName(dest.host), dest.port); // x.g5k: x, as the gateway names it
      } catch (err) {
        // the connection died under this request: wait for the next one, once
        if (!entry.conn.isOpen && tries === 0 && !signal.aborted) continue;
        throw toSocksConnectError(err, dest);
      } finally {
        entry.opening--;
      }
      if (signal.aborted || !this.pool.includes(entry)) {
        stream.on('error', () => {});
        stream.destroy();
        throw new Error('the request was cancelled');
      }
      this.track(entry, stream);
      return stream;
    }
  };

  private track(entry: PoolEntry, stream: Duplex): void {
    entry.streams.add(stream);
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    this.emitSoon();
    stream.once('close', () => {
      entry.streams.delete(stream);
      this.lastActivity = Date.now();
      if (this.pool.includes(entry)) this.rearmIdle();
      this.emitSoon();
    });
  }

  /**
   * A connection for one CONNECT (its `opening` count taken): at once when there is one, else after
   * (bounded) waiting. In a burst, a CONNECT that would load the least busy connection with twice
   * channelsPerConnection waits for the extra connection being opened instead: otherwise the whole
   * burst lands on the connection that was there first, and one sshd session process (one core)
   * carries it all.
   */
  private acquire(signal: AbortSignal): Promise<PoolEntry> {
    this.lastActivity = Date.now();
    if (this.mode === 'off') return Promise.reject(new SocksConnectError('the tunnel is off', REPLY.GENERAL_FAILURE));
    if (this.state === 'error')
      return Promise.reject(
        new SocksConnectError(
          `the tunnel needs attention: ${this.lastError?.message ?? 'error'}`,
          REPLY.GENERAL_FAILURE,
        ),
      );
    const e = this.pick();
    if (e && !this.overloaded(e)) return Promise.resolve(claim(e));
    const p = this.wait(signal);
    if (!e && !this.attempt && !this.retryTimer) this.startConnect(); // Auto: the first CONNECT starts SSH
    return p;
  }

  private wait(signal: AbortSignal): Promise<PoolEntry> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const w: Waiter = {
        resolve: (e) => {
          w.cleanup();
          resolve(e);
        },
        reject: (err) => {
          w.cleanup();
          reject(err);
        },
        timer: null,
        cleanup: () => {
          if (w.timer) clearTimeout(w.timer);
          signal.removeEventListener('abort', onAbort);
          this.waiters.delete(w);
        },
      };
      // bounded: connectTimeoutSec, plus the time the user spends answering a question, up to a hard cap
      const bound = this.config.connectTimeoutSec * 1000;
      const arm = (ms: number) => {
        w.timer = setTimeout(() => {
          const now = Date.now();
          const due = Math.max(started, this.lastPromptEndedAt) + bound;
          if (now - started < WAIT_HARD_CAP_MS && (this.promptsPending > 0 || now < due))
            return arm(this.promptsPending > 0 ? 1000 : due - now);
          // held for an extra connection that is late: take a busy one rather than fail
          const busy = this.pick();
          if (busy) return w.resolve(claim(busy));
          w.reject(
            new SocksConnectError(
              `no SSH connection to ${this.display.gateway} after ${Math.round((now - started) / 1000)} s (${this.state})`,
              REPLY.GENERAL_FAILURE,
            ),
          );
        }, ms);
      };
      const onAbort = () => w.reject(new Error('the SOCKS client went away'));
      arm(bound);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(w);
    });
  }

  /** Hands waiting CONNECTs a connection; while extras are still opening, only up to the burst limit. */
  private serveWaiters(): void {
    for (const w of [...this.waiters]) {
      const e = this.pick();
      if (!e || this.overloaded(e)) return;
      w.resolve(claim(e));
    }
  }

  /** In a burst: `e` already carries twice channelsPerConnection and another connection is on its way. */
  private overloaded(e: PoolEntry): boolean {
    return this.extrasOpening > 0 && load(e) >= 2 * this.perConnection;
  }

  private rejectWaiters(why: string): void {
    for (const w of [...this.waiters]) w.reject(new SocksConnectError(why, REPLY.GENERAL_FAILURE));
  }

  /** What the tunnel asks the user, counted so that waiting CONNECTs get more time meanwhile. */
  private readonly interaction: Interaction = {
    askPassphrase: (file, attempt) => this.prompting(() => this.opts.interaction.askPassphrase(file, attempt), null),
    confirmHostKey: (q) => this.prompting(() => this.opts.interaction.confirmHostKey(q), false),
  };

  private async prompting<T>(ask: () => Promise<T>, onError: T): Promise<T> {
    this.promptsPending++;
    try {
      return await ask();
    } catch (err) {
      this.log.warn(`question not answered: ${(err as Error).message}`);
      return onError;
    } finally {
      this.promptsPending--;
      this.lastPromptEndedAt = Date.now();
    }
  }

  // ---------- status ----------

  private setState(state: TunnelState): void {
    if (state !== this.state) {
      this.since = Date.now();
      this.log.debug(`state ${this.state} → ${state}`);
    }
    this.state = state;
    if (state !== 'connecting') this.stage = undefined;
    if (state !== 'reconnecting') this.nextRetryAt = undefined;
    this.emitNow();
  }

  private emitNow(): void {
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.emitTimer = null;
    this.emit('status', this.status());
  }

  private emitSoon(): void {
    if (this.emitTimer || this.closed) return;
    this.emitTimer = setTimeout(() => this.emitNow(), STATUS_THROTTLE_MS);
  }

  private pollCounters(): void {
    const s = this.socks?.stats();
    const bytes = s ? s.bytesUp + s.bytesDown : 0;
    if (bytes !== this.lastBytes) {
      this.lastBytes = bytes;
      this.emitSoon();
    }
  }

  private displayOf(c: TunnelConfig): { gateway: string; jumps: string[] } {
    return { gateway: `${c.user ? `${c.user}@` : ''}${c.gateway}${c.port ? `:${c.port}` : ''}`, jumps: [...c.jumps] };
  }

  private parseRestrict(c: TunnelConfig): Rule[] {
    const { rules, errors } = parseRules(c.restrictTo);
    for (const e of errors) this.log.warn(`restrictTo "${e.raw}": ${e.message}`);
    return rules;
  }
}
