// Reconnection delays for the native port: quick at first (a host that crashed once usually starts
// again), then slower, capped so that a host installed later is found within a minute.

export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 60_000;

/** Delay before reconnection attempt `attempt` (0-based): 0.5 s, 1 s, 2 s … capped at 60 s. */
export function reconnectDelay(attempt: number, min = BACKOFF_MIN_MS, max = BACKOFF_MAX_MS): number {
  const n = Math.max(0, Math.floor(attempt));
  return Math.min(max, min * 2 ** Math.min(n, 30));
}
