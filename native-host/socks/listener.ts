// The loopback proxy listener: accepts clients, runs the RFC 1928 handshake (with RFC 1929
// username/password when it has credentials) or, with credentials, an HTTP proxy request (first
// byte not 0x05: http-wire.ts), hands each CONNECT to a connector (an ssh2 channel in production),
// then leaves the bytes to the relay (relay.ts). Names are never resolved here. Input that is
// neither gets no answer: the port must not tell a website what runs behind it.

import net from 'node:net';
import type { Duplex } from 'node:stream';
import { silentLogger, type Logger } from '../log.js';
import {
  AUTH_FAILURE,
  AUTH_SUCCESS,
  REPLY,
  SocksConnectError,
  METHOD_NONE_ACCEPTABLE,
  buildReply,
  chooseMethod,
  formatTarget,
  methodReply,
  parseAuth,
  parseGreeting,
  parseSocksRequest,
  type SocksTarget,
} from './wire.js';
import { basicMatches, credentialsMatch, type ProxyCredentials } from './credentials.js';
import { CONNECT_ESTABLISHED, httpFailure, parseProxyHead, PROXY_AUTH_REQUIRED } from './http-wire.js';
import { discard, relay, type RelayedConn } from './relay.js';

export { REPLY, SocksConnectError, type SocksTarget } from './wire.js';
export type { ProxyCredentials } from './credentials.js';

/**
 * Opens the outgoing stream (an ssh2 channel). Rejects with SocksConnectError (or any Error →
 * GENERAL_FAILURE). The signal aborts when the SOCKS client goes away before the stream is ready:
 * the connector must then close whatever it opened.
 */
export type Connector = (dest: SocksTarget, signal: AbortSignal) => Promise<Duplex>;

export interface SocksServerOptions {
  /** Loopback only: '127.0.0.1' (default), '::1', 'localhost' (bound as 127.0.0.1); anything else throws. */
  host?: string;
  /** 0 = any free port. */
  port: number;
  connect: Connector;
  /** false → reply NOT_ALLOWED (2), with a log line. */
  allow?: (dest: SocksTarget) => boolean;
  /**
   * When set, SOCKS5 clients must authenticate with these (RFC 1929, nothing else accepted), and the
   * same port serves an HTTP proxy that wants them as `Proxy-Authorization: Basic`.
   */
  credentials?: ProxyCredentials;
  /** Default 10000: a client that stalls mid-handshake is dropped. */
  handshakeTimeoutMs?: number;
  log?: Logger;
}

interface SocksStats {
  /** Client connections open now (in handshake, waiting for the connector, or relaying). */
  open: number;
  /** Client connections accepted since the start. */
  total: number;
  /** Connections refused or dropped before relaying: bad handshake, timeout, not allowed, connect failure, client gone. */
  failed: number;
  /** Payload bytes from clients and to clients, handshakes excluded. */
  bytesUp: number;
  bytesDown: number;
}

export interface SocksServer {
  host: string;
  port: number;
  stats(): SocksStats;
  /** Stops listening AND destroys every client socket and stream. */
  close(): Promise<void>;
}

const LOOPBACK: Record<string, string> = { '127.0.0.1': '127.0.0.1', '::1': '::1', localhost: '127.0.0.1' };
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
// Pipelined data held while the stream opens; past this the client is paused (TCP backpressure).
const EARLY_DATA_CAP = 64 * 1024;
// The reason given to a connector whose client left: a constant, since abort() without a reason
// builds an AbortError (a DOMException with its stack), about 15 µs per connection.
const CLIENT_GONE = new Error('the SOCKS client went away');

/** How the client is answered: SOCKS replies, or HTTP ones. */
interface Answer {
  failure(socksReply: number): Buffer;
  success: Buffer;
}
const SOCKS_ANSWER: Answer = { failure: buildReply, success: buildReply(REPLY.SUCCEEDED) };
const CONNECT_ANSWER: Answer = { failure: httpFailure, success: CONNECT_ESTABLISHED };
// a forwarded request: the origin's own answer is the success
const FORWARD_ANSWER: Answer = { failure: httpFailure, success: Buffer.alloc(0) };

interface Conn extends RelayedConn {
  abort: AbortController;
  relaying: boolean;
  earlyBytes: number;
  /** Client bytes still to forward (an HTTP request's body); infinite for a tunnel. */
  upLeft: number;
  timer: NodeJS.Timeout | null;
  /** Removes the handshake's own listeners. */
  stopHandshake: () => void;
  closed: Promise<void>;
}

