// The extension in French: a browser whose UI language is French shows the popup, the error table's
// words and the toolbar tooltip in French. A browser of its own, without the native host (so that
// the popup shows the "host not installed" box, the error table's words).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import {
  type BrowserKind,
  type BrowserSession,
  CHROMIUM_BIN,
  FIREFOX_BIN,
  launchBrowser,
  repoRoot,
} from '../../testbed/browsers.js';

// Page-side code runs in the browser; the Node build has no DOM types (declarations only).
declare const document: {
  documentElement: { lang: string };
  querySelector(s: string): { hidden: boolean; closest(s: string): unknown } | null;
};

const ARTIFACTS = path.join(repoRoot(), 'artifacts', 'e2e');

/** Why this machine cannot show the browser in French, or null. */
function cannotRun(kind: BrowserKind): string | null {
  const bin = kind === 'chromium' ? CHROMIUM_BIN : FIREFOX_BIN;
  if (!fs.existsSync(bin)) return `${bin} missing`;
  if (!fs.existsSync(path.join(repoRoot(), 'dist', 'browser', kind, '_locales', 'fr', 'messages.json')))
    return 'extension not built: npm run build:ext';
  const uiFiles =
    kind === 'chromium'
      ? ['/usr/lib/chromium/locales/fr.pak']
      : ['/usr/lib/firefox-esr/browser/extensions/langpack-fr@firefox-esr.mozilla.org.xpi'];
  const missing = uiFiles.find((f) => !fs.existsSync(f));
  if (missing)
    return `${missing} missing: apt-get install ${kind === 'chromium' ? 'chromium-l10n' : 'firefox-esr-l10n-fr'}`;
  return null;
}

export function frenchSuite(kind: BrowserKind): void {
  const why = cannotRun(kind);
  it('a browser in French shows the popup and the toolbar tooltip in French', {
    skip: why ?? false,
    timeout: 60_000,
  }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `g5k-e2e-${kind}-fr-`));
    let session: BrowserSession | null = null;
    try {
      session = await launchBrowser(kind, {
        extensionDir: path.join(repoRoot(), 'dist', 'browser', kind),
        profileDir: path.join(dir, 'browser'),
        locale: 'fr',
      });
      const language = await session.evalBackground(() => {
        const g = globalThis as unknown as { browser?: unknown; chrome?: unknown };
        return ((g.browser ?? g.chrome) as { i18n: { getUILanguage(): string } }).i18n.getUILanguage();
      });
      assert.match(language, /^fr\b/, 'the browser runs in French');

      const popup = await session.openExtensionPage('popup/popup.html');
      await popup.setViewport(380, 640);
      await popup.waitFor(
        () => {
          const box = document.querySelector('#host-problem');
          return !!box && box.closest('[hidden]') === null;
        },
        undefined,
        { timeoutMs: 20_000, what: '#host-problem to show' },
      );
      assert.match(await popup.evaluate(() => document.documentElement.lang), /^fr\b/);
      // the page's own words, the error table's, and the state pill's
      assert.equal(await popup.text('#mode-off'), 'Arrêt');
      assert.equal(await popup.attr('#mode-on', 'title'), 'Le tunnel reste ouvert');
      assert.equal(await popup.text('#open-options'), 'Paramètres…');
      assert.equal(await popup.text('#host-problem-title'), 'Hôte natif non installé');
      assert.match(await popup.text('#host-problem-message'), /n’est pas installé|n'est pas installé/);
      assert.equal(await popup.text('#state'), 'Indisponible');
      await popup.screenshot(path.join(ARTIFACTS, kind === 'chromium' ? 'popup-fr.png' : `${kind}-popup-fr.png`), {
        selector: 'body',
      });

      // the background's words: the toolbar tooltip
      const title = await session.evalBackground(async () => {
        const g = globalThis as unknown as { browser?: unknown; chrome?: unknown };
        return ((g.browser ?? g.chrome) as { action: { getTitle(d: object): Promise<string> } }).action.getTitle({});
      });
      assert.match(title, /^g5k-tunnel\u00a0: Hôte natif non installé\. /);
    } finally {
      await session?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
