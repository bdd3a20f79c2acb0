// The background's state: settings and mode (from storage), a mirror of the host's status, and the
// browser concerns around it (routing, host problems, proxy conflict). Nothing here survives a
// worker restart on purpose: everything is rebuilt from storage and from the host.

import { makeError } from '../../shared/errors.js';
import { parseRules, type Rule } from '../../shared/patterns.js';
import type { HostEvent, Mode, Prompt, ProtocolError, TunnelStatus } from '../../shared/protocol.js';
import { activeProfile, defaultSettings, toTunnelConfig, type Settings } from '../../shared/settings.js';
import type { HostProblem } from '../lib/host-problem.js';
import { gatewayLabel, type View } from '../lib/messages.js';
import { RequestError } from '../lib/pending.js';
import { NativeClient } from './native-client.js';
import type { ProxyAdapter, Routing } from './proxy.js';
import { loadMode, loadSettings, saveMode } from './settings-store.js';

type Listener = (v: View) => void;

export class Controller {
  private settings: Settings = defaultSettings();
  private rules: Rule[] = [];
  private mode: Mode = 'off';
  private status: TunnelStatus | null = null;
  private prompt: Prompt | null = null;
  private problem: HostProblem | null = null;
  private requestError: ProtocolError | null = null;
  private conflict = false;
  private privateExcluded = false;
  private proxy: ProxyAdapter | null = null;
  private readonly listeners = new Set<Listener>();
  private queue: Promise<unknown> = Promise.resolve();
  private isLoaded = false;
  /** Settles once settings and mode are loaded: the proxy listener waits for it. */
  readonly loaded: Promise<void>;
  readonly client: NativeClient;

  constructor(clientName: string) {
    this.client = new NativeClient(
      {
        ready: () => this.enqueue(() => this.pushConfig(true)),
        event: (e) => this.hostEvent(e),
        problem: (p) => {
          this.problem = p;
          if (p) this.status = null; // a new host process starts from scratch
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
    return { mode: this.mode, rules: this.rules, socksPort: activeProfile(this.settings).socksPort };
  }

  /** Resolves when the host's SOCKS listener is up, the host is unavailable, or after `timeoutMs`. */
  listenerUp(timeoutMs: number): Promise<void> {
    const up = () => this.problem !== null || this.mode === 'off' || !!this.status?.socks;
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
      proxyConflict: this.conflict,
      privateWindowsExcluded: this.privateExcluded,
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
    if (this.client.isReady) await this.enqueue(() => this.send('set-mode', { mode }));
    return this.view();
  }

  /** storage.local changed: take the new settings and tell the host. */
  async settingsChanged(): Promise<void> {
    this.settings = await loadSettings();
    this.rules = parseRules(activeProfile(this.settings).patterns).rules;
    await this.applyRouting();
    this.notify();
    if (this.client.isReady) await this.enqueue(() => this.pushConfig(false));
  }

  async retry(): Promise<View> {
    if (this.problem) {
      this.client.reconnectNow();
      return this.view();
    }
    this.requestError = null;
    await this.enqueue(() => this.send('retry', {}));
    return this.view();
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

  setProxyConflict(conflict: boolean): void {
    if (conflict === this.conflict) return;
    this.conflict = conflict;
    this.notify();
  }

  async refreshBrowserChecks(): Promise<void> {
    const excluded = (await this.proxy?.privateWindowsExcluded().catch(() => false)) ?? false;
    if (excluded !== this.privateExcluded) {
      this.privateExcluded = excluded;
      this.notify();
    }
  }

  // ---------- internals ----------

  private async load(): Promise<void> {
    try {
      await this.loadSettingsAndMode();
    } finally {
      this.isLoaded = true;
    }
  }

  private async loadSettingsAndMode(): Promise<void> {
    try {
      this.settings = await loadSettings();
    } catch (e) {
      console.error(`g5k-tunnel: settings unreadable, using defaults: ${String(e)}`);
    }
    this.rules = parseRules(activeProfile(this.settings).patterns).rules;
    this.mode = await loadMode(this.settings.startupMode).catch(() => this.settings.startupMode);
  }

  private async applyRouting(): Promise<void> {
    try {
      await this.proxy?.apply(await this.routing());
    } catch (e) {
      console.error(`g5k-tunnel: could not set the proxy: ${String(e)}`);
    }
  }

  /** configure, then (on a fresh host) set-mode: the host starts in mode off. */
  private async pushConfig(withMode: boolean): Promise<void> {
    await this.loaded;
    await this.send('configure', { config: toTunnelConfig(activeProfile(this.settings)) });
    if (withMode) await this.send('set-mode', { mode: this.mode });
  }

  private async send(type: 'configure', body: { config: ReturnType<typeof toTunnelConfig> }): Promise<void>;
  private async send(type: 'set-mode', body: { mode: Mode }): Promise<void>;
  private async send(type: 'retry', body: Record<string, never>): Promise<void>;
  private async send(type: 'configure' | 'set-mode' | 'retry', body: object): Promise<void> {
    try {
      const status = await this.client.request(type, body as never);
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
