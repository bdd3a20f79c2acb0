// The two manifests: same pages and code, each browser's own background and identity fields.

import { CHROMIUM_KEY, GECKO_ID } from '../shared/ids.js';

type Target = 'chromium' | 'firefox';

const ICONS = { 16: 'icons/icon-16.png', 32: 'icons/icon-32.png', 48: 'icons/icon-48.png', 128: 'icons/icon-128.png' };

export function manifestFor(target: Target, version: string): Record<string, unknown> {
  const common = {
    manifest_version: 3,
    name: 'g5k-tunnel',
    version,
    // the words of _locales/<UI language>/messages.json (extension/i18n)
    description: '__MSG_extension_description__',
    default_locale: 'en',
    icons: ICONS,
    action: { default_title: 'g5k-tunnel', default_popup: 'popup/popup.html', default_icon: ICONS },
    options_ui: { page: 'options/options.html', open_in_tab: true },
    // proxy: routing; nativeMessaging: the SSH host; webNavigation: replace failed loads by error.html
    permissions: ['proxy', 'storage', 'nativeMessaging', 'webNavigation'],
    // Firefox calls proxy.onRequest only for hosts it may access
    host_permissions: ['<all_urls>'],
  };
  if (target === 'chromium')
    return {
      ...common,
      // webRequest + webRequestAuthProvider: answer the local proxy's 407 with the session credentials
      // (Firefox gives them in proxy.onRequest instead)
      permissions: [...common.permissions, 'webRequest', 'webRequestAuthProvider'],
      key: CHROMIUM_KEY,
      minimum_chrome_version: '120',
      background: { service_worker: 'background.js', type: 'module' },
    };
  return {
    ...common,
    background: { scripts: ['background.js'] },
    browser_specific_settings: {
      // 140 (an ESR): MV3 with proxy.onRequest and storage.session, and the data consent key below
      gecko: {
        id: GECKO_ID,
        strict_min_version: '140.0',
        // nothing leaves the machine but the user's own SSH connection
        data_collection_permissions: { required: ['none'] },
      },
      gecko_android: { strict_min_version: '142.0' },
    },
  };
}
