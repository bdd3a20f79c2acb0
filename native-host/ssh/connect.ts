// One SSH connection, through optional jump hosts, the way OpenSSH makes it: our own TCP socket
// (no Nagle, bounded connect), each further hop over a direct-tcpip channel of the previous one,
// the host key checked against known_hosts BEFORE authentication, keys only. Reports each stage
// (tcp → hostkey → auth → forwarding) with its duration, and classifies every failure as a
// ProtocolError that says whether retrying can help.

import net from 'node:net';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as SshClient, ConnectConfig, AuthHandlerMiddleware } from 'ssh2';
import { isFatalCode, makeError } from '../../shared/errors.js';
import type { HostKeyPolicy, ProtocolError, Stage, StageTiming } from '../../shared/protocol.js';
import { Identities, authFailure, type AuthPlan, type KeyCache } from './auth.js';
import { appendKnownHost, checkHostKeyInFiles, readKnownHostsFiles } from './known-hosts-store.js';
import { fingerprint, hostKeyFromBlob, knownHostKeyTypes, knownHostsName, type HostKey } from './known-hosts.js';
import { ProxyCommandError, startProxyCommand } from './proxy-command.js';
import type { Logger } from '../log.js';
import { openTuned } from './window.js';

const { Client } = ssh2;

/** Questions only the user can answer. The native host forwards them to the popup, the CLI to the terminal. */
export interface Interaction {
  askPassphrase(keyFile: string, attempt: number): Promise<string | null>;
  confirmHostKey(q: {
    host: string;
    port: number;
    keyType: string;
    fingerprint: string;
    knownHostsFile: string;
    otherTypesKnown: string[];
  }): Promise<boolean>;
}

/** One machine on the way, fully resolved (see resolve.ts). */
export interface Hop {
  /** For messages and timings: user@host:port as given. */
  label: string;
  /** Where to connect (HostName). */
  host: string;
  port: number;
  user: string;
  /** ProxyCommand, expanded: its stdin/stdout carry this hop instead of TCP or a channel. */
  proxyCommand?: string;
  /** HostKeyAlias, when set: the name looked up in known_hosts instead of host and port. */
  hostKeyAlias?: string;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** Write accepted keys hashed (HashKnownHosts). */
  hashKnownHosts: boolean;
  policy: HostKeyPolicy;
  auth: AuthPlan;
  connectTimeoutMs: number;
  /** 0 = no keepalive. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

export interface ConnectContext {
  interaction: Interaction;
  keys: KeyCache;
  log: Logger;
  onStage?(stage: Stage, hop: string): void;
  /** Aborting destroys whatever is half open; the promise then rejects with a non-fatal error. */
  signal?: AbortSignal;
  /** Stop after authentication of the last hop (no forwarding stage): a connection test. */
  authOnly?: boolean;
  /** Filled in as stages complete, so a caller can show progress (and what a failure got through). */
  timings?: StageTiming[];
}

/** A failed attempt: what to tell the user, and whether trying again later can help. */
export class ConnectError extends Error {
  constructor(
    readonly protocolError: ProtocolError,
    readonly fatal: boolean,
  ) {
    super(protocolError.detail ? `${protocolError.message} (${protocolError.detail})` : protocolError.message);
  }
}

/** Failures that need the user (retrying cannot fix them): the error table's `fatal` column. */
export const isFatal = (e: ProtocolError) => isFatalCode(e.code);

const fail = (code: Parameters<typeof makeError>[0], detail: string, message?: string) => {
  const e = makeError(code, detail, message);
  return new ConnectError(e, isFatal(e));
};

/**
 * A ready SSH connection. Emits 'lost' (ProtocolError) once, when any hop goes away after it was
 * ready; `close()` ends it quietly (no 'lost').
 */
export class SshConnection extends EventEmitter {
  private closed = false;

