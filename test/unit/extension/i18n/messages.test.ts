// The extension's languages: same keys and placeholders everywhere, every key the code and the pages
// use defined, the error table's English taken from shared/errors.ts and translated in French.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describe as tableWords, ERROR_CODES, makeError } from '../../../../shared/errors.js';
import { en } from '../../../../extension/i18n/en.js';
import { fr } from '../../../../extension/i18n/fr.js';
import { DEFAULT_LOCALE, LOCALES } from '../../../../extension/i18n/locales.js';
import { formatMessage, type Message, usedPlaceholders } from '../../../../extension/i18n/message.js';
import { setMessageSource, t } from '../../../../extension/i18n/t.js';
import { describeError, formatBytes, formatDuration } from '../../../../extension/lib/status-view.js';
import { manifestFor } from '../../../../extension/manifest.js';

// dist/test/unit/extension/i18n → the repository
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
const extensionDir = path.join(root, 'extension');

function sources(ext: string): { file: string; text: string }[] {
  return fs
    .readdirSync(extensionDir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(ext))
    .map((f) => ({ file: f, text: fs.readFileSync(path.join(extensionDir, f), 'utf8') }));
}

const placeholders = (m: Message) =>
  Object.entries(m.placeholders ?? {})
    .map(([name, p]) => `${name}=${p.content}`)
    .sort();

