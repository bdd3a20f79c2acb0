// The byte relay between a SOCKS client socket and its outgoing stream (an SSH channel), once the
// CONNECT succeeded: backpressure both ways, half-close, byte counts, writes to the client batched
// per tick, and a failed far side told apart from a finished one.

import type net from 'node:net';
import type { Duplex } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from '../log.js';
import { buildReply, REPLY } from './wire.js';

// Data from the far side buffered for a slow client before the far side is paused (its own buffer
// and the SSH window then hold the rest, so memory stays bounded per connection).
const DOWN_BUFFER_CAP = 256 * 1024;

/**
 * A young-generation GC every `everyBytes` relayed. Every read from a socket lands in a new 64 KiB
 * buffer (and ssh2 allocates one per SSH packet it sends); once relayed it is garbage, but its memory
 * returns only when V8 collects the small JS object holding it, and a relay allocates so little else
 * on the JS heap that tens of MiB of dead buffers pile up first. Measured: peak RSS 105 → 85 MiB,
 * throughput and CPU unchanged (docs/TUNNEL.md, Performance). `collect` is null when V8 offers no GC.
 */
export const relayGc: { everyBytes: number; collect: (() => void) | null | undefined } = {
  everyBytes: 8 * 1024 * 1024,
  collect: undefined, // looked up on first use
};
let relayedSinceGc = 0;

/** `gc` of a process started with --expose-gc; else one from a context made after setting the flag. */
function minorGc(): (() => void) | null {
  type Gc = (o: { type: 'minor' }) => void;
  let gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== 'function') {
    try {
      v8.setFlagsFromString('--expose-gc'); // only contexts created from now on get `gc`
      gc = vm.runInNewContext('gc');
    } catch {
      gc = undefined;
    }
  }
  return typeof gc === 'function' ? () => (gc as Gc)({ type: 'minor' }) : null;
}

function countRelayed(n: number): void {
  relayedSinceGc += n;
  if (relayedSinceGc < relayGc.everyBytes) return;
  relayedSinceGc = 0;
  if (relayGc.collect === undefined) relayGc.collect = minorGc();
  relayGc.collect?.();
}

/** Ends a stream for good; resume() drains it so an ssh2 channel reaches 'close'. */
export function discard(stream: Duplex): void {
  stream.on('error', () => {});
  stream.resume();
  stream.destroy();
}

/** One client connection as the relay sees it; the listener owns it. */
export interface RelayedConn {
  socket: net.Socket;
  /** The outgoing stream while it is open. */
  stream: Duplex | null;
  /** Payload bytes relayed each way (early data included, handshake excluded). */
  up: number;
  down: number;
  /** Data the client sent before the reply, and whether it already ended its side. */
  early: Buffer[];
  clientEnded: boolean;
}

interface RelayOptions {
  log: Logger;
  /** The far side finished: the client should close soon (the listener arms a timer). */
  lingering(): void;
  /** Sent to the client once the stream is open; the SOCKS success reply by default. */
  reply?: Buffer;
  /** Client bytes forwarded after the early data (an HTTP request's body); later ones are dropped. */
  upLimit?: number;
}

/**
 * Sends the success reply and splices the client socket and the stream. Not pipe(): these listeners
 * also count bytes, batch the writes of one tick to the client into one writev (ssh2 pushes each SSH
 * packet on its own), and tell a failed far side (reset to the client) from a finished one (EOF to
 * the client).
 */
export function relay(c: RelayedConn, stream: Duplex, o: RelayOptions): void {
  const s = c.socket;
  c.stream = stream;
  // A far side that failed or was cut (the SSH connection lost) resets the client: a FIN would
  // make an interrupted download look complete to a browser.
  const reset = () => {
    if (!s.destroyed) s.resetAndDestroy();
  };

  let corked = false;
  const uncork = () => {
    corked = false;
    s.uncork();
  };
  const down = (chunk: Buffer) => {
    c.down += chunk.length;
    countRelayed(chunk.length);
    if (!corked) {
      corked = true;
      s.cork();
      process.nextTick(uncork);
    }
    if (!s.write(chunk) && s.writableLength >= DOWN_BUFFER_CAP) stream.pause();
  };
  const downEnd = () => s.end();
  const resumeDown = () => stream.resume();
  let upLeft = o.upLimit ?? Number.POSITIVE_INFINITY;
  const up = (chunk: Buffer) => {
    if (chunk.length > upLeft) chunk = chunk.subarray(0, upLeft);
    upLeft -= chunk.length;
    if (!chunk.length) return;
    c.up += chunk.length;
    countRelayed(chunk.length);
    if (!stream.write(chunk)) s.pause();
  };
  const upEnd = () => stream.end();
  const resumeUp = () => s.resume();

  stream.on('error', (err) => {
    o.log.debug(`SOCKS outgoing stream error: ${err.message}`);
    reset();
  });
  stream.once('close', () => {
    c.stream = null;
    if (s.destroyed) return;
    if (!stream.readableEnded) return reset();
    // The far side finished and the client has its EOF: drop what the client still sends,
    // reading on so that its own EOF is seen and the socket closes.
    s.off('data', up);
    s.off('end', upEnd);
    s.resume();
    o.lingering();
  });

  s.write(o.reply ?? buildReply(REPLY.SUCCEEDED));
  for (const chunk of c.early) {
    c.up += chunk.length;
    stream.write(chunk);
  }
  c.early = [];
  stream.on('data', down);
  stream.on('end', downEnd);
  s.on('drain', resumeDown);
  stream.on('drain', resumeUp);
  if (c.clientEnded) stream.end();
  else {
    s.on('data', up);
    s.on('end', upEnd);
    s.resume(); // the early data cap may have paused it
  }
}
