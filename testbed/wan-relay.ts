// A stand-in for a wide-area path (netem is not available here): a TCP relay on loopback that
// delivers every byte after half the round trip in each direction, in order, through an optional
// bottleneck rate, with an unbounded queue (so only the protocols' own flow control limits what is
// in flight). It can also cut the path silently — deliver nothing, close nothing, as a laptop that
// sleeps or changes Wi-Fi — and restore it, after which the held bytes flow on in order, as TCP's
// retransmissions would deliver them.
//
// One FIFO queue and ONE timer per direction: a setTimeout per chunk would reorder data (Node
// groups timers by duration and rounds to whole milliseconds), which breaks an SSH stream's MAC.
//
// Round trips are counted as the longest causal chain of crossings (Lamport's happened-before): a
// chunk read from one side is one crossing more than the longest chain already delivered to that
// side, since it may answer any of it; the TCP handshake counts as the first round trip (the SYN,
// delivered to the target on accept, and the SYN-ACK). What the client has been delivered, halved,
// is the number of round trips it can have waited for: pipelined messages sent together add none,
// a message sent after an answer arrived counts even if it did not depend on it (an upper bound).
//
// As a program (its own event loop, so that it never slows the process being measured):
//   node dist/testbed/wan-relay.js HOST:PORT RTT_MS [RATE_MBIT]
// prints `{"port":N}` once listening; SIGUSR1 cuts, SIGUSR2 restores; exits on SIGTERM or stdin EOF.
// A line `trips EPOCH_MS` on stdin is answered with one JSON line: the connections and their round
// trips up to that time (see roundTrips()).

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

interface WanRelayOptions {
  /** Where every accepted connection is relayed to. */
  target: { host: string; port: number };
  /** Round-trip time added by the path, in ms (half each way). */
  rttMs: number;
  /** Bottleneck rate in Mbit/s, each direction; absent = no limit but the machine's. */
  rateMbit?: number;
}

interface WanRelayStats {
  connections: number;
  /** Bytes delivered towards the target, and back towards the client. */
  bytesUp: number;
  bytesDown: number;
  /** Bytes read but not delivered yet, both directions. */
  queued: number;
}

/** One connection's round trips as its client saw them, by a given time. */
interface ConnectionTrips {
  /** When the relay accepted it (ms since the epoch, performance.timeOrigin + now(), as in every process). */
  acceptedAt: number;
  /** Round trips completed for the client, the TCP handshake included (0 before it completed). */
  roundTrips: number;
}

export interface WanRelay {
  host: string;
  port: number;
  /** Stops delivering in both directions on every connection (new ones included); closes nothing. */
  cut(): void;
  /** Delivers again: what was held leaves at once, in order, then the path works as before. */
  restore(): void;
  readonly isCut: boolean;
  stats(): WanRelayStats;
  /** Every connection accepted so far (closed ones too, the last 256) and its round trips by `atMs` (epoch ms; default now). */
  roundTrips(atMs?: number): ConnectionTrips[];
  /** Stops listening and destroys every relayed connection. */
  close(): Promise<void>;
}

type Item = { at: number; data: Buffer; hop: number } | { at: number; end: 'end' | 'reset' };

const epochNow = () => performance.timeOrigin + performance.now();

/** The causal chains of one connection (see the head of this file). */
class Chains {
  /** The longest chain delivered to the target (the SYN) and to the client (the SYN-ACK). */
  toServer = 1;
  toClient = 2;
  /** [epoch ms, hop] each time the chain delivered to the client grew. */
  readonly log: [number, number][];
  constructor(readonly acceptedAt: number) {
    // the SYN-ACK reaches the client one round trip after its SYN
    this.log = [[acceptedAt, 2]];
  }
  deliveredToClient(hop: number): void {
    if (hop <= this.toClient) return;
    this.toClient = hop;
    this.log.push([epochNow(), hop]);
  }
  deliveredToServer(hop: number): void {
    if (hop > this.toServer) this.toServer = hop;
  }
  tripsAt(atMs: number): number {
    let hop = 0;
    for (const [t, h] of this.log) if (t <= atMs) hop = h;
    return Math.floor(hop / 2);
  }
}

/**
 * One direction of one connection: a FIFO of chunks with their delivery times (never decreasing,
 * so the queue stays sorted) and a single timer for the head.
 */
class Lane {
  private readonly queue: Item[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  /** When the bottleneck finishes sending what it has been given. */
  private busyUntil = 0;
  private lastAt = 0;
  queued = 0;
  delivered = 0;

  constructor(
    private readonly to: net.Socket,
    private readonly halfRttMs: number,
    private readonly bytesPerMs: number | null,
    /** Nothing leaves before this time (the TCP handshake: a client sends only once connected). */
    private readonly notBefore: number,
    private readonly isCut: () => boolean,
    private readonly onDelivered: (n: number, hop: number) => void,
  ) {}

  /** `hop`: the crossing this chunk is on its longest causal chain. */
  push(data: Buffer, hop: number): void {
    const now = Math.max(performance.now(), this.notBefore);
    let leaves = now;
    if (this.bytesPerMs) {
      this.busyUntil = Math.max(this.busyUntil, now) + data.length / this.bytesPerMs;
      leaves = this.busyUntil;
    }
    this.add({ at: leaves + this.halfRttMs, data, hop });
    this.queued += data.length;
  }

  /** The sender finished ('end') or failed ('reset'): passed on after the data before it. */
  finish(how: 'end' | 'reset'): void {
    const now = Math.max(performance.now(), this.notBefore, this.busyUntil);
    this.add({ at: now + this.halfRttMs, end: how });
  }

  private add(item: Item): void {
    item.at = Math.max(item.at, this.lastAt);
    this.lastAt = item.at;
    this.queue.push(item);
    this.arm();
  }

  /** Arms the one timer for the head of the queue, unless armed, cut or empty. */
  arm(): void {
    if (this.timer || this.isCut() || this.head >= this.queue.length) return;
    const wait = Math.max(0, this.queue[this.head]!.at - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.deliver();
    }, wait);
  }