  constructor(
    /** The last hop: channels to destinations are opened here. */
    readonly client: SshClient,
    private readonly chain: { client: SshClient; sock: Duplex; label: string }[],
    readonly timings: StageTiming[],
    readonly serverBanner: string | undefined,
    private readonly log: Logger,
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
        openTuned(
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

/** Connects through every hop in order (jump hosts first, the gateway last). */
export async function openConnection(hops: Hop[], ctx: ConnectContext): Promise<SshConnection> {
  if (hops.length === 0) throw new Error('no host to connect to');
  const chain: { client: SshClient; sock: Duplex; label: string }[] = [];
  const timings: StageTiming[] = ctx.timings ?? [];
  let banner: string | undefined;
  try {
    const checkAbort = () => {
      if (ctx.signal?.aborted) throw abortError();
    };
    for (const [i, hop] of hops.entries()) {
      const last = i === hops.length - 1;
      const prev = chain[chain.length - 1];
      checkAbort();
      const sock = await stageTcp(hop, prev?.client ?? null, ctx, timings);
      checkAbort();
      const made = await handshake(hop, sock, ctx, timings);
      chain.push({ client: made.client, sock, label: hop.label });
      if (last) banner = made.banner;
    }
    const final = chain[chain.length - 1]!;
    checkAbort();
    if (!ctx.authOnly) await stageForwarding(hops[hops.length - 1]!, final.client, ctx, timings);
    checkAbort();
  } catch (err) {
    for (const hop of chain.reverse()) {
      hop.client.end();
      hop.sock.destroy();
    }
    throw err;
  }
  return new SshConnection(chain[chain.length - 1]!.client, chain, timings, banner, ctx.log);
}

// ---------- stages ----------

const now = () => performance.now();

function abortError(): ConnectError {
  return new ConnectError(makeError('CONNECTION_LOST', 'connection attempt cancelled'), false);
}

/** TCP to the first hop (or its ProxyCommand), or a direct-tcpip channel through the previous hop. */
async function stageTcp(hop: Hop, via: SshClient | null, ctx: ConnectContext, timings: StageTiming[]): Promise<Duplex> {
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

function channelTo(hop: Hop, via: SshClient, ctx: ConnectContext): Promise<Duplex> {
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

/** A timer that does not count time spent waiting for the user (a passphrase, a host key question). */
class StageTimer {
  private timer: NodeJS.Timeout | null = null;
  private paused = 0;
  private left: number;
  private startedAt = 0;
  private done = false;

  constructor(
    private readonly ms: number,
    private readonly onExpire: () => void,
  ) {
    this.left = ms;
    this.arm();
  }

  private arm(): void {
    this.startedAt = now();
    this.timer = setTimeout(this.onExpire, this.left);
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** A new stage starts: full time again. */
  reset(): void {
    this.stop();
    this.left = this.ms;
    if (!this.done && this.paused === 0) this.arm();
  }

  pause(): void {
    if (this.paused++ > 0 || !this.timer) return;
    this.stop();
    this.left = Math.max(0, this.left - (now() - this.startedAt));
  }

  resume(): void {
    if (this.paused === 0) return;
    if (--this.paused === 0 && !this.done) this.arm();
  }

  clear(): void {
    this.done = true;
    this.stop();
  }
}

/** SSH handshake on an open stream: host key check, then login. Resolves once authenticated. */
function handshake(
  hop: Hop,
  sock: Duplex,
  ctx: ConnectContext,
  timings: StageTiming[],
): Promise<{ client: SshClient; banner?: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let stage: Stage = 'hostkey';
    let stageStart = now();
    let settled = false;
    let failure: ConnectError | null = null;
    let banner: string | undefined;
    const timer = new StageTimer(hop.connectTimeoutMs, () =>
      finish(
        failure ??
          fail(
            'TIMEOUT',
            `${hop.label}: no answer during the ${stage === 'hostkey' ? 'SSH key exchange' : 'login'} after ${hop.connectTimeoutMs / 1000} s`,
          ),
      ),
    );
    const identities = new Identities(hop.auth, ctx.keys, {
      ask: ctx.interaction.askPassphrase.bind(ctx.interaction),
      promptStarted: () => timer.pause(),
      promptEnded: () => timer.resume(),
      log: ctx.log,
    });

    const onAbort = () => finish(abortError());
    const finish = (err: ConnectError | null) => {
      if (settled) return;
      settled = true;
      timer.clear();
      ctx.signal?.removeEventListener('abort', onAbort);
      sock.removeListener('data', peek);
      if (err) {
        client.removeAllListeners('ready');
        client.on('error', () => {});
        client.end();
        sock.destroy();
        reject(err);
      } else resolve({ client, ...(banner ? { banner } : {}) });
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });

    // The server's identification line, for the connection test; read only until it is seen.
    let head = '';
    const peek = (chunk: Buffer) => {
      head += chunk.toString('latin1', 0, Math.min(chunk.length, 512));
      const line = head.split(/\r?\n/).find((l) => l.startsWith('SSH-'));
      if (line !== undefined || head.length > 8192) {
        banner = line?.slice(0, 255);
        sock.removeListener('data', peek);
      }
    };

    const hostVerifier = (blob: Buffer, verify: (ok: boolean) => void) => {
      verifyHostKey(hop, blob, ctx, timer).then(
        (problem) => {
          if (problem) {
            failure = problem;
            return verify(false);
          }
          timings.push({ stage: 'hostkey', hop: hop.label, ms: Math.round(now() - stageStart) });
          stage = 'auth';
          stageStart = now();
          ctx.onStage?.('auth', hop.label);
          timer.reset();
          verify(true);
        },
        (err: Error) => {
          failure = fail('INTERNAL', `${hop.label}: host key check failed: ${err.message}`);
          verify(false);
        },
      );
    };

    let offered = false;
    const authHandler: AuthHandlerMiddleware = (_left, _partial, next) => {
      if (!offered) {
        offered = true;
        return next({ type: 'agent', username: hop.user, agent: identities });
      }
      const e = authFailure(identities.report, hop.label);
      failure = new ConnectError(e, isFatal(e));
      return next(false as never);
    };

    client.on('ready', () => {
      timings.push({ stage: 'auth', hop: hop.label, ms: Math.round(now() - stageStart) });
      finish(null);
    });
    client.on('error', (err: Error & { level?: string }) => {
      // our signer declining a key, or no agent running: ssh2 goes on with the next key
      if (err.level === 'agent') return ctx.log.debug(`${hop.label}: ${err.message}`);
      finish(failure ?? classifyHandshakeError(err, hop, stage));
    });
    client.on('close', () =>
      finish(
        failure ??
          fail(
            'CONNECTION_LOST',
            `${hop.label}: the server closed the connection during the ${stage === 'hostkey' ? 'key exchange' : 'login'}`,
          ),
      ),
    );

    ctx.onStage?.('hostkey', hop.label);
    const config: ConnectConfig = {
      sock: sock as ConnectConfig['sock'],
      username: hop.user,
      hostVerifier: hostVerifier as ConnectConfig['hostVerifier'],
      authHandler,
      // our StageTimer bounds each stage instead: ssh2's would also count the user's typing
      readyTimeout: 0,
      keepaliveInterval: hop.keepaliveIntervalMs,
      keepaliveCountMax: hop.keepaliveCountMax,
      algorithms: {
        serverHostKey: hostKeyAlgorithms(hop) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'],
      },
    };
    try {
      client.connect(config);
      sock.on('data', peek);
    } catch (err) {
      finish(fail('INTERNAL', `${hop.label}: ${(err as Error).message}`));
    }
  });
}

function classifyHandshakeError(err: Error & { level?: string; code?: unknown }, hop: Hop, stage: Stage): ConnectError {
  if (err instanceof ProxyCommandError) return fail('GATEWAY_UNREACHABLE', `${hop.label}: ${err.message}`);
  if (err.level === 'client-timeout') return fail('TIMEOUT', `${hop.label}: ${err.message}`);
  if (err.level === 'client-socket') return fail('CONNECTION_LOST', `${hop.label}: ${err.message}`);
  return fail(
    'CONNECTION_LOST',
    `${hop.label}: ${stage === 'hostkey' ? 'key exchange' : 'login'} failed: ${err.message}`,
  );
}

/** Host key algorithms with the types already on file first, so the server shows a key we can check (as OpenSSH). */
const DEFAULT_HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function hostKeyAlgorithms(hop: Hop): string[] {
  let known: string[] = [];
  try {
    const { entries } = readKnownHostsFiles([...hop.userKnownHostsFiles, ...hop.globalKnownHostsFiles]);
    known = knownHostKeyTypes(entries, hop.host, hop.port, hop.hostKeyAlias ? { alias: hop.hostKeyAlias } : undefined);
  } catch {
    /* unreadable files: the check itself will say so */
  }
  const first = known
    .flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]))
    .filter((a) => DEFAULT_HOST_KEY_ALGOS.includes(a));
  return [...new Set([...first, ...DEFAULT_HOST_KEY_ALGOS])];
}

