// Opens the tunnel's SSH connections as the settings say: the route (settings, ~/.ssh/config, -o),
// one key cache for the tunnel's life (so a passphrase is asked once), and the user's questions.
// Also runs connection tests, which stop after the login.

import { makeError } from '../../shared/errors.js';
import type { Stage, StageTiming, TestResult, TunnelConfig } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { KeyCache } from '../ssh/key-cache.js';
import { ConnectError, openConnection, type Interaction, type SshConnection } from '../ssh/connect.js';
import type { Route } from '../ssh/route.js';
import { errorOf, type RouteSources, routeOf } from './config.js';

interface DialHooks {
  /** Filled with each stage's duration as the connection goes. */
  timings: StageTiming[];
  /** The route is resolved (before any network). */
  onRoute?(route: Route): void;
  onStage?(stage: Stage): void;
}

export class Dialer {
  private readonly keys = new KeyCache();
  /** Connection tests in flight, cancelled by cancelTests(). */
  private readonly tests = new Set<AbortController>();

  constructor(
    private readonly sources: RouteSources,
    private readonly interaction: Interaction,
    private readonly log: Logger,
  ) {}

  /** One SSH connection ready for channels. A route that cannot be resolved rejects (RouteError). */
  async open(config: TunnelConfig, signal: AbortSignal, h: DialHooks): Promise<SshConnection> {
    const route = routeOf(config, this.sources, this.log);
    h.onRoute?.(route);
    return openConnection(route.hops, {
      interaction: this.interaction,
      keys: this.keys,
      log: this.log,
      signal,
      timings: h.timings,
      ...(h.onStage ? { onStage: h.onStage } : {}),
    });
  }

  /**
   * Connects and logs in, then closes. Failures reject with an Error carrying `protocolError` and
   * the `timings` so far. `refuse` (the tunnel is closed) fails at once, the same way.
   */
  async test(config: TunnelConfig, refuse: boolean): Promise<TestResult> {
    const timings: StageTiming[] = [];
    const ac = new AbortController();
    this.tests.add(ac);
    try {
      if (refuse) throw new ConnectError(makeError('INTERNAL', 'the tunnel is closed'), true);
      const route = routeOf(config, this.sources, this.log);
      const conn = await openConnection(route.hops, {
        interaction: this.interaction,
        keys: this.keys,
        log: this.log,
        authOnly: true,
        signal: ac.signal,
        timings,
      });
      conn.close();
      return { timings, ...(conn.serverBanner ? { serverBanner: conn.serverBanner } : {}) };
    } catch (err) {
      const { error } = errorOf(err);
      throw Object.assign(new Error(error.detail ? `${error.message} ${error.detail}` : error.message), {
        protocolError: error,
        timings,
      });
    } finally {
      this.tests.delete(ac);
    }
  }

  cancelTests(): void {
    for (const t of this.tests) t.abort();
  }
}
