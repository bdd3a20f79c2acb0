// Background entry (Chromium service worker, Firefox event page). Every listener is registered
// synchronously here, before any await: Firefox routes requests sent during start-up only if
// proxy.onRequest exists already, and a Chromium worker woken by an event must find its listener.

import browser, { type Runtime, type WebNavigation } from 'webextension-polyfill';
import { makeError } from '../../shared/errors.js';
import { ErrorPageTabs, errorPageUrl, shouldShowErrorPage } from '../lib/error-route.js';
import { isOwnPage, parseUiRequest, VIEW_PORT_NAME, type UiReply, type UiRequest } from '../lib/messages.js';
import { RequestError } from '../lib/pending.js';
import { showBadge } from './badge.js';
import { Controller } from './controller.js';
import { askProfileProposal } from './first-run.js';
import type { ProxyAdapter } from './proxy.js';
import { chromiumProxy } from './proxy-chromium.js';
import { firefoxProxy } from './proxy-firefox.js';
import { SETTINGS_KEY } from './settings-store.js';

/** How long a Firefox request waits for the host's SOCKS listener before it is sent anyway. */
const LISTENER_WAIT_MS = 10_000;

const own = { id: browser.runtime.id, baseUrl: browser.runtime.getURL('') };
const ERROR_PAGE = browser.runtime.getURL('error-page/error.html');
const isFirefox = own.baseUrl.startsWith('moz-extension:');
const controller = new Controller(`g5k-tunnel-extension/${browser.runtime.getManifest().version}`);
const errorTabs = new ErrorPageTabs(ERROR_PAGE);

const proxy: ProxyAdapter = isFirefox
  ? firefoxProxy({ routing: () => controller.routing(), listenerUp: () => controller.listenerUp(LISTENER_WAIT_MS) })
  : chromiumProxy();

controller.subscribe((v) => void showBadge(v));

// the pages' live View; only the extension's own pages get it
browser.runtime.onConnect.addListener((port: Runtime.Port) => {
  if (port.name !== VIEW_PORT_NAME || !isOwnPage(port.sender ?? {}, own)) return port.disconnect();
  const unsubscribe = controller.subscribe((v) => port.postMessage(v));
  port.onDisconnect.addListener(() => unsubscribe());
  controller.pageOpened();
});

browser.runtime.onMessage.addListener((raw: unknown, sender: Runtime.MessageSender) => {
  // only the extension's own pages may drive the tunnel
  if (!isOwnPage(sender, own)) return undefined;
  const req = parseUiRequest(raw);
  if (!req.ok) return Promise.resolve<UiReply>({ ok: false, error: makeError('BAD_MESSAGE', req.error) });
  // Retry on the error page reloads the failed address: if it fails again, show the error page again
  if (req.value.type === 'retry' && sender.tab?.id !== undefined) errorTabs.forget(sender.tab.id);
  return handle(req.value).then(
    (result): UiReply => ({ ok: true, result }),
    (e): UiReply => ({ ok: false, error: e instanceof RequestError ? e.error : makeError('INTERNAL', String(e)) }),
  );
});

async function handle(req: UiRequest): Promise<unknown> {
  switch (req.type) {
    case 'get-view':
      return controller.view();
    case 'set-mode':
      return controller.setMode(req.mode);
    case 'retry':
      return controller.retry();
    case 'answer':
      return controller.answer(req.promptId, req.value);
    case 'test-connection': {
      // the host's own connect timeout applies per hop; leave room for a passphrase prompt
      const timeoutMs = (req.config.connectTimeoutSec * (req.config.jumps.length + 1) + 120) * 1000;
      return controller.client.request('test-connection', { config: req.config }, timeoutMs);
    }
    case 'propose-profile':
      return askProfileProposal(controller);
  }
}

browser.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && SETTINGS_KEY in changes) void controller.settingsChanged();
});

// a failed Grid'5000 page becomes the error page, which says why and offers Retry
browser.webNavigation.onErrorOccurred.addListener((d: WebNavigation.OnErrorOccurredDetailsType) => {
  // both browsers send `error` (net::ERR_… / NS_ERROR_…), though the polyfill's types omit it
  const error = String((d as { error?: unknown }).error ?? '');
  void (async () => {
    const r = await controller.routing();
    if (!shouldShowErrorPage({ frameId: d.frameId, url: d.url, error }, r)) return;
    if (errorTabs.isReturn(d.tabId, d.url)) {
      // Back from the error page (Chromium): step over the failed entry instead of trapping the user
      errorTabs.forget(d.tabId);
      await browser.tabs.goBack(d.tabId).catch(() => {});
      return;
    }
    errorTabs.shownFor(d.tabId, d.url);
    await browser.tabs.update(d.tabId, { url: errorPageUrl(ERROR_PAGE, d.url, error) });
  })().catch((e) => console.warn(`g5k-tunnel: error page: ${String(e)}`));
});
browser.webNavigation.onCommitted.addListener((d: WebNavigation.OnCommittedDetailsType) => {
  if (d.frameId === 0) errorTabs.committed(d.tabId, d.url);
});
browser.tabs.onRemoved.addListener((tabId: number) => errorTabs.forget(tabId));

// another extension may take the proxy over, the user may withdraw the site access: say so
browser.proxy.settings.onChange?.addListener(() => void controller.refreshBrowserChecks());
browser.permissions.onAdded.addListener(() => void controller.refreshBrowserChecks());
browser.permissions.onRemoved.addListener(() => void controller.refreshBrowserChecks());

// the network is back (a resume, another Wi-Fi): the host retries now instead of after its backoff.
// Firefox's event page gets `online`; Chromium's service worker has no `online` event, but its
// navigator.connection reports the change. The host rate-limits, so both firing is harmless.
const networkBack = () => {
  if (navigator.onLine) void controller.networkChanged();
};
globalThis.addEventListener('online', networkBack);
(navigator as Navigator & { connection?: EventTarget }).connection?.addEventListener('change', networkBack);

controller.start(proxy);
