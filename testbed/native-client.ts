// Drives the native host the way a browser does, for the tests and the benchmark: spawns it, speaks
// length-prefixed JSON on its stdio, sends requests with ids and keeps every message it sends, in
// order. The framing here is its own, independent of the host's, so that a fault there shows here;
// any byte on stdout that is not a well-formed frame holding a protocol message is recorded in
// `badOutput` (the host must never write one).

import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  parseHostMessage,
  type HostMessage,
  type Prompt,
  type Response,
  type TunnelConfig,
  type TunnelStatus,
} from '../shared/protocol.js';
import * as children from './children.js';

const HOST_MAIN = fileURLToPath(new URL('../native-host/messaging/host-main.js', import.meta.url));

type Json = Record<string, unknown>;

/** One frame: a 32-bit length in this machine's byte order, then that many bytes of UTF-8 JSON. */
function frame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const head = Buffer.alloc(4);
  if (os.endianness() === 'LE') head.writeUInt32LE(body.length);
  else head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** Splits the host's stdout into frames: the JSON values, and what was not a frame. */
class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes of an oversized frame still to drop. */
  private skip = 0;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  push(chunk: Buffer): { values: unknown[]; bad: string[] } {
    const values: unknown[] = [];
    const bad: string[] = [];
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.buf.length);
        this.skip -= n;
        this.buf = this.buf.subarray(n);
      }
      if (this.skip > 0 || this.buf.length < 4) break;
      const len = os.endianness() === 'LE' ? this.buf.readUInt32LE(0) : this.buf.readUInt32BE(0);
      if (len > MAX_MESSAGE_BYTES) {
        bad.push(`oversized frame of ${len} bytes`);
        this.skip = len;
        this.buf = this.buf.subarray(4);
        continue;
      }
      if (this.buf.length - 4 < len) break;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      if (len === 0) bad.push('empty frame');
      else {
        try {
          values.push(JSON.parse(this.utf8.decode(body)));
        } catch (e) {
          bad.push(`frame is not UTF-8 JSON: ${(e as Error).message}`);
        }
      }
    }
    return { values, bad };
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface HostOptions {
  /** The host's script (default: the built host-main.js); `-e` with args [code] runs code instead. */
  script?: string;
  /** node arguments before the script (profiling flags). */
  nodeArgs?: string[];
  /** What the browser passes: the caller's origin (Chromium) or manifest path and id (Firefox). */
  args?: string[];
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export class HostClient {
  readonly proc: ChildProcess;
  /** performance.now() just before spawn. */
  readonly spawnedAt: number;
  /** Every message received, in order. */
  readonly messages: HostMessage[] = [];
  /** Problems with what the host wrote on stdout (must stay empty). */
  readonly badOutput: string[] = [];
  readonly exited: Promise<Exit>;
  /** The start of stderr, where Node announces an inspector. */
  stderrHead = '';
  private err = '';
  private nextId = 1;
  private readonly reader = new FrameReader();
  private readonly waiters = new Set<() => void>();
  /** Run once the process is gone (removing its folder). */
  protected cleanup: () => void = () => {};

  constructor(opts: HostOptions = {}) {
    this.spawnedAt = performance.now();
    this.proc = children.start(
      process.execPath,
      [...(opts.nodeArgs ?? []), opts.script ?? HOST_MAIN, ...(opts.args ?? ['chrome-extension://test/'])],
      { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.proc.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.proc.stderr!.on('data', (d: Buffer) => {
      if (this.stderrHead.length < 2000) this.stderrHead += d.toString();
      this.err += d.toString();
    });
    this.proc.stdin!.on('error', () => {}); // the host may be gone when a request is written
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.wake());
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  stderr(): string {
    return this.err;
  }

  /** The last few KiB of stderr. */
  get stderrTail(): string {
    return this.err.slice(-4000);
  }

  /** The latest status the host pushed or answered. */
  get lastStatus(): TunnelStatus | null {
    const i = this.lastStatusIndex();
    return i < 0 ? null : (this.messages[i] as { status: TunnelStatus }).status;
  }

  private lastStatusIndex(): number {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i]!.type === 'status') return i;
    return -1;
  }

  private running(): boolean {
    return !children.exited(this.proc);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(chunk: Buffer): void {
    const { values, bad } = this.reader.push(chunk);
    this.badOutput.push(...bad);
    for (const v of values) {
      const p = parseHostMessage(v);
      if (!p.ok) this.badOutput.push(`${p.error}: ${JSON.stringify(v).slice(0, 300)}`);
      else this.messages.push(p.value);
    }
    this.wake();
  }

  /** Sends any value as one frame. */
  send(value: unknown): void {
    this.proc.stdin!.write(frame(value));
  }

  sendBytes(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.proc.stdin!.write(bytes, (e) => (e ? reject(e) : resolve())));
  }

  /** The first message (from index `from`) matching `pred`, waiting up to timeoutMs. */
  waitFor<T extends HostMessage>(pred: (m: HostMessage) => m is T, timeoutMs?: number, from?: number): Promise<T>;
  waitFor(pred: (m: HostMessage) => boolean, timeoutMs?: number, from?: number): Promise<HostMessage>;
  waitFor(pred: (m: HostMessage) => boolean, timeoutMs = 15_000, from = 0): Promise<HostMessage> {
    return new Promise((resolve, reject) => {
      let done = false;
      let seen = from;
      const finish = () => {
        done = true;
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        if (done) return;
        for (; seen < this.messages.length; seen++) {
          const m = this.messages[seen]!;
          if (pred(m)) {
            finish();
            return resolve(m);
          }
        }
        if (!this.running()) {
          finish();
          reject(new Error(`host exited before the expected message; stderr:\n${this.err.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(from)).slice(-2000)}\nstderr:\n${this.err.slice(-3000)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a request with a fresh id and resolves with its response, success or error. */
  async request(type: string, fields: Json = {}, timeoutMs = 15_000): Promise<Response> {
    const id = this.nextId++;
    this.send({ type, id, ...fields });
    return (await this.waitFor((m) => m.type === 'response' && m.id === id, timeoutMs)) as Response;
  }

  /** Sends a request and resolves with its `result`; rejects with the host's error. */
  async call(type: string, fields: Json = {}, timeoutMs = 10_000): Promise<unknown> {
    const r = await this.request(type, fields, timeoutMs);
    if (!r.ok) throw new Error(`${type} refused: ${JSON.stringify(r.error)}`);
    return r.result;
  }

  hello(client = 'testbed'): Promise<unknown> {
    return this.call('hello', { protocol: PROTOCOL_VERSION, client });
  }

  configure(config: TunnelConfig): Promise<unknown> {
    return this.call('configure', { config });
  }

  setMode(mode: 'off' | 'auto' | 'on'): Promise<unknown> {
    return this.call('set-mode', { mode });
  }

  async waitForStatus(pred: (s: TunnelStatus) => boolean, timeoutMs?: number, from?: number): Promise<TunnelStatus> {
    const m = await this.waitFor((x) => x.type === 'status' && pred(x.status), timeoutMs, from);
    return (m as { status: TunnelStatus }).status;
  }

  /**
   * The first status from the latest one on that satisfies `pred`; an error status that does not
   * fails at once, naming `what` was awaited.
   */
  async untilStatus(pred: (s: TunnelStatus) => boolean, timeoutMs: number, what: string): Promise<TunnelStatus> {
    const from = Math.max(0, this.lastStatusIndex());
    let s: TunnelStatus;
    try {
      s = await this.waitForStatus((x) => pred(x) || x.state === 'error', timeoutMs, from);
    } catch (e) {
      throw new Error(`no ${what}: ${(e as Error).message}`);
    }
    if (!pred(s))
      throw new Error(`the host reports an error while waiting for ${what}: ${JSON.stringify(s.lastError)}`);
    return s;
  }

  async waitForPrompt(timeoutMs?: number, from?: number): Promise<Prompt> {
    const m = await this.waitFor((x) => x.type === 'prompt', timeoutMs, from);
    return (m as { prompt: Prompt }).prompt;
  }

  /** Closes stdin (what a browser does) and waits for the exit. */
  async end(timeoutMs = 5_000): Promise<Exit> {
    this.proc.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`host still running ${timeoutMs} ms after stdin closed`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes stdin as a browser does when the port disconnects; stops the host if it lingers. */
  async close(graceMs = 3000): Promise<void> {
    if (this.running()) {
      this.proc.stdin!.end();
      const timer = setTimeout(() => void children.stop(this.proc), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.cleanup();
  }
}

/**
 * The built host with a HOME and state folder of its own (removed by close()), no agent: what the
 * tests run. `env` adds to the environment.
 */
class IsolatedHost extends HostClient {
  /** The folder holding the host's HOME and log. */
  readonly home: string;
  readonly logFile: string;

  constructor(opts: { env?: NodeJS.ProcessEnv } = {}) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-host-'));
    const stateDir = path.join(home, 'state');
    super({ env: { ...process.env, HOME: home, XDG_STATE_HOME: stateDir, SSH_AUTH_SOCK: '', ...opts.env } });
    this.home = home;
    this.logFile = path.join(stateDir, 'g5k-tunnel', 'host.log');
    this.cleanup = () => fs.rmSync(home, { recursive: true, force: true });
  }
}

export type StartedHost = IsolatedHost;

export function startHost(opts: { env?: NodeJS.ProcessEnv } = {}): StartedHost {
  return new IsolatedHost(opts);
}
