// The native-messaging host: frames in on one stream, frames out on another, one Tunnel behind.
// Every request gets exactly one response with its id; tunnel status changes are pushed (at most
// about four a second, the latest always delivered); questions the tunnel asks (passphrase,
// unknown host key) become `prompt` events answered by `answer` requests. Bad input is answered
// with an error and the host goes on serving. See docs/PROTOCOL.md.

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { makeError, type ErrorCode } from '../../shared/errors.js';
import {
  MAX_MESSAGE_BYTES,
  parseRequest,
  PROTOCOL_VERSION,
  type HelloResult,
  type HostMessage,
  type Prompt,
  type ProtocolError,
  type Request,
  type TestResult,
  type TunnelConfig,
  type TunnelStatus,
  type Mode,
} from '../../shared/protocol.js';
import { encodeFrame, FrameDecoder, FrameTooLargeError } from './framing.js';
import { StatusThrottle } from './status-throttle.js';
import type { Logger } from '../log.js';
import type { Interaction, TunnelOptions } from '../tunnel/tunnel.js';
import { makeCredentials, type ProxyCredentials } from '../socks/credentials.js';

/** What the host uses of a Tunnel. */
export interface TunnelLike {
  on(event: 'status', listener: (s: TunnelStatus) => void): unknown;
  status(): TunnelStatus;
  configure(c: TunnelConfig): Promise<TunnelStatus>;
  setMode(m: Mode): Promise<TunnelStatus>;
  retry(): Promise<TunnelStatus>;
  networkChanged?(): Promise<TunnelStatus>;
  testConnection(c: TunnelConfig): Promise<TestResult>;
  close(): Promise<void>;
}

interface HostOptions {
  input: Readable;
  output: Writable;
  log: Logger;
  /** The host's release (package.json version). */
  version: string;
  /** Builds the tunnel; defaults to the real one, loaded on first use so `hello` answers fast. */
  createTunnel?: (o: TunnelOptions) => Promise<TunnelLike>;
  /** Extra Tunnel options (home, env...) for every tunnel the host builds. */
  tunnelOptions?: Partial<TunnelOptions>;
  /** A prompt nobody answers is declined after this long (default 5 minutes). */
  promptTimeoutMs?: number;
  /** Minimum spacing of status pushes (default 250 ms). */
  statusIntervalMs?: number;
}

/** This release's version, from package.json (two levels above the compiled module). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const CAPABILITIES = [
  'status-push',
  'prompt:passphrase',
  'prompt:confirm-host-key',
  'test-connection',
  'auto-mode',
  'jumps',
  'propose-profile',
  'network-changed',
  'proxy-auth',
  'http-proxy',
];

const PROMPT_TIMEOUT_MS = 5 * 60_000;
/** Status pushes at most about four a second: the tunnel itself reports every change. */
const STATUS_INTERVAL_MS = 250;

/** An error that already carries its protocol form. */
class HostError extends Error {
  constructor(readonly protocolError: ProtocolError) {
    super(protocolError.message);
  }
}
const fail = (code: ErrorCode, detail?: string) => new HostError(makeError(code, detail));

/** The protocol form of anything thrown: the tunnel's own ProtocolError when it has one. */
function toProtocolError(err: unknown): ProtocolError {
  const pe = (err as { protocolError?: ProtocolError } | null)?.protocolError;
  if (pe && typeof pe.code === 'string') return pe;
  return makeError('INTERNAL', err instanceof Error ? err.message : String(err));
}

interface Pending {
  prompt: Prompt;
  resolve: (v: string | boolean | null) => void;
  timer: NodeJS.Timeout;
}

/** Emits 'end' when the input ends (the browser closed the port). */
export class NativeHost extends EventEmitter {
  private readonly decoder = new FrameDecoder();
  private tunnel: Promise<TunnelLike> | null = null;
  private current: TunnelLike | null = null;
  private readonly prompts = new Map<string, Pending>();
  private readonly statuses: StatusThrottle;
  private readonly startedAt = Date.now();
  private closed = false;
  /** This session's proxy credentials: in memory only, given to the browser in `hello`, never logged. */
  private readonly credentials: ProxyCredentials = makeCredentials();

  constructor(private readonly o: HostOptions) {
    super();
    this.statuses = new StatusThrottle(
      () => this.send({ type: 'status', status: this.status() }),
      o.statusIntervalMs ?? STATUS_INTERVAL_MS,
    );
    o.input.on('data', (chunk: Buffer) => this.receive(chunk));
    o.input.on('end', () => this.emit('end'));
    o.input.on('error', (e) => {
      o.log.warn(`input: ${e.message}`);
      this.emit('end');
    });
    o.output.on('error', (e) => {
      o.log.warn(`output: ${e.message}`);
      this.emit('end');
    });
  }

