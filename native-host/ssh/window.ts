// Receive-window flow control for the channels we open, sized to the path. ssh2 advertises a fixed
// 2 MiB per channel and tops it up only once half is consumed, so one channel carries at most
// about 1.5 MiB per round trip (≈ 36 MiB/s at 20 ms). Here each channel's window grows while its
// reader keeps up and round trips limit the rate (as TCP's receive-buffer autotuning does, with the
// round trip from SSH pings), up to WINDOW_CAP; once grown it is topped up eagerly (every eighth of
// the window); and the credit granted plus the bytes the reader has not taken never exceed the
// window, so a reader that stops (a SOCKS client that does not read) stops the sender and the
// host's memory stays bounded.
//
// This is the ONE module that touches ssh2 internals (see docs/DECISIONS.md, "Channel windows"):
// the Channel class's `push`/`read`/`_read`, `incoming.window`, `outgoing.{id,state}`,
// `_client._protocol.{channelWindowAdjust,ping}`, `_client._callbacks`, and the way ssh2 1.17's
// CHANNEL_DATA handler calls `push()`. The version and the shape are checked at load and on each
// channel; on any mismatch channels keep ssh2's own window (slower, still correct) and
// `ssh2Internals.problem` says why (a unit test asserts it is null).

import fs from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The exact ssh2 version whose internals this module was written against (pinned in package.json). */
export const SSH2_VERSION = '1.17.0';
/** ssh2's packet size: also the largest data packet it accepts (35000 bytes with headers). */
export const PACKET = 32 * KiB;
/** What ssh2 advertises when it opens a channel: every window starts there. */
export const INITIAL_WINDOW = 2 * MiB;
/**
 * The largest window one channel grows to. The gateway's sshd buffers up to the credit we give from
 * the destination, and its buffer costs more per byte as it grows (copying growth, compaction, a
 * 16 MiB ceiling per channel): measured through a 20 ms stand-in (docs/DECISIONS.md, "Channel
 * windows"), 6 MiB gives about twice `ssh -D`'s rate with a steady sshd; 8 MiB and more make sshd
 * the bottleneck in some runs, and a stalled reader would hold more.
 */
export const WINDOW_CAP = 6 * MiB;

// ---------- the policy: pure, no ssh2 ----------

export interface WindowPolicyOptions {
  /** The window advertised at open. */
  initial: number;
  cap: number;
  /**
   * The path's round trip in ms as measured so far, or undefined (no growth until it is known). An
   * over-estimate makes growth eager where the window is not what limits (a loaded machine once
   * grew loopback channels to the cap, and sshd's larger buffer cost CPU), so it is a minimum of
   * SSH-level pings, not a channel's opening time.
   */
  rttMs: () => number | undefined;
}

/**
 * How much credit to grant, given the window the sender still has and what the reader has not
 * taken; and how large the window should be, from the rate data arrives at.
 */
export class WindowPolicy {
  /** The window the channel aims at: credit outstanding + bytes unread ≤ target ≤ cap. */
  target: number;
  private readonly cap: number;
  private readonly initial: number;
  private readonly rttMs: () => number | undefined;
  private epochStart = -1;
  private epochBytes = 0;

  constructor(opts: WindowPolicyOptions) {
    this.cap = Math.max(opts.cap, opts.initial);
    this.target = opts.initial;
    this.initial = opts.initial;
    this.rttMs = opts.rttMs;
  }

  /**
   * Consumed credit is given back once this much is missing. While the window has not grown (the
   * path does not need more: loopback, a slow path) half of it, as ssh2 does: every WINDOW_ADJUST
   * costs a packet and a system call at both ends (on loopback, an eighth instead of half cost 10 %
   * more CPU per MiB). Once it has grown, round trips limit the rate: an eighth, at least 3 packets,
   * so that nearly the whole window stays in flight.
   */
  get step(): number {
    if (this.target <= this.initial) return Math.floor(this.target / 2);
    return Math.max(3 * PACKET, Math.floor(this.target / 8));
  }

