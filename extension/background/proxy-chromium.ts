// Chromium proxy adapter: a PAC script set through proxy.settings (Chromium has no per-request hook).
// Chromium quirks that shaped it:
// - Chromium has no SOCKS authentication, so the PAC says `PROXY 127.0.0.1:P`: the host's port also
//   speaks HTTP proxy (CONNECT for https/wss, absolute-form for http); Chromium sends it the host
//   name and never resolves it locally;
// - the proxy's 407 challenge is answered in webRequest.onAuthRequired (`asyncBlocking`, the
//   callback form, is the one MV3 allows, with the webRequestAuthProvider permission), only for
//   our own proxy, and once per request: a wrong password fails the page instead of looping;
// - `mandatory: true`: a PAC that fails to run must not fall back to direct connections;
// - settings set with scope `regular` persist across browser restarts while the extension is
//   enabled, so requests sent before the service worker starts are already routed;
// - a PAC cannot wait: while the listener is down, a matching load goes to BLACKHOLE and fails with
//   ERR_PROXY_CONNECTION_FAILED, which the error page then explains.

import browser from 'webextension-polyfill';
import { buildPac } from '../../shared/pac.js';
import {
  BLACKHOLE,
  NO_PROBLEMS,
  proxyControl,
  SOCKS_HOST,
  type ProxyAdapter,
  type ProxyEndpoint,
  type Routing,
} from './proxy.js';

interface AuthDetails {
  requestId: string;
  isProxy: boolean;
  challenger?: { host: string; port: number };
  realm?: string;
}
type AuthAnswer = { authCredentials?: { username: string; password: string }; cancel?: boolean };
interface ChromeWebRequest {
  onAuthRequired: {
    addListener(
      fn: (d: AuthDetails, callback?: (a: AuthAnswer) => void) => void,
      filter: { urls: string[] },
      extra: string[],
    ): void;
  };
}

/** Requests answered once already (a second challenge means the credentials were refused). */
const MAX_REMEMBERED = 1000;
/** The realm of the host's 407 (native-host/socks/http-wire.ts). */
const PROXY_REALM = 'g5k-tunnel';

export function chromiumProxy(): ProxyAdapter {
  let applied: string | null = null;
  let current: ProxyEndpoint | null = null;
  const answered = new Set<string>();

  const webRequest = (globalThis as { chrome?: { webRequest?: ChromeWebRequest } }).chrome?.webRequest;
  webRequest?.onAuthRequired.addListener(
    (d, callback) => {
      const local = d.isProxy && d.challenger?.host === SOCKS_HOST;
      const ours = local && current && d.challenger?.port === current.port ? current : null;
      if (!ours) {
        // our realm on another local port (an old session's, or a program imitating it): no login
        // dialog and no credentials; anything else is not ours to answer
        return callback?.(local && d.realm === PROXY_REALM ? { cancel: true } : {});
      }
      if (answered.has(d.requestId)) return callback?.({ cancel: true });
      answered.add(d.requestId);
      if (answered.size > MAX_REMEMBERED) answered.delete(answered.values().next().value as string);
      callback?.({ authCredentials: { username: ours.username, password: ours.password } });
    },
    { urls: ['<all_urls>'] },
    ['asyncBlocking'],
  );

  return {
    async apply(r: Routing) {
      current = r.proxy;
      if (r.mode === 'off') {
        if (applied !== '') await browser.proxy.settings.clear({ scope: 'regular' });
        applied = '';
        return;
      }
      const pac = buildPac(r.rules, r.proxy ? { host: SOCKS_HOST, port: r.proxy.port } : BLACKHOLE, 'PROXY');
      if (pac === applied) return;
      await browser.proxy.settings.set({
        value: { mode: 'pac_script', pacScript: { data: pac, mandatory: true } },
        scope: 'regular',
      });
      applied = pac;
    },
    // a PAC needs no site access, and incognito windows follow the regular scope
    checks: async () => ({ ...NO_PROBLEMS, ...(await proxyControl()) }),
  };
}
