// Settings in storage.local (key `settings`, versioned) and the current mode in storage.session
// (survives a worker restart, forgotten when the browser quits, which then starts in the configured
// start-up mode). Stored settings are migrated on every read (pure and cheap) and written only by
// the options page: a migration's warnings then stay there for the user to see until they save.

import browser from 'webextension-polyfill';
import type { Mode } from '../../shared/protocol.js';
import { MODES } from '../../shared/protocol.js';
import type { Settings } from '../../shared/settings.js';
import { migrateSettings } from '../../shared/settings-migrate.js';

export const SETTINGS_KEY = 'settings';
const MODE_KEY = 'mode';

/**
 * The stored settings in the current form, and what had to be changed to get there. `saved` is
 * false while no settings were ever saved (a first run): nothing under the key, as before any save.
 */
export async function readSettings(): Promise<{ settings: Settings; warnings: string[]; saved: boolean }> {
  const stored = (await browser.storage.local.get(SETTINGS_KEY))[SETTINGS_KEY];
  const { settings, warnings } = migrateSettings(stored);
  return { settings, warnings, saved: stored !== undefined && stored !== null };
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
