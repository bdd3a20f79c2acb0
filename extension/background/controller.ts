// The background's state: settings and mode (from storage), a mirror of the host's status, and the
// browser concerns around it (routing, host problems, what the browser changed behind our back). Nothing here survives a
// worker restart on purpose: everything is rebuilt from storage and from the host.

import { makeError } from '../../shared/errors.js';
import { parseRules, type Rule } from '../../shared/patterns.js';
import type { HostEvent, Mode, Prompt, ProtocolError, ProxyAuth, TunnelStatus } from '../../shared/protocol.js';
import { activeProfile, defaultSettings, toTunnelConfig, type Settings } from '../../shared/settings.js';
import type { HostProblem } from '../lib/host-problem.js';
import { gatewayLabel, type View } from '../lib/messages.js';
import { RequestError } from '../lib/pending.js';
import { proxyEndpoint } from './endpoint.js';
import { NativeClient, type RequestBody } from './native-client.js';
import { NO_PROBLEMS, type BrowserChecks, type ProxyAdapter, type ProxyEndpoint, type Routing } from './proxy.js';
import { loadMode, readSettings, saveMode } from './settings-store.js';

type Listener = (v: View) => void;

export class Controller {
  private settings: Settings = defaultSettings();
  private rules: Rule[] = [];
  private mode: Mode = 'off';
  private status: TunnelStatus | null = null;
  /** This host session's proxy credentials (from hello), in memory only. */
  private proxyAuth: ProxyAuth | null = null;
  /** The endpoint the browser routes to now, to re-route only when it changes. */
  private routedTo = '';
  private prompt: Prompt | null = null;
  private problem: HostProblem | null = null;
  private requestError: ProtocolError | null = null;
  private checks: BrowserChecks = NO_PROBLEMS;
  private proxy: ProxyAdapter | null = null;
  private readonly listeners = new Set<Listener>();
  private queue: Promise<unknown> = Promise.resolve();
  private routingQueue: Promise<void> = Promise.resolve();
  private isLoaded = false;
  /** What the connected host can do (its hello). */
  private capabilities: string[] = [];
  /** Settles once settings and mode are loaded: the proxy listener waits for it. */
  readonly loaded: Promise<void>;
  readonly client: NativeClient;

  constructor(clientName: string) {
    this.client = new NativeClient(
      {
        ready: (hello, proxy) => {
          this.capabilities = hello.capabilities;
          if (!proxy) console.warn('g5k-tunnel: the native host gave no proxy credentials: update it');
          this.proxyAuth = proxy;
          return this.enqueue(() => this.pushConfig(true));
        },
        event: (e) => this.hostEvent(e),
        problem: (p) => {
          this.problem = p;
          if (p) {
            // a new host process starts from scratch, with other credentials and another port
            this.status = null;
            this.proxyAuth = null;
            this.routeIfMoved();
          }
          this.notify();
        },
      },
      clientName,
    );
    this.loaded = this.load();
  }

  /** Starts talking to the host; `proxy` routes as the settings say. */
  start(proxy: ProxyAdapter): void {
    this.proxy = proxy;
    void this.loaded.then(() => this.applyRouting());
    void this.refreshBrowserChecks();
    this.client.connect();
  }

  async routing(): Promise<Routing> {
    await this.loaded;
    return { mode: this.mode, rules: this.rules, proxy: this.endpoint() };
  }

  /** The host's own listener and credentials, or null: then nothing may be sent to any port. */
  private endpoint(): ProxyEndpoint | null {
    return this.problem ? null : proxyEndpoint(this.status, this.proxyAuth);
  }

  /** Routes again when the endpoint changed (the listener opened, moved, closed, or the host left). */
  private routeIfMoved(): void {
    const e = this.endpoint();
    const key = e ? `${e.port}:${e.username}` : '';
    if (key === this.routedTo) return;
    this.routedTo = key;
    if (this.isLoaded) void this.applyRouting();
  }

