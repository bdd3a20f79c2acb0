// The popup's first-run box: while no settings were ever saved, what the native host found in
// ~/.ssh/config with one button to use it, or, when it found nothing, the login alone.

import browser from 'webextension-polyfill';
import type { ProfileProposal } from '../../shared/protocol.js';
import type { Settings } from '../../shared/settings.js';
import { readSettings, SETTINGS_KEY, saveSettings } from '../background/settings-store.js';
import { t } from '../i18n/t.js';
import {
  type FactLine,
  proposalView,
  readProposal,
  settingsFromLogin,
  settingsFromProposal,
} from '../lib/first-run.js';
import { $, send, setWords, show } from '../ui/page.js';

let proposal: ProfileProposal | null = null;

function fact(id: string, line: FactLine | null): void {
  const el = $(id);
  show(el, line !== null);
  if (!line) return;
  el.dataset.tone = line.tone;
  setWords(el, line.text);
}

function render(choice?: string): void {
  const v = proposalView(proposal, choice);
  const box = $('first-run');
  box.dataset.state = v.found ? 'found' : 'ask';
  $('first-run-summary').textContent = v.summary;
  $('first-run-route').textContent = v.route;
  show($('first-run-route'), v.route !== '');
  fact('first-run-key', v.key);
  fact('first-run-hostkey', v.hostKey);
  const select = $<HTMLSelectElement>('first-run-choice');
  if (select.options.length !== v.choices.length)
    select.replaceChildren(...v.choices.map((c) => new Option(c, c, c === v.target, c === v.target)));
  show($('first-run-choice-row'), v.choices.length > 0);
  show($('first-run-found'), v.found);
  show($('first-run-login-form'), !v.found);
  $('first-run-login-gateway').textContent = t('first_run_login_gateway', v.target);
}

async function save(settings: Settings): Promise<void> {
  await saveSettings(settings);
  // the background takes the new settings from storage and tells the host
  show($('first-run'), false);
}

async function useProposal(): Promise<void> {
  if (!proposal) return;
  const { settings } = await readSettings();
  await save(settingsFromProposal(proposal, settings, $<HTMLSelectElement>('first-run-choice').value));
}

async function saveLogin(): Promise<void> {
  const { settings } = await readSettings();
  const r = settingsFromLogin($<HTMLInputElement>('first-run-login').value, settings);
  const error = $('first-run-login-error');
  error.textContent = r.error ?? '';
  show(error, r.error !== undefined);
  $('first-run-login').setAttribute('aria-invalid', String(r.error !== undefined));
  if (!r.error) await save(r.settings);
}

/** Shows the box if nothing was ever saved, then asks the host (through the background) what it found. */
export async function firstRun(): Promise<void> {
  if ((await readSettings()).saved) return;
  show($('first-run'), true);
  // saved elsewhere meanwhile (the options page): nothing left to set up
  browser.storage.onChanged.addListener((changes, area) => {
    if (area === 'local' && changes[SETTINGS_KEY]?.newValue !== undefined) show($('first-run'), false);
  });
  $('first-run-use').addEventListener('click', () => void useProposal());
  $('first-run-choice').addEventListener('change', () => render($<HTMLSelectElement>('first-run-choice').value));
  $('first-run-login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void saveLogin();
  });
  $('first-run-edit').addEventListener('click', (e) => {
    e.preventDefault();
    void browser.runtime.openOptionsPage();
  });
  proposal = readProposal(await send({ type: 'propose-profile' }));
  render();
}
