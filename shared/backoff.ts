// Reconnection delays: capped exponential backoff, with jitter where many clients may retry at
// once. Pure (the random source is a parameter) so the unit tests can pin every branch. Two
// policies use it: the tunnel's SSH reconnections and the extension's reconnections to its host.
//
// Jitter matters because many hosts losing the same network (a laptop fleet waking up, a gateway
// restart) would otherwise retry in lock-step; the floor keeps a resumed laptop from retrying
// before its Wi-Fi is back (about 15 s after resume), without hammering the gateway.

export interface BackoffPolicy {
  /** Delay before the first retry, in ms. */
  baseMs: number;
  /** No delay ever exceeds this, in ms. */
  capMs: number;
  /** Growth per attempt. */
  factor: number;
  /** Fraction of the delay that is random, 0 (none) to 1 (full jitter). */
  jitter: number;
}

/** The tunnel's SSH reconnections. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60_000, factor: 2, jitter: 0.5 };

/**
 * The extension's reconnections to the native host: quick at first (a host that crashed once usually
 * starts again), capped so that a host installed later is found within a minute. No jitter: one
 * browser, one host, nobody to fall in step with.
 */
export const PORT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 60_000, factor: 2, jitter: 0 };

/** The delay before retry number `attempt` (1 = the first retry), in whole ms. */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const n = Number.isFinite(attempt) && attempt >= 1 ? Math.floor(attempt) : 1;
  // cap the exponent first: factor ** 1000 is Infinity, and Infinity * 0 is NaN
  const exponent = Math.min(n - 1, 64);
  const ceiling = Math.min(policy.capMs, policy.baseMs * policy.factor ** exponent);
  const jitter = Math.min(Math.max(policy.jitter, 0), 1);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(0, Math.round(ceiling * (1 - jitter * r)));
}

// ---------- retrying before the timer ----------
//
// A reconnecting tunnel may try before its backoff timer when there is a reason to think the
// network is back: a page asks for a connection, the browser says it is online, or the machine has
// just woken up. These ask for an attempt at once, but at most one per `gapMs` (counted from the
// last attempt of any kind), so that a burst of requests cannot hammer the gateway.

/** The least time between the start of one attempt and an early one (ms). */
export const EARLY_RETRY_GAP_MS = 2000;

/**
 * When an early retry asked for at `now` should run: `now` when the last attempt started at least
 * `gapMs` ago, else when that gap ends; null when the timer already comes sooner (or at the same time).
 */
export function earlyRetryAt(
  now: number,
  lastAttemptAt: number | undefined,
  scheduledAt: number,
  gapMs: number = EARLY_RETRY_GAP_MS,
): number | null {
  const at = lastAttemptAt === undefined ? now : Math.max(now, lastAttemptAt + gapMs);
  return at < scheduledAt ? at : null;
}

/**
 * A look expected at wall-clock `expectedAt` (by the monotonic clock's count) happened at wall-clock
 * `now`: true when the wall clock ran so far ahead that the machine slept meanwhile. Timers and the
 * monotonic clock stop while the machine sleeps; the wall clock does not.
 */
export function sleptThrough(expectedAt: number, now: number, toleranceMs: number): boolean {
  return now - expectedAt > toleranceMs;
}
