// Why a direct-tcpip channel did not open, as a SOCKS5 reply code. ssh2 gives the SSH_OPEN_* reason
// and the server's text; OpenSSH 9.2 sends reason 2 (connect failed) with the strerror/gai_strerror
// text for network failures, and reason 1 with "open failed" when forwarding is forbidden
// (AllowTcpForwarding no, PermitOpen). The text is what tells the causes apart.

import { REPLY, SocksConnectError, formatTarget, type SocksTarget } from './wire.js';

const SSH_OPEN_ADMINISTRATIVELY_PROHIBITED = 1;

// Ordered: the first match wins. Texts from glibc, musl and BSD resolvers and strerror().
const BY_MESSAGE: [RegExp, number][] = [
  [/connection refused/i, REPLY.CONNECTION_REFUSED],
  [
    /name or service not known|nodename nor servname|name does not resolve|no address associated with hostname|temporary failure in name resolution|unknown host/i,
    REPLY.HOST_UNREACHABLE,
  ],
  [/network is unreachable/i, REPLY.NETWORK_UNREACHABLE],
  [/no route to host|host is unreachable|host is down/i, REPLY.HOST_UNREACHABLE],
  [/connection timed out|operation timed out/i, REPLY.TTL_EXPIRED],
  [/administratively prohibited/i, REPLY.NOT_ALLOWED],
];

const PREFIX = '(SSH) Channel open failure: ';

/** The server's own words, without ssh2's prefix. */
export function channelErrorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : typeof err === 'string' ? err : String(err);
  return msg.startsWith(PREFIX) ? msg.slice(PREFIX.length) : msg;
}

/** The SOCKS5 reply for an ssh2 forwardOut failure; GENERAL_FAILURE when the cause is unknown. */
export function replyForChannelError(err: unknown): number {
  if (err instanceof SocksConnectError) return err.reply;
  const reason = typeof err === 'object' && err !== null ? (err as { reason?: unknown }).reason : undefined;
  if (reason === SSH_OPEN_ADMINISTRATIVELY_PROHIBITED) return REPLY.NOT_ALLOWED;
  const text = channelErrorText(err);
  for (const [re, code] of BY_MESSAGE) if (re.test(text)) return code;
  return REPLY.GENERAL_FAILURE;
}

/** Wraps a forwardOut failure for the SOCKS server: the gateway's words and the matching reply. */
export function toSocksConnectError(err: unknown, dest?: SocksTarget): SocksConnectError {
  if (err instanceof SocksConnectError) return err;
  const where = dest ? `${formatTarget(dest)}: ` : '';
  return new SocksConnectError(`${where}${channelErrorText(err)}`, replyForChannelError(err));
}
