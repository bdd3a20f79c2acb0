// Settings in storage.local (key `settings`, versioned, migrated on read) and the current mode in
// storage.session (survives a worker restart, forgotten when the browser quits, which then starts
// in the configured start-up mode).

import browser from 'webextension-polyfill';
import type { Mode } from '../../shared/protocol.js';
import { MODES } from '../../shared/protocol.js';
import { migrateSettings, type Settings } from '../../shared/settings.js';

export const SETTINGS_KEY = 'settings';
const MODE_KEY = 'mode';

export async function loadSettings(): Promise<Settings> {
  const stored = (await browser.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY];
  const { settings, migratedFrom, warnings } = migrateSettings(stored);
  for (const w of warnings) console.warn(`g5k-tunnel: settings: ${w}`);
  // write the migrated form back once, so that older fields are never read again
  if (stored !== undefined && migratedFrom !== null && migratedFrom !== undefined)
    await browser.storage.local.set({ [SETTINGS_KEY]: settings });
  return settings;
}

export async function saveSettings(settings: Settings): Promise<void> {
  await browser.storage.local.set({ [SETTINGS_KEY]: settings });
}

export async function loadMode(startupMode: Mode): Promise<Mode> {
  const v = (await browser.storage.session.get(MODE_KEY))[MODE_KEY];
  if ((MODES as readonly unknown[]).includes(v)) return v as Mode;
  await saveMode(startupMode);
  return startupMode;
}

export async function saveMode(mode: Mode): Promise<void> {
  await browser.storage.session.set({ [MODE_KEY]: mode });
}
