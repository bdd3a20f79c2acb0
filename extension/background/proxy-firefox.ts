// Firefox proxy adapter: proxy.onRequest decides per request. Firefox quirks that shaped it:
// - the listener is registered synchronously when the background script starts, and returns a
//   Promise that waits for the settings: requests sent during start-up are never routed by mistake;
// - `proxyDNS: true` sends the host name to the SOCKS server (the gateway resolves it); without it
//   Firefox resolves locally and internal names fail;
// - `username`/`password` are this host session's credentials (SOCKS5 RFC 1929): the port serves
//   nobody without them;
// - fail closed: a matching request while the host reports no listener of its own (still starting,
//   its port held by another program, the host gone) goes to BLACKHOLE, never direct;
// - returning `{type: 'direct'}` does not force direct (it keeps any configured proxy): for hosts
//   that are not ours the listener returns nothing;
// - without host permissions the listener is never called (the user can withdraw them in
//   about:addons: checks() says so), and private windows reach it only when the user lets the
//   extension run there.

import browser, { type Proxy } from 'webextension-polyfill';
import { firefoxProxyInfo } from './endpoint.js';
import { ALL_SITES, proxyControl, type ProxyAdapter, type Routing } from './proxy.js';

/**
 * Registers the request listener now. `routing` resolves once the settings are loaded;
 * `listenerUp` resolves when the host's SOCKS listener is ready (bounded by the caller).
 */
export function firefoxProxy(hooks: { routing(): Promise<Routing>; listenerUp(): Promise<void> }): ProxyAdapter {
  browser.proxy.onRequest.addListener(
    async (details: Proxy.OnRequestDetailsType) => {
      if (!firefoxProxyInfo(await hooks.routing(), details.url)) return undefined;
      // hold the request while the host starts its listener rather than fail it
      await hooks.listenerUp();
      return firefoxProxyInfo(await hooks.routing(), details.url);
    },
    { urls: ['<all_urls>'] },
  );
  browser.proxy.onError.addListener((e: { message?: string }) =>
    console.warn(`g5k-tunnel: proxy error: ${e.message ?? ''}`),
  );
  return {
    // nothing to set: the listener reads the routing on every request
    apply: async () => {},
    checks: async () => ({
      ...(await proxyControl()),
      privateWindowsExcluded: !(await browser.extension.isAllowedIncognitoAccess()),
      siteAccessMissing: !(await browser.permissions.contains(ALL_SITES)),
    }),
  };
}
