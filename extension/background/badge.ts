// The toolbar button's badge and title mirror the tunnel state (words from status-view).

import browser from 'webextension-polyfill';
import type { View } from '../lib/messages.js';
import { badge } from '../lib/status-view.js';

let last = '';

export async function showBadge(v: View): Promise<void> {
  const b = badge(v.status, v.hostProblem ?? undefined);
  const key = `${b.text}\n${b.color}\n${b.title}`;
  if (key === last) return;
  last = key;
  try {
    await Promise.all([
      browser.action.setBadgeText({ text: b.text }),
      browser.action.setBadgeBackgroundColor({ color: b.color }),
      browser.action.setTitle({ title: b.title }),
    ]);
  } catch (e) {
    last = '';
    console.warn(`g5k-tunnel: badge: ${String(e)}`);
  }
}
