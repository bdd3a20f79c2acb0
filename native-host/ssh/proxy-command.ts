// ProxyCommand as OpenSSH runs it: `exec <command>` through the user's shell, the child's stdout and
// stdin as the SSH transport, its stderr to the log (its last line in the error when it fails), and
// the child ended (SIGTERM, then SIGKILL) when the connection closes. Host names and logins are
// checked before they are put into the command, so nothing from a URL, a SOCKS request or an odd
// alias reaches the shell.

import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { expandProxyCommand, type HostConfig } from './config-resolve.js';
import type { Logger } from '../log.js';

/** Host names that may be put into a shell command: letters, digits, '.', '_', '-', or an IPv6 literal. */
const SAFE_HOST = /^(?:[A-Za-z0-9._-]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
/** Logins likewise: nothing the shell would interpret. */
const SAFE_USER = /^[A-Za-z0-9._@+-]+$/;

/** Why `name` cannot go into a ProxyCommand, or null when it can. A leading '-' would be an option. */
export function unsafeHostName(name: string): string | null {
  if (name === '' || name.startsWith('-') || !SAFE_HOST.test(name))
    return `host name "${printable(name)}" cannot be given to ProxyCommand: only letters, digits, '.', '_', '-' (not first) or an IPv6 address`;
  return null;
}

export function unsafeLogin(user: string): string | null {
  if (user === '' || user.startsWith('-') || !SAFE_USER.test(user))
    return `login "${printable(user)}" cannot be given to ProxyCommand: only letters, digits, '.', '_', '@', '+', '-' (not first)`;
  return null;
}

/** Control characters shown as '?', so that a message cannot drive a terminal. */
const printable = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, '?');

/**
 * The ProxyCommand of `cfg` with %h %p %r %n %% filled in, after checking the values that go in
 * (the host name, the host as typed, the login). Throws with a message naming the bad value or token.
 */
export function proxyCommandFor(cfg: HostConfig, localUser: string): string | undefined {
  if (!cfg.proxyCommand) return undefined;
  const problem =
    unsafeHostName(cfg.hostName) ?? unsafeHostName(cfg.originalHost) ?? unsafeLogin(cfg.user ?? localUser);
  if (problem) throw new Error(problem);
  return expandProxyCommand(cfg, localUser);
}

/** The shell and arguments OpenSSH uses: `$SHELL -c "exec <command>"`, /bin/sh without $SHELL. */
export function shellArgs(command: string, env: NodeJS.ProcessEnv = process.env): [string, string[]] {
  return [env.SHELL || '/bin/sh', ['-c', `exec ${command}`]];
}

/** The ProxyCommand failed (could not start, or exited with a status or a signal). */
export class ProxyCommandError extends Error {}

/** How the end of the child reads in a message. */
export function exitMessage(code: number | null, signal: NodeJS.Signals | null, lastLine: string): string {
  const how = code !== null ? `exited with status ${code}` : `was killed by ${signal ?? 'a signal'}`;
  return `ProxyCommand ${how}${lastLine ? `: ${lastLine}` : ''}`;
}

/** How long the child has after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 2000;
/** How long to wait, after the child's stdout ends, for its exit status (to say why it ended). */
const EXIT_WAIT_MS = 1000;
/** How long to wait, after the child exits, for the rest of its stderr. */
const STDERR_WAIT_MS = 200;

interface ProxyCommandOptions {
  log: Logger;
  /** For log lines: the hop the command reaches. */
  label: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The child's stdout (readable side) and stdin (writable side) as one stream. Destroying it ends
 * the child. A child that exits with a non-zero status destroys it with a ProxyCommandError; one
 * that exits with 0 ends it, as a server closing the connection would.
 */
class ProxyCommandStream extends Duplex {
  private lastLine = '';
  private partial = '';
  private stdoutEnded = false;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private concluded = false;
  private corked = false;

