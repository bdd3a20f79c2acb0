// A command the tests run as a user would: started in its own session (no controlling terminal, so
// nothing can be asked), its output kept, its exit awaited with a timeout whose failure shows what
// it said on stderr. Registered with children.ts, so that `killAllNow` ends whatever still runs.

import type { ChildProcess, SpawnOptions } from 'node:child_process';
import * as children from './children.js';
import { waitForPort } from './ports.js';

export interface Child {
  proc: ChildProcess;
  out(): string;
  err(): string;
  /** The exit code (null when ended by a signal). */
  exited: Promise<number | null>;
}

/** Starts `cmd` detached, stdin closed, stdout and stderr collected; `opts` may override those. */
export function startChild(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Child {
  const proc = children.start(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out: () => out, err: () => err, exited };
}

/** The exit code, or a failure that carries the command's stderr if it still runs after `timeoutMs`. */
export async function exitOf(c: Child, timeoutMs = 30_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      c.exited,
      new Promise<never>(
        (_, rej) => (timer = setTimeout(() => rej(new Error(`still running; stderr:\n${c.err()}`)), timeoutMs)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for the command's port on loopback; on a timeout the failure shows its exit and stderr. */
export async function listening(c: Child, port: number, timeoutMs = 20_000): Promise<void> {
  try {
    await waitForPort(port, '127.0.0.1', timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; exit ${c.proc.exitCode}; stderr:\n${c.err()}`);
  }
}