/** null when the key may be used; else why not. Asks the user only for an unknown key under 'ask'. */
async function verifyHostKey(
  hop: Hop,
  blob: Buffer,
  ctx: ConnectContext,
  timer: StageTimer,
): Promise<ConnectError | null> {
  const key: HostKey = hostKeyFromBlob(blob);
  const fp = fingerprint(blob);
  const files = [...hop.userKnownHostsFiles, ...hop.globalKnownHostsFiles];
  const alias = hop.hostKeyAlias ? { alias: hop.hostKeyAlias } : {};
  const check = checkHostKeyInFiles(files, hop.host, hop.port, key, {
    ...alias,
    warn: (m) => ctx.log.warn(m),
    debug: (m) => ctx.log.debug(m),
  });
  const name = hop.hostKeyAlias ?? knownHostsName(hop.host, hop.port);
  switch (check.status) {
    case 'known':
      return null;
    case 'revoked':
      return fail('HOSTKEY_REVOKED', `${name} presented ${key.type} ${fp}, revoked at ${check.file}:${check.line}`);
    case 'changed':
      // never connect, whatever the policy: this is what a man in the middle looks like
      return fail(
        'HOSTKEY_CHANGED',
        `${name} now presents ${key.type} ${fp}; ${check.file}:${check.line} holds ${check.knownType} ${check.knownFingerprint}`,
      );
    case 'unknown':
      break;
  }
  const userFile = hop.userKnownHostsFiles[0];
  if (hop.policy === 'yes' || !userFile) {
    return fail(
      'HOSTKEY_UNKNOWN',
      `${name} presented ${key.type} ${fp}, found in none of ${files.join(', ')} (StrictHostKeyChecking ${hop.policy})`,
    );
  }
  if (hop.policy === 'ask') {
    timer.pause();
    let ok = false;
    try {
      ok = await ctx.interaction.confirmHostKey({
        host: hop.hostKeyAlias ?? hop.host,
        port: hop.port,
        keyType: key.type,
        fingerprint: fp,
        knownHostsFile: userFile,
        otherTypesKnown: check.otherTypesKnown,
      });
    } finally {
      timer.resume();
    }
    if (!ok) return fail('HOSTKEY_UNKNOWN', `${name} presented ${key.type} ${fp}; the key was not accepted`);
  }
  try {
    appendKnownHost(userFile, hop.host, hop.port, key, { hash: hop.hashKnownHosts, ...alias });
    ctx.log.info(`added ${name} (${key.type} ${fp}) to ${userFile}`);
  } catch (err) {
    // like OpenSSH: the key was accepted for this connection even if it cannot be saved
    ctx.log.warn(`could not add ${name} to ${userFile}: ${(err as Error).message}`);
  }
  return null;
}

