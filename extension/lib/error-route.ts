// When a failed page load is replaced by the extension's error page, and what that page is told.
// Pure: the background feeds it webNavigation.onErrorOccurred details.

import { matchUrl, type Rule } from '../../shared/patterns.js';
import type { Mode } from '../../shared/protocol.js';

export interface NavError {
  frameId: number;
  url: string;
  /** Chromium: `net::ERR_…`; Firefox: `Error code 2152398861` or `NS_ERROR_…`. */
  error: string;
}

// A load the user stopped, or a download taking over the tab, is not a failure.
const NOT_A_FAILURE = /ABORTED|NS_BINDING_REDIRECTED|NS_BINDING_RETARGETED/i;

// Firefox reports network errors as `Error code <nsresult>`; the names are what its docs and
// about:neterror use. nsresult = 0x804B0000 (network module) + the code below.
const NETWORK_MODULE = 0x804b0000;
const FIREFOX_NET_ERRORS: Record<number, string> = {
  2: 'NS_BINDING_ABORTED',
  3: 'NS_BINDING_REDIRECTED',
  4: 'NS_BINDING_RETARGETED',
  13: 'NS_ERROR_CONNECTION_REFUSED',
  14: 'NS_ERROR_NET_TIMEOUT',
  20: 'NS_ERROR_NET_RESET',
  30: 'NS_ERROR_UNKNOWN_HOST',
  42: 'NS_ERROR_UNKNOWN_PROXY_HOST',
  71: 'NS_ERROR_NET_INTERRUPT',
  72: 'NS_ERROR_PROXY_CONNECTION_REFUSED',
};

/** `Error code 2152398861` → `NS_ERROR_CONNECTION_REFUSED`; any other text unchanged. */
export function netErrorName(error: string): string {
  const m = /^Error code (\d+)$/.exec(error.trim());
  const name = m ? FIREFOX_NET_ERRORS[Number(m[1]) - NETWORK_MODULE] : undefined;
  return name ?? error;
}

/** True when a main-frame load of a tunnelled URL failed while the tunnel is meant to be in use. */
export function shouldShowErrorPage(d: NavError, ctx: { mode: Mode; rules: Rule[] }): boolean {
  return (
    d.frameId === 0 &&
    ctx.mode !== 'off' &&
    /^https?:\/\//i.test(d.url) &&
    !NOT_A_FAILURE.test(netErrorName(d.error)) &&
    matchUrl(ctx.rules, d.url)
  );
}

/** error.html?url=…&error=… */
export function errorPageUrl(pageUrl: string, failedUrl: string, netError: string): string {
  return `${pageUrl}?${new URLSearchParams({ url: failedUrl, error: netErrorName(netError) }).toString()}`;
}

/** Reads the error page's query; `url` is null unless it is plain http(s) (never `javascript:`). */
export function parseErrorPageQuery(search: string): { url: string | null; error: string } {
  const q = new URLSearchParams(search);
  const url = q.get('url') ?? '';
  return { url: /^https?:\/\//i.test(url) ? url : null, error: (q.get('error') ?? '').slice(0, 200) };
}
