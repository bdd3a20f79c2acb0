// The HTTP proxy side of the listener's port, pure: parse the head of a proxy request (`CONNECT
// host:port` for https and wss, an absolute-form `GET http://host/path` for http), rewrite a
// forwarded request to origin-form, and build the few answers the proxy gives. Input that is not a
// proxy request (a website's own `GET / HTTP/1.1` sent to this port) gets no answer at all.

import net from 'node:net';
import { parseIPv6 } from '../../shared/patterns.js';
import { formatIPv6, type SocksTarget, type WireParse } from './wire.js';

/** A head bigger than this is refused: the head is kept in memory until it is complete. */
export const MAX_HEAD_BYTES = 64 * 1024;

export interface ProxyRequest {
  kind: 'connect' | 'forward';
  dest: SocksTarget;
  /** The Proxy-Authorization value, or null. */
  authorization: string | null;
  /** forward: the head to send to the origin (origin-form, proxy headers removed, `Connection: close`). */
  head: Buffer;
  /** forward: body bytes that follow the head (Content-Length; 0 without one). */
  bodyLength: number;
  /** A bad proxy request: what to answer once the credentials are known to be right. */
  problem: { reason: string; reply: Buffer } | null;
}

const SILENT = Buffer.alloc(0);

/** A short HTTP answer that closes the connection. */
export function httpResponse(status: number, text: string, extra: string[] = []): Buffer {
  return Buffer.from(
    `HTTP/1.1 ${status} ${text}\r\n${extra.map((h) => `${h}\r\n`).join('')}Content-Length: 0\r\nConnection: close\r\n\r\n`,
  );
}

const REALM = 'g5k-tunnel';
export const PROXY_AUTH_REQUIRED = httpResponse(407, 'Proxy Authentication Required', [
  `Proxy-Authenticate: Basic realm="${REALM}"`,
]);
export const CONNECT_ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n');

/** The HTTP answer for a SOCKS reply code (wire.ts REPLY) when the destination cannot be opened. */
export function httpFailure(socksReply: number): Buffer {
  if (socksReply === 2) return httpResponse(403, 'Forbidden');
  if (socksReply === 6) return httpResponse(504, 'Gateway Timeout');
  return httpResponse(502, 'Bad Gateway');
}

const silent = (reason: string): WireParse<never> => ({ kind: 'error', reason, reply: SILENT });
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// The partial line and the complete one are judged by the same method rule and length limit, so
// that the verdict does not depend on how the line was cut into chunks.
const MAX_REQUEST_LINE = 8192;
const METHOD_SO_FAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{0,16}( |$)/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]{1,16}) (\S+) HTTP\/1\.([01])$/;
const HOP_HEADERS = new Set(['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive']);

/**
 * The request head at the start of `buf`: 'more' until it is complete, an error (silent for
 * anything that is not a proxy request), or the request. A proxy request that is malformed in its
 * headers comes back 'done' with a `problem`, so that the credentials are checked before anything
 * about the request is said.
 */