  /** Declines pending prompts, closes the tunnel; nothing is sent afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.prompts.keys()]) this.settle(id, null);
    this.statuses.stop(); // after the prompts, whose settling asks for one more push
    const t = this.tunnel ? await this.tunnel.catch(() => null) : null;
    await t?.close();
  }

  /** Reports a failure that belongs to no request (an uncaught error). */
  reportError(err: unknown): void {
    this.send({ type: 'response', id: null, ok: false, error: toProtocolError(err) });
  }

  private receive(chunk: Buffer): void {
    for (const f of this.decoder.push(chunk)) {
      if (f.kind === 'oversized') {
        this.o.log.warn(`refused a ${f.bytes}-byte message; skipping it`);
        this.reject(null, 'BAD_FRAME', `message of ${f.bytes} bytes is over the ${MAX_MESSAGE_BYTES}-byte limit`);
      } else if (f.kind === 'bad') {
        this.o.log.warn(`unreadable message: ${f.error}`);
        this.reject(null, 'BAD_FRAME', f.error);
      } else this.dispatch(f.value);
    }
  }

  private dispatch(value: unknown): void {
    const parsed = parseRequest(value);
    if (!parsed.ok) {
      const id = (value as { id?: unknown } | null)?.id;
      const known = typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
      this.o.log.warn(`invalid request: ${parsed.error}`);
      return this.reject(known, 'BAD_MESSAGE', parsed.error);
    }
    const req = parsed.value;
    this.o.log.debug(`request ${req.id} ${req.type}`);
    this.handle(req).then(
      (result) => this.send({ type: 'response', id: req.id, ok: true, result }),
      (err: unknown) => {
        const error = toProtocolError(err);
        if (error.code === 'INTERNAL') this.o.log.error(`${req.type}: ${(err as Error)?.stack ?? String(err)}`);
        this.send({ type: 'response', id: req.id, ok: false, error });
      },
    );
  }

  private reject(id: number | null, code: ErrorCode, detail: string): void {
    this.send({ type: 'response', id, ok: false, error: makeError(code, detail) });
  }

  private async handle(req: Request): Promise<unknown> {
    switch (req.type) {
      case 'hello':
        return this.hello(req.protocol, req.client);
      case 'status':
        return this.status();
      case 'configure':
        return this.configure(req.config);
      case 'set-mode': {
        if (!this.tunnel) {
          if (req.mode === 'off') return this.status();
          throw fail('NOT_CONFIGURED', `set-mode ${req.mode} needs a configure request first`);
        }
        await (await this.tunnel).setMode(req.mode);
        return this.status();
      }
      case 'retry':
        if (!this.tunnel) throw fail('NOT_CONFIGURED', 'retry needs a configure request first');
        await (await this.tunnel).retry();
        return this.status();
      case 'network-changed':
        // a hint, not a command: before any configure there is nothing to reconnect
        if (this.tunnel) await (await this.tunnel).networkChanged?.();
        return this.status();
      case 'test-connection':
        return this.testConnection(req.config);
      case 'answer':
        return this.answer(req.promptId, req.value);
      case 'propose-profile':
        return (await import('../setup/propose-facts.js')).proposeProfile(this.o.tunnelOptions ?? {}, this.o.log);
    }
  }

  private hello(protocol: number, client: string): HelloResult {
    this.o.log.info(`hello from ${client || 'a client'} (protocol ${protocol})`);
    if (protocol !== PROTOCOL_VERSION)
      throw fail(
        'PROTOCOL_MISMATCH',
        `this host (${this.o.version}) speaks protocol ${PROTOCOL_VERSION}, the client ${protocol}`,
      );
    return {
      protocol: PROTOCOL_VERSION,
      version: this.o.version,
      capabilities: CAPABILITIES,
      pid: process.pid,
      proxy: { ...this.credentials },
    };
  }

  private async configure(config: TunnelConfig): Promise<TunnelStatus> {
    this.o.log.info(
      `configure ${config.user ? `${config.user}@` : ''}${config.gateway}${config.port ? `:${config.port}` : ''}, SOCKS port ${config.socksPort}`,
    );
    if (!this.tunnel) {
      // The first configuration builds the tunnel; later ones reconfigure it.
      this.tunnel = this.build(config);
      this.tunnel.catch(() => (this.tunnel = null));
      await this.tunnel;
      return this.status();
    }
    await (await this.tunnel).configure(config);
    return this.status();
  }

