// A relay on loopback that counts round trips: how many times, at most, a client had to wait for
// the server before it could go on. Every byte is delivered after half the round trip in each
// direction, in order (one timer per direction), and each chunk gets a depth: a chunk from the
// client is one deeper than the deepest server chunk the client had already received, a chunk
// from the server as deep as the deepest client chunk the server had received. The deepest server
// chunk the client has received is the number of round trips so far (the TCP handshake not
// counted: it is the same one for every client). With a delay well above the two ends' processing
// times, a chunk cannot look caused by one it did not wait for, so the count is exact.

import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface RoundTripRelay {
  host: string;
  port: number;
  /** Per relayed connection, in the order accepted: round trips completed so far. */
  rounds(): number[];
  close(): Promise<void>;
}

/** One direction: a FIFO of chunks with their delivery times and depths, one timer for the head. */
class Lane {
  private readonly queue: { at: number; data: Buffer | null; depth: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The deepest chunk delivered so far. */
  delivered = 0;

  constructor(
    private readonly to: net.Socket,
    private readonly halfMs: number,
  ) {}

  push(data: Buffer | null, depth: number): void {
    this.queue.push({ at: performance.now() + this.halfMs, data, depth });
    this.arm();
  }

  private arm(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        const due = performance.now() + 0.5;
        while (this.queue.length && this.queue[0]!.at <= due) {
          const item = this.queue.shift()!;
          this.delivered = Math.max(this.delivered, item.depth);
          if (this.to.destroyed) continue;
          if (item.data) this.to.write(item.data);
          else this.to.end();
        }
        this.arm();
      },
      Math.max(0, this.queue[0]!.at - performance.now()),
    );
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

export async function startRoundTripRelay(opts: {
  target: { host: string; port: number };
  rttMs: number;
}): Promise<RoundTripRelay> {
  const half = opts.rttMs / 2;
  const conns: { up: Lane; down: Lane; sockets: net.Socket[] }[] = [];
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect(opts.target);
    upstream.setNoDelay(true);
    const up = new Lane(upstream, half);
    const down = new Lane(client, half);
    conns.push({ up, down, sockets: [client, upstream] });
    client.on('data', (d: Buffer) => up.push(d, down.delivered + 1));
    upstream.on('data', (d: Buffer) => down.push(d, up.delivered));
    client.on('end', () => up.push(null, 0));
    upstream.on('end', () => down.push(null, 0));
    const kill = () => {
      up.stop();
      down.stop();
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => setTimeout(kill, opts.rttMs));
    upstream.on('close', () => setTimeout(kill, opts.rttMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    rounds: () => conns.map((c) => c.down.delivered),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) {
          c.up.stop();
          c.down.stop();
          for (const s of c.sockets) s.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