export async function listenSocks(opts: SocksServerOptions): Promise<SocksServer> {
  const requested = opts.host ?? '127.0.0.1';
  const bindHost = LOOPBACK[requested];
  if (!bindHost) {
    throw new Error(`the SOCKS listener must be on loopback (127.0.0.1, ::1 or localhost), not "${requested}"`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error(`the SOCKS port must be an integer 0-65535 (0 = any free port), not ${opts.port}`);
  }
  const log = opts.log ?? silentLogger;
  const creds = opts.credentials;
  const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const conns = new Set<Conn>();
  const totals = { total: 0, failed: 0, bytesUp: 0, bytesDown: 0 };
  let closing = false;

  const setTimer = (c: Conn, why: string, onFire = () => {}) => {
    if (c.timer) clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      onFire();
      log.debug(`SOCKS ${why}: dropping ${c.socket.remoteAddress}:${c.socket.remotePort}`);
      c.socket.destroy();
    }, handshakeTimeoutMs);
  };

  /** Sends a refusal (when the protocol has one), then closes; input is read and dropped meanwhile. */
  const refuse = (c: Conn, reply: Buffer, why: string) => {
    totals.failed++;
    log.info(`SOCKS ${why}`);
    const s = c.socket;
    c.stopHandshake();
    s.resume();
    // Closing with unread input makes the kernel send RST, which can wipe the reply at the client:
    // end() and wait for the client's own close, within the handshake timeout.
    if (reply.length) s.end(reply);
    else s.end();
    setTimer(c, 'client did not close after a refusal');
  };

  const startRelay = (c: Conn, stream: Duplex, answer: Answer) => {
    c.relaying = true;
    c.stopHandshake();
    relay(c, stream, {
      log,
      lingering: () => setTimer(c, 'client did not close after the far side did'),
      reply: answer.success,
      upLimit: c.upLeft,
    });
  };

  const open = async (c: Conn, dest: SocksTarget, answer: Answer) => {
    const where = formatTarget(dest);
    let allowed = true;
    try {
      allowed = opts.allow ? opts.allow(dest) : true;
    } catch (err) {
      return refuse(
        c,
        answer.failure(REPLY.GENERAL_FAILURE),
        `CONNECT ${where}: host check failed: ${(err as Error).message}`,
      );
    }
    if (!allowed) {
      return refuse(c, answer.failure(REPLY.NOT_ALLOWED), `CONNECT ${where} refused: not in the allowed host patterns`);
    }
    let stream: Duplex;
    try {
      stream = await opts.connect(dest, c.abort.signal);
    } catch (err) {
      if (c.socket.destroyed) return;
      const code = err instanceof SocksConnectError ? err.reply : REPLY.GENERAL_FAILURE;
      let why = err instanceof Error ? err.message : String(err);
      if (why.startsWith(`${where}: `)) why = why.slice(where.length + 2);
      return refuse(c, answer.failure(code), `CONNECT ${where} failed: ${why} (SOCKS reply ${code})`);
    }
    if (c.socket.destroyed || closing) return discard(stream);
    startRelay(c, stream, answer);
  };

  const serve = (socket: net.Socket) => {
    let resolveClosed!: () => void;
    const c: Conn = {
      socket,
      abort: new AbortController(),
      upLeft: Number.POSITIVE_INFINITY,
      stream: null,
      relaying: false,
      up: 0,
      down: 0,
      early: [],
      earlyBytes: 0,
      clientEnded: false,
      timer: null,
      stopHandshake: () => {},
      closed: new Promise<void>((r) => (resolveClosed = r)),
    };
    conns.add(c);
    totals.total++;
    socket.setNoDelay(true);
    socket.on('error', (err) => log.debug(`SOCKS client socket: ${err.message}`));
    socket.once('close', () => {
      if (c.timer) clearTimeout(c.timer);
      totals.bytesUp += c.up;
      totals.bytesDown += c.down;
      // only a connector still at work listens to the signal
      if (!c.relaying) c.abort.abort(CLIENT_GONE);
      c.relaying = false;
      const st = c.stream;
      // A graceful close (both directions ended) leaves the stream to finish on its own.
      if (st && (socket.errored || !socket.readableEnded || !socket.writableFinished)) discard(st);
      c.stream = null;
      conns.delete(c);
      resolveClosed();
    });
    if (closing) return void socket.destroy();
    setTimer(c, 'handshake timed out', () => totals.failed++);

    let buf: Buffer = Buffer.alloc(0);
    let greeted = false;
    let authed = !creds;
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      // an HTTP proxy request, when the port has credentials to ask for (else it is just not SOCKS)
      if (!greeted && creds && buf[0] !== 5 && buf[0] !== 4) return onHttp();
      if (!greeted) {
        const g = parseGreeting(buf);
        if (g.kind === 'more') return;
        if (g.kind === 'error') return refuse(c, g.reply, g.reason);
        const method = chooseMethod(g.value, !!creds);
        if (method === METHOD_NONE_ACCEPTABLE) {
          return refuse(
            c,
            methodReply(METHOD_NONE_ACCEPTABLE),
            creds ? 'client offers no username/password authentication' : 'client offers no "no authentication" method',
          );
        }
        socket.write(methodReply(method));
        greeted = true;
        buf = buf.subarray(g.consumed);
      }
      if (!authed) {
        const a = parseAuth(buf);
        if (a.kind === 'more') return;
        if (a.kind === 'error') return refuse(c, a.reply, a.reason);
        if (!credentialsMatch(creds!, a.value.username, a.value.password))
          return refuse(c, AUTH_FAILURE, 'SOCKS client gave wrong credentials');
        socket.write(AUTH_SUCCESS);
        authed = true;
        buf = buf.subarray(a.consumed);
      }
      const r = parseSocksRequest(buf);
      if (r.kind === 'more') return;
      if (r.kind === 'error') return refuse(c, r.reply, r.reason);
      startOpening(r.consumed);
      void open(c, r.value, SOCKS_ANSWER);
    };
    const onHttp = () => {
      const h = parseProxyHead(buf);
      if (h.kind === 'more') return;
      if (h.kind === 'error') return refuse(c, h.reply, h.reason);
      const req = h.value;
      if (!basicMatches(creds!, req.authorization))
        return refuse(c, PROXY_AUTH_REQUIRED, `HTTP proxy request without the right credentials`);
      if (req.problem) return refuse(c, req.problem.reply, `HTTP proxy request refused: ${req.problem.reason}`);
      if (req.kind === 'forward') {
        // the request's own body follows the rewritten head; nothing after it is forwarded
        c.upLeft = req.bodyLength;
        buf = Buffer.concat([req.head, buf.subarray(h.consumed)]);
        c.upLeft += req.head.length;
        startOpening(0);
        void open(c, req.dest, FORWARD_ANSWER);
      } else {
        startOpening(h.consumed);
        void open(c, req.dest, CONNECT_ANSWER);
      }
    };
    /** The request is in: stop the handshake, keep what follows it while the stream opens. */
    const startOpening = (consumed: number) => {
      c.stopHandshake();
      if (c.timer) clearTimeout(c.timer);
      c.timer = null;
      if (buf.length > consumed) keepEarly(buf.subarray(consumed));
      buf = Buffer.alloc(0);
      socket.on('data', keepEarly);
      socket.on('end', onEndWhileOpening);
      c.stopHandshake = () => {
        socket.off('data', keepEarly);
        socket.off('end', onEndWhileOpening);
      };
    };
    // Bytes sent right after the request, before the reply, belong to the stream. Keep reading them
    // (up to a cap) rather than pausing, so that a client's EOF is seen while the stream opens.
    const keepEarly = (chunk: Buffer) => {
      if (chunk.length > c.upLeft) chunk = chunk.subarray(0, c.upLeft);
      c.upLeft -= chunk.length;
      if (!chunk.length) return;
      c.early.push(chunk);
      c.earlyBytes += chunk.length;
      if (c.earlyBytes >= EARLY_DATA_CAP) socket.pause();
    };
    const onEndWhileOpening = () => {
      if (c.earlyBytes > 0) return void (c.clientEnded = true); // a request then a half-close: still wants the answer
      // EOF before the reply with nothing sent: the client gave up (a browser cancelling a load).
      totals.failed++;
      log.debug('SOCKS client left before the stream opened');
      socket.destroy();
    };
    const onEarlyEnd = () => {
      totals.failed++;
      log.debug('SOCKS client closed during the handshake');
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('end', onEarlyEnd);
    c.stopHandshake = () => {
      socket.off('data', onData);
      socket.off('end', onEarlyEnd);
    };
  };

  const server = net.createServer({ allowHalfOpen: true }, serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: bindHost, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error(`SOCKS listener: ${err.message}`));
  const addr = server.address() as net.AddressInfo;
  log.info(`SOCKS5 listening on ${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`);

  return {
    host: addr.address,
    port: addr.port,
    stats() {
      const s: SocksStats = { open: conns.size, ...totals };
      for (const c of conns) {
        s.bytesUp += c.up;
        s.bytesDown += c.down;
      }
      return s;
    },
    async close() {
      closing = true;
      const stopped = new Promise<void>((r) => server.close(() => r()));
      const all = [...conns];
      for (const c of all) {
        if (!c.relaying) c.abort.abort(CLIENT_GONE);
        if (c.stream) discard(c.stream);
        c.stream = null;
        c.socket.destroy();
      }
      await Promise.all([stopped, ...all.map((c) => c.closed)]);
    },
  };
}
