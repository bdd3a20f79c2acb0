// Background entry (Chromium service worker, Firefox event page). Every listener is registered
// synchronously here, before any await: Firefox routes requests sent during start-up only if
// proxy.onRequest exists already, and a Chromium worker woken by an event must find its listener.

import browser, { type Runtime, type WebNavigation } from 'webextension-polyfill';
import { makeError } from '../../shared/errors.js';
import { errorPageUrl, shouldShowErrorPage } from '../lib/error-route.js';
import { parseUiRequest, VIEW_PORT_NAME, type UiReply, type UiRequest } from '../lib/messages.js';
import { RequestError } from '../lib/pending.js';
import { showBadge } from './badge.js';
import { Controller } from './controller.js';
import type { ProxyAdapter } from './proxy.js';
import { chromiumProxy } from './proxy-chromium.js';
import { firefoxProxy } from './proxy-firefox.js';
import { SETTINGS_KEY } from './settings-store.js';

/** How long a Firefox request waits for the host's SOCKS listener before it is sent anyway. */
const LISTENER_WAIT_MS = 10_000;

const isFirefox = browser.runtime.getURL('').startsWith('moz-extension:');
const controller = new Controller(`g5k-tunnel-extension/${browser.runtime.getManifest().version}`);

const proxy: ProxyAdapter = isFirefox
  ? firefoxProxy({ routing: () => controller.routing(), listenerUp: () => controller.listenerUp(LISTENER_WAIT_MS) })
  : chromiumProxy();

controller.subscribe((v) => void showBadge(v));

browser.runtime.onConnect.addListener((port: Runtime.Port) => {
  if (port.name !== VIEW_PORT_NAME) return;
  const unsubscribe = controller.subscribe((v) => port.postMessage(v));
  port.onDisconnect.addListener(() => unsubscribe());
  controller.pageOpened();
});

browser.runtime.onMessage.addListener((raw: unknown, sender: Runtime.MessageSender) => {
  // only the extension's own pages may drive the tunnel
  if (sender.id !== browser.runtime.id) return undefined;
  const req = parseUiRequest(raw);
  if (!req) return Promise.resolve<UiReply>({ ok: false, error: makeError('BAD_MESSAGE', JSON.stringify(raw)?.slice(0, 200)) });
  return handle(req).then(
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
    case 'reconnect-host':
      controller.client.reconnectNow();
      return controller.view();
    case 'test-connection': {
      // the host's own connect timeout applies per hop; leave room for a passphrase prompt
      const timeoutMs = (req.config.connectTimeoutSec * (req.config.jumps.length + 1) + 120) * 1000;
      return controller.client.request('test-connection', { config: req.config }, timeoutMs);
    }
  }
}

browser.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && SETTINGS_KEY in changes) void controller.settingsChanged();
});

browser.webNavigation.onErrorOccurred.addListener((d: WebNavigation.OnErrorOccurredDetailsType) => {
  // both browsers send `error` (net::ERR_… / NS_ERROR_…), though the polyfill's types omit it
  const error = String((d as { error?: unknown }).error ?? '');
  void (async () => {
    const r = await controller.routing();
    if (!shouldShowErrorPage({ frameId: d.frameId, url: d.url, error }, r)) return;
    await browser.tabs.update(d.tabId, { url: errorPageUrl(browser.runtime.getURL('error.html'), d.url, error) });
  })().catch((e) => console.warn(`g5k-tunnel: error page: ${String(e)}`));
});

// another extension may take the proxy over at any time; say so in the popup
const checkConflict = () =>
  browser.proxy.settings.get({}).then(
    (s) => controller.setProxyConflict(s.levelOfControl === 'controlled_by_other_extensions'),
    () => {},
  );
browser.proxy.settings.onChange?.addListener(() => void checkConflict());
browser.runtime.onConnect.addListener(() => void checkConflict());

controller.start(proxy);
void checkConflict();
