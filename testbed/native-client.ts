// A test client for the native host: spawns `node dist/native-host/messaging/host-main.js` as a browser does
// and speaks the framing on its stdio. Every message the host sends is kept, in order; any byte on
// stdout that is not a well-formed frame is recorded in `badOutput` (the host must never do that).

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFrame, FrameDecoder } from '../native-host/messaging/framing.js';
import {
  parseHostMessage,
  type HostMessage,
  type Prompt,
  type Response,
  type TunnelStatus,
} from '../shared/protocol.js';

export const HOST_MAIN = fileURLToPath(new URL('../native-host/messaging/host-main.js', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NativeClient {
  proc: ChildProcess;
  /** Every message received, in order. */
  messages: HostMessage[];
  /** Problems with what the host wrote on stdout (must stay empty). */
  badOutput: string[];
  /** The folder holding the host's HOME and log (removed by close()). */
  home: string;
  logFile: string;
  stderr(): string;
  /** Sends a request with a fresh id and resolves with its response. */
  request(type: string, fields?: Record<string, unknown>, timeoutMs?: number): Promise<Response>;
  /** Sends any value as one frame. */
  send(value: unknown): void;
  sendBytes(bytes: Buffer): Promise<void>;
  /** The first message (from index `from`) matching `pred`, waiting up to timeoutMs. */
  waitFor<T extends HostMessage>(pred: (m: HostMessage) => m is T, timeoutMs?: number, from?: number): Promise<T>;
  waitFor(pred: (m: HostMessage) => boolean, timeoutMs?: number, from?: number): Promise<HostMessage>;
  waitForStatus(pred: (s: TunnelStatus) => boolean, timeoutMs?: number, from?: number): Promise<TunnelStatus>;
  waitForPrompt(timeoutMs?: number, from?: number): Promise<Prompt>;
  /** Closes stdin (what a browser does) and waits for the exit. */
  end(timeoutMs?: number): Promise<Exit>;
  exited: Promise<Exit>;
  /** Kills the host if still running and removes its folder. */
  close(): Promise<void>;
}

export function startHost(opts: { env?: NodeJS.ProcessEnv } = {}): NativeClient {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-host-'));
  const stateDir = path.join(home, 'state');
  const proc = spawn(process.execPath, [HOST_MAIN, 'chrome-extension://test/'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, HOME: home, XDG_STATE_HOME: stateDir, SSH_AUTH_SOCK: '', ...opts.env },
  });
  const messages: HostMessage[] = [];
  const badOutput: string[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  let nextId = 1;
  const decoder = new FrameDecoder();
  proc.stdout!.on('data', (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) {
      if (f.kind !== 'message') {
        badOutput.push(f.kind === 'bad' ? f.error : `oversized frame of ${f.bytes} bytes`);
        continue;
      }
      const p = parseHostMessage(f.value);
      if (!p.ok) badOutput.push(`${p.error}: ${JSON.stringify(f.value).slice(0, 300)}`);
      else messages.push(p.value);
    }
    for (const w of [...waiters]) w();
  });
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  proc.stdin!.on('error', () => {}); // the host may be gone when a test writes
  const exited = new Promise<Exit>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => {
    for (const w of [...waiters]) w();
  });

  function waitFor(pred: (m: HostMessage) => boolean, timeoutMs = 15_000, from = 0): Promise<HostMessage> {
    return new Promise((resolve, reject) => {
      let done = false;
      const check = () => {
        if (done) return;
        const hit = messages.slice(from).find(pred);
        if (hit) {
          done = true;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hit);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          done = true;
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`host exited before the expected message; stderr:\n${err.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        done = true;
        waiters.delete(check);
        reject(
          new Error(
            `no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages.slice(from)).slice(-2000)}\nstderr:\n${err.slice(-3000)}`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  const client: NativeClient = {
    proc,
    messages,
    badOutput,
    home,
    logFile: path.join(stateDir, 'g5k-tunnel', 'host.log'),
    stderr: () => err,
    send(value) {
      proc.stdin!.write(encodeFrame(value));
    },
    sendBytes(bytes) {
      return new Promise((resolve, reject) => proc.stdin!.write(bytes, (e) => (e ? reject(e) : resolve())));
    },
    async request(type, fields = {}, timeoutMs = 15_000) {
      const id = nextId++;
      client.send({ type, id, ...fields });
      return (await waitFor((m) => m.type === 'response' && m.id === id, timeoutMs)) as Response;
    },
    waitFor: waitFor as NativeClient['waitFor'],
    async waitForStatus(pred, timeoutMs, from) {
      const m = await waitFor((x) => x.type === 'status' && pred(x.status), timeoutMs, from);
      return (m as { status: TunnelStatus }).status;
    },
    async waitForPrompt(timeoutMs, from) {
      const m = await waitFor((x) => x.type === 'prompt', timeoutMs, from);
      return (m as { prompt: Prompt }).prompt;
    },
    async end(timeoutMs = 5_000) {
      proc.stdin!.end();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`host still running ${timeoutMs} ms after stdin closed`)), timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    exited,
    async close() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  return client;
}

/** Reads VmRSS of a process in KiB (Linux). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
