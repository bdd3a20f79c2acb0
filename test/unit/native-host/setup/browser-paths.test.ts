// Where each browser reads native-messaging host manifests, per OS and scope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BROWSERS,
  currentOs,
  hostManifest,
  installDir,
  launcherPath,
  manifestDir,
  manifestPath,
  parseBrowserList,
  registryKey,
} from '../../../../native-host/setup/browser-paths.js';
import { CHROMIUM_ALLOWED_IDS, GECKO_ID } from '../../../../shared/ids.js';
import { NATIVE_HOST_NAME } from '../../../../shared/protocol.js';

const H = '/home/ada';

test('Linux, per user: Firefox in ~/.mozilla, the Chromium family under ~/.config', () => {
  const got = Object.fromEntries(BROWSERS.map((b) => [b, manifestPath(b, 'linux', 'user', H)]));
  assert.deepEqual(got, {
    firefox: '/home/ada/.mozilla/native-messaging-hosts/g5k_tunnel.json',
    chrome: '/home/ada/.config/google-chrome/NativeMessagingHosts/g5k_tunnel.json',
    chromium: '/home/ada/.config/chromium/NativeMessagingHosts/g5k_tunnel.json',
    brave: '/home/ada/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts/g5k_tunnel.json',
    edge: '/home/ada/.config/microsoft-edge/NativeMessagingHosts/g5k_tunnel.json',
    vivaldi: '/home/ada/.config/vivaldi/NativeMessagingHosts/g5k_tunnel.json',
  });
});

test('Linux, per user: an absolute XDG_CONFIG_HOME moves the Chromium family, not Firefox; a relative one is ignored', () => {
  const env = { XDG_CONFIG_HOME: '/cfg' };
  assert.equal(manifestDir('chromium', 'linux', 'user', H, env), '/cfg/chromium/NativeMessagingHosts');
  assert.equal(manifestDir('firefox', 'linux', 'user', H, env), '/home/ada/.mozilla/native-messaging-hosts');
  assert.equal(
    manifestDir('chrome', 'linux', 'user', H, { XDG_CONFIG_HOME: 'cfg' }),
    '/home/ada/.config/google-chrome/NativeMessagingHosts',
  );
});

test('Linux, system-wide: /usr/lib/mozilla and /etc folders', () => {
  const got = Object.fromEntries(BROWSERS.map((b) => [b, manifestDir(b, 'linux', 'system', H)]));
  assert.deepEqual(got, {
    firefox: '/usr/lib/mozilla/native-messaging-hosts',
    chrome: '/etc/opt/chrome/native-messaging-hosts',
    chromium: '/etc/chromium/native-messaging-hosts',
    brave: '/etc/opt/brave/native-messaging-hosts',
    edge: '/etc/opt/edge/native-messaging-hosts',
    vivaldi: '/etc/opt/vivaldi/native-messaging-hosts',
  });
});

test('macOS, per user and system-wide', () => {
  assert.deepEqual(
    BROWSERS.map((b) => manifestDir(b, 'darwin', 'user', '/Users/ada')),
    [
      '/Users/ada/Library/Application Support/Mozilla/NativeMessagingHosts',
      '/Users/ada/Library/Application Support/Google/Chrome/NativeMessagingHosts',
      '/Users/ada/Library/Application Support/Chromium/NativeMessagingHosts',
      '/Users/ada/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts',
      '/Users/ada/Library/Application Support/Microsoft Edge/NativeMessagingHosts',
      '/Users/ada/Library/Application Support/Vivaldi/NativeMessagingHosts',
    ],
  );
  assert.equal(
    manifestDir('firefox', 'darwin', 'system', '/Users/ada'),
    '/Library/Application Support/Mozilla/NativeMessagingHosts',
  );
  assert.equal(manifestDir('chrome', 'darwin', 'system', '/Users/ada'), '/Library/Google/Chrome/NativeMessagingHosts');
  assert.equal(manifestDir('edge', 'darwin', 'system', '/Users/ada'), '/Library/Microsoft/Edge/NativeMessagingHosts');
});

