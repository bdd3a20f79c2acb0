// Drives the native host the way a browser does: spawn it, speak length-prefixed JSON on its stdio,
// send requests with ids, read responses and status events. Independent of the host's own framing
// code, so that a fault there shows here.

import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { TunnelConfig, TunnelStatus } from '../../shared/protocol.js';
import * as children from '../../testbed/children.js';

type Json = Record<string, unknown>;

export function frame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const head = Buffer.alloc(4);
  if (os.endianness() === 'LE') head.writeUInt32LE(body.length);
  else head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames; returns the parsed messages and the unread rest. */
export function unframe(buf: Buffer): { messages: unknown[]; rest: Buffer } {
  const messages: unknown[] = [];
  let off = 0;
  while (buf.length - off >= 4) {
    const len = os.endianness() === 'LE' ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    if (buf.length - off - 4 < len) break;
    messages.push(JSON.parse(buf.subarray(off + 4, off + 4 + len).toString('utf8')));
    off += 4 + len;
  }
  return { messages, rest: buf.subarray(off) };
}

export interface HostOptions {
  /** node arguments before the script (profiling flags). */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** What the browser passes: the caller's origin (Chromium) or manifest path and id (Firefox). */
  args?: string[];
}

export class HostClient {
  readonly child: ChildProcess;
  /** performance.now() just before spawn. */
  readonly spawnedAt: number;
  private buf: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: Json) => void; reject: (e: Error) => void }>();
  private readonly statusWaiters = new Set<(s: TunnelStatus) => void>();
  private stderr = '';
  /** The start of stderr, where Node announces an inspector. */
  stderrHead = '';
  lastStatus: TunnelStatus | null = null;
  private ended: Error | null = null;

  constructor(script: string, opts: HostOptions = {}) {
    this.spawnedAt = performance.now();
    this.child = children.start(process.execPath, [...(opts.nodeArgs ?? []), script, ...(opts.args ?? [])], {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => this.onData(d));
    this.child.stderr!.on('data', (d: Buffer) => {
      if (this.stderrHead.length < 2000) this.stderrHead += d.toString();
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.stdin!.on('error', () => {}); // the host may exit first; its exit is reported below
    this.child.once('exit', (code, signal) => {
      this.ended = new Error(`the host exited (${signal ?? code}); its stderr:\n${this.stderr}`);
      for (const p of this.pending.values()) p.reject(this.ended);
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get stderrTail(): string {
    return this.stderr;
  }

  private onData(d: Buffer): void {
    const { messages, rest } = unframe(Buffer.concat([this.buf, d]));
    this.buf = rest;
    for (const m of messages as Json[]) {
      if (m.type === 'response' && typeof m.id === 'number') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m);
      } else if (m.type === 'status') {
        this.lastStatus = m.status as TunnelStatus;
        for (const w of [...this.statusWaiters]) w(this.lastStatus);
      }
    }
  }

  /** Sends a request and resolves with its `result`; rejects with the host's error. */
  request(type: string, fields: Json = {}, timeoutMs = 10_000): Promise<Json> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${type} within ${timeoutMs} ms; host stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          if (m.ok === true) resolve((m.result ?? {}) as Json);
          else reject(new Error(`${type} refused: ${JSON.stringify(m.error)}`));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin!.write(frame({ type, id, ...fields }));
    });
  }

  hello(): Promise<Json> {
    return this.request('hello', { protocol: 1, client: 'bench' });
  }

  configure(config: TunnelConfig): Promise<Json> {
    return this.request('configure', { config });
  }

  setMode(mode: 'off' | 'auto' | 'on'): Promise<Json> {
    return this.request('set-mode', { mode });
  }

  /** Resolves with the first status (the latest one included) that satisfies `pred`. */
  waitStatus(pred: (s: TunnelStatus) => boolean, timeoutMs: number, what: string): Promise<TunnelStatus> {
    if (this.lastStatus && pred(this.lastStatus)) return Promise.resolve(this.lastStatus);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.statusWaiters.delete(check);
        this.child.off('exit', onExit);
      };
      const check = (s: TunnelStatus) => {
        if (s.state === 'error' && !pred(s)) {
          done();
          reject(new Error(`the host reports an error while waiting for ${what}: ${JSON.stringify(s.lastError)}`));
        } else if (pred(s)) {
          done();
          resolve(s);
        }
      };
      const onExit = () => {
        done();
        reject(this.ended ?? new Error('the host exited'));
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `no ${what} within ${timeoutMs} ms (last status ${JSON.stringify(this.lastStatus)}); host stderr:\n${this.stderr}`,
          ),
        );
      }, timeoutMs);
      this.statusWaiters.add(check);
      this.child.once('exit', onExit);
    });
  }

  /** Closes stdin as a browser does when the port disconnects; kills the host if it lingers. */
  async close(graceMs = 3000): Promise<void> {
    if (children.exited(this.child)) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    const timer = setTimeout(() => void children.stop(this.child), graceMs);
    await gone;
    clearTimeout(timer);
  }
}
