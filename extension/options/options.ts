// The options page: the active profile's fields with per-field checks, a live pattern tester,
// Grid'5000 range presets, "Test connection" through the host, and settings import/export.

import { catchAllLines, explainMatch, parseRules } from '../../shared/patterns.js';
import type { ProtocolError, TestResult } from '../../shared/protocol.js';
import { activeProfile, toTunnelConfig, type Settings } from '../../shared/settings.js';
import { exportSettings, importSettings } from '../../shared/settings-migrate.js';
import { formToSettings, patternLines, settingsToForm, type FormErrors, type ProfileForm } from './profile-form.js';
import { addLines, dropNote, missingLines, noteEntries, PRESETS, removeLines, settleNote } from './presets.js';
import { t } from '../i18n/t.js';
import type { View } from '../lib/messages.js';
import { describeError } from '../lib/status-view.js';
import { portInUseNote } from '../lib/port-in-use.js';
import { readSettings, saveSettings } from '../background/settings-store.js';
import { $, send, show, watchView } from '../ui/page.js';
import { proposeInForm } from './first-run.js';

const TEXT_FIELDS = [
  'user',
  'gateway',
  'port',
  'jumps',
  'identityFile',
  'knownHostsFile',
  'socksPort',
  'patterns',
  'idleTimeoutSec',
  'maxConnections',
  'startupMode',
] as const;
const CHECKBOXES = ['useAgent', 'restrictToPatterns'] as const;

let stored: Settings;

function readForm(): ProfileForm {
  const text = Object.fromEntries(TEXT_FIELDS.map((id) => [id, $<HTMLInputElement>(id).value])) as Record<
    (typeof TEXT_FIELDS)[number],
    string
  >;
  const checks = Object.fromEntries(CHECKBOXES.map((id) => [id, $<HTMLInputElement>(id).checked])) as Record<
    (typeof CHECKBOXES)[number],
    boolean
  >;
  return { ...text, ...checks };
}

function fillForm(s: Settings): void {
  const f = settingsToForm(s);
  for (const id of TEXT_FIELDS) $<HTMLInputElement>(id).value = f[id];
  for (const id of CHECKBOXES) $<HTMLInputElement>(id).checked = f[id];
  showErrors({});
  patternsChanged();
}

function showErrors(errors: FormErrors): void {
  for (const id of [...TEXT_FIELDS, ...CHECKBOXES]) {
    const el = $(`error-${id}`);
    el.textContent = errors[id] ?? '';
    show(el, !!errors[id]);
    $(id).setAttribute('aria-invalid', String(!!errors[id]));
  }
}

/** Patterns are checked as they are typed; the other fields on Save. */
function checkPatterns(): void {
  const { errors } = parseRules(patternLines($<HTMLTextAreaElement>('patterns').value));
  const el = $('error-patterns');
  el.textContent = errors.map((e) => `“${e.raw}”: ${e.message}`).join('\n');
  show(el, errors.length > 0);
  $('patterns').setAttribute('aria-invalid', String(errors.length > 0));
}

function updateTester(): void {
  const input = $<HTMLInputElement>('tester-url').value.trim();
  const out = $('tester-result');
  if (input === '') {
    out.textContent = t('options_tester_empty');
    delete out.dataset.proxied;
    return;
  }
  const { rules } = parseRules(patternLines($<HTMLTextAreaElement>('patterns').value));
  const r = explainMatch(rules, input);
  out.textContent = r.reason;
  out.dataset.proxied = String(r.proxied);
}

/** The checkboxes and the note follow the pattern list as it is typed. */
function patternsChanged(): void {
  const text = $<HTMLTextAreaElement>('patterns').value;
  for (const preset of PRESETS)
    $<HTMLInputElement>(`preset-${preset.id}`).checked = missingLines(text, preset.lines).length === 0;
  const entries = noteEntries(stored, text);
  $('new-defaults-list').replaceChildren(...entries.map((e) => code(e)));
  show($('new-defaults'), entries.length > 0);
  warnCatchAll();
  updateTester();
}

/** A rule that matches every host is valid but almost never meant: say what it would do. */
function warnCatchAll(): void {
  const lines = catchAllLines(patternLines($<HTMLTextAreaElement>('patterns').value));
  const el = $('warning-patterns');
  el.textContent = lines.map((l) => t('options_catch_all', l)).join('\n');
  show(el, lines.length > 0);
}

/** The same warning for the rules an imported file brings, every profile's. */
function catchAllNotes(s: Settings): HTMLParagraphElement[] {
  const lines = new Set(s.profiles.flatMap((p) => catchAllLines(p.patterns)));
  return [...lines].map((l) => para(t('options_catch_all', l), 'warn-text'));
}

/** Under the SOCKS port: the port the host listens on now (with port 0, known only once it runs). */
function watchPortInUse(): void {
  const el = $('socks-port-in-use');
  const render = (text: string) => {
    el.textContent = text;
    show(el, text !== '');
  };
  watchView(
    (v) => render(portInUseNote(v.status)),
    () => render(''),
  );
}

function setPatterns(text: string): void {
  $<HTMLTextAreaElement>('patterns').value = text;
  savedMessage('');
  checkPatterns();
  patternsChanged();
}

function togglePreset(id: string): void {
  const preset = PRESETS.find((p) => p.id === id)!;
  const text = $<HTMLTextAreaElement>('patterns').value;
  setPatterns(
    $<HTMLInputElement>(`preset-${id}`).checked ? addLines(text, preset.lines) : removeLines(text, preset.lines),
  );
}

