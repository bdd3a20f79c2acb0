// End-to-end steps for the proxy port's access rules, in a browser of their own: pages load with the
// session's credentials while a client without them is refused; each browser's host listens on a
// port of its own (a Chromium and a Firefox at once); a port held by another program fails closed.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  CHROMIUM_BIN,
  FIREFOX_BIN,
  launchBrowser,
  repoRoot,
  writeHostLauncher,
  type BrowserKind,
  type BrowserSession,
  type Page,
} from '../../testbed/browsers.js';
import { defaultSettings, type Profile, type Settings } from '../../shared/settings.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { canRunSshd, INTERNAL_NAMES, startGateway, type Gateway } from '../../testbed/sshd.js';

declare const document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
const run = promisify(execFile);

function cannotRun(kinds: BrowserKind[]): string | null {
  const sshd = canRunSshd();
  if (sshd) return sshd;
  for (const kind of kinds) {
    const bin = kind === 'chromium' ? CHROMIUM_BIN : FIREFOX_BIN;
    if (!fs.existsSync(bin)) return `${bin} missing`;
    if (!fs.existsSync(path.join(repoRoot(), 'dist', 'browser', kind, 'manifest.json'))) return 'extension not built';
  }
  return null;
}

/** One browser with the extension and its own native host (HOME, log, no agent). */
interface Browser {
  kind: BrowserKind;
  session: BrowserSession;
  popup: Page;
  logFile: string;
}

async function startBrowser(kind: BrowserKind, dir: string): Promise<Browser> {
  const hostHome = path.join(dir, 'host-home');
  fs.mkdirSync(hostHome, { recursive: true });
  const state = path.join(dir, 'state');
  const launcherPath = writeHostLauncher(path.join(dir, 'bin'), {
    env: { HOME: hostHome, XDG_STATE_HOME: state, SSH_AUTH_SOCK: '' },
  });
  const session = await launchBrowser(kind, {
    extensionDir: path.join(repoRoot(), 'dist', 'browser', kind),
    profileDir: path.join(dir, 'browser'),
    nativeHost: { launcherPath },
  });
  const popup = await session.openExtensionPage('popup/popup.html');
  return { kind, session, popup, logFile: path.join(state, 'g5k-tunnel', 'host.log') };
}

function settingsFor(gw: Gateway, over: Partial<Profile> = {}): Settings {
  const s = defaultSettings();
  const p: Profile = {
    ...s.profiles[0]!,
    user: gw.user,
    gateway: gw.host,
    port: gw.port,
    identityFile: gw.keys.plain,
    useAgent: false,
    knownHostsFile: gw.knownHosts,
    connectTimeoutSec: 15,
    ...over,
  };
  return { ...s, startupMode: 'auto', profiles: [p], activeProfileId: p.id };
}

async function seed(b: Browser, settings: Settings): Promise<void> {
  await b.session.evalBackground(async (value) => {
    const g = globalThis as unknown as { browser?: unknown; chrome?: unknown };
    const api = (g.browser ?? g.chrome) as { storage: { local: { set(v: object): Promise<void> } } };
    await api.storage.local.set({ settings: value });
  }, settings);
}

async function waitState(b: Browser, states: string | string[]): Promise<void> {
  const list = ([] as string[]).concat(states);
  await b.popup.waitFor((l) => l.includes(document.querySelector('#state')?.getAttribute('data-state') ?? ''), list, {
    timeoutMs: 30_000,
    what: `#state[data-state=${list.join('|')}]`,
  });
}