  /**
   * Data arrived. Once per round trip, while the reader keeps up: if more than half the window
   * arrived in that round trip, the window limits the rate, so it grows to twice what arrived.
   */
  received(bytes: number, now: number, unread: number): void {
    const rtt = this.rttMs();
    if (rtt === undefined) return;
    if (this.epochStart < 0) {
      this.epochStart = now;
      return; // the first packet opens the first round trip
    }
    this.epochBytes += bytes;
    const elapsed = now - this.epochStart;
    const span = Math.max(rtt, 0.05);
    if (elapsed < span) return;
    const perRtt = (this.epochBytes * span) / elapsed;
    this.epochStart = now;
    this.epochBytes = 0;
    if (unread >= this.step || this.target >= this.cap) return; // the reader is behind, or nothing to gain
    if (2 * perRtt > this.target) {
      const want = Math.ceil((2 * perRtt) / PACKET) * PACKET;
      this.target = Math.min(this.cap, want);
    }
  }

  /** Credit to send now (0: none): what tops outstanding + unread back up to the target. */
  grant(window: number, unread: number): number {
    const room = this.target - window - unread;
    return room >= this.step ? room : 0;
  }
}

// ---------- ssh2's internals, checked ----------

/** The parts of an ssh2 Client this module uses: a window adjustment, and a ping with its answer. */
interface ClientInternals {
  _protocol: { channelWindowAdjust(id: number, amount: number): void; ping(): void };
  /** Answers to global requests, in order (ssh2's keepalive pushes one per ping the same way). */
  _callbacks: ((answer: unknown) => void)[];
}

/** The parts of an ssh2 Channel this module reads and writes. */
interface ChannelInternals {
  incoming: { window: number; state: string };
  outgoing: { id: number; state: string };
  _client: ClientInternals;
  _waitChanDrain: boolean;
  readableLength: number;
  push(chunk: unknown, encoding?: BufferEncoding): boolean;
  read(size?: number): unknown;
  _read(size: number): void;
}

const require = createRequire(import.meta.url);

/** Whether the installed ssh2 is the one this module knows; `problem` says what differs. */
export const ssh2Internals: { version: string | null; problem: string | null } = (() => {
  let version: string | null = null;
  try {
    version = (require('ssh2/package.json') as { version: string }).version;
    if (version !== SSH2_VERSION)
      return { version, problem: `ssh2 ${version} installed, window code written for ${SSH2_VERSION}` };
    const ch = require('ssh2/lib/Channel.js') as {
      Channel?: { prototype: Record<string, unknown> };
      MAX_WINDOW?: number;
      PACKET_SIZE?: number;
    };
    if (ch.MAX_WINDOW !== INITIAL_WINDOW)
      return { version, problem: `ssh2 opens channels with ${ch.MAX_WINDOW}, not ${INITIAL_WINDOW}` };
    if (ch.PACKET_SIZE !== PACKET)
      return { version, problem: `ssh2's packet size is ${ch.PACKET_SIZE}, not ${PACKET}` };
    const read = ch.Channel?.prototype._read;
    if (typeof read !== 'function' || !String(read).includes('_waitChanDrain'))
      return { version, problem: "ssh2's Channel._read no longer defers window adjustments with _waitChanDrain" };
    // the CHANNEL_DATA handler: bytes taken off the window first, its own top-up only on push() true
    const client = fs.readFileSync(require.resolve('ssh2/lib/client.js'), 'utf8');
    for (const line of ['channel.incoming.window -= data.length;', 'if (channel.push(data) === false) {'])
      if (!client.includes(line)) return { version, problem: `ssh2's CHANNEL_DATA handler changed (no "${line}")` };
    return { version, problem: null };
  } catch (err) {
    return { version, problem: `cannot inspect ssh2: ${(err as Error).message}` };
  }
})();

