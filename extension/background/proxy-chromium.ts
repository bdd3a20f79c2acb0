// Chromium proxy adapter: a PAC script set through proxy.settings (Chromium has no per-request hook).
// Chromium quirks that shaped it:
// - only the `SOCKS5` keyword in a PAC makes the proxy resolve names; `SOCKS` resolves locally, and
//   internal names then fail with ERR_NAME_NOT_RESOLVED (buildPac writes SOCKS5);
// - `mandatory: true`: a PAC that fails to run must not fall back to direct connections;
// - settings set with scope `regular` persist across browser restarts while the extension is
//   enabled, so requests sent before the service worker starts are already routed;
// - a PAC cannot wait: while the listener is down, a matching load fails with
//   ERR_PROXY_CONNECTION_FAILED, which the error page then explains.

import browser from 'webextension-polyfill';
import { buildPac } from '../../shared/pac.js';
import { NO_PROBLEMS, proxyControlledByOther, SOCKS_HOST, type ProxyAdapter, type Routing } from './proxy.js';

export function chromiumProxy(): ProxyAdapter {
  let applied: string | null = null;
  return {
    async apply(r: Routing) {
      if (r.mode === 'off') {
        if (applied !== '') await browser.proxy.settings.clear({ scope: 'regular' });
        applied = '';
        return;
      }
      const pac = buildPac(r.rules, { host: SOCKS_HOST, port: r.socksPort });
      if (pac === applied) return;
      await browser.proxy.settings.set({
        value: { mode: 'pac_script', pacScript: { data: pac, mandatory: true } },
        scope: 'regular',
      });
      applied = pac;
    },
    // a PAC needs no site access, and incognito windows follow the regular scope
    checks: async () => ({ ...NO_PROBLEMS, proxyConflict: await proxyControlledByOther() }),
  };
}
