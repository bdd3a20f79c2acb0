// The one long-lived port to the native host. It keeps the MV3 background alive (both browsers keep a
// worker or event page with an open native port), matches responses to requests by id, and
// reconnects with backoff when the host exits. A closing port is classified into a host problem.

import browser, { type Runtime } from 'webextension-polyfill';
import { backoffDelay, PORT_BACKOFF } from '../../shared/backoff.js';
import { makeError } from '../../shared/errors.js';
import {
  NATIVE_HOST_NAME,
  PROTOCOL_VERSION,
  parseHostMessage,
  parseProxyAuth,
  type HelloResult,
  type ProxyAuth,
  type HostEvent,
  type Request,
  type RequestType,
  type ResultOf,
} from '../../shared/protocol.js';
import {
  checkHello,
  classifyDisconnect,
  describeHostProblem,
  type HostProblem,
  type HostProblemCode,
} from '../lib/host-problem.js';
import { PendingRequests, RequestError } from '../lib/pending.js';

interface NativeClientEvents {
  /** hello succeeded: the host can take requests; `proxy` its proxy credentials (null: it gave none). */
  ready(hello: HelloResult, proxy: ProxyAuth | null): void;
  event(e: HostEvent): void;
  /** null once the host answers again. */
  problem(p: HostProblem | null): void;
}

export type RequestBody<T extends RequestType> = Omit<Extract<Request, { type: T }>, 'type' | 'id'>;

const HELLO_TIMEOUT_MS = 10_000;
/** A port that stayed up this long resets the backoff. */
const STABLE_MS = 10_000;

export class NativeClient {
  private port: Runtime.Port | null = null;
  private readonly pending = new PendingRequests();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private openedAt = 0;
  private ready = false;
  private hello: HelloResult | null = null;

  constructor(
    private readonly events: NativeClientEvents,
    private readonly client: string,
  ) {}

  get isReady(): boolean {
    return this.ready;
  }

  /** What the host said it can do in its hello; empty while it is not ready. */
  get capabilities(): readonly string[] {
    return this.ready ? (this.hello?.capabilities ?? []) : [];
  }

  connect(): void {
    if (this.port) return;
    this.clearTimer();
    this.ready = false;
    this.openedAt = Date.now();
    let port: Runtime.Port;
    try {
      port = browser.runtime.connectNative(NATIVE_HOST_NAME);
    } catch (e) {
      // Firefox throws at once when the permission is missing; Chromium reports through onDisconnect
      this.closed(String((e as Error)?.message ?? e));
      return;
    }
    this.port = port;
    port.onMessage.addListener((raw: unknown) => this.receive(raw));
    port.onDisconnect.addListener((p: Runtime.Port) => {
      if (this.port !== port) return;
      // Firefox: port.error; Chromium: runtime.lastError, readable only inside this callback
      const chromeError = (globalThis as { chrome?: { runtime?: { lastError?: { message?: string } } } }).chrome
        ?.runtime?.lastError?.message;
      this.port = null;
      this.closed(p.error?.message ?? chromeError ?? '');
    });
    void this.handshake(port);
  }

  /** Connects now, forgetting the backoff (the user asked, or a page opened while the host was away). */
  reconnectNow(): void {
    if (this.port) return;
    this.attempt = 0;
    this.connect();
  }

  request<T extends RequestType>(type: T, body: RequestBody<T>, timeoutMs = 15_000): Promise<ResultOf[T]> {
    const port = this.port;
    if (!port || (!this.ready && type !== 'hello'))
      return Promise.reject(new RequestError(makeError('HOST_CRASHED', 'the native host is not connected')));
    const { id, promise } = this.pending.add(type, timeoutMs);
    try {
      port.postMessage({ type, id, ...body });
    } catch (e) {
      this.pending.failAll(makeError('HOST_CRASHED', String(e)));
    }
    return promise as Promise<ResultOf[T]>;
  }

  private async handshake(port: Runtime.Port): Promise<void> {
    let reply: Parameters<typeof checkHello>[0];
    let proxy: ProxyAuth | null = null;
    try {
      const result = await this.rawRequest(port, 'hello', { protocol: PROTOCOL_VERSION, client: this.client });
      proxy = parseProxyAuth((result as { proxy?: unknown } | null)?.proxy);
      reply = { ok: true, result };
    } catch (e) {
      if (!(e instanceof RequestError) || this.port !== port) return; // the port closed: onDisconnect reports
      reply = { ok: false, code: e.code, message: e.message, ...(e.error.detail ? { detail: e.error.detail } : {}) };
    }
    if (this.port !== port) return;
    const checked = checkHello(reply);
    if ('problem' in checked) {
      this.port = null;
      port.disconnect();
      // a host that failed or hung on hello may do better next time: back off and try again
      if (checked.problem === 'HOST_CRASHED') return this.closed(checked.detail, 'HOST_CRASHED');
      // a version problem: talking on would only produce confusing errors; wait for the user's retry
      this.pending.failAll(
        makeError(checked.problem === 'HOST_OUTDATED' ? 'HOST_OUTDATED' : 'PROTOCOL_MISMATCH', checked.detail),
      );
      this.events.problem(describeHostProblem(checked.problem, checked.detail));
      return;
    }
    this.hello = checked.hello;
    this.ready = true;
    this.events.problem(null);
    this.events.ready(checked.hello, proxy);
  }

  private rawRequest<T extends RequestType>(port: Runtime.Port, type: T, body: RequestBody<T>): Promise<unknown> {
    const { id, promise } = this.pending.add(type, HELLO_TIMEOUT_MS);
    port.postMessage({ type, id, ...body });
    return promise;
  }

  private receive(raw: unknown): void {
    const parsed = parseHostMessage(raw);
    if (!parsed.ok) {
      console.warn(`g5k-tunnel: ignored a host message: ${parsed.error}`);
      return;
    }
    const msg = parsed.value;
    if (msg.type === 'response') {
      if (!this.pending.settle(msg) && !msg.ok) console.warn(`g5k-tunnel: host error: ${msg.error.message}`);
      return;
    }
    this.events.event(msg);
  }

  private closed(message: string, code: HostProblemCode = classifyDisconnect(message)): void {
    const wasReady = this.ready;
    this.ready = false;
    const detail = message || (wasReady ? 'the native host exited' : 'the native host exited before answering');
    this.pending.failAll(makeError(code, detail));
    this.events.problem(describeHostProblem(code, detail));
    if (Date.now() - this.openedAt > STABLE_MS) this.attempt = 0;
    const delay = backoffDelay(++this.attempt, PORT_BACKOFF);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
