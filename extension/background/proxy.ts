// What a browser's proxy adapter does: route the hosts the rules match to the host's local proxy
// while the mode is Auto or On, and nothing otherwise. Each browser has its own adapter file; what
// both browsers share is here. Fail closed: while the host does not report its own listener (not
// started yet, port held by another program, host gone), matching hosts go to BLACKHOLE, never
// direct and never to a port someone else may hold.

import browser from 'webextension-polyfill';

export { BLACKHOLE, type ProxyEndpoint, type Routing, SOCKS_HOST } from './endpoint.js';
import type { Routing } from './endpoint.js';
import { proxyHolder } from '../lib/proxy-control.js';

/** What the browser may change behind the extension's back, each a reason pages may go direct. */
export interface BrowserChecks {
  /** Another extension holds the browser's proxy settings (ours may then be ignored). */
  proxyConflict: boolean;
  /** An enterprise policy holds the browser's proxy settings: no extension can route pages. */
  proxyPolicy: boolean;
  /** Firefox: the user has not let the extension run in private windows (they go direct). */
  privateWindowsExcluded: boolean;
  /** Firefox: the user withdrew the access to websites; proxy.onRequest then sees no request at all. */
  siteAccessMissing: boolean;
}

export const NO_PROBLEMS: BrowserChecks = {
  proxyConflict: false,
  proxyPolicy: false,
  privateWindowsExcluded: false,
  siteAccessMissing: false,
};

export interface ProxyAdapter {
  /** Makes the browser route as `r` says (Chromium: sets or clears the PAC; Firefox: remembers it). */
  apply(r: Routing): Promise<void>;
  checks(): Promise<BrowserChecks>;
}

/** Who holds the proxy settings: `levelOfControl` says it in both browsers. */
export async function proxyControl(): Promise<Pick<BrowserChecks, 'proxyConflict' | 'proxyPolicy'>> {
  const s = await browser.proxy.settings.get({}).catch(() => null);
  const holder = proxyHolder(s?.levelOfControl);
  return { proxyConflict: holder === 'other-extension', proxyPolicy: holder === 'policy' };
}

/** The host permission that lets Firefox call proxy.onRequest (and that the user can withdraw). */
export const ALL_SITES = { origins: ['<all_urls>'] };
