// One SOCKS5 client (RFC 1928 CONNECT; no authentication, or RFC 1929 username/password as the
// native host's port requires) for the tests and the benchmark, and a
// timed HTTP/1.1 GET reader. Written here rather than taken from a package so that the tests see the
// exact reply code, and so that every endpoint the benchmark measures pays exactly the same client
// cost, with the timestamps where the benchmark needs them.

import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface Proxy {
  host: string;
  port: number;
  /** Username/password (RFC 1929), as the native host's port requires. */
  auth?: { username: string; password: string } | undefined;
}

export interface SocksTunnel {
  socket: net.Socket;
  /** performance.now() when the TCP connection to the proxy (or target) started. */
  t0: number;
  /** When the SOCKS reply arrived (equal to the TCP connect time without a proxy). */
  tReply: number;
}

interface SocksResult extends SocksTunnel {
  /** The SOCKS5 reply code (0 = succeeded), or null when the proxy gave none (closed, refused the method). */
  reply: number | null;
  /** Why there is no reply code, when there is none. */
  why?: string;
}

const REPLIES = [
  'succeeded',
  'general failure',
  'not allowed by ruleset',
  'network unreachable',
  'host unreachable',
  'connection refused',
  'TTL expired',
  'command not supported',
  'address type not supported',
];

/** IPv4 literals as addresses, anything else as a name for the proxy to resolve (never resolved here). */
function encodeAddress(host: string): Buffer {
  if (net.isIPv4(host)) return Buffer.from([0x01, ...host.split('.').map(Number)]);
  if (net.isIP(host) === 6) throw new Error('this client sends IPv4 addresses or names only');
  const name = Buffer.from(host);
  if (name.length > 255) throw new Error('host name too long for SOCKS5');
  return Buffer.concat([Buffer.from([0x03, name.length]), name]);
}

/** The CONNECT request for host:port. */
function connectRequest(host: string, port: number): Buffer {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port);
  return Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), encodeAddress(host), p]);
}

/**
 * Length of a complete CONNECT reply (whatever its code) at the start of `buf`, or 0 when more bytes
 * are needed. Throws on a malformed reply.
 */
function socksReplyLength(buf: Buffer): number {
  if (buf.length < 4) return 0;
  if (buf[0] !== 0x05) throw new Error(`SOCKS reply version ${buf[0]}`);
  const atyp = buf[3];
  let addr: number;
  if (atyp === 0x01) addr = 4;
  else if (atyp === 0x04) addr = 16;
  else if (atyp === 0x03) {
    if (buf.length < 5) return 0;
    addr = 1 + buf[4]!;
  } else throw new Error(`SOCKS reply address type ${atyp}`);
  const total = 4 + addr + 2;
  return buf.length >= total ? total : 0;
}

/** A reply code in words. */
function replyText(code: number): string {
  return REPLIES[code] ?? 'unknown';
}

/**
 * A SOCKS5 CONNECT to host:port through `proxy` (a port on 127.0.0.1, or host and port). Like
 * browsers and curl, it waits for the method answer before sending CONNECT. Resolves with the reply
 * code whatever it is (null when the proxy closed or refused the method), the socket paused after the
 * reply; rejects only on a malformed reply or a timeout.
 */
