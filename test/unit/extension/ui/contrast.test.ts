// Contrast of the pages' colours (WCAG 2 AA: 4.5:1 for text) in the light and the dark scheme, read
// from the stylesheet itself, and of the toolbar badge's text on each of its colours.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { badge, BADGE_TEXT_COLOR } from '../../../../extension/lib/status-view.js';
import { makeError } from '../../../../shared/errors.js';
import { STATES, type TunnelStatus } from '../../../../shared/protocol.js';

const CSS = fs.readFileSync(fileURLToPath(new URL('../../../../../extension/ui/common.css', import.meta.url)), 'utf8');

function luminance(hex: string): number {
  const [r, g, b] = (hex.slice(1).match(/../g) ?? []).map((h) => {
    const v = parseInt(h, 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** The custom properties of the first `:root { … }` block in `css`. */
function vars(css: string): Record<string, string> {
  const block = /:root\s*\{([^}]*)\}/.exec(css)?.[1] ?? '';
  return Object.fromEntries(
    [...block.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})\b/gi)].map((m) => [m[1]!, m[2]!.toLowerCase()]),
  );
}

const light = vars(CSS);
const darkBlock = CSS.slice(CSS.indexOf('prefers-color-scheme: dark'));
const dark = { ...light, ...vars(darkBlock) };

// [text, background] as the pages use them
const PAIRS: [string, string][] = [
  ['fg', 'bg'],
  ['fg', 'panel'],
  ['muted', 'bg'],
  ['muted', 'panel'],
  ['accent', 'bg'], // links
  ['bad', 'bg'], // field errors
  ['bad', 'panel'], // the popup's first-run login error, in its box
  ['accent', 'panel'], // the popup's first-run link, in its box
  ['good', 'panel'], // the pattern tester's verdict
  // pills, the primary button and the pressed mode button
  ['on-color', 'info'],
  ['on-color', 'good'],
  ['on-color', 'warn'],
  ['on-color', 'bad'],
  ['on-color', 'accent'],
];

describe('page colours', () => {
  for (const [name, scheme] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    it(`reach 4.5:1 in the ${name} scheme`, () => {
      for (const [fg, bg] of PAIRS) {
        assert.ok(scheme[fg] && scheme[bg], `--${fg} and --${bg} are defined`);
        const c = contrast(scheme[fg]!, scheme[bg]!);
        assert.ok(c >= 4.5, `--${fg} ${scheme[fg]} on --${bg} ${scheme[bg]}: ${c.toFixed(2)}:1`);
      }
    });
  }
});

describe('badge colours', () => {
  it('keep the badge text readable in every situation', () => {
    const status = (state: TunnelStatus['state']): TunnelStatus => ({
      state,
      mode: 'auto',
      gateway: 'g',
      jumps: [],
      socks: null,
      since: 0,
      connections: 0,
      channels: 0,
      bytesUp: 0,
      bytesDown: 0,
      timings: [],
    });
    const none = { prompt: null, hostProblem: null };
    const all = [
      ...STATES.map((s) => badge({ ...none, status: status(s) })),
      badge({
        ...none,
        status: status('connecting'),
        prompt: { id: 'p', kind: 'passphrase', keyFile: 'k', attempt: 1 },
      }),
      badge({ ...none, status: null, hostProblem: makeError('HOST_MISSING') }),
    ];
    for (const b of all) {
      const c = contrast(BADGE_TEXT_COLOR, b.color);
      assert.ok(c >= 4.5, `badge "${b.text}" ${b.color}: ${c.toFixed(2)}:1`);
    }
  });
});