  /** Resolves when the host's SOCKS listener is up, cannot be (host away, error), or after `timeoutMs`. */
  listenerUp(timeoutMs: number): Promise<void> {
    // a tunnel in error (its port held by another program, say) opens no listener until the user acts
    const up = () =>
      this.problem !== null || this.mode === 'off' || !!this.status?.socks || this.status?.state === 'error';
    if (up()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const check = () => up() && done();
      const timer = setTimeout(done, timeoutMs);
      this.listeners.add(check);
    });
  }

  view(): View {
    const p = activeProfile(this.settings);
    return {
      mode: this.mode,
      status: this.status,
      hostProblem: this.problem,
      ...this.checks,
      prompt: this.prompt,
      requestError: this.requestError,
      gateway: gatewayLabel(p),
      jumps: [...p.jumps],
    };
  }

  /** Calls `fn` with the View now and on every change, once the settings are loaded (never a guess). */
  subscribe(fn: Listener): () => void {
    let active = true;
    void this.loaded.then(() => {
      if (!active) return;
      this.listeners.add(fn);
      fn(this.view());
    });
    return () => {
      active = false;
      this.listeners.delete(fn);
    };
  }

  async setMode(mode: Mode): Promise<View> {
    await this.loaded;
    this.mode = mode;
    this.requestError = null;
    await saveMode(mode);
    await this.applyRouting();
    this.notify();
    // the mode as it is when the job runs: after quick changes the host ends in the last one
    if (this.client.isReady) await this.enqueue(() => this.send('set-mode', { mode: this.mode }));
    return this.view();
  }

  /** storage.local changed: take the new settings, route by them and tell the host. */
  async settingsChanged(): Promise<void> {
    try {
      await this.loadSettings();
    } catch (e) {
      console.error(`g5k-tunnel: settings unreadable, keeping the previous ones: ${String(e)}`);
      return;
    }
    await this.applyRouting();
    this.notify();
    if (this.client.isReady) await this.enqueue(() => this.pushConfig(false));
  }

  /** Tries again now: the native host if it is away, else the tunnel. */
  async retry(): Promise<View> {
    if (this.problem) {
      this.client.reconnectNow();
      return this.view();
    }
    this.requestError = null;
    await this.enqueue(() => this.send('retry', {}));
    return this.view();
  }

  /**
   * The browser saw the network come back: a reconnecting tunnel should try now rather than wait out
   * its backoff. A hint, not a user action: failures only go to the console.
   */
  async networkChanged(): Promise<void> {
    if (!this.client.isReady || this.status?.state !== 'reconnecting') return;
    if (!this.capabilities.includes('network-changed')) return; // an older host
    try {
      this.setStatus(await this.client.request('network-changed', {}));
    } catch (e) {
      console.warn(`g5k-tunnel: network-changed: ${e instanceof RequestError ? e.error.message : String(e)}`);
    }
  }

  async answer(promptId: string, value: string | boolean | null): Promise<void> {
    if (this.prompt?.id === promptId) this.prompt = null;
    this.notify();
    await this.client.request('answer', { promptId, value });
  }

  /** A page opened: look again at what may have changed behind our back. */
  pageOpened(): void {
    if (this.problem) this.client.reconnectNow();
    void this.refreshBrowserChecks();
  }

  /** What the browser may have changed behind our back (see BrowserChecks). */
  async refreshBrowserChecks(): Promise<void> {
    const checks = (await this.proxy?.checks().catch(() => null)) ?? NO_PROBLEMS;
    if (JSON.stringify(checks) === JSON.stringify(this.checks)) return;
    this.checks = checks;
    this.notify();
  }

  // ---------- internals ----------

  /** Settings, then the mode kept for this browser session (else the start-up mode). Never throws. */
  private async load(): Promise<void> {
    try {
      await this.loadSettings();
    } catch (e) {
      console.error(`g5k-tunnel: settings unreadable, using defaults: ${String(e)}`);
    }
    this.mode = await loadMode(this.settings.startupMode).catch(() => this.settings.startupMode);
    this.isLoaded = true;
  }

  private async loadSettings(): Promise<void> {
    const { settings, warnings } = await readSettings();
    // the options page shows these to the user; here they only go to the console
    for (const w of warnings) console.warn(`g5k-tunnel: settings: ${w}`);
    this.settings = settings;
    this.rules = parseRules(activeProfile(settings).patterns).rules;
  }

  /** One at a time, each with the routing of the moment it runs: the last change always wins. */
  private applyRouting(): Promise<void> {
    const run = this.routingQueue.then(async () => {
      try {
        await this.proxy?.apply(await this.routing());
      } catch (e) {
        console.error(`g5k-tunnel: could not set the proxy: ${String(e)}`);
      }
    });
    this.routingQueue = run;
    return run;
  }

  /** configure, then (on a fresh host) set-mode: the host starts in mode off. */
  private async pushConfig(withMode: boolean): Promise<void> {
    await this.loaded;
    await this.send('configure', { config: toTunnelConfig(activeProfile(this.settings)) });
    if (withMode) await this.send('set-mode', { mode: this.mode });
  }

  /** A request whose answer is the host's status; a refusal is kept for the pages to show. */
  private async send<T extends 'configure' | 'set-mode' | 'retry'>(type: T, body: RequestBody<T>): Promise<void> {
    try {
      const status = await this.client.request(type, body);
      this.requestError = null;
      this.setStatus(status as TunnelStatus);
    } catch (e) {
      const error = e instanceof RequestError ? e.error : makeError('INTERNAL', String(e));
      // a lost port is reported as a host problem already
      if (!error.code.startsWith('HOST_')) this.requestError = error;
      this.notify();
    }
  }

  private hostEvent(e: HostEvent): void {
    if (e.type === 'prompt') {
      this.prompt = e.prompt;
      this.notify();
    } else this.setStatus(e.status);
  }

  private setStatus(s: TunnelStatus): void {
    this.status = s;
    // the host puts its pending question, if any, in every status
    this.prompt = s.prompt ?? null;
    this.routeIfMoved();
    this.notify();
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => {});
    return next;
  }

  private notify(): void {
    if (!this.isLoaded) return; // subscribers get their first View once loaded
    const v = this.view();
    for (const fn of [...this.listeners]) {
      try {
        fn(v);
      } catch (e) {
        console.error(e);
      }
    }
  }
}
