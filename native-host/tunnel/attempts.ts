// The SSH attempt under way (at most one, abortable) and the generation that makes the result of an
// attempt from before a teardown (mode off, new settings) stale, so that it is dropped.

interface Attempt {
  signal: AbortSignal;
  /** Connections were torn down since it started: its result is no longer wanted. */
  stale(): boolean;
}

export class Attempts {
  private generation = 0;
  private current: AbortController | null = null;

  /** An attempt is under way. */
  get busy(): boolean {
    return this.current !== null;
  }

  start(): Attempt {
    const gen = this.generation;
    const ac = new AbortController();
    this.current = ac;
    return { signal: ac.signal, stale: () => gen !== this.generation };
  }

  /** The current attempt has ended (connected or failed). */
  settled(): void {
    this.current = null;
  }

  /** Teardown: the attempt under way is aborted, and every one started before is stale. */
  cancel(): void {
    this.generation++;
    this.current?.abort();
    this.current = null;
  }
}