/** After login: tell the server this connection carries no sessions, only forwarded channels (as ssh -N). */
function stageForwarding(hop: Hop, client: SshClient, ctx: ConnectContext, timings: StageTiming[]): Promise<void> {
  ctx.onStage?.('forwarding', hop.label);
  const t0 = now();
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: ConnectError | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeListener('close', onClose);
      ctx.signal?.removeEventListener('abort', onAbort);
      if (err) return reject(err);
      timings.push({ stage: 'forwarding', hop: hop.label, ms: Math.round(now() - t0) });
      resolve();
    };
    const timer = setTimeout(
      () => finish(fail('TIMEOUT', `${hop.label}: no answer after login within ${hop.connectTimeoutMs / 1000} s`)),
      hop.connectTimeoutMs,
    );
    const onClose = () =>
      finish(fail('CONNECTION_LOST', `${hop.label}: the server closed the connection right after login`));
    const onAbort = () => finish(abortError());
    client.once('close', onClose);
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      client.openssh_noMoreSessions((err) => {
        // a server that is not OpenSSH does not know the request: nothing is lost
        if (err) ctx.log.debug(`${hop.label}: no-more-sessions: ${err.message}`);
        finish(null);
      });
    } catch (err) {
      finish(fail('CONNECTION_LOST', `${hop.label}: ${(err as Error).message}`));
    }
  });
}
