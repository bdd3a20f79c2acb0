// When a reconnecting tunnel tries again: after its backoff delay (shared/backoff.ts), or earlier
// when there is a reason to think the network is back: a CONNECT waits, the browser went online,
// the machine woke up. Early tries are rate-limited (one per gap after any attempt), and one asked
// for within the gap moves the timer to the gap's end rather than being lost. While it waits, a
// watch notices a sleep: timers count monotonic time, which stops while the machine sleeps, so a
// 60 s wait begun before a night's sleep would otherwise still run its course after the resume.

import {
  backoffDelay,
  type BackoffPolicy,
  EARLY_RETRY_GAP_MS,
  earlyRetryAt,
  sleptThrough,
} from '../../shared/backoff.js';

/** Why an attempt starts. */
export type AttemptReason = 'first' | 'timer' | 'user' | EarlyReason;
/** Reasons to try before the backoff timer. */
export type EarlyReason = 'connect' | 'network' | 'wake';

/** Each early reason, for the log. */
export const EARLY_WHY: Record<EarlyReason, string> = {
  connect: 'a request is waiting',
  network: 'the network changed',
  wake: 'the machine woke up',
};

export interface NextTryOptions {
  backoff: BackoffPolicy;
  /** The timer (or an early reason) says: try now. */
  fire(reason: AttemptReason): void;
  /** An early reason moved the try sooner (to the end of the gap). */
  moved?(reason: EarlyReason): void;
  /** Least time from any attempt's start to an early one (default 2 s). */
  earlyGapMs?: number;
  /** How often the sleep watch looks (default 5 s), and how late a look must be to mean a sleep (default 10 s). */
  wakeTickMs?: number;
  wakeToleranceMs?: number;
  /** Wall clock (tests move it to show a sleep). */
  now?: () => number;
}

/** What an early request did: tried at once, moved the timer sooner, or nothing (none waiting, or the timer comes first). */
type EarlyOutcome = 'now' | 'sooner' | 'unchanged';

export class NextTry {
  private timer: NodeJS.Timeout | null = null;
  private watch: NodeJS.Timeout | null = null;
  /** When the try is due: on the monotonic clock (decisions) and the wall clock (reported). */
  private dueMono = 0;
  private dueWall = 0;
  private lastAttemptMono: number | undefined;
  private readonly wall: () => number;
  private readonly mono = () => performance.now();

  constructor(private readonly o: NextTryOptions) {
    this.wall = o.now ?? Date.now;
  }

  /** A try is scheduled. */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** Wall-clock ms of the scheduled try. */
  get nextAt(): number | undefined {
    return this.timer ? this.dueWall : undefined;
  }

  /** An attempt starts (whatever its reason): nothing stays scheduled, and the early gap counts from now. */
  started(): void {
    this.cancel();
    this.lastAttemptMono = this.mono();
  }

  /** Schedules retry number `retry` after its backoff delay; returns the delay. */
  schedule(retry: number): number {
    const delay = backoffDelay(retry, this.o.backoff);
    this.arm(delay, 'timer');
    this.watchSleep();
    return delay;
  }

  /** Asks for a try before the timer (rate-limited); only while one is scheduled. */
  early(reason: EarlyReason): EarlyOutcome {
    if (!this.timer) return 'unchanged';
    const now = this.mono();
    const at = earlyRetryAt(now, this.lastAttemptMono, this.dueMono, this.o.earlyGapMs ?? EARLY_RETRY_GAP_MS);
    if (at === null) return 'unchanged';
    if (at <= now) {
      this.cancel();
      this.o.fire(reason);
      return 'now';
    }
    this.arm(at - now, reason);
    this.o.moved?.(reason);
    return 'sooner';
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.watch) clearTimeout(this.watch);
    this.timer = this.watch = null;
  }

  private arm(delay: number, reason: AttemptReason): void {
    if (this.timer) clearTimeout(this.timer);
    const ms = Math.max(0, Math.ceil(delay));
    this.dueMono = this.mono() + ms;
    this.dueWall = this.wall() + ms;
    this.timer = setTimeout(() => {
      this.cancel();
      this.o.fire(reason);
    }, ms);
  }

  /** Looks every tick whether the wall clock ran far ahead of the monotonic one: then the machine slept. */
  private watchSleep(): void {
    if (this.watch) clearTimeout(this.watch);
    const tick = this.o.wakeTickMs ?? 5000;
    const wall0 = this.wall();
    const mono0 = this.mono();
    this.watch = setTimeout(() => {
      this.watch = null;
      if (!this.timer) return;
      const expected = wall0 + (this.mono() - mono0);
      if (sleptThrough(expected, this.wall(), this.o.wakeToleranceMs ?? 10_000) && this.early('wake') !== 'unchanged')
        return;
      this.watchSleep();
    }, tick);
    this.watch.unref();
  }
}
