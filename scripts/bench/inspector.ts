// A small client for the V8 inspector of a Node endpoint started with `--inspect=127.0.0.1:0`: the
// profiler can then start after the warm-up and stop after one phase, so that a profile holds that
// phase only (no start-up, no module loading), and the process can be asked about its memory.

import WebSocket from 'ws';
import type { CpuProfile } from './cpuprofile.js';

type Result = Record<string, unknown>;

/** Waits for Node's "Debugger listening on ws://…" line in a growing stderr text. */
export async function inspectorUrl(stderr: () => string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(stderr());
    if (m) return m[1]!;
    if (Date.now() > deadline) throw new Error(`no inspector address on stderr:\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void }>();
  readonly scripts: string[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString()) as {
        id?: number;
        result?: Result;
        error?: { message: string };
        method?: string;
        params?: Result;
      };
      if (msg.method === 'Debugger.scriptParsed' && typeof msg.params?.url === 'string' && msg.params.url)
        this.scripts.push(msg.params.url);
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result ?? {});
    });
    ws.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('the inspector closed'));
      this.pending.clear();
    });
  }

  static async connect(url: string): Promise<Inspector> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }

  send(method: string, params: Result = {}, timeoutMs = 60_000): Promise<Result> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`inspector: no answer to ${method}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Evaluates an expression in the process and returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as {
      result?: { value?: T };
      exceptionDetails?: { text: string };
    };
    if (r.exceptionDetails) throw new Error(`inspector: ${r.exceptionDetails.text}`);
    return r.result?.value as T;
  }

  async startProfile(intervalUs: number): Promise<void> {
    await this.send('Profiler.enable');
    await this.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.send('Profiler.start');
  }

  async stopProfile(): Promise<CpuProfile> {
    const r = (await this.send('Profiler.stop')) as { profile: CpuProfile };
    return r.profile;
  }

  /** Every script the process has compiled so far (the Debugger domain replays them on enable). */
  async loadedScripts(): Promise<string[]> {
    this.scripts.length = 0;
    await this.send('Debugger.enable');
    await new Promise((r) => setTimeout(r, 200));
    await this.send('Debugger.disable');
    return [...new Set(this.scripts)];
  }

  close(): void {
    this.ws.close();
  }
}