  constructor(
    readonly child: ChildProcess,
    private readonly opts: ProxyCommandOptions,
  ) {
    super({ allowHalfOpen: true });
    const { stdout, stdin, stderr } = child;
    stdout!.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stdout!.pause();
    });
    stdout!.on('end', () => {
      this.stdoutEnded = true;
      if (this.exit) return this.conclude();
      // a child that closed its stdout but lives on: give it a moment to say why, then EOF
      setTimeout(() => this.conclude(), EXIT_WAIT_MS).unref();
    });
    stdout!.on('error', () => {});
    // a child gone before reading what was written: its exit status says why, not EPIPE
    stdin!.on('error', () => {});
    stderr!.on('data', (chunk: Buffer) => this.onStderr(chunk.toString('utf8')));
    stderr!.on('error', () => {});
    child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      const done = () => this.conclude();
      if (stderr!.readableEnded || stderr!.destroyed) return done();
      // the rest of stderr (its last line is the message) arrives just after the exit
      const timer = setTimeout(done, STDERR_WAIT_MS);
      timer.unref();
      stderr!.once('close', () => (clearTimeout(timer), done()));
    });
  }

  private onStderr(text: string): void {
    const lines = (this.partial + text).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.stderrLine(l);
  }

  private stderrLine(line: string): void {
    const l = printable(line).trim().slice(0, 500);
    if (!l) return;
    this.lastLine = l;
    this.opts.log.info(`${this.opts.label}: ProxyCommand: ${l}`);
  }

  /** After the exit (or the end of stdout): the stream's end, an error, or EOF. */
  private conclude(): void {
    if (this.concluded || this.destroyed) return;
    if (this.partial) this.stderrLine(this.partial);
    this.partial = '';
    const e = this.exit;
    if (e && (e.code !== 0 || e.signal)) {
      this.concluded = true;
      this.destroy(new ProxyCommandError(exitMessage(e.code, e.signal, this.lastLine)));
      return;
    }
    if (!this.stdoutEnded) return; // exited with 0: the rest of stdout is still to come
    this.concluded = true;
    this.push(null);
  }

  override _read(): void {
    this.child.stdout!.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const stdin = this.child.stdin!;
    if (stdin.destroyed || stdin.writableEnded) return cb();
    // ssh2 writes each packet on its own: the writes of one tick leave in one system call
    if (!this.corked) {
      this.corked = true;
      stdin.cork();
      process.nextTick(() => {
        this.corked = false;
        stdin.uncork();
      });
    }
    if (stdin.write(chunk)) cb();
    else stdin.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.child.stdin!.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    endChild(this.child);
    cb(err);
  }
}

/** SIGTERM now, SIGKILL if it is still there after the grace period; its pipes closed. */
function endChild(child: ChildProcess, graceMs = KILL_GRACE_MS): void {
  child.stdin?.destroy();
  child.stdout?.destroy();
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, graceMs);
  // a short grace period must not hold the process up; SIGTERM has been sent in any case
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
}

/**
 * Runs `command` (already expanded) and resolves with its stream once the child is running;
 * rejects with a ProxyCommandError when the shell cannot be started.
 */
export function startProxyCommand(command: string, opts: ProxyCommandOptions): Promise<ProxyCommandStream> {
  const [shell, args] = shellArgs(command, opts.env);
  opts.log.debug(`${opts.label}: running ProxyCommand: ${shell} -c "exec ${command}"`);
  return new Promise((resolve, reject) => {
    const child = spawn(shell, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const onError = (err: Error) => reject(new ProxyCommandError(`ProxyCommand could not be started: ${err.message}`));
    child.once('error', onError);
    child.once('spawn', () => {
      child.removeListener('error', onError);
      // later failures (e.g. kill on an exited child) show in the exit status
      child.on('error', (err) => opts.log.debug(`${opts.label}: ProxyCommand: ${err.message}`));
      opts.log.debug(`${opts.label}: ProxyCommand running as pid ${child.pid}`);
      resolve(new ProxyCommandStream(child, opts));
    });
  });
}
