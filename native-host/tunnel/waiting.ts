// CONNECTs waiting for an SSH connection: each waits until it is served, its client goes away, or
// its time is up. The time is bounded by connectTimeoutSec, extended while the user answers a
// question (a passphrase, an unknown host key: they are counted here), and never past a hard cap.

import type { Logger } from '../log.js';
import type { Interaction } from '../ssh/connect.js';

/** A CONNECT never waits longer than this for a connection, even while the user types a passphrase. */
const WAIT_HARD_CAP_MS = 120_000;
/** While a question is open, a waiter whose time is up looks again this often. */
const PROMPT_POLL_MS = 1000;

interface WaitingOptions<T> {
  log: Logger;
  /** At expiry, something to take rather than fail (a busy connection), or null. */
  fallback(): T | null;
  /** The error a waiter gets when its time is up and there is no fallback. */
  timeoutError(waitedMs: number): Error;
  hardCapMs?: number;
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | null;
  cleanup(): void;
}

export class WaitingConnects<T> {
  private readonly waiters = new Set<Waiter<T>>();
  private promptsPending = 0;
  private lastPromptEndedAt = 0;
  private readonly hardCapMs: number;

  constructor(private readonly o: WaitingOptions<T>) {
    this.hardCapMs = o.hardCapMs ?? WAIT_HARD_CAP_MS;
  }

  get size(): number {
    return this.waiters.size;
  }

  /** Waits up to `boundMs` (plus the time spent answering questions) for serve() to hand a value. */
  wait(signal: AbortSignal, boundMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const w: Waiter<T> = {
        resolve: (v) => {
          w.cleanup();
          resolve(v);
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
      const arm = (ms: number) => {
        w.timer = setTimeout(() => {
          const now = Date.now();
          const due = Math.max(started, this.lastPromptEndedAt) + boundMs;
          if (now - started < this.hardCapMs && (this.promptsPending > 0 || now < due))
            return arm(this.promptsPending > 0 ? PROMPT_POLL_MS : due - now);
          // held for an extra connection that is late: take a busy one rather than fail
          const busy = this.o.fallback();
          if (busy !== null) return w.resolve(busy);
          w.reject(this.o.timeoutError(now - started));
        }, ms);
      };
      const onAbort = () => w.reject(new Error('the SOCKS client went away'));
      arm(boundMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(w);
    });
  }

  /** Hands waiters, oldest first, what `next` gives, until it gives null. */
  serve(next: () => T | null): void {
    for (const w of [...this.waiters]) {
      const v = next();
      if (v === null) return;
      w.resolve(v);
    }
  }

  rejectAll(err: () => Error): void {
    for (const w of [...this.waiters]) w.reject(err());
  }

  /** The user's interaction, with its questions counted so that waiters get more time meanwhile. */
  counting(user: Interaction): Interaction {
    return {
      askPassphrase: (file, attempt) => this.asking(() => user.askPassphrase(file, attempt), null),
      confirmHostKey: (q) => this.asking(() => user.confirmHostKey(q), false),
    };
  }

  private async asking<T2>(ask: () => Promise<T2>, onError: T2): Promise<T2> {
    this.promptsPending++;
    try {
      return await ask();
    } catch (err) {
      this.o.log.warn(`question not answered: ${(err as Error).message}`);
      return onError;
    } finally {
      this.promptsPending--;
      this.lastPromptEndedAt = Date.now();
    }
  }
}
