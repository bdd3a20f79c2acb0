// The tunnel's SOCKS listener over its life: opened and closed with the mode (and reopened on a
// new port), with byte counters that add up across reopenings and a poll that reports when they move.

import type { ProtocolError } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import {
  type Connector,
  type SocksTarget,
  listenSocks,
  type ProxyCredentials,
  type SocksServer,
} from '../socks/listener.js';
import { listenError } from './config.js';

interface SocksSlotOptions {
  host: string;
  connect: Connector;
  allow(dest: SocksTarget): boolean;
  /** When set, clients must give them (SOCKS5 username/password, or HTTP proxy Basic). */
  credentials?: ProxyCredentials;
  log: Logger;
  /** The byte counters moved (polled each second). */
  counters(): void;
}

export class SocksSlot {
  private server: SocksServer | null = null;
  /** Bytes of listeners closed before. */
  private readonly base = { up: 0, down: 0 };
  private statsTimer: NodeJS.Timeout | null = null;
  private lastBytes = -1;

  constructor(private readonly o: SocksSlotOptions) {}

  get address(): { host: string; port: number } | null {
    return this.server ? { host: this.server.host, port: this.server.port } : null;
  }

  bytes(): { up: number; down: number } {
    const s = this.server?.stats();
    return { up: this.base.up + (s?.bytesUp ?? 0), down: this.base.down + (s?.bytesDown ?? 0) };
  }

  /** Listens on `port` (0: a free one) unless already listening; the error when it cannot. */
  async open(port: number): Promise<ProtocolError | null> {
    if (this.server) return null;
    try {
      this.server = await listenSocks({
        host: this.o.host,
        port,
        connect: this.o.connect,
        allow: this.o.allow,
        log: this.o.log,
        ...(this.o.credentials ? { credentials: this.o.credentials } : {}),
      });
      this.statsTimer = setInterval(() => this.poll(), 1000);
      this.statsTimer.unref();
      return null;
    } catch (err) {
      return listenError(err as NodeJS.ErrnoException, `${this.o.host}:${port}`);
    }
  }

  /** Stops listening and drops every client. */
  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    const st = s.stats();
    this.base.up += st.bytesUp;
    this.base.down += st.bytesDown;
    await s.close();
  }

  private poll(): void {
    const s = this.server?.stats();
    const bytes = s ? s.bytesUp + s.bytesDown : 0;
    if (bytes !== this.lastBytes) {
      this.lastBytes = bytes;
      this.o.counters();
    }
  }
}
