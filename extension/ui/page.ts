// What every extension page needs: its words in the UI language, element lookup, talking to the
// background, the live View.

import browser, { type Runtime } from 'webextension-polyfill';
import { makeError } from '../../shared/errors.js';
import { t, uiLanguage } from '../i18n/t.js';
import { I18N_SELECTOR, localizedParts } from '../lib/localize.js';
import { VIEW_PORT_NAME, type UiReply, type UiRequest, type View } from '../lib/messages.js';
import { codeSpans } from '../lib/status-view.js';

/** Fills the page's `data-i18n*` words and <html lang> (see lib/localize.ts). */
function localizePage(doc: Document = document): void {
  doc.documentElement.lang = uiLanguage();
  for (const el of doc.querySelectorAll<HTMLElement>(I18N_SELECTOR)) {
    const { text, attributes } = localizedParts(el, t);
    for (const [name, value] of attributes) el.setAttribute(name, value);
    if (text) el.replaceChildren(...text.map((p) => (p.code ? codeElement(p.text) : doc.createTextNode(p.text))));
  }
}

function codeElement(text: string): HTMLElement {
  const code = document.createElement('code');
  code.textContent = text;
  return code;
}

// an imported module runs before the page's own code: the words are in place before it renders
localizePage();

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from ${location.pathname}`);
  return el as T;
}

export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}

/** Sets words from the error table, its `commands` shown as code. */
export function setWords(el: HTMLElement, text: string): void {
  el.replaceChildren(...codeSpans(text).map((p) => (p.code ? codeElement(p.text) : document.createTextNode(p.text))));
}

export async function send(req: UiRequest): Promise<UiReply> {
  try {
    const reply = (await browser.runtime.sendMessage(req)) as UiReply | undefined;
    return reply ?? { ok: false, error: makeError('INTERNAL', 'the background did not answer') };
  } catch (e) {
    return { ok: false, error: makeError('INTERNAL', String(e)) };
  }
}

/** Calls `render` with every View the background pushes; reconnects if the background restarts. */
export function watchView(render: (v: View) => void, lost?: () => void): void {
  const connect = () => {
    const port: Runtime.Port = browser.runtime.connect({ name: VIEW_PORT_NAME });
    port.onMessage.addListener((v: unknown) => render(v as View));
    port.onDisconnect.addListener(() => {
      lost?.();
      setTimeout(connect, 500);
    });
  };
  connect();
}
