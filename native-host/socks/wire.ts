// SOCKS5 (RFC 1928) wire format, pure: parse the greeting and the request from the bytes received
// so far, build the replies. No sockets here, so every byte layout is unit-tested on its own.

type AddressType = 'ipv4' | 'ipv6' | 'domain';

/** ipv6: canonical compressed text, no brackets; domain: as sent, never resolved locally. */
export interface SocksTarget {
  host: string;
  port: number;
  type: AddressType;
}

export const REPLY = {
  SUCCEEDED: 0,
  GENERAL_FAILURE: 1,
  NOT_ALLOWED: 2,
  NETWORK_UNREACHABLE: 3,
  HOST_UNREACHABLE: 4,
  CONNECTION_REFUSED: 5,
  TTL_EXPIRED: 6,
  COMMAND_NOT_SUPPORTED: 7,
  ADDRESS_TYPE_NOT_SUPPORTED: 8,
} as const;

/** A failure to open the outgoing stream, with the SOCKS reply code the client should get. */
export class SocksConnectError extends Error {
  constructor(
    message: string,
    public readonly reply: number,
  ) {
    super(message);
    this.name = 'SocksConnectError';
  }
}

const VERSION = 5;
const METHOD_NO_AUTH = 0x00;
const METHOD_USERNAME_PASSWORD = 0x02;
export const METHOD_NONE_ACCEPTABLE = 0xff;
/** RFC 1929: the subnegotiation's own version byte, and its status replies. */
const AUTH_VERSION = 0x01;
export const AUTH_SUCCESS = Buffer.from([AUTH_VERSION, 0x00]);
export const AUTH_FAILURE = Buffer.from([AUTH_VERSION, 0x01]);
const CMD_CONNECT = 1;
const ATYP_IPV4 = 1;
const ATYP_DOMAIN = 3;
const ATYP_IPV6 = 4;

/** Bytes still missing, a complete message (and how many bytes it used), or a refusal to send before closing. */
export type WireParse<T> =
  | { kind: 'more' }
  | { kind: 'done'; value: T; consumed: number }
  | { kind: 'error'; reason: string; reply: Buffer };

const MORE = { kind: 'more' } as const;

/** host:port for logs and messages, with brackets around an IPv6 address. */
export function formatTarget(dest: SocksTarget): string {
  return dest.type === 'ipv6' ? `[${dest.host}]:${dest.port}` : `${dest.host}:${dest.port}`;
}

/** The full 10-byte reply; the bound address is 0.0.0.0:0 since it means nothing through a tunnel. */
export function buildReply(code: number): Buffer {
  return Buffer.from([VERSION, code, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0]);
}

export function methodReply(method: number): Buffer {
  return Buffer.from([VERSION, method]);
}

// A SOCKS4 client gets its own protocol's "request rejected" (0x5b), so it can say why.
const SOCKS4_REJECT = Buffer.from([0x00, 0x5b, 0, 0, 0, 0, 0, 0]);

/** VER NMETHODS METHODS... */
export function parseGreeting(buf: Buffer): WireParse<number[]> {
  if (buf.length < 1) return MORE;
  const ver = buf[0]!;
  if (ver !== VERSION) {
    if (ver === 4) return { kind: 'error', reason: 'SOCKS4 client (only SOCKS5 is served)', reply: SOCKS4_REJECT };
    // Anything else gets no answer at all: a readable one (an HTTP error page, say) would let any
    // website that makes the browser connect here learn that this tool runs on the machine.
    return {
      kind: 'error',
      reason: `not a SOCKS5 greeting (first byte 0x${ver.toString(16)})`,
      reply: Buffer.alloc(0),
    };
  }
  if (buf.length < 2) return MORE;
  const n = buf[1]!;
  if (buf.length < 2 + n) return MORE;
  return { kind: 'done', value: [...buf.subarray(2, 2 + n)], consumed: 2 + n };
}

/**
 * The method the server picks: username/password (RFC 1929) when the listener has credentials (and
 * then nothing else), else no authentication.
 */
export function chooseMethod(methods: readonly number[], needAuth = false): number {
  const wanted = needAuth ? METHOD_USERNAME_PASSWORD : METHOD_NO_AUTH;
  return methods.includes(wanted) ? wanted : METHOD_NONE_ACCEPTABLE;
}

