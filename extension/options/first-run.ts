// The options page on a first run (no settings ever saved): the form filled in with the profile
// the native host proposes from ~/.ssh/config, not saved, with a note to check it and Save.

import browser from 'webextension-polyfill';
import type { Settings } from '../../shared/settings.js';
import { SETTINGS_KEY } from '../background/settings-store.js';
import { readProposal, settingsFromProposal } from '../lib/first-run.js';
import { $, send, show } from '../ui/page.js';

/** Fills the form (through `fill`) with the proposal applied to `base`, unless the user typed first. */
export async function proposeInForm(base: Settings, fill: (s: Settings) => void): Promise<void> {
  let typed = false;
  $('form').addEventListener('input', () => {
    typed = true;
  });
  browser.storage.onChanged.addListener((changes, area) => {
    if (area === 'local' && changes[SETTINGS_KEY]?.newValue !== undefined) show($('proposal-note'), false);
  });
  const proposal = readProposal(await send({ type: 'propose-profile' }));
  if (!proposal?.found || typed) return;
  fill(settingsFromProposal(proposal, base));
  show($('proposal-note'), true);
}