/** The port the host says it listens on, from its log (the browser is told in its status). */
async function hostPort(b: Browser): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const log = fs.existsSync(b.logFile) ? fs.readFileSync(b.logFile, 'utf8') : '';
    const all = [...log.matchAll(/SOCKS5 listening on 127\.0\.0\.1:(\d+)/g)];
    if (all.length) return Number(all.at(-1)![1]);
    if (Date.now() > deadline) throw new Error(`no listening line in ${b.logFile}:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function loadInternal(b: Browser, url: string): Promise<{ ok: boolean; via: string; error?: string }> {
  const page = await b.session.newPage();
  try {
    const r = await page.goto(url, { timeoutMs: 45_000 });
    const via = r.ok ? await page.text('#via') : '';
    return { ok: r.ok, via, ...(r.error ? { error: r.error } : {}) };
  } finally {
    await page.close();
  }
}

/** curl's exit status and the HTTP status it saw (000 when none). */
async function curl(args: string[]): Promise<{ code: number; status: string }> {
  try {
    const { stdout } = await run('curl', ['-sS', '--max-time', '15', '-o', '/dev/null', '-w', '%{http_code}', ...args]);
    return { code: 0, status: stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: err.code ?? -1, status: err.stdout ?? '' };
  }
}

/** A program holding a port: it counts the connections and bytes it gets. */
async function squat(): Promise<{ port: number; connections: number; bytes: number; close(): Promise<void> }> {
  const s = { port: 0, connections: 0, bytes: 0, close: async () => {} };
  const server = net.createServer((sock) => {
    s.connections++;
    sock.on('data', (d) => (s.bytes += d.length));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.port = (server.address() as net.AddressInfo).port;
  s.close = () => new Promise((r) => server.close(() => r()));
  return s;
}

/**
 * The proxy access suite for `kind`; `alongside` starts a browser of the other kind too, with its
 * own host, for the two-browsers-at-once step.
 */
export function proxyAccessSuite(kind: BrowserKind, opts: { alongside?: BrowserKind } = {}): void {
  const kinds = opts.alongside ? [kind, opts.alongside] : [kind];
  const why = cannotRun(kinds);
  describe(`${kind}: the proxy port serves only this browser's session`, {
    skip: why ?? false,
    timeout: 240_000,
  }, () => {
    let gw: Gateway;
    let web: InternalWeb;
    let b: Browser;
    const closers: (() => Promise<void> | void)[] = [];
    const url = (name: string, p: string) => `http://${name}:${web.port}${p}`;

    before(async () => {
      gw = await startGateway();
      closers.push(() => gw.stop());
      web = await startInternalWeb();
      closers.push(() => web.close());
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `g5k-e2e-access-${kind}-`));
      closers.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      b = await startBrowser(kind, dir);
      closers.push(() => b.session.close());
      await seed(b, settingsFor(gw));
      await waitState(b, 'idle');
    });

    after(async () => {
      for (const close of closers.reverse()) await close();
    });

    it('pages load with the session credentials; a client without them is refused', async () => {
      const r = await loadInternal(b, url(INTERNAL_NAMES[0]!, '/access-ok'));
      assert.ok(r.ok, `internal page failed: ${r.error}`);
      assert.equal(r.via, 'via-gateway');
      const port = await hostPort(b);
      assert.notEqual(port, 1080, 'the default port is automatic');

      const hits = web.hits.length;
      const target = url(INTERNAL_NAMES[0]!, '/no-credentials');
      assert.equal((await curl(['-x', `http://127.0.0.1:${port}`, target])).status, '407');
      assert.notEqual((await curl(['--socks5-hostname', `127.0.0.1:${port}`, target])).code, 0);
      assert.notEqual(
        (await curl(['--socks5-hostname', `127.0.0.1:${port}`, '--proxy-user', 'g5k:guess', target])).code,
        0,
      );
      // a website's own request to the port (origin-form) gets no answer at all
      const direct = await curl([`http://127.0.0.1:${port}/`]);
      assert.notEqual(direct.code, 0);
      assert.equal(direct.status, '000');
      assert.equal(web.hits.length, hits, 'nothing refused reached the internal server');
    });

    it('a fixed port another program holds: the page fails and the squatter receives nothing', async () => {
      const squatter = await squat();
      try {
        await seed(b, settingsFor(gw, { socksPort: squatter.port }));
        await waitState(b, 'error');
        const hits = web.hits.length;
        const r = await loadInternal(b, url(INTERNAL_NAMES[1]!, '/squatted'));
        assert.equal(r.ok && r.via === 'via-gateway', false, 'the page must not load');
        assert.equal(squatter.connections, 0, 'the squatter got no connection');
        assert.equal(squatter.bytes, 0);
        assert.equal(web.hits.length, hits);
      } finally {
        await squatter.close();
        await seed(b, settingsFor(gw));
      }
      // the SSH connection of the first step may still be up (Auto closes it when idle)
      await waitState(b, ['idle', 'connected']);
      const back = await loadInternal(b, url(INTERNAL_NAMES[1]!, '/after-squatter'));
      assert.ok(back.ok, `page after the squatter left failed: ${back.error}`);
    });

    if (opts.alongside) {
      const other = opts.alongside;
      it(`a ${kind} and a ${other}, each with its own host, run at once on different ports`, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `g5k-e2e-access-${other}-`));
        const second = await startBrowser(other, dir);
        try {
          await seed(second, settingsFor(gw));
          await waitState(second, 'idle');
          const [r1, r2] = await Promise.all([
            loadInternal(b, url(INTERNAL_NAMES[2]!, `/both-${kind}`)),
            loadInternal(second, url(INTERNAL_NAMES[2]!, `/both-${other}`)),
          ]);
          assert.ok(r1.ok && r1.via === 'via-gateway', `${kind}: ${r1.error}`);
          assert.ok(r2.ok && r2.via === 'via-gateway', `${other}: ${r2.error}`);
          const [p1, p2] = [await hostPort(b), await hostPort(second)];
          assert.notEqual(p1, p2, 'each host has a port of its own');
        } finally {
          await second.session.close();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
}