/** What is wrong with this object as an open ssh2 channel, or null. */
export function channelShapeProblem(stream: unknown): string | null {
  const c = stream as Partial<ChannelInternals> | null;
  if (!c || typeof c !== 'object') return 'not an object';
  if (typeof c.incoming?.window !== 'number' || typeof c.incoming.state !== 'string') return 'no incoming.window/state';
  if (typeof c.outgoing?.id !== 'number' || typeof c.outgoing.state !== 'string') return 'no outgoing.id/state';
  if (typeof c._client?._protocol?.channelWindowAdjust !== 'function')
    return 'no _client._protocol.channelWindowAdjust';
  if (typeof c._client._protocol.ping !== 'function' || !Array.isArray(c._client._callbacks))
    return 'no _client._protocol.ping/_callbacks';
  if (typeof c._waitChanDrain !== 'boolean') return 'no _waitChanDrain flag';
  if (typeof c.push !== 'function' || typeof c.read !== 'function' || typeof c._read !== 'function')
    return 'not a Readable';
  return null;
}

// ---------- tuning a channel ----------

/** A tuned channel's accounting, for tests and diagnostics. */
export interface WindowStats {
  /** Credit the sender has now (ssh2's `incoming.window`). */
  readonly window: number;
  /** Bytes received and not yet taken by the reader. */
  readonly unread: number;
  /** The window aimed at (grows up to cap). */
  readonly target: number;
  readonly cap: number;
  /** WINDOW_ADJUST messages sent, and the credit they gave. */
  adjusts: number;
  granted: number;
  /** The largest credit ever outstanding. */
  maxWindow: number;
  /** Once the window has grown: the lowest share of it left as credit when data arrived while the
   *  reader had taken everything before it (how early top-ups come where round trips limit). */
  lowestShareOnceGrown: number;
  /** Bytes received. */
  received: number;
}

/** What tuneChannel keeps per channel (a WeakMap: the channel objects keep ssh2's own shape). */
interface Tuned {
  st: WindowStats;
  /** Data arrived (already taken off the window by ssh2); `wasEmpty`: the reader had taken all before. */
  received(bytes: number, wasEmpty: boolean): void;
  /** Credit back to the target, if enough is missing. */
  topUp(): void;
}
const tuned = new WeakMap<object, Tuned>();
/** Per SSH connection: the smallest ping round trip seen, and when the last ping left. */
interface PathRtt {
  minMs: number | undefined;
  samples: number;
  lastPing: number;
  inFlight: boolean;
}
const rtts = new WeakMap<object, PathRtt>();

/**
 * Pings (keepalive@openssh.com global requests, answered at once by sshd) unless one is under way:
 * three in a row for a new connection, then one every 10 s at most, when a channel opens. Their
 * minimum is the path's round trip without the time sshd and a busy machine take to open a channel.
 */
function measureRtt(conn: ClientInternals): PathRtt {
  let r = rtts.get(conn);
  if (!r) rtts.set(conn, (r = { minMs: undefined, samples: 0, lastPing: 0, inFlight: false }));
  const now = performance.now();
  if (r.inFlight || (r.samples >= 3 && now - r.lastPing < 10_000)) return r;
  ping(conn, r);
  return r;
}

/** One ping; its answer records a sample and, for the first three, sends the next. */
function ping(conn: ClientInternals, rec: PathRtt): void {
  const sent = performance.now();
  rec.inFlight = true;
  rec.lastPing = sent;
  conn._callbacks.push((answer: unknown) => {
    rec.inFlight = false;
    // on disconnection ssh2 calls every pending callback with an Error: no sample, no next ping
    if (answer instanceof Error) return;
    const ms = performance.now() - sent;
    rec.samples++;
    rec.minMs = rec.minMs === undefined ? ms : Math.min(rec.minMs, ms);
    if (rec.samples < 3) ping(conn, rec);
  });
  try {
    conn._protocol.ping();
  } catch {
    conn._callbacks.pop(); // the connection is going away
    rec.inFlight = false;
  }
}

let warned = false;

/**
 * Routes ssh2's Channel through the tuned channels' hooks, once. Patched on the class, not on each
 * object, so that channels keep one hidden class and the stream code that handles them stays
 * monomorphic; an untuned channel goes straight to ssh2's own methods.
 *
 * ssh2's CHANNEL_DATA handler has already taken the bytes off `incoming.window` when it calls
 * `push()`; it tops the window up itself only when `push()` returns true, and `Channel._read()`
 * only when `_waitChanDrain` is set. For a tuned channel `push()` answers false and `_read()` is
 * ours, so ssh2 never tops it up. (Its stderr reader also looks at `_waitChanDrain`; nothing reads
 * the stderr of a direct-tcpip channel.) `read()` reports a reader draining what piled up while it
 * was paused: Node calls `_read()` once and not again until the next `push()`.
 */
