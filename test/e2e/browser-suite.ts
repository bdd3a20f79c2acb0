// The whole end-to-end suite for one browser (the Chromium and Firefox test files run it): a proxy
// conflict in a browser of its own, then routing, errors and recovery, and the questions to the user,
// on one shared context (context.ts).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { launchBrowser, repoRoot, type BrowserKind, type BrowserSession } from '../../testbed/browsers.js';
import { cannotRun, type Ctx, POPUP, shot, useBrowserContext, waitVisible } from './context.js';
import { questionTests } from './questions.js';
import { recoveryTests } from './recovery.js';
import { routingTests } from './routing.js';

/** Another extension holds the proxy settings: the popup says so. A browser of its own, no host. */
function conflictSuite(kind: BrowserKind, why: string | null): void {
  it('another extension taking the proxy settings is reported in the popup', {
    skip: why ?? false,
    timeout: 60_000,
  }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `g5k-e2e-${kind}-conflict-`));
    let session: BrowserSession | null = null;
    try {
      session = await launchBrowser(kind, {
        extensionDir: path.join(repoRoot(), 'dist', 'browser', kind),
        extraExtensions: [path.join(repoRoot(), 'test', 'e2e', 'fixtures', 'proxy-taker')],
        profileDir: path.join(dir, 'browser'),
        privateBrowsing: true, // Firefox lets an extension set the proxy only then
      });
      const popup = await session.openExtensionPage('popup/popup.html');
      await popup.setViewport(380, 640);
      await waitVisible(popup, '#proxy-conflict');
      assert.match(await popup.text('#proxy-conflict'), /Another extension controls the proxy/);
      await shot({ kind } as Ctx, popup, 'popup-proxy-conflict', POPUP);
    } finally {
      await session?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

export function browserSuite(kind: BrowserKind): void {
  const why = cannotRun(kind);
  conflictSuite(kind, why);
  describe(`${kind}: the extension with the native host and a real gateway`, {
    skip: why ?? false,
    timeout: 180_000,
  }, () => {
    const ctx = useBrowserContext(kind);
    // in this order: each theme leaves the extension in Auto with working settings for the next
    routingTests(ctx);
    recoveryTests(kind, ctx);
    questionTests(kind, ctx);
  });
}
