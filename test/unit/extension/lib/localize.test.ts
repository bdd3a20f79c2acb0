// The page filler's mapping: data-i18n* attributes → words, without a browser.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MessageKey } from '../../../../extension/i18n/en.js';
import { I18N_SELECTOR, localizedParts, type Localizable } from '../../../../extension/lib/localize.js';

function element(attrs: Record<string, string>): Localizable {
  return {
    getAttribute: (n) => attrs[n] ?? null,
    setAttribute: (n, v) => {
      attrs[n] = v;
    },
  };
}

const words: Partial<Record<MessageKey, string>> = {
  mode_off: 'Arrêt',
  mode_off_title: 'Rien ne passe par le tunnel',
  popup_modes_label: 'Mode du tunnel',
  options_jumps_placeholder: 'aucun',
  options_jumps_help: 'Comme `ssh -J` : `[login@]host[:port]`, séparés par des virgules.',
};
const t = (key: MessageKey) => words[key] ?? `?${key}`;

test('data-i18n gives the text, with `code` parts', () => {
  assert.deepEqual(localizedParts(element({ 'data-i18n': 'mode_off' }), t), {
    text: [{ text: 'Arrêt', code: false }],
    attributes: [],
  });
  assert.deepEqual(localizedParts(element({ 'data-i18n': 'options_jumps_help' }), t).text, [
    { text: 'Comme ', code: false },
    { text: 'ssh -J', code: true },
    { text: ' : ', code: false },
    { text: '[login@]host[:port]', code: true },
    { text: ', séparés par des virgules.', code: false },
  ]);
});

test('data-i18n-title, -placeholder and -aria-label give those attributes, and leave the text alone', () => {
  const parts = localizedParts(
    element({
      'data-i18n-title': 'mode_off_title',
      'data-i18n-placeholder': 'options_jumps_placeholder',
      'data-i18n-aria-label': 'popup_modes_label',
    }),
    t,
  );
  assert.equal(parts.text, null);
  assert.deepEqual(parts.attributes, [
    ['title', 'Rien ne passe par le tunnel'],
    ['placeholder', 'aucun'],
    ['aria-label', 'Mode du tunnel'],
  ]);
});

test('an element without data-i18n attributes is left as it is', () => {
  assert.deepEqual(localizedParts(element({ id: 'state' }), t), { text: null, attributes: [] });
});

test('the selector finds every kind of data-i18n attribute', () => {
  assert.equal(I18N_SELECTOR, '[data-i18n],[data-i18n-title],[data-i18n-placeholder],[data-i18n-aria-label]');
});