/** "Add them": the new default entries join the list, saved at once (the note then goes). */
async function addNewDefaults(): Promise<void> {
  const text = $<HTMLTextAreaElement>('patterns').value;
  setPatterns(addLines(text, noteEntries(stored, text)));
  await save();
}

/** "Dismiss": the note goes for good; the stored settings change only by that. */
async function dismissNewDefaults(): Promise<void> {
  stored = dropNote(stored);
  await saveSettings(stored);
  show($('new-defaults'), false);
}

function code(text: string): HTMLLIElement {
  const li = document.createElement('li');
  const c = document.createElement('code');
  c.textContent = text;
  li.append(c);
  return li;
}

function savedMessage(text: string, bad = false): void {
  const el = $('saved');
  el.textContent = text;
  el.classList.toggle('bad', bad);
}

async function save(): Promise<void> {
  const form = formToSettings(readForm(), stored);
  const { errors } = form;
  const settings = settleNote(form.settings);
  showErrors(errors);
  if (Object.keys(errors).length > 0) {
    savedMessage(t('options_not_saved'), true);
    $(Object.keys(errors)[0]!).focus();
    return;
  }
  await saveSettings(settings);
  stored = settings;
  // show what was stored (a gateway typed login@host:port is shown split into its inputs)
  fillForm(settings);
  // what is stored now is what the form shows: nothing left to warn about
  show($('settings-warnings'), false);
  savedMessage(t('options_saved'));
}

function errorBox(error: ProtocolError): void {
  const words = describeError(error);
  const box = $('test-result');
  box.className = 'box bad';
  box.dataset.ok = 'false';
  box.dataset.code = error.code;
  box.replaceChildren(
    para(words.message),
    para(words.hint, 'hint'),
    ...(error.detail ? [para(error.detail, 'small')] : []),
  );
}

function para(text: string, cls = ''): HTMLParagraphElement {
  const p = document.createElement('p');
  p.textContent = text;
  if (cls) p.className = cls;
  return p;
}

function list(items: string[]): HTMLUListElement {
  const ul = document.createElement('ul');
  for (const text of items) {
    const li = document.createElement('li');
    li.textContent = text;
    ul.append(li);
  }
  return ul;
}

async function testConnection(): Promise<void> {
  const { settings, errors } = formToSettings(readForm(), stored);
  showErrors(errors);
  const box = $('test-result');
  show(box, true);
  if (Object.keys(errors).length > 0) {
    box.className = 'box warn';
    box.replaceChildren(para(t('options_fix_first')));
    return;
  }
  const button = $<HTMLButtonElement>('test-connection');
  button.disabled = true;
  box.className = 'box';
  delete box.dataset.ok;
  box.replaceChildren(para(t('options_connecting')));
  try {
    const reply = await send({ type: 'test-connection', config: toTunnelConfig(activeProfile(settings)) });
    if (!reply.ok) return errorBox(reply.error);
    const result = reply.result as TestResult;
    box.className = 'box good';
    box.dataset.ok = 'true';
    const timings = list(result.timings.map((x) => t('options_timing', x.hop, t(`options_stage_${x.stage}`), x.ms)));
    box.replaceChildren(
      para(t('options_accepted')),
      timings,
      ...(result.serverBanner ? [para(result.serverBanner, 'small')] : []),
    );
  } finally {
    button.disabled = false;
  }
}

function exportFile(): void {
  const blob = new Blob([exportSettings(stored)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'g5k-tunnel-settings.json';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

async function importFile(file: File): Promise<void> {
  const out = $('import-result');
  const parsed = importSettings(await file.text());
  if (!parsed.ok) {
    out.dataset.ok = 'false';
    out.replaceChildren(para(parsed.error, 'field-error'));
    return;
  }
  const result = parsed.value;
  await saveSettings(result.settings);
  stored = result.settings;
  fillForm(stored);
  show($('settings-warnings'), false);
  out.dataset.ok = 'true';
  // what the file held that could not be used: the form shows the defaults taken instead
  out.replaceChildren(
    para(result.warnings.length ? t('options_imported_changes') : t('options_imported')),
    ...(result.warnings.length ? [list(result.warnings)] : []),
    ...catchAllNotes(result.settings),
  );
}

async function main(): Promise<void> {
  const { settings, warnings, saved } = await readSettings();
  stored = settings;
  fillForm(stored);
  if (!saved) void proposeInForm(stored, fillForm);
  $('settings-warnings-list').replaceChildren(...list(warnings).children);
  show($('settings-warnings'), warnings.length > 0);
  $('form').addEventListener('submit', (e) => {
    e.preventDefault();
    void save();
  });
  $('form').addEventListener('input', () => savedMessage(''));
  $('patterns').addEventListener('input', () => {
    checkPatterns();
    patternsChanged();
  });
  for (const preset of PRESETS) $(`preset-${preset.id}`).addEventListener('change', () => togglePreset(preset.id));
  $('new-defaults-add').addEventListener('click', () => void addNewDefaults());
  $('new-defaults-dismiss').addEventListener('click', () => void dismissNewDefaults());
  $('tester-url').addEventListener('input', updateTester);
  $('test-connection').addEventListener('click', () => void testConnection());
  $('export').addEventListener('click', exportFile);
  $('import').addEventListener('click', () => $('import-file').click());
  $('import-file').addEventListener('change', () => {
    const input = $<HTMLInputElement>('import-file');
    const file = input.files?.[0];
    input.value = ''; // choosing the same file again must import it again
    if (file) void importFile(file);
  });
  const reply = await send({ type: 'get-view' });
  if (reply.ok) show($('private-note'), (reply.result as View).privateWindowsExcluded);
  watchPortInUse();
  document.body.dataset.ready = 'true';
}

void main();
