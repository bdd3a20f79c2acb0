// The byte stream that carries one hop's SSH connection: our own TCP socket (no Nagle, writes of a
// tick coalesced, bounded connect), the hop's ProxyCommand, or a direct-tcpip channel through the
// previous hop. Each failure is classified as a ConnectError.

import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Client as SshClient } from 'ssh2';
import type { StageTiming } from '../../shared/protocol.js';
import { abortError, type ConnectContext, type ConnectError, fail, type Hop, now } from './hop.js';
import { startProxyCommand } from './proxy-command.js';

/** TCP to the first hop (or its ProxyCommand), or a direct-tcpip channel through the previous hop. */
export async function stageTcp(
  hop: Hop,
  via: SshClient | null,
  ctx: ConnectContext,
  timings: StageTiming[],
): Promise<Duplex> {
  ctx.onStage?.('tcp', hop.label);
  const t0 = now();
  const sock = hop.proxyCommand
    ? await startProxyCommand(hop.proxyCommand, { log: ctx.log, label: hop.label }).catch((err: Error) => {
        throw fail('GATEWAY_UNREACHABLE', `${hop.label}: ${err.message}`);
      })
    : via
      ? await channelTo(hop, via, ctx)
      : await tcpConnect(hop, ctx);
  timings.push({ stage: 'tcp', hop: hop.label, ms: Math.round(now() - t0) });
  return sock;
}

function tcpConnect(hop: Hop, ctx: ConnectContext): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (ctx.signal?.aborted) return reject(abortError());
    const sock = net.connect({ host: hop.host, port: hop.port });
    // ssh2 never disables Nagle; without this every small exchange can wait for a delayed ACK
    sock.setNoDelay(true);
    coalesceWrites(sock);
    const done = (err: ConnectError | null) => {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      sock.removeListener('error', onError);
      if (err) {
        sock.destroy();
        reject(err);
      } else resolve(sock);
    };
    const onAbort = () => done(abortError());
    const onError = (err: NodeJS.ErrnoException) => {
      const what =
        err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
          ? `cannot resolve ${hop.host}`
          : `cannot connect to ${hop.host}:${hop.port}: ${err.code ?? err.message}`;
      done(fail('GATEWAY_UNREACHABLE', `${hop.label}: ${what}`));
    };
    const timer = setTimeout(
      () =>
        done(
          fail(
            'TIMEOUT',
            `${hop.label}: no TCP connection to ${hop.host}:${hop.port} after ${hop.connectTimeoutMs / 1000} s`,
          ),
        ),
      hop.connectTimeoutMs,
    );
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => done(null));
    sock.on('error', onError);
  });
}

/**
 * Makes the writes of one tick leave in one writev. ssh2 writes every SSH packet on its own: a
 * channel's EOF and CLOSE, the window adjustments of many channels, each data packet of an upload;
 * without Nagle each would be a system call and a TCP segment. Flushed before any I/O is polled,
 * so nothing waits.
 */
export function coalesceWrites(sock: net.Socket): void {
  const write = sock.write;
  let corked = false;
  const flush = () => {
    corked = false;
    sock.uncork();
  };
  sock.write = function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
    if (!corked) {
      corked = true;
      this.cork();
      process.nextTick(flush);
    }
    return write.apply(this, args);
  } as net.Socket['write'];
}

async function channelTo(hop: Hop, via: SshClient, ctx: ConnectContext): Promise<Duplex> {
  // loaded with ssh2 by the first hop's connection (connect.ts): here already in memory
  const { openTuned } = await import('./window.js');
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        finish(
          fail(
            'TIMEOUT',
            `${hop.label}: the jump host did not open a channel to ${hop.host}:${hop.port} within ${hop.connectTimeoutMs / 1000} s`,
          ),
        ),
      hop.connectTimeoutMs,
    );
    const onAbort = () => finish(abortError());
    const finish = (err: ConnectError | null, stream?: Duplex) => {
      if (settled) {
        stream?.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(stream!);
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      openTuned(
        (cb) => via.forwardOut('127.0.0.1', 0, hop.host, hop.port, cb),
        (err, stream) => {
          if (err)
            finish(
              fail(
                'GATEWAY_UNREACHABLE',
                `${hop.label}: the jump host cannot reach ${hop.host}:${hop.port}: ${err.message}`,
              ),
            );
          else finish(null, stream);
        },
        { warn: (m) => ctx.log.warn(m) },
      );
    } catch (err) {
      finish(fail('CONNECTION_LOST', `${hop.label}: the jump host connection closed: ${(err as Error).message}`));
    }
  });
}