let patched = false;
function patchChannelClass(): void {
  if (patched) return;
  patched = true;
  const proto = (require('ssh2/lib/Channel.js') as { Channel: { prototype: ChannelInternals } }).Channel.prototype;
  const { push, read, _read } = proto;
  proto.push = function (this: ChannelInternals, chunk: unknown, encoding?: BufferEncoding): boolean {
    const t = tuned.get(this);
    if (t === undefined) return push.call(this, chunk, encoding);
    const wasEmpty = this.readableLength === 0;
    push.call(this, chunk, encoding);
    if (chunk !== null && chunk !== undefined) t.received((chunk as Buffer).length, wasEmpty);
    return false;
  };
  proto._read = function (this: ChannelInternals, size: number): void {
    const t = tuned.get(this);
    if (t === undefined) _read.call(this, size);
    else t.topUp();
  };
  proto.read = function (this: ChannelInternals, size?: number): unknown {
    const chunk = read.call(this, size);
    if (chunk !== null) tuned.get(this)?.topUp();
    return chunk;
  };
}

/** The accounting of a channel given to tuneChannel, or undefined. */
export function windowStats(stream: Duplex): WindowStats | undefined {
  return tuned.get(stream)?.st;
}

/**
 * Takes over the receive window of a freshly opened ssh2 channel. Returns false (and leaves ssh2's
 * own window) when ssh2's internals are not the expected ones.
 */
export function tuneChannel(stream: Duplex, opts: { cap?: number; warn?: (m: string) => void } = {}): boolean {
  const problem = ssh2Internals.problem ?? channelShapeProblem(stream);
  if (problem) {
    if (!warned) opts.warn?.(`channel windows left at ssh2's 2 MiB (${problem})`);
    warned = true;
    return false;
  }
  patchChannelClass();
  const ch = stream as unknown as ChannelInternals;
  const path = measureRtt(ch._client);
  const cap = opts.cap ?? WINDOW_CAP;
  const policy = new WindowPolicy({ initial: ch.incoming.window, cap, rttMs: () => path.minMs });
  const st: WindowStats = {
    get window() {
      return ch.incoming.window;
    },
    get unread() {
      return ch.readableLength;
    },
    get target() {
      return policy.target;
    },
    cap,
    adjusts: 0,
    granted: 0,
    maxWindow: ch.incoming.window,
    lowestShareOnceGrown: 1,
    received: 0,
  };
  const topUp = () => {
    // as ssh2's own windowAdjust: nothing once closed; nothing either once the far side sent EOF
    if (ch.outgoing.state === 'closed' || ch.incoming.state !== 'open') return;
    const amount = policy.grant(ch.incoming.window, ch.readableLength);
    if (amount <= 0) return;
    ch.incoming.window += amount;
    st.adjusts++;
    st.granted += amount;
    if (ch.incoming.window > st.maxWindow) st.maxWindow = ch.incoming.window;
    ch._client._protocol.channelWindowAdjust(ch.outgoing.id, amount);
  };
  tuned.set(stream, {
    st,
    topUp,
    received(bytes, wasEmpty) {
      st.received += bytes;
      if (wasEmpty && policy.target > INITIAL_WINDOW)
        st.lowestShareOnceGrown = Math.min(st.lowestShareOnceGrown, ch.incoming.window / policy.target);
      policy.received(bytes, performance.now(), ch.readableLength);
      topUp();
    },
  });
  topUp();
  return true;
}

/**
 * Opens a channel through `open` (which calls ssh2's forwardOut with the callback given) and tunes
 * it: the one call the connection code makes.
 */
export function openTuned(
  open: (cb: (err: Error | undefined, stream: Duplex) => void) => void,
  cb: (err: Error | undefined, stream?: Duplex) => void,
  opts: { warn?: (m: string) => void } = {},
): void {
  open((err, stream) => {
    if (!err && stream) tuneChannel(stream, opts);
    cb(err, stream);
  });
}
