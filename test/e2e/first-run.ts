// A first run with nothing to type, in a browser of its own with no settings saved and a native
// host whose HOME the test writes: empty, the popup asks for the login alone; with the ~/.ssh/config
// of Grid'5000's guide, the popup says what it found and "Use this" saves a profile that really
// connects (the options page meanwhile shows it filled in, not saved).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import {
  type BrowserKind,
  type BrowserSession,
  launchBrowser,
  repoRoot,
  writeHostLauncher,
} from '../../testbed/browsers.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { startGateway, type Gateway } from '../../testbed/sshd.js';
import { activeProfile, type Settings } from '../../shared/settings.js';
import { ARTIFACTS, cannotRun, type El, waitState, waitVisible } from './context.js';

declare const document: { querySelector(s: string): (El & { value: string }) | null };

/**
 * The guide's ~/.ssh/config (`Host g5k`, its User and Hostname, `Host *.g5k` through it), with what
 * this test bed needs: the gateway's key, and a ProxyCommand that carries the SSH connection to the
 * test sshd on loopback, since access.grid5000.fr is not reachable from here (the tunnel runs
 * ProxyCommands as ssh does).
 */
function guideConfig(gw: Gateway): string {
  const relay = `const s=require('net').connect(${gw.port},'127.0.0.1');process.stdin.pipe(s).pipe(process.stdout);s.on('close',()=>process.exit(0))`;
  return `Host g5k
  User ${gw.user}
  Hostname access.grid5000.fr
  IdentityFile ${gw.keys.plain}
  ProxyCommand ${process.execPath} -e "${relay}"
  ForwardAgent no

Host *.g5k
  User ${gw.user}
  ProxyCommand ssh g5k -W "$(basename %h .g5k):%p"
  ForwardAgent no
`;
}

async function storedSettings(session: BrowserSession): Promise<Settings | undefined> {
  return session.evalBackground(async () => {
    const g = globalThis as unknown as { browser?: unknown; chrome?: unknown };
    const api = (g.browser ?? g.chrome) as { storage: { local: { get(k: string): Promise<Record<string, unknown>> } } };
    return (await api.storage.local.get('settings')).settings as Settings | undefined;
  });
}

async function waitFirstRun(page: Awaited<ReturnType<BrowserSession['newPage']>>, state: string): Promise<void> {
  await page.waitFor(
    (s) => {
      const box = document.querySelector('#first-run');
      return !!box && !box.hidden && box.getAttribute('data-state') === s;
    },
    state,
    { timeoutMs: 30_000, what: `#first-run[data-state=${state}]` },
  );
}