  private deliver(): void {
    if (this.isCut()) return;
    // timers fire on whole milliseconds: anything due within the next half millisecond goes now
    const due = performance.now() + 0.5;
    while (this.head < this.queue.length && this.queue[this.head]!.at <= due) {
      const item = this.queue[this.head++]!;
      if ('data' in item) {
        this.queued -= item.data.length;
        this.delivered += item.data.length;
        this.onDelivered(item.data.length, item.hop);
        if (!this.to.destroyed) this.to.write(item.data);
      } else if (item.end === 'end') this.to.end();
      else if (!this.to.destroyed) this.to.resetAndDestroy();
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export async function startWanRelay(opts: WanRelayOptions): Promise<WanRelay> {
  if (!(opts.rttMs >= 0)) throw new Error(`rttMs must be >= 0, not ${opts.rttMs}`);
  if (opts.rateMbit !== undefined && !(opts.rateMbit > 0)) throw new Error(`rateMbit must be > 0`);
  const half = opts.rttMs / 2;
  const bytesPerMs = opts.rateMbit ? (opts.rateMbit * 1e6) / 8 / 1000 : null;
  let cut = false;
  const isCut = () => cut;
  const lanes = new Set<Lane>();
  const sockets = new Set<net.Socket>();
  const totals = { connections: 0, bytesUp: 0, bytesDown: 0 };
  const chains: Chains[] = [];

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    totals.connections++;
    const accepted = performance.now();
    const chain = new Chains(performance.timeOrigin + accepted);
    chains.push(chain);
    if (chains.length > 256) chains.shift();
    const upstream = net.connect({ host: opts.target.host, port: opts.target.port, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('error', () => {});
    }
    // The server's first bytes reach the client one round trip after its connect (SYN, SYN-ACK);
    // the client's first bytes leave only then.
    const up = new Lane(upstream, half, bytesPerMs, accepted + opts.rttMs, isCut, (n, hop) => {
      totals.bytesUp += n;
      chain.deliveredToServer(hop);
    });
    const down = new Lane(client, half, bytesPerMs, accepted, isCut, (n, hop) => {
      totals.bytesDown += n;
      chain.deliveredToClient(hop);
    });
    lanes.add(up);
    lanes.add(down);
    const wire = (from: net.Socket, lane: Lane) => {
      // a chunk may answer anything delivered to its sender before it was read
      const hopOf = from === client ? () => chain.toClient + 1 : () => chain.toServer + 1;
      from.on('data', (d: Buffer) => lane.push(d, hopOf()));
      from.on('end', () => lane.finish('end'));
      from.on('close', () => {
        if (!from.readableEnded) lane.finish('reset');
      });
    };
    wire(client, up);
    wire(upstream, down);
    let closedCount = 0;
    const onClose = () => {
      if (++closedCount < 2) return;
      up.stop();
      down.stop();
      lanes.delete(up);
      lanes.delete(down);
    };
    for (const s of [client, upstream]) {
      s.once('close', () => {
        sockets.delete(s);
        onClose();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address() as net.AddressInfo;

  return {
    host: addr.address,
    port: addr.port,
    cut() {
      cut = true;
      for (const l of lanes) l.stop();
    },
    restore() {
      cut = false;
      for (const l of lanes) l.arm();
    },
    get isCut() {
      return cut;
    },
    stats() {
      let queued = 0;
      for (const l of lanes) queued += l.queued;
      return { ...totals, queued };
    },
    roundTrips(atMs = epochNow()) {
      return chains.map((c) => ({ acceptedAt: c.acceptedAt, roundTrips: c.tripsAt(atMs) }));
    },
    async close() {
      for (const l of lanes) l.stop();
      const stopped = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await stopped;
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [target, rtt, rate] = process.argv.slice(2);
  const m = /^(.+):(\d+)$/.exec(target ?? '');
  if (!m || !rtt) {
    process.stderr.write('usage: wan-relay HOST:PORT RTT_MS [RATE_MBIT]\n');
    process.exit(2);
  }
  const relay = await startWanRelay({
    target: { host: m[1]!, port: Number(m[2]) },
    rttMs: Number(rtt),
    ...(rate ? { rateMbit: Number(rate) } : {}),
  });
  process.stdout.write(`${JSON.stringify({ port: relay.port })}\n`);
  process.on('SIGUSR1', () => relay.cut());
  process.on('SIGUSR2', () => relay.restore());
  const stop = () => void relay.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
  let pending = '';
  process.stdin.on('data', (d: Buffer) => {
    pending += d.toString();
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
      const [cmd, at] = pending.slice(0, i).trim().split(' ');
      pending = pending.slice(i + 1);
      if (cmd === 'trips') process.stdout.write(`${JSON.stringify(relay.roundTrips(at ? Number(at) : undefined))}\n`);
    }
  });
}
