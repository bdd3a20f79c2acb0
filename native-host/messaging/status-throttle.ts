// The one throttle on the status stream. The tunnel reports every change (state, stage, channels,
// bytes); the host pushes them to the browser at most once per interval, and the last change is
// always pushed, after the interval, so the popup never stays behind.

/** Calls `flush` at most once per `intervalMs`: at once if the last call is old enough, else once, later. */
export class StatusThrottle {
  private lastSent = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly flush: () => void,
    private readonly intervalMs: number,
  ) {}

  /** Something changed. */
  poke(): void {
    if (this.timer) return;
    const wait = this.lastSent + this.intervalMs - Date.now();
    if (wait <= 0) this.fire();
    else this.timer = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = null;
    this.lastSent = Date.now();
    this.flush();
  }

  /** Drops a pending call. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
