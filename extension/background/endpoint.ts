// Where the browser sends a matching request, pure: the host's own listener with this session's
// credentials while the host reports one, else a port nothing listens on (fail closed: never direct,
// never a port another program may hold). Both adapters decide with these functions.

import { matchUrl, type Rule } from '../../shared/patterns.js';
import type { Mode, ProxyAuth, TunnelStatus } from '../../shared/protocol.js';

export const SOCKS_HOST = '127.0.0.1';

/**
 * A port nothing listens on, for matching hosts while there is no proxy of ours: a connection there
 * is refused at once, so the page fails. Port 9 (discard) is below 1024: only root can listen there,
 * so no ordinary program can squat it and receive the requests.
 */
export const BLACKHOLE = { host: SOCKS_HOST, port: 9 } as const;

/** The host's proxy as it reports it: its own listener's port and this session's credentials. */
export interface ProxyEndpoint {
  port: number;
  username: string;
  password: string;
}

export interface Routing {
  mode: Mode;
  rules: Rule[];
  /** null: no listener of ours now (matching hosts go to BLACKHOLE). */
  proxy: ProxyEndpoint | null;
}

/**
 * The endpoint to route to: only a listener the host reports as its own (status.socks, which is
 * null while the port is held by another program), with the credentials of the same host session.
 */
export function proxyEndpoint(status: TunnelStatus | null, auth: ProxyAuth | null): ProxyEndpoint | null {
  const port = status?.socks?.port;
  if (!port || !auth) return null;
  return { port, username: auth.username, password: auth.password };
}

/** Firefox's answer for one request: undefined (not ours: leave it), our SOCKS proxy, or the blackhole. */
export function firefoxProxyInfo(
  r: Routing,
  url: string,
): { type: 'socks'; host: string; port: number; proxyDNS: true; username?: string; password?: string } | undefined {
  if (r.mode === 'off' || !matchUrl(r.rules, url)) return undefined;
  if (!r.proxy) return { type: 'socks', host: BLACKHOLE.host, port: BLACKHOLE.port, proxyDNS: true };
  const { port, username, password } = r.proxy;
  return { type: 'socks', host: SOCKS_HOST, port, username, password, proxyDNS: true };
}
