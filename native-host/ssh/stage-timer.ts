// The bound on each handshake stage (key exchange, login): ConnectTimeout per stage, not counting
// the time the user spends answering a question (a passphrase, an unknown host key).

import { now } from './hop.js';

/** A timer that does not count time spent waiting for the user (a passphrase, a host key question). */
export class StageTimer {
  private timer: NodeJS.Timeout | null = null;
  private paused = 0;
  private left: number;
  private startedAt = 0;
  private done = false;

  constructor(
    private readonly ms: number,
    private readonly onExpire: () => void,
  ) {
    this.left = ms;
    this.arm();
  }

  private arm(): void {
    this.startedAt = now();
    this.timer = setTimeout(this.onExpire, this.left);
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** A new stage starts: full time again. */
  reset(): void {
    this.stop();
    this.left = this.ms;
    if (!this.done && this.paused === 0) this.arm();
  }

  pause(): void {
    if (this.paused++ > 0 || !this.timer) return;
    this.stop();
    this.left = Math.max(0, this.left - (now() - this.startedAt));
  }

  resume(): void {
    if (this.paused === 0) return;
    if (--this.paused === 0 && !this.done) this.arm();
  }

  clear(): void {
    this.done = true;
    this.stop();
  }
}