/** The steps, in a browser just started with a fresh profile and a host whose HOME is `home` (empty). */
async function steps(kind: BrowserKind, session: BrowserSession, gw: Gateway, web: InternalWeb, home: string) {
  assert.equal(await storedSettings(session), undefined, 'a fresh profile: nothing saved');

  // nothing in ~/.ssh/config: the login alone, on access.grid5000.fr
  const asking = await session.openExtensionPage('popup/popup.html');
  await asking.setViewport(380, 640);
  await waitFirstRun(asking, 'ask');
  assert.match(await asking.text('#first-run-summary'), /Nothing in ~\/\.ssh\/config reaches Grid'5000/);
  assert.ok(await asking.visible('#first-run-login'));
  assert.ok(!(await asking.visible('#first-run-use')));
  assert.match(await asking.text('#first-run-login-gateway'), /access\.grid5000\.fr/);
  assert.match(await asking.text('#first-run-key'), /No key found/);
  await asking.click('#first-run-save');
  await waitVisible(asking, '#first-run-login-error');
  assert.equal(await storedSettings(session), undefined, 'an empty login is not saved');
  await asking.screenshot(path.join(ARTIFACTS, `first-run-login-${kind}.png`), { selector: 'body' });
  await asking.close();

  // the guide's ~/.ssh/config, and the gateway already in known_hosts
  const ssh = path.join(home, '.ssh');
  fs.mkdirSync(ssh, { mode: 0o700 });
  fs.writeFileSync(path.join(ssh, 'config'), guideConfig(gw), { mode: 0o600 });
  fs.writeFileSync(path.join(ssh, 'known_hosts'), `access.grid5000.fr ${gw.hostKeyPublic}\n`);

  const popup = await session.openExtensionPage('popup/popup.html');
  await popup.setViewport(380, 640);
  await waitFirstRun(popup, 'found');
  assert.equal(await popup.text('#first-run-summary'), `Found in ~/.ssh/config: login ${gw.user}, through g5k`);
  assert.equal(await popup.text('#first-run-route'), 'Gateway: access.grid5000.fr');
  assert.equal(await popup.text('#first-run-key'), `Key file ${gw.keys.plain} (you may be asked its passphrase)`);
  assert.equal(await popup.text('#first-run-hostkey'), 'Gateway already known ✓');
  assert.ok(!(await popup.visible('#first-run-login-form')));
  assert.ok(!(await popup.visible('#first-run-choice-row')), 'one Host: nothing to choose');
  await popup.screenshot(path.join(ARTIFACTS, `first-run-${kind}.png`), { selector: 'body' });

  // the options page shows the same, filled in and not saved
  const options = await session.openExtensionPage('options/options.html');
  await waitVisible(options, '#proposal-note');
  const form = await options.evaluate(() =>
    ['user', 'gateway', 'port', 'identityFile', 'jumps'].map((id) => document.querySelector(`#${id}`)?.value),
  );
  assert.deepEqual(form, ['', 'g5k', '0', '', '']);
  assert.equal(await storedSettings(session), undefined, 'proposed, not saved');

  await popup.click('#first-run-use');
  await popup.waitFor(() => document.querySelector('#first-run')?.hidden === true, undefined, {
    timeoutMs: 10_000,
    what: '#first-run to go',
  });
  const saved = await storedSettings(session);
  assert.ok(saved, '“Use this” saved the settings');
  const p = activeProfile(saved);
  assert.deepEqual(
    {
      gateway: p.gateway,
      user: p.user,
      port: p.port,
      identityFile: p.identityFile,
      jumps: p.jumps,
      socksPort: p.socksPort,
    },
    // the port is automatic: two browsers (and an ssh -D) never compete for one
    { gateway: 'g5k', user: '', port: 0, identityFile: '', jumps: [], socksPort: 0 },
  );
  // the saved settings reach the options page too: its note goes
  await options.waitFor(() => document.querySelector('#proposal-note')?.hidden === true, undefined, {
    timeoutMs: 10_000,
    what: '#proposal-note to go',
  });

  // Auto (the default start-up mode): the first internal page starts the tunnel through g5k
  const page = await session.newPage();
  const r = await page.goto(`http://intranet.grid5000.fr:${web.port}/first-run`, { timeoutMs: 45_000 });
  assert.ok(r.ok, `internal page failed: ${r.error}`);
  assert.equal(await page.text('#via'), 'via-gateway');
  assert.ok(web.hits.some((h) => h.path === '/first-run' && h.viaGateway));
  // the popup names the gateway as ~/.ssh/config resolved it (the host's label carries the port)
  await popup.waitFor(
    (want) => new RegExp(want).test(document.querySelector('#gateway')?.textContent ?? ''),
    `^${gw.user}@access\\.grid5000\\.fr(:22)?$`,
    { timeoutMs: 30_000, what: '#gateway to show the login and access machine' },
  );
  // the page can arrive before the next status push (statuses are spaced out)
  await waitState(popup, 'connected');
  await popup.screenshot(path.join(ARTIFACTS, `first-run-connected-${kind}.png`), { selector: 'body' });
  // the host (and its SOCKS port) go with the browser, before the port is handed on
}

export function firstRunSuite(kind: BrowserKind): void {
  const why = cannotRun(kind);
  it("first run: the login alone with an empty HOME; with the guide's ~/.ssh/config, “Use this” connects", {
    skip: why ?? false,
    timeout: 300_000,
  }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `g5k-e2e-${kind}-first-run-`));
    const closers: (() => Promise<void> | void)[] = [];
    try {
      const gw = await startGateway();
      closers.push(() => gw.stop());
      const web = await startInternalWeb();
      closers.push(() => web.close());
      // the host's own HOME, empty for now: no ~/.ssh, no agent
      const home = path.join(dir, 'host-home');
      fs.mkdirSync(home);
      const launcherPath = writeHostLauncher(path.join(dir, 'bin'), {
        env: { HOME: home, XDG_STATE_HOME: path.join(dir, 'state'), SSH_AUTH_SOCK: '' },
      });
      // a fresh profile's default settings listen at once (Auto), on a port of their own
      const session = await launchBrowser(kind, {
        extensionDir: path.join(repoRoot(), 'dist', 'browser', kind),
        profileDir: path.join(dir, 'browser'),
        nativeHost: { launcherPath },
      });
      try {
        await steps(kind, session, gw, web, home);
      } finally {
        await session.close();
      }
    } finally {
      for (const close of closers.reverse()) await close();
      const log = path.join(dir, 'state', 'g5k-tunnel', 'host.log');
      if (fs.existsSync(log)) fs.copyFileSync(log, path.join(ARTIFACTS, `first-run-${kind}-host.log`));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
