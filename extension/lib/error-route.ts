// When a failed page load is replaced by the extension's error page, and what that page is told.
// Pure: the background feeds it webNavigation.onErrorOccurred details.

import { matchUrl, type Rule } from '../../shared/patterns.js';
import type { Mode } from '../../shared/protocol.js';

interface NavError {
  frameId: number;
  url: string;
  /** Chromium: `net::ERR_…`; Firefox: `Error code 2152398861` or `NS_ERROR_…`. */
  error: string;
}

// A load the user stopped, or a download taking over the tab, is not a failure.
const NOT_A_FAILURE = /ABORTED|NS_BINDING_REDIRECTED|NS_BINDING_RETARGETED/i;
// Certificate and TLS errors reach the server through the tunnel: the browser's own page explains
// them and lets the user look at the certificate, which ours cannot.
const TLS_ERROR = /CERT|SSL|SEC_ERROR|PKIX/i;
// Firefox reports those as numbers from its security module: 0x805A0000 + code.
const SECURITY_MODULE = 0x805a0000;

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

/** A TLS or certificate error, by name (both browsers) or by Firefox's number. */
export function isTlsError(error: string): boolean {
  const m = /^Error code (\d+)$/.exec(error.trim());
  if (m) return Number(m[1]) - SECURITY_MODULE >= 0 && Number(m[1]) - SECURITY_MODULE < 0x10000;
  return TLS_ERROR.test(error);
}

/** True when a main-frame load of a tunnelled URL failed while the tunnel is meant to be in use. */
export function shouldShowErrorPage(d: NavError, ctx: { mode: Mode; rules: Rule[] }): boolean {
  return (
    d.frameId === 0 &&
    ctx.mode !== 'off' &&
    /^https?:\/\//i.test(d.url) &&
    !NOT_A_FAILURE.test(netErrorName(d.error)) &&
    !isTlsError(d.error) &&
    matchUrl(ctx.rules, d.url)
  );
}

/**
 * Which tab shows the error page for which failed URL, so that Back leaves it. Chromium keeps the
 * failed entry in the tab's history behind the error page: Back loads that URL again, it fails
 * again, and the error page would come back at once, a trap. A failure of the very URL the tab's
 * error page stands for is therefore a return to that entry: the background steps back over it.
 * Firefox replaces the failed entry, so there Back simply leaves. Retry on the error page forgets
 * its tab first: its reload must get the error page again if it fails.
 */
export class ErrorPageTabs {
  private readonly shown = new Map<number, string>();

  constructor(private readonly errorPageUrl: string) {}

  /** The error page now stands for `url` in tab `tabId`. */
  shownFor(tabId: number, url: string): void {
    this.shown.set(tabId, url);
  }

  /** True when this failure is the entry behind the tab's error page coming back (Back). */
  isReturn(tabId: number, url: string): boolean {
    return this.shown.get(tabId) === url;
  }

  /** A main-frame document committed: unless it is the error page, the tab has moved on. */
  committed(tabId: number, url: string): void {
    if (!url.startsWith(this.errorPageUrl)) this.shown.delete(tabId);
  }

  forget(tabId: number): void {
    this.shown.delete(tabId);
  }
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