describe('languages', () => {
  it('has English as the default and French', () => {
    assert.equal(DEFAULT_LOCALE, 'en');
    assert.deepEqual(Object.keys(LOCALES).sort(), ['en', 'fr']);
    assert.equal(LOCALES.en, en);
    for (const target of ['chromium', 'firefox'] as const) {
      const m = manifestFor(target, '1.0.0');
      assert.equal(m.default_locale, DEFAULT_LOCALE);
      assert.match(String(m.description), /^__MSG_(\w+)__$/);
      assert.ok(String(m.description).slice(6, -2) in en, 'the manifest names a defined message');
    }
  });

  it('every language has exactly the keys of English', () => {
    const keys = Object.keys(en).sort();
    for (const [lang, messages] of Object.entries(LOCALES)) {
      const theirs = Object.keys(messages).sort();
      assert.deepEqual(
        keys.filter((k) => !theirs.includes(k)),
        [],
        `${lang} lacks keys`,
      );
      assert.deepEqual(
        theirs.filter((k) => !keys.includes(k)),
        [],
        `${lang} has keys English has not`,
      );
    }
  });

  it('keys are valid message names, unique regardless of case, and no message is empty', () => {
    const lower = new Set<string>();
    for (const key of Object.keys(en)) {
      assert.match(key, /^[A-Za-z0-9_@]+$/);
      assert.ok(!key.startsWith('@@'), `${key}: @@ is reserved`);
      assert.ok(!lower.has(key.toLowerCase()), `${key} twice`);
      lower.add(key.toLowerCase());
    }
    for (const [lang, messages] of Object.entries(LOCALES))
      for (const [key, m] of Object.entries(messages)) assert.ok(m.message.trim() !== '', `${lang} ${key} is empty`);
  });

  it('every language declares the placeholders of English, and uses each one it declares', () => {
    for (const [lang, messages] of Object.entries(LOCALES))
      for (const [key, m] of Object.entries(messages)) {
        const english = en[key as keyof typeof en];
        assert.deepEqual(placeholders(m), placeholders(english), `${lang} ${key}: placeholders differ from en`);
        assert.deepEqual(
          [...new Set(usedPlaceholders(m))].sort(),
          Object.keys(m.placeholders ?? {}).sort(),
          `${lang} ${key}: placeholders declared and used differ`,
        );
        // a lone $ would read as a placeholder or a substitution in the browsers
        assert.doesNotMatch(m.message.replace(/\$[A-Za-z0-9_@]+\$/g, ''), /\$/, `${lang} ${key}: stray $`);
      }
  });

  it('takes the English error words from the error table, and has French ones for every code', () => {
    for (const code of ERROR_CODES) {
      const words = tableWords(code);
      assert.equal(en[`err_${code}_message`].message, words.message);
      assert.equal(en[`err_${code}_hint`].message, words.hint);
      for (const part of ['title', 'message', 'hint'] as const) {
        const key = `err_${code}_${part}` as const;
        assert.ok(fr[key].message, `${key} in French`);
        // commands between backticks are kept as they are
        assert.deepEqual(
          fr[key].message.match(/`[^`]*`/g)?.map((c) => c.replace('host', '')) ?? [],
          en[key].message.match(/`[^`]*`/g)?.map((c) => c.replace('host', '')) ?? [],
          `${key}: the same commands`,
        );
      }
      assert.notEqual(fr[`err_${code}_message`].message, en[`err_${code}_message`].message, `${code} translated`);
    }
  });

  it('defines every key the code and the pages use', () => {
    const keys = Object.keys(en);
    const used: { where: string; key: string }[] = [];
    for (const { file, text } of sources('.ts'))
      for (const m of text.matchAll(/\bt\(\s*(['`])((?:(?!\1).)+)\1/g)) used.push({ where: file, key: m[2]! });
    for (const { file, text } of sources('.html'))
      for (const m of text.matchAll(/\bdata-i18n(?:-[a-z-]+)?="([^"]*)"/g)) used.push({ where: file, key: m[1]! });
    assert.ok(used.length > 100, `found ${used.length} uses`);
    for (const { where, key } of used) {
      // a template key (`err_${code}_title`) must match at least one key
      const pattern = new RegExp(`^${key.replace(/\$\{[^}]*\}/g, '\\w+')}$`);
      assert.ok(
        keys.some((k) => pattern.test(k)),
        `${where}: ${key} is not defined`,
      );
    }
  });

  it('every data-i18n attribute of the pages is one the page filler knows', () => {
    for (const { file, text } of sources('.html'))
      for (const m of text.matchAll(/\bdata-i18n[a-z-]*(?==)/g))
        assert.ok(
          ['data-i18n', 'data-i18n-title', 'data-i18n-placeholder', 'data-i18n-aria-label'].includes(m[0]),
          `${file}: ${m[0]}`,
        );
  });
});

describe('formatMessage (what getMessage does)', () => {
  it('fills placeholders in order, case-insensitively, and reads $$ as $', () => {
    const m: Message = {
      message: '$Gateway$ via $jumps$ costs $$5',
      placeholders: { gateway: { content: '$1' }, jumps: { content: '$2' } },
    };
    assert.equal(formatMessage(m, ['gw', 'a, b']), 'gw via a, b costs $5');
    assert.equal(formatMessage(m, ['gw']), 'gw via  costs $5');
    assert.equal(formatMessage({ message: 'no $such$ placeholder' }), 'no $such$ placeholder');
  });
});

describe('t', () => {
  after(() => setMessageSource(undefined));

  it('reads English outside a browser', () => {
    assert.equal(t('popup_gateway_via', 'gw', 'j1, j2'), 'gw via j1, j2');
    assert.equal(t('mode_on'), 'On');
  });

  it('shows the error table and the figures in the language of the source', () => {
    setMessageSource((key, subs) => formatMessage(fr[key as keyof typeof fr], subs));
    try {
      const w = describeError(makeError('HOST_MISSING'));
      assert.equal(w.title, 'Hôte natif non installé');
      assert.equal(w.message, fr.err_HOST_MISSING_message.message);
      assert.match(w.hint, /`npm run install-host`/);
      // words of the moment (the host's own message) stay as they were said
      assert.equal(describeError(makeError('INTERNAL', undefined, 'socket closed')).message, 'socket closed');
      assert.equal(formatDuration(3 * 86400_000 + 4 * 3600_000), '3 j 4 h');
      assert.equal(formatBytes(1536), '1.5 Kio');
    } finally {
      setMessageSource(undefined);
    }
    assert.equal(describeError(makeError('HOST_MISSING')).title, 'Native host not installed');
  });
});
