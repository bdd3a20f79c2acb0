// How a SOCKS CONNECT becomes an SSH channel: refused while the tunnel is off or needs the user,
// else a connection of the pool at once, or a place in the waiting queue (the first CONNECT in Auto
// mode starts SSH); then a direct-tcpip channel, counted on its connection until it closes.

import type { Duplex } from 'node:stream';
import { gatewayName } from '../../shared/g5k-names.js';
import { REPLY, SocksConnectError, type Connector } from '../socks/listener.js';
import { toSocksConnectError } from '../socks/open-failures.js';
import type { SshConnection } from '../ssh/connect.js';
import type { ConnectionPool, PoolEntry } from './pool.js';
import type { WaitingConnects } from './waiting.js';

type Entry = PoolEntry<SshConnection>;

interface ConnectsOwner {
  /** Why CONNECTs fail at once now (the tunnel is off, or in error), or null. */
  refusal(): string | null;
  /** A CONNECT found no connection: start one unless one is on its way. */
  wantConnection(): void;
  /** A CONNECT came in: the tunnel is in use. */
  activity(): void;
  /** How long a CONNECT waits for a connection (user questions aside). */
  waitMs(): number;
}

export class Connects {
  constructor(
    private readonly pool: ConnectionPool<SshConnection>,
    private readonly waiting: WaitingConnects<Entry>,
    private readonly owner: ConnectsOwner,
  ) {}

  /** Opens the channel for one CONNECT (the SOCKS listener's connector). */
  readonly connector: Connector = async (dest, signal) => {
    for (let tries = 0; ; tries++) {
      const entry = await this.acquire(signal);
      let stream: Duplex;
      try {
        stream = await entry.conn.forwardOut(gatewayName(dest.host), dest.port); // x.g5k: x, as the gateway names it
      } catch (err) {
        // the connection died under this request: wait for the next one, once
        if (!entry.conn.isOpen && tries === 0 && !signal.aborted) continue;
        throw toSocksConnectError(err, dest);
      } finally {
        this.pool.release(entry);
      }
      if (signal.aborted || !this.pool.has(entry)) {
        stream.on('error', () => {});
        stream.destroy();
        throw new Error('the request was cancelled');
      }
      this.pool.track(entry, stream);
      return stream;
    }
  };

  /** Hands waiting CONNECTs a connection; while extras are still opening, only up to the burst limit. */
  serveWaiters(): void {
    this.waiting.serve(() => {
      const e = this.pool.pick();
      return e && !this.pool.overloaded(e) ? this.pool.claim(e) : null;
    });
  }

  rejectWaiters(why: string): void {
    this.waiting.rejectAll(() => new SocksConnectError(why, REPLY.GENERAL_FAILURE));
  }

  /**
   * A connection for one CONNECT (its `opening` count taken): at once when there is one, else after
   * (bounded) waiting. In a burst, a CONNECT that would load the least busy connection with twice
   * channelsPerConnection waits for the extra connection being opened instead: otherwise the whole
   * burst lands on the connection that was there first, and one sshd session process (one core)
   * carries it all.
   */
  private acquire(signal: AbortSignal): Promise<Entry> {
    this.owner.activity();
    const refusal = this.owner.refusal();
    if (refusal !== null) return Promise.reject(new SocksConnectError(refusal, REPLY.GENERAL_FAILURE));
    const e = this.pool.pick();
    if (e && !this.pool.overloaded(e)) return Promise.resolve(this.pool.claim(e));
    // bounded: connectTimeoutSec, plus the time the user spends answering a question, up to a hard cap
    const p = this.waiting.wait(signal, this.owner.waitMs());
    if (!e) this.owner.wantConnection(); // Auto: the first CONNECT starts SSH
    return p;
  }
}