export function socksConnect(
  proxy: Proxy | number,
  host: string,
  port: number,
  timeoutMs = 30_000,
): Promise<SocksResult> {
  const to = typeof proxy === 'number' ? { host: '127.0.0.1', port: proxy } : { host: proxy.host, port: proxy.port };
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(to);
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    const auth = typeof proxy === 'number' ? undefined : proxy.auth;
    let greeted = false;
    let authed = !auth;
    let error: Error | null = null;
    const timer = setTimeout(() => {
      done();
      socket.destroy();
      reject(new Error(`no SOCKS reply for ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const answer = (reply: number | null, why?: string) => {
      done();
      resolve({ reply, socket, t0, tReply: performance.now(), ...(why ? { why } : {}) });
    };
    // a reset after the reply is the caller's to see; an error before it ends in `close` below
    socket.on('error', (e) => (error = e));
    const onClose = () => {
      // a refusal cut short by the close still carries its code
      if (greeted && buf.length >= 2) answer(buf[1]!);
      else answer(null, error ? error.message : 'the proxy closed the connection before replying');
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      try {
        if (!greeted) {
          if (buf.length < 2) return;
          if (buf[0] !== 0x05 || buf[1] !== (auth ? 0x02 : 0x00))
            return answer(null, `SOCKS method reply ${buf.subarray(0, 2).toString('hex')}`);
          greeted = true;
          buf = buf.subarray(2);
          if (auth) {
            const u = Buffer.from(auth.username);
            const p = Buffer.from(auth.password);
            socket.write(Buffer.concat([Buffer.from([0x01, u.length]), u, Buffer.from([p.length]), p]));
          } else socket.write(connectRequest(host, port));
        }
        if (!authed) {
          if (buf.length < 2) return;
          if (buf[1] !== 0x00) return answer(null, `SOCKS authentication refused (status ${buf[1]})`);
          authed = true;
          buf = buf.subarray(2);
          socket.write(connectRequest(host, port));
        }
        const n = socksReplyLength(buf);
        if (n === 0) return;
        // paused, so that no byte after the reply is lost before the caller reads
        socket.pause();
        if (buf.length > n) socket.unshift(buf.subarray(n));
        answer(buf[1]!);
      } catch (e) {
        done();
        socket.destroy();
        reject(e as Error);
      }
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.once('connect', () => socket.write(Buffer.from([0x05, 0x01, auth ? 0x02 : 0x00])));
  });
}

/**
 * Opens a connection to host:port through `proxy` (or directly when proxy is null); rejects unless
 * the proxy answers "succeeded". Through a proxy the socket is paused: the caller resumes it.
 */
export async function openTunnel(
  proxy: Proxy | null,
  host: string,
  port: number,
  timeoutMs = 10_000,
): Promise<SocksTunnel> {
  if (!proxy) return openDirect(host, port, timeoutMs);
  const r = await socksConnect(proxy, host, port, timeoutMs);
  if (r.reply === 0) return { socket: r.socket, t0: r.t0, tReply: r.tReply };
  r.socket.destroy();
  throw new Error(r.reply === null ? (r.why ?? 'no SOCKS reply') : `SOCKS reply ${r.reply} (${replyText(r.reply)})`);
}

/** The same without a proxy: the TCP connection to the target itself. */
function openDirect(host: string, port: number, timeoutMs: number): Promise<SocksTunnel> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve({ socket, t0, tReply: performance.now() });
    });
  });
}

interface HttpResult {
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** performance.now() of the first response byte, and of the last. */
  tFirst: number;
  tDone: number;
}

/** Sends `GET path` on an open tunnel, reads the whole response (Content-Length), closes the socket. */
export function httpGet(socket: net.Socket, path: string, timeoutMs = 60_000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    let head: Buffer | null = Buffer.alloc(0);
    let status = 0;
    let length = -1;
    let got = 0;
    let tFirst = 0;
    const timer = setTimeout(
      () => fail(new Error(`GET ${path}: no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', fail);
    };
    const fail = (e: Error) => {
      cleanup();
      socket.destroy();
      reject(e);
    };
    const finish = () => {
      cleanup();
      socket.destroy();
      resolve({ status, bytes: got, tFirst, tDone: performance.now() });
    };
    const onData = (d: Buffer) => {
      if (!tFirst) tFirst = performance.now();
      if (head) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 65536) fail(new Error('HTTP header too large'));
          return;
        }
        const text = head.subarray(0, end).toString('latin1');
        status = Number(text.slice(9, 12));
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(text);
        length = m ? Number(m[1]) : -1;
        got = head.length - end - 4;
        head = null;
      } else got += d.length;
      if (length >= 0 && got >= length) finish();
    };
    const onEnd = () => {
      if (length >= 0 && got < length)
        fail(new Error(`GET ${path}: connection closed after ${got} of ${length} bytes`));
      else finish();
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', fail);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n`);
    socket.resume();
  });
}
