// Prints each step of the demo with the time since start and its own duration, and keeps the
// record for the summary file.

interface StepRecord {
  step: string;
  ok: boolean;
  ms: number;
  detail?: string;
}

export class Steps {
  readonly records: StepRecord[] = [];
  private readonly t0 = Date.now();

  constructor(
    /** Aborting makes the running step (and every later one) fail at once. */
    private readonly signal?: AbortSignal,
    private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  ) {}

  private stamp(): string {
    return `[${((Date.now() - this.t0) / 1000).toFixed(2).padStart(6)}s]`;
  }

  /** `p`, or a rejection as soon as the signal aborts (the listener is removed either way). */
  private guard<T>(p: Promise<T>): Promise<T> {
    const signal = this.signal;
    if (!signal) return p;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new Error('interrupted'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  note(text: string): void {
    this.out(`${this.stamp()}   ${text}`);
  }

  /** Runs one step; a throw is recorded, printed with ✗, and passed on. */
  async run<T>(step: string, fn: () => Promise<T> | T, detail?: (v: T) => string): Promise<T> {
    const t = Date.now();
    try {
      const v = await this.guard(Promise.resolve().then(fn));
      const d = detail?.(v);
      this.records.push({ step, ok: true, ms: Date.now() - t, ...(d ? { detail: d } : {}) });
      this.out(`${this.stamp()} ✓ ${step} (${Date.now() - t} ms)${d ? `: ${d}` : ''}`);
      return v;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.records.push({ step, ok: false, ms: Date.now() - t, detail: msg });
      this.out(`${this.stamp()} ✗ ${step} (${Date.now() - t} ms): ${msg}`);
      throw new StepFailed(step, msg);
    }
  }

  totalMs(): number {
    return Date.now() - this.t0;
  }
}

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly reason: string,
  ) {
    super(`${step}: ${reason}`);
  }
}