test('Windows: no manifest folder; one manifest per family beside the launcher, and a registry key per browser', () => {
  const env = { LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local', ProgramFiles: 'C:\\Program Files' };
  assert.equal(manifestDir('firefox', 'win32', 'user', 'C:\\Users\\ada', env), null);
  assert.equal(installDir('win32', 'user', 'C:\\Users\\ada', env), 'C:\\Users\\ada\\AppData\\Local\\g5k-tunnel');
  assert.equal(installDir('win32', 'system', 'C:\\Users\\ada', env), 'C:\\Program Files\\g5k-tunnel');
  assert.equal(
    launcherPath('win32', 'user', 'C:\\Users\\ada', env),
    'C:\\Users\\ada\\AppData\\Local\\g5k-tunnel\\g5k-tunnel-host.bat',
  );
  assert.equal(
    manifestPath('firefox', 'win32', 'user', 'C:\\Users\\ada', env),
    'C:\\Users\\ada\\AppData\\Local\\g5k-tunnel\\g5k_tunnel.gecko.json',
  );
  assert.equal(
    manifestPath('edge', 'win32', 'user', 'C:\\Users\\ada', env),
    'C:\\Users\\ada\\AppData\\Local\\g5k-tunnel\\g5k_tunnel.chromium.json',
  );
  assert.equal(
    manifestPath('chrome', 'win32', 'user', 'C:\\Users\\ada', env),
    manifestPath('brave', 'win32', 'user', 'C:\\Users\\ada', env),
  );
  // without LOCALAPPDATA, the usual place under the profile
  assert.equal(installDir('win32', 'user', 'C:\\Users\\ada', {}), 'C:\\Users\\ada\\AppData\\Local\\g5k-tunnel');
  assert.deepEqual(
    BROWSERS.map((b) => registryKey(b, 'user')),
    [
      'HKCU\\Software\\Mozilla\\NativeMessagingHosts\\g5k_tunnel',
      'HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\g5k_tunnel',
      'HKCU\\Software\\Chromium\\NativeMessagingHosts\\g5k_tunnel',
      'HKCU\\Software\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts\\g5k_tunnel',
      'HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\g5k_tunnel',
      'HKCU\\Software\\Vivaldi\\NativeMessagingHosts\\g5k_tunnel',
    ],
  );
  assert.equal(registryKey('chrome', 'system'), 'HKLM\\Software\\Google\\Chrome\\NativeMessagingHosts\\g5k_tunnel');
});

test('launcher folder per OS and scope', () => {
  assert.equal(installDir('linux', 'user', H), '/home/ada/.local/share/g5k-tunnel');
  assert.equal(installDir('linux', 'user', H, { XDG_DATA_HOME: '/data' }), '/data/g5k-tunnel');
  assert.equal(installDir('linux', 'system', H), '/usr/local/lib/g5k-tunnel');
  assert.equal(launcherPath('linux', 'user', H), '/home/ada/.local/share/g5k-tunnel/g5k-tunnel-host');
  assert.equal(installDir('darwin', 'user', '/Users/ada'), '/Users/ada/Library/Application Support/g5k-tunnel');
  assert.equal(installDir('darwin', 'system', '/Users/ada'), '/Library/Application Support/g5k-tunnel');
});

test('every manifest file is named after the host, which is a valid native-messaging name', () => {
  assert.match(NATIVE_HOST_NAME, /^[a-z0-9_]+(\.[a-z0-9_]+)*$/);
  for (const b of BROWSERS)
    for (const os of ['linux', 'darwin'] as const)
      for (const scope of ['user', 'system'] as const)
        assert.ok(manifestPath(b, os, scope, H).endsWith(`/${NATIVE_HOST_NAME}.json`));
});

test('manifests: Firefox allows the gecko id; Chromium allows each id as an origin with the trailing slash', () => {
  const ff = hostManifest('gecko', '/x/launcher');
  assert.deepEqual(ff, {
    name: NATIVE_HOST_NAME,
    description: ff.description,
    path: '/x/launcher',
    type: 'stdio',
    allowed_extensions: [GECKO_ID],
  });
  const cr = hostManifest('chromium', '/x/launcher');
  assert.equal(cr.allowed_extensions, undefined);
  assert.deepEqual(
    cr.allowed_origins,
    CHROMIUM_ALLOWED_IDS.map((id) => `chrome-extension://${id}/`),
  );
  for (const o of cr.allowed_origins!) assert.match(o, /^chrome-extension:\/\/[a-p]{32}\/$/);
});

test('--browser lists: names, aliases, all, and a clear error for an unknown name', () => {
  assert.deepEqual(parseBrowserList('all'), { ok: true, value: [...BROWSERS] });
  assert.deepEqual(parseBrowserList('firefox-esr, Chromium,google-chrome,chromium'), {
    ok: true,
    value: ['firefox', 'chromium', 'chrome'],
  });
  const bad = parseBrowserList('firefox,netscape');
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.error : '', /unknown browser "netscape".*firefox, chrome/);
});

test('the current OS maps other Unixes to the Linux layout', () => {
  assert.equal(currentOs('linux'), 'linux');
  assert.equal(currentOs('freebsd'), 'linux');
  assert.equal(currentOs('darwin'), 'darwin');
  assert.equal(currentOs('win32'), 'win32');
});
