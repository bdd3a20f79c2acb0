// The one way extension code gets words: t(key, …substitutions), in the browser's UI language.
// In the browser it asks i18n.getMessage; elsewhere (node's unit tests) it reads the English table.

import { en, type MessageKey } from './en.js';
import { formatMessage } from './message.js';

type GetMessage = (key: string, subs?: string[]) => string;

interface I18nApi {
  getMessage: GetMessage;
  getUILanguage(): string;
}

// no webextension-polyfill here: this module also runs in node, where neither global exists
function browserI18n(): I18nApi | undefined {
  const g = globalThis as { chrome?: { i18n?: I18nApi }; browser?: { i18n?: I18nApi } };
  return g.browser?.i18n ?? g.chrome?.i18n;
}

const english: GetMessage = (key, subs) => formatMessage(en[key as MessageKey], subs);

let source: GetMessage | undefined;

/** Replaces where words come from (tests: another language's table); undefined restores the default. */
export function setMessageSource(get: GetMessage | undefined): void {
  source = get;
}

/** The message `key` with its placeholders filled by `subs`, in order. */
export function t(key: MessageKey, ...subs: (string | number)[]): string {
  const strings = subs.map(String);
  if (source) return source(key, strings);
  // an empty answer means the build lacks the key: English beats a blank
  return browserI18n()?.getMessage(key, strings) || english(key, strings);
}

/** The browser's UI language (`fr`, `en-US`); `en` outside a browser. */
export function uiLanguage(): string {
  return browserI18n()?.getUILanguage() ?? 'en';
}