/** RFC 1929 subnegotiation: VER(1) ULEN UNAME PLEN PASSWD, the strings as raw bytes (not decoded). */
export function parseAuth(buf: Buffer): WireParse<{ username: Buffer; password: Buffer }> {
  if (buf.length < 1) return MORE;
  if (buf[0] !== AUTH_VERSION)
    return { kind: 'error', reason: `bad authentication version ${buf[0]}`, reply: AUTH_FAILURE };
  if (buf.length < 2) return MORE;
  const ulen = buf[1]!;
  if (buf.length < 2 + ulen + 1) return MORE;
  const plen = buf[2 + ulen]!;
  const end = 3 + ulen + plen;
  if (buf.length < end) return MORE;
  return {
    kind: 'done',
    value: { username: buf.subarray(2, 2 + ulen), password: buf.subarray(3 + ulen, end) },
    consumed: end,
  };
}

/** The subnegotiation a client sends (for tests and tools). */
export function buildAuth(username: string, password: string): Buffer {
  const u = Buffer.from(username);
  const p = Buffer.from(password);
  if (u.length > 255 || p.length > 255) throw new RangeError('RFC 1929 names and passwords are at most 255 bytes');
  return Buffer.concat([Buffer.from([AUTH_VERSION, u.length]), u, Buffer.from([p.length]), p]);
}

function refuse(reason: string, code: number): WireParse<never> {
  return { kind: 'error', reason, reply: buildReply(code) };
}

/** VER CMD RSV ATYP DST.ADDR DST.PORT; only CONNECT is served. */
export function parseSocksRequest(buf: Buffer): WireParse<SocksTarget> {
  if (buf.length < 4) return MORE;
  if (buf[0] !== VERSION) return refuse(`bad request version ${buf[0]}`, REPLY.GENERAL_FAILURE);
  const cmd = buf[1]!;
  if (cmd !== CMD_CONNECT) {
    const name = cmd === 2 ? 'BIND' : cmd === 3 ? 'UDP ASSOCIATE' : `command ${cmd}`;
    return refuse(`${name} is not supported (CONNECT only)`, REPLY.COMMAND_NOT_SUPPORTED);
  }
  const atyp = buf[3]!;
  let addrEnd: number;
  let host: string;
  let type: AddressType;
  if (atyp === ATYP_IPV4) {
    addrEnd = 8;
    if (buf.length < addrEnd + 2) return MORE;
    host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
    type = 'ipv4';
  } else if (atyp === ATYP_IPV6) {
    addrEnd = 20;
    if (buf.length < addrEnd + 2) return MORE;
    host = formatIPv6(buf.subarray(4, 20));
    type = 'ipv6';
  } else if (atyp === ATYP_DOMAIN) {
    if (buf.length < 5) return MORE;
    addrEnd = 5 + buf[4]!;
    if (buf.length < addrEnd + 2) return MORE;
    const name = buf.subarray(5, addrEnd);
    const bad = checkDomain(name);
    if (bad) return refuse(bad, REPLY.GENERAL_FAILURE);
    host = name.toString('utf8');
    type = 'domain';
  } else {
    return refuse(`address type ${atyp} is not supported`, REPLY.ADDRESS_TYPE_NOT_SUPPORTED);
  }
  const port = buf.readUInt16BE(addrEnd);
  return { kind: 'done', value: { host, port, type }, consumed: addrEnd + 2 };
}

// The name goes verbatim into the gateway's resolver: refuse what no resolver accepts.
function checkDomain(name: Buffer): string | null {
  if (name.length === 0) return 'empty domain name';
  for (const b of name) if (b <= 0x20 || b === 0x7f) return 'domain name holds spaces or control characters';
  return null;
}

/**
 * IPv6 bytes as text, exactly as inet_ntop(3) in glibc writes them (RFC 5952 compression: lowercase,
 * no leading zeros, the longest run of two or more zero groups, the first one on a tie, becomes "::";
 * IPv4-mapped and IPv4-compatible addresses end in dotted quad).
 */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError('an IPv6 address is 16 bytes');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      cur = cur.base === -1 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
      if (cur.len > best.len) best = cur;
    } else {
      cur = { base: -1, len: 0 };
    }
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i > 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
      out += `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
      return out;
    }
    out += words[i]!.toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}
