// The toolbar button's badge and title mirror the tunnel state (words from status-view), including
// a question from the host while the popup is closed.

import browser from 'webextension-polyfill';
import type { View } from '../lib/messages.js';
import { badge, BADGE_TEXT_COLOR } from '../lib/status-view.js';

let last = '';

export async function showBadge(v: View): Promise<void> {
  const b = badge(v);
  const key = `${b.text}\n${b.color}\n${b.title}`;
  if (key === last) return;
  last = key;
  try {
    await Promise.all([
      browser.action.setBadgeText({ text: b.text }),
      browser.action.setBadgeBackgroundColor({ color: b.color }),
      // left to itself Chromium picks black or white per colour; one colour reads the same everywhere
      browser.action.setBadgeTextColor({ color: BADGE_TEXT_COLOR }),
      browser.action.setTitle({ title: b.title }),
    ]);
  } catch (e) {
    last = '';
    console.warn(`g5k-tunnel: badge: ${String(e)}`);
  }
}