  private async build(config: TunnelConfig): Promise<TunnelLike> {
    const t = await this.create(config);
    t.on('status', () => this.statuses.poke());
    this.current = t;
    if (this.closed) await t.close();
    return t;
  }

  private async testConnection(config: TunnelConfig): Promise<TestResult> {
    if (this.tunnel) return (await this.tunnel).testConnection(config);
    // Testing settings before saving them: a throwaway tunnel that never listens.
    const t = await this.create(config);
    try {
      return await t.testConnection(config);
    } finally {
      await t.close();
    }
  }

  private create(config: TunnelConfig): Promise<TunnelLike> {
    const opts: TunnelOptions = {
      ...this.o.tunnelOptions,
      config,
      interaction: this.interaction(),
      log: this.o.log,
      proxyCredentials: this.credentials,
    };
    const create =
      this.o.createTunnel ?? (async (o: TunnelOptions) => new (await import('../tunnel/tunnel.js')).Tunnel(o));
    return create(opts);
  }

  /** The tunnel's status, or "off, not configured", with the pending prompt. */
  status(): TunnelStatus {
    const base: TunnelStatus = this.current?.status() ?? {
      state: 'off',
      mode: 'off',
      gateway: '',
      jumps: [],
      socks: null,
      since: this.startedAt,
      connections: 0,
      channels: 0,
      bytesUp: 0,
      bytesDown: 0,
      timings: [],
    };
    const pending = [...this.prompts.values()].pop();
    const { prompt: _ignored, ...rest } = base;
    return pending ? { ...rest, prompt: pending.prompt } : rest;
  }

  // ---------- prompts ----------

  private interaction(): Interaction {
    return {
      askPassphrase: async (keyFile, attempt) => {
        const v = await this.ask({ kind: 'passphrase', keyFile, attempt });
        return typeof v === 'string' && v !== '' ? v : null;
      },
      confirmHostKey: async (q) => {
        const v = await this.ask({
          kind: 'confirm-host-key',
          host: q.host,
          port: q.port,
          keyType: q.keyType,
          fingerprint: q.fingerprint,
          knownHostsFile: q.knownHostsFile,
        });
        return v === true;
      },
    };
  }

  private ask(p: DistributiveOmit<Prompt, 'id'>): Promise<string | boolean | null> {
    if (this.closed) return Promise.resolve(null);
    const prompt = { ...p, id: randomUUID() } as Prompt;
    this.o.log.info(
      `prompt ${prompt.id}: ${prompt.kind}${prompt.kind === 'passphrase' ? ` for ${prompt.keyFile}` : ` for ${prompt.host}`}`,
    );
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.o.log.warn(`prompt ${prompt.id} was not answered in time: declined`);
        this.settle(prompt.id, null);
      }, this.o.promptTimeoutMs ?? PROMPT_TIMEOUT_MS);
      this.prompts.set(prompt.id, { prompt, resolve, timer });
      this.send({ type: 'prompt', prompt });
      this.statuses.poke();
    });
  }

  private settle(id: string, value: string | boolean | null): boolean {
    const p = this.prompts.get(id);
    if (!p) return false;
    clearTimeout(p.timer);
    this.prompts.delete(id);
    p.resolve(value);
    this.statuses.poke();
    return true;
  }

  private answer(promptId: string, value: string | boolean | null): null {
    const p = this.prompts.get(promptId);
    if (!p) throw fail('PROMPT_UNKNOWN', `no pending prompt ${promptId}`);
    if (p.prompt.kind === 'passphrase' && typeof value === 'boolean')
      throw fail('BAD_MESSAGE', 'the answer to a passphrase prompt is a string, or null to decline');
    if (p.prompt.kind === 'confirm-host-key' && typeof value === 'string')
      throw fail('BAD_MESSAGE', 'the answer to a host key prompt is true or false');
    this.o.log.info(`prompt ${promptId} answered${value === null || value === false ? ' (declined)' : ''}`);
    this.settle(promptId, value);
    return null;
  }

  // ---------- output ----------

  private send(msg: HostMessage): void {
    if (this.closed && msg.type !== 'response') return;
    let frame: Buffer;
    try {
      frame = encodeFrame(msg);
    } catch (e) {
      if (!(e instanceof FrameTooLargeError) || msg.type !== 'response') {
        this.o.log.error(`cannot send a ${msg.type} message: ${(e as Error).message}`);
        return;
      }
      frame = encodeFrame({ type: 'response', id: msg.id, ok: false, error: makeError('INTERNAL', e.message) });
    }
    if (this.o.output.writable) this.o.output.write(frame);
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
