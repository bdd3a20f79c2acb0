// How a page's words are filled from the messages: `data-i18n="key"` sets the text (`code` between
// backticks becomes <code>), `data-i18n-title` / `-placeholder` / `-aria-label` set those attributes.
// Pure (elements and the lookup are parameters): ui/page.ts applies it to the document.

import type { MessageKey } from '../i18n/en.js';
import { codeSpans } from './status-view.js';

/** Which data attribute fills which attribute of the element. */
const I18N_ATTRIBUTES = {
  'data-i18n-title': 'title',
  'data-i18n-placeholder': 'placeholder',
  'data-i18n-aria-label': 'aria-label',
} as const;

/** The text attribute; the others are in I18N_ATTRIBUTES. */
const I18N_TEXT = 'data-i18n';

/** What localizing needs of an element: its attributes and a way to set its words. */
export interface Localizable {
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
}

/** Every attribute change and text one element needs: `text` is null when it has no data-i18n. */
export function localizedParts(
  el: Localizable,
  t: (key: MessageKey) => string,
): { text: { text: string; code: boolean }[] | null; attributes: [string, string][] } {
  const textKey = el.getAttribute(I18N_TEXT);
  const attributes: [string, string][] = [];
  for (const [from, to] of Object.entries(I18N_ATTRIBUTES)) {
    const key = el.getAttribute(from);
    if (key) attributes.push([to, t(key as MessageKey)]);
  }
  return { text: textKey ? codeSpans(t(textKey as MessageKey)) : null, attributes };
}

/** The CSS selector of every element that carries words to fill. */
export const I18N_SELECTOR = [I18N_TEXT, ...Object.keys(I18N_ATTRIBUTES)].map((a) => `[${a}]`).join(',');
