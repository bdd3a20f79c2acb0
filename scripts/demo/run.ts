// The no-account demo (`npm start`): an embedded SSH gateway on loopback that alone resolves a few
// Grid'5000-like names, the real native host, and Chromium with the extension in Auto mode. Opening
// http://dashboard.nancy.grid5000.fr/ starts the tunnel; the page and a WebSocket come through it.
// With a display it opens a window and stays up until Ctrl-C. Without one (or with --headless) it
// checks each step, saves screenshots into artifacts/demo/, and exits 0 only if everything worked.

import dns from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  CHROMIUM_BIN,
  launchChromium,
  repoRoot,
  writeHostLauncher,
  type BrowserSession,
  type Page,
} from '../../testbed/browsers.js';
import { defaultSettings, type Settings } from '../../shared/settings.js';
import { startDemoGateway, type DemoGateway } from '../../testbed/demo-gateway.js';
import { ensureDemoKeys, writeKnownHosts, type DemoKeys } from '../../testbed/keys.js';
import { DASHBOARD, JUPYTER, siteNames, startSites, type Sites } from '../../testbed/demo-sites.js';
import { StepFailed, Steps } from './steps.js';

const USER = 'demo';

// Functions handed to evaluate run in the page; this build has no DOM types, so declare the little
// they touch...
interface El {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
}
declare const document: {
  body: El | null;
  getElementById(id: string): El | null;
  querySelectorAll(sel: string): { length: number };
};
// ...and those run in the extension's service worker.
declare const chrome: {
  storage: { local: { set(items: object): Promise<void> } };
  proxy: { settings: { get(details: object): Promise<{ value?: { pacScript?: { data?: string } } }> } };
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(
  probe: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new Error('interrupted');
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** The extension's settings for the demo: one profile pointing at the embedded gateway. */
function demoSettings(gatewayPort: number, socksPort: number, keys: DemoKeys, knownHosts: string): Settings {
  const s = defaultSettings();
  s.startupMode = 'auto';
  s.profiles = s.profiles.map((p) => ({
    ...p,
    id: 'demo',
    name: 'Demo gateway',
    user: USER,
    gateway: '127.0.0.1',
    port: gatewayPort,
    identityFile: keys.clientKey,
    useAgent: false,
    knownHostsFile: knownHosts,
    strictHostKeyChecking: 'yes',
    socksPort,
  }));
  s.activeProfileId = 'demo';
  return s;
}

interface World {
  sites?: Sites;
  gateway?: DemoGateway;
  /** The browser being launched: awaited on shutdown, even when Ctrl-C came during the launch. */
  launching?: Promise<BrowserSession>;
  profileDir?: string;
}

async function shutdown(w: World): Promise<void> {
  const session = await w.launching?.catch(() => undefined);
  await session?.close().catch(() => {});
  await w.gateway?.close().catch(() => {});
  await w.sites?.close().catch(() => {});
  if (w.profileDir) fs.rmSync(w.profileDir, { recursive: true, force: true });
}

async function checkPage(page: Page, site: string, name: string): Promise<string> {
  const got = await page.evaluate(() => ({
    site: document.body?.dataset.site ?? '',
    host: document.getElementById('host')?.textContent ?? '',
    rows: document.querySelectorAll('#nodes tr').length,
  }));
  if (got.site !== site)
    throw new Error(`the page is not the ${site} site (got ${got.site ? `"${got.site}"` : 'another page'})`);
  if (got.host !== name) throw new Error(`the site saw Host "${got.host}", expected ${name}`);
  return site === 'dashboard' ? `${got.rows - 1} nodes listed` : 'content matches';
}

async function main(argv: string[]): Promise<number> {
  const root = repoRoot();
  const headless = argv.includes('--headless') || !(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  const demoDir = path.join(root, '.demo');
  const artifacts = path.join(root, 'artifacts', 'demo');
  const abort = new AbortController();
  const steps = new Steps(abort.signal);
  const w: World = {};
  const stop = new Promise<void>((r) => abort.signal.addEventListener('abort', () => r(), { once: true }));
  let signals = 0;
  const onSignal = () => {
    // Ctrl-C stops cleanly (bounded). npm forwards the terminal's SIGINT, so one Ctrl-C can arrive
    // twice: only a third signal gives up on cleaning up.
    if (++signals > 2) process.exit(130);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  steps.note(
    `g5k-tunnel demo, ${headless ? 'headless (no display): checks every step, then exits' : 'with a window: Ctrl-C to stop'}`,
  );
  let ok = false;
  try {
    const hostMain = path.join(root, 'dist', 'native-host', 'messaging', 'host-main.js');
    const extDir = path.join(root, 'dist', 'browser', 'chromium');
    await steps.run(
      'prerequisites',
      () => {
        if (!fs.existsSync(hostMain)) throw new Error(`${hostMain} is missing: run \`npm run build\``);
        if (!fs.existsSync(CHROMIUM_BIN))
          throw new Error(`Chromium is missing (${CHROMIUM_BIN}): run \`bash scripts/setup.sh chromium\``);
        return `node ${process.version}, ${CHROMIUM_BIN}`;
      },
      (d) => d,
    );
    if (!fs.existsSync(path.join(extDir, 'manifest.json')))
      await steps.run('build the extension', () => {
        const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-extension.mjs'), '--no-package'], {
          cwd: root,
          stdio: 'inherit',
        });
        if (r.status !== 0) throw new Error('the extension build failed (see above)');
      });

    const keys = await steps.run(
      'demo keys in .demo/ (made on first run)',
      () => ensureDemoKeys(demoDir),
      () => '',
    );
    w.sites = await steps.run(
      'internal sites on loopback',
      () => startSites(),
      (s) => `dashboard :${s.dashboard.port}, jupyter :${s.jupyter.port}`,
    );
    const sites = w.sites;
    w.gateway = await steps.run(
      'embedded SSH gateway',
      () =>
        startDemoGateway({
          hostKey: fs.readFileSync(keys.hostKey),
          authorizedKey: keys.clientKeyPublic,
          user: USER,
          names: siteNames(sites),
        }),
      (g) => `${USER}@127.0.0.1:${g.port}, key-only, resolves ${Object.keys(siteNames(sites)).length} internal names`,
    );
    const gateway = w.gateway;
    const knownHosts = path.join(demoDir, 'known_hosts');
    writeKnownHosts(knownHosts, gateway.port, keys.hostKeyPublic);
    const local = await dns.lookup(DASHBOARD).then(
      (a) => `resolves here to ${a.address} (the tunnel still sends the name to the gateway)`,
      (e: NodeJS.ErrnoException) => `does not resolve on this machine (${e.code}): only the gateway knows it`,
    );
    steps.note(`${DASHBOARD} ${local}`);

    const launcher = writeHostLauncher(demoDir, {
      name: 'g5k-tunnel-host',
      // the host reads ~/.ssh/config: give it an empty HOME so the user's own config stays out of the demo
      env: { HOME: path.join(demoDir, 'home'), XDG_STATE_HOME: path.join(demoDir, 'state') },
    });
    fs.mkdirSync(path.join(demoDir, 'home'), { recursive: true });
    const socksPort = await freePort();
    w.profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-demo-profile-'));
    const profileDir = w.profileDir;
    // Playwright ends the process itself on Ctrl-C (exit 130) once the browser is closed: the
    // throw-away profile must go even then.
    process.once('exit', () => fs.rmSync(profileDir, { recursive: true, force: true }));
    const viewport = headless ? { width: 900, height: 420 } : { width: 1200, height: 860 };
    w.launching = launchChromium({
      extensionDir: extDir,
      profileDir,
      nativeHost: { launcherPath: launcher },
      headless,
      viewport,
    });
    const session = await steps.run(
      `Chromium with the extension (${headless ? 'headless' : 'window'})`,
      () => w.launching!,
      (s) => s.baseUrl,
    );
    const settings = demoSettings(gateway.port, socksPort, keys, knownHosts);
    await steps.run('settings seeded (gateway, demo key, known_hosts, Auto mode)', () =>
      session.evalBackground(async (s) => chrome.storage.local.set({ settings: s }), settings),
    );
    await steps.run(
      'PAC installed and the host listening (no SSH yet: Auto mode)',
      async () => {
        const routed = async () => {
          const pac = await session.evalBackground(
            async () => (await chrome.proxy.settings.get({})).value?.pacScript?.data ?? '',
          );
          return pac.includes(`PROXY 127.0.0.1:${socksPort}`) && (await listening(socksPort));
        };
        await waitFor(routed, 20_000, 'the extension did not route through the SOCKS port', abort.signal);
        return `PROXY 127.0.0.1:${socksPort}, ${gateway.logins()} SSH logins so far`;
      },
      (d) => d,
    );

    fs.mkdirSync(artifacts, { recursive: true });
    for (const f of fs.readdirSync(artifacts))
      if (f.endsWith('.png') || f === 'summary.json') fs.rmSync(path.join(artifacts, f));

    const page = await session.newPage();
    await steps.run(
      `open http://${DASHBOARD}/ (Auto mode starts the tunnel)`,
      async () => {
        const r = await page.goto(`http://${DASHBOARD}/`, { timeoutMs: 45_000 });
        if (!r.ok) throw new Error(`the page did not load: ${r.error ?? `HTTP ${r.status}`}`);
        const what = await checkPage(page, 'dashboard', DASHBOARD);
        const n = gateway.channels(DASHBOARD);
        if (n < 1) throw new Error('the gateway opened no channel for it: the page did not come through the tunnel');
        return `HTTP ${r.status ?? '?'}, ${what}, ${n} channel${n > 1 ? 's' : ''} opened by the gateway`;
      },
      (d) => d,
    );
    await page.screenshot(path.join(artifacts, 'dashboard.png'));

    const jupyter = await session.newPage();
    await steps.run(
      `open http://${JUPYTER}/ and echo over a WebSocket`,
      async () => {
        const r = await jupyter.goto(`http://${JUPYTER}/`, { timeoutMs: 30_000 });
        if (!r.ok) throw new Error(`the page did not load: ${r.error ?? `HTTP ${r.status}`}`);
        await checkPage(jupyter, 'jupyter', JUPYTER);
        await jupyter.waitFor(() => document.body?.dataset.ws, undefined, {
          timeoutMs: 15_000,
          what: 'the WebSocket echo',
        });
        const out = await jupyter.text('#output');
        if (out !== 'Out[1]: hello from the browser') throw new Error(`the WebSocket did not echo (${out})`);
        if (sites.echoes() < 1 || gateway.channels(JUPYTER) < 1)
          throw new Error('the WebSocket did not go through the gateway');
        return `"${out}", ${gateway.channels(JUPYTER)} channels`;
      },
      (d) => d,
    );
    await jupyter.screenshot(path.join(artifacts, 'jupyter.png'));

    const popup = await steps.run('popup shows the tunnel connected', async () => {
      const p = await session.openExtensionPage('popup/popup.html');
      await p.setViewport(380, 240);
      await p.waitFor(() => document.getElementById('state')?.dataset.state === 'connected', undefined, {
        timeoutMs: 15_000,
        what: 'the popup to say connected',
      });
      return p;
    });
    await popup.screenshot(path.join(artifacts, 'popup.png'), { selector: 'body' });
    steps.note(
      `screenshots in ${path.relative(process.cwd(), artifacts) || artifacts}/: dashboard.png, jupyter.png, popup.png`,
    );
    ok = true;

    if (!headless) {
      await popup.close();
      steps.note(
        `try http://${DASHBOARD}/, http://${JUPYTER}/ or http://intranet.grid5000.fr/ in the window; the toolbar icon shows the tunnel.`,
      );
      steps.note('Ctrl-C to stop.');
      // until Ctrl-C, or the browser is closed
      while (!abort.signal.aborted && session.pids().length > 0)
        await Promise.race([stop, new Promise((r) => setTimeout(r, 1000))]);
    }
  } catch (e) {
    ok = false;
    const reason = e instanceof StepFailed ? e.message : e instanceof Error ? e.message : String(e);
    process.stderr.write(abort.signal.aborted ? 'demo stopped (interrupted)\n' : `demo failed: ${reason}\n`);
    const log = path.join(demoDir, 'state', 'g5k-tunnel', 'host.log');
    if (fs.existsSync(log)) process.stderr.write(`host log: ${log}\n`);
  } finally {
    await shutdown(w);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const channels = w.gateway && { [DASHBOARD]: w.gateway.channels(DASHBOARD), [JUPYTER]: w.gateway.channels(JUPYTER) };
  if (fs.existsSync(artifacts))
    fs.writeFileSync(
      path.join(artifacts, 'summary.json'),
      `${JSON.stringify({ ok, headless, totalMs: steps.totalMs(), steps: steps.records, channels }, null, 2)}\n`,
    );
  steps.note(ok ? 'demo done: everything came through the tunnel' : 'demo FAILED');
  return ok ? 0 : 1;
}

// run when executed directly (node dist/scripts/demo/run.js)
if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
