// One SSH connection, through optional jump hosts, the way OpenSSH makes it: each hop's stream
// (hop-socket.ts: our own TCP socket, a ProxyCommand, or a channel through the previous hop), its
// handshake with the host key checked BEFORE authentication (handshake.ts), keys only (login.ts).
// Reports each stage (tcp → hostkey → auth → forwarding) with its duration, and classifies every
// failure as a ProtocolError that says whether retrying can help. This module is the API.

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Client as SshClient } from 'ssh2';
import { makeError } from '../../shared/errors.js';
import type { StageTiming } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { abortError, type ConnectContext, type Hop } from './hop.js';
import { stageTcp } from './hop-socket.js';

export { ConnectError, type Hop, type Interaction } from './hop.js';
export { coalesceWrites } from './hop-socket.js';

/**
 * ssh2 and everything built on it (the handshake, the login, the channel windows), loaded by the
 * first connection while its TCP connection opens: loading them is most of a cold start's CPU
 * time, and the SYN need not wait for it.
 */
type Engine = [typeof import('./handshake.js'), typeof import('./window.js')];
let engine: Promise<Engine> | null = null;
const loadEngine = (): Promise<Engine> => {
  if (!engine) {
    engine = Promise.all([import('./handshake.js'), import('./window.js')]);
    // a failure is the awaiting attempt's to report, even when that attempt failed first for another reason
    engine.catch(() => {});
  }
  return engine;
};

interface Link {
  client: SshClient;
  sock: Duplex;
  label: string;
}

/**
 * A ready SSH connection. Emits 'lost' (ProtocolError) once, when any hop goes away after it was
 * ready; `close()` ends it quietly (no 'lost').
 */
export class SshConnection extends EventEmitter {
  private closed = false;

  constructor(
    /** The last hop: channels to destinations are opened here. */
    readonly client: SshClient,
    private readonly chain: Link[],
    readonly timings: StageTiming[],
    readonly serverBanner: string | undefined,
    private readonly log: Logger,
    private readonly openTuned: Engine[1]['openTuned'],
  ) {
    super();
    let lastError: Error | null = null;
    for (const hop of chain) {
      hop.client.on('error', (err: Error & { level?: string }) => {
        lastError = err;
        log.debug(`${hop.label}: ${err.message}`);
      });
      hop.client.on('close', () => {
        if (this.closed) return;
        this.closeAll();
        const why =
          lastError?.message === 'Keepalive timeout'
            ? `${hop.label} stopped answering keepalives`
            : `${hop.label} closed the connection${lastError ? `: ${lastError.message}` : ''}`;
        this.emit('lost', makeError('CONNECTION_LOST', why));
      });
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Opens a direct-tcpip channel to host:port, resolved on the far side. */
  forwardOut(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('the SSH connection is closed'));
      try {
        this.openTuned(
          (cb) => this.client.forwardOut('127.0.0.1', 0, host, port, cb),
          (err, stream) => (err ? reject(err) : resolve(stream!)),
          { warn: (m) => this.log.warn(m) },
        );
      } catch (err) {
        reject(err as Error);
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closeAll();
  }

  private closeAll(): void {
    this.closed = true;
    // innermost first, so each hop's channel closes before the hop under it
    for (const hop of [...this.chain].reverse()) {
      hop.client.end();
      hop.sock.destroy();
    }
  }
}

/**
 * Waits for the modules with the hop's stream open: an error of the stream meanwhile (a ProxyCommand
 * that exits, a reset) is kept and reported as the handshake would have reported it.
 */
async function withStream(sock: Duplex, loading: Promise<Engine>, hop: Hop): Promise<Engine> {
  let early: Error | null = null;
  const onError = (err: Error) => {
    early ??= err;
  };
  sock.on('error', onError);
  try {
    const mods = await loading;
    if (early) throw mods[0].classifyHandshakeError(early, hop, 'hostkey');
    return mods;
  } catch (err) {
    sock.destroy();
    throw err;
  } finally {
    sock.off('error', onError);
  }
}

/** Connects through every hop in order (jump hosts first, the gateway last). */
export async function openConnection(hops: Hop[], ctx: ConnectContext): Promise<SshConnection> {
  if (hops.length === 0) throw new Error('no host to connect to');
  const chain: Link[] = [];
  const timings: StageTiming[] = ctx.timings ?? [];
  let banner: string | undefined;
  let loaded: Engine | null = null;
  try {
    const checkAbort = () => {
      if (ctx.signal?.aborted) throw abortError();
    };
    for (const [i, hop] of hops.entries()) {
      const last = i === hops.length - 1;
      const prev = chain[chain.length - 1];
      checkAbort();
      const opening = stageTcp(hop, prev?.client ?? null, ctx, timings);
      // after the connect call: the SYN is on its way while the modules load
      const engineLoading = loadEngine();
      const sock = await opening;
      loaded = await withStream(sock, engineLoading, hop);
      checkAbort();
      const made = await loaded[0].handshake(hop, sock, ctx, timings);
      chain.push({ client: made.client, sock, label: hop.label });
      if (last) banner = made.banner;
    }
    const final = chain[chain.length - 1]!;
    checkAbort();
    if (!ctx.authOnly) loaded![0].stageForwarding(hops[hops.length - 1]!, final.client, ctx, timings);
    checkAbort();
  } catch (err) {
    for (const hop of chain.reverse()) {
      hop.client.end();
      hop.sock.destroy();
    }
    throw err;
  }
  return new SshConnection(chain[chain.length - 1]!.client, chain, timings, banner, ctx.log, loaded![1].openTuned);
}