export function parseProxyHead(buf: Buffer): WireParse<ProxyRequest> {
  // the request line alone tells a proxy request from anything else, before the head is complete
  const lineEnd = buf.indexOf('\r\n');
  // (one byte more than the limit may be the CR of a line that fits)
  if (lineEnd < 0 ? buf.length > MAX_REQUEST_LINE + 1 : lineEnd > MAX_REQUEST_LINE)
    return silent('not an HTTP proxy request (request line too long)');
  const firstLine = buf.subarray(0, lineEnd < 0 ? buf.length : lineEnd).toString('latin1');
  if (lineEnd < 0) {
    if (!METHOD_SO_FAR.test(firstLine)) return silent('not an HTTP proxy request');
    return { kind: 'more' };
  }
  const m = REQUEST_LINE.exec(firstLine);
  if (!m) return silent('not an HTTP request');
  const [, method, target] = m as unknown as [string, string, string];
  const isConnect = method === 'CONNECT';
  if (!isConnect && !/^http:\/\//i.test(target)) return silent(`not a proxy request (${method} in origin-form)`);
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (buf.length > MAX_HEAD_BYTES)
      return {
        kind: 'error',
        reason: 'request head too large',
        reply: httpResponse(431, 'Request Header Fields Too Large'),
      };
    return { kind: 'more' };
  }
  if (headEnd + 4 > MAX_HEAD_BYTES)
    return {
      kind: 'error',
      reason: 'request head too large',
      reply: httpResponse(431, 'Request Header Fields Too Large'),
    };
  const lines = buf
    .subarray(lineEnd + 2, headEnd)
    .toString('latin1')
    .split('\r\n');
  if (lines.length === 1 && lines[0] === '') lines.pop();
  const headers: [string, string][] = [];
  let problem: string | null = null;
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // a bare CR or LF would end the line early at the origin, smuggling a header past the rewrite
    if (!TOKEN.test(name) || /[\r\n\0]/.test(line)) {
      problem = 'malformed header line';
      break;
    }
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  const values = (n: string) => headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
  const auth = values('proxy-authorization');
  const consumed = headEnd + 4;
  const request = (
    dest: SocksTarget,
    head: Buffer,
    bodyLength: number,
    why: string | null,
  ): WireParse<ProxyRequest> => ({
    kind: 'done',
    consumed,
    value: {
      kind: isConnect ? 'connect' : 'forward',
      dest,
      authorization: auth.length === 1 ? auth[0]! : null,
      head,
      bodyLength,
      problem: why ? { reason: why, reply: httpResponse(400, 'Bad Request') } : null,
    },
  });
  const none: SocksTarget = { host: '', port: 0, type: 'domain' };
  if (problem) return request(none, SILENT, 0, problem);

  if (isConnect) {
    const dest = parseAuthority(target, null);
    return dest ? request(dest, SILENT, 0, null) : request(none, SILENT, 0, `bad CONNECT target ${target}`);
  }
  const url = /^http:\/\/([^/?#]*)([^#]*)/i.exec(target);
  const dest = url ? parseAuthority(url[1]!, 80) : null;
  if (!url || !dest) return request(none, SILENT, 0, 'bad absolute-form target');
  if (values('transfer-encoding').length) return request(dest, SILENT, 0, 'chunked request bodies are not forwarded');
  const lengths = new Set(values('content-length'));
  if (lengths.size > 1 || [...lengths].some((v) => !/^\d{1,15}$/.test(v)))
    return request(dest, SILENT, 0, 'bad Content-Length');
  const bodyLength = lengths.size ? Number([...lengths][0]) : 0;
  const path = url[2] === '' ? '/' : url[2]!.startsWith('/') ? url[2]! : `/${url[2]}`;
  const kept = headers.filter(([k]) => !HOP_HEADERS.has(k.toLowerCase()));
  if (!kept.some(([k]) => k.toLowerCase() === 'host')) kept.unshift(['Host', url[1]!]);
  // One request per connection: the origin closes after its answer, which ends the client's
  // connection too, so nothing the client sends later can reach the origin unparsed.
  const head = `${method} ${path} HTTP/1.${m[3]}\r\n${kept.map(([k, v]) => `${k}: ${v}\r\n`).join('')}Connection: close\r\n\r\n`;
  return request(dest, Buffer.from(head, 'latin1'), bodyLength, null);
}

/** `host:port`, `[v6]:port` (or without the port when `defaultPort` is given) → a destination. */
export function parseAuthority(s: string, defaultPort: number | null): SocksTarget | null {
  if (s.includes('@')) return null;
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d*))?$/.exec(s);
  if (v6) {
    // the canonical text, as SOCKS gives it (wire.ts), so host patterns see one spelling
    const words = net.isIPv6(v6[1]!) ? parseIPv6(v6[1]!) : null;
    if (!words) return null;
    host = formatIPv6(Uint8Array.from(words.flatMap((w) => [w >> 8, w & 0xff])));
    portText = v6[2];
  } else {
    const colon = s.lastIndexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    portText = colon < 0 ? undefined : s.slice(colon + 1);
    if (!/^[A-Za-z0-9._-]{1,253}$/.test(host)) return null;
  }
  let port: number;
  if (portText === undefined || portText === '') {
    if (defaultPort === null) return null;
    port = defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
  }
  if (port < 1 || port > 65535) return null;
  const type = v6 ? 'ipv6' : net.isIPv4(host) ? 'ipv4' : 'domain';
  return { host, port, type };
}
