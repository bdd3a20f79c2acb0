// The tunnel's control operations, one at a time (so that listeners and connections never race),
// and its close: once closed, every later operation does nothing and answers what `whenClosed` says.

export class Serial {
  private ops: Promise<unknown> = Promise.resolve();
  private done = false;

  /** Closed: the close operation has run to its end. */
  get closed(): boolean {
    return this.done;
  }

  /** Runs `fn` after the operations before it; a failure of one does not stop the next. */
  run<T>(fn: () => Promise<T>, whenClosed: () => T): Promise<T> {
    return this.queue(() => (this.done ? whenClosed() : fn()));
  }

  /** Runs `fn` once, after the operations before it; the queue is closed when it has finished. */
  close(fn: () => Promise<void>): Promise<void> {
    return this.queue(async () => {
      if (this.done) return;
      await fn();
      this.done = true;
    });
  }

  private queue<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.ops.then(fn);
    this.ops = run.catch(() => {});
    return run;
  }
}
