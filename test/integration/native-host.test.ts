// The native host as a browser runs it: a separate process spoken to in frames on its stdio, with a
// real sshd as the gateway and a SOCKS client going through the tunnel it opens.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { EventEmitter } from 'node:events';
import { SocksClient } from 'socks';
import { startHost, type StartedHost } from '../../testbed/native-client.js';
import { rssKiB } from '../../testbed/proc.js';
import {
  canRunSshd,
  startAgent,
  startGateway,
  makeKeys,
  INTERNAL_NAMES,
  KEY_PASSPHRASE,
  type Gateway,
} from '../../testbed/sshd.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { freePort } from '../../testbed/ports.js';
import { FrameDecoder, encodeFrame } from '../../native-host/messaging/framing.js';
import { NativeHost, type TunnelLike } from '../../native-host/messaging/host.js';
import type { TunnelOptions } from '../../native-host/tunnel/tunnel.js';
import { silentLogger } from '../../native-host/log.js';
import {
  isProfileProposal,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  type ProfileProposal,
  type TunnelConfig,
  type TunnelStatus,
  type Response,
} from '../../shared/protocol.js';
import { defaultProfile, toTunnelConfig } from '../../shared/settings.js';

const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const noSshd = canRunSshd();

const clients: StartedHost[] = [];
function host(): StartedHost {
  const c = startHost();
  clients.push(c);
  return c;
}
after(async () => {
  for (const c of clients) await c.close();
});

const errorOf = (r: Response) => {
  assert.equal(r.ok, false, `expected an error, got ${JSON.stringify(r)}`);
  return (r as Extract<Response, { ok: false }>).error;
};
const resultOf = <T>(r: Response): T => {
  assert.equal(r.ok, true, `expected success, got ${JSON.stringify(r)}`);
  return (r as Extract<Response, { ok: true }>).result as T;
};

function le32(n: number): Buffer {
  const b = Buffer.alloc(4);
  if (os.endianness() === 'LE') b.writeUInt32LE(n);
  else b.writeUInt32BE(n);
  return b;
}

test('hello answers the protocol, the package version, capabilities and pid; another protocol is refused', async () => {
  const c = host();
  const hello = resultOf<{ protocol: number; version: string; capabilities: string[]; pid: number }>(
    await c.request('hello', { protocol: PROTOCOL_VERSION, client: 'test' }),
  );
  assert.equal(hello.protocol, PROTOCOL_VERSION);
  assert.equal(hello.version, pkg.version);
  assert.equal(hello.pid, c.proc.pid);
  assert.ok(hello.capabilities.includes('status-push'));
  const e = errorOf(await c.request('hello', { protocol: PROTOCOL_VERSION + 1, client: 'future' }));
  assert.equal(e.code, 'PROTOCOL_MISMATCH');
  assert.ok(e.hint.length > 0);
  assert.deepEqual(c.badOutput, []);
  assert.deepEqual(await c.end(), { code: 0, signal: null });
});

test('requests before hello are answered; set-mode on and retry need a configuration first', async () => {
  const c = host();
  const s = resultOf<TunnelStatus>(await c.request('status'));
  assert.equal(s.state, 'off');
  assert.equal(s.mode, 'off');
  assert.equal(errorOf(await c.request('set-mode', { mode: 'on' })).code, 'NOT_CONFIGURED');
  assert.equal(errorOf(await c.request('set-mode', { mode: 'auto' })).code, 'NOT_CONFIGURED');
  assert.equal(errorOf(await c.request('retry')).code, 'NOT_CONFIGURED');
  assert.equal(resultOf<TunnelStatus>(await c.request('set-mode', { mode: 'off' })).mode, 'off');
  assert.equal(errorOf(await c.request('answer', { promptId: 'nope', value: 'x' })).code, 'PROMPT_UNKNOWN');
  assert.deepEqual((await c.end()).code, 0);
});

test('malformed messages get an error response (id null when unknown) and the host keeps serving', async () => {
  const c = host();
  const bad = async (value: unknown, code: string, id: number | null) => {
    const from = c.messages.length;
    c.send(value);
    const r = (await c.waitFor((m) => m.type === 'response' && !m.ok, 5000, from)) as Response;
    assert.equal(r.id, id, JSON.stringify(value));
    assert.equal(errorOf(r).code, code, JSON.stringify(value));
  };
  await bad([1, 2, 3], 'BAD_MESSAGE', null);
  await bad('hello', 'BAD_MESSAGE', null);
  await bad({ type: 'status' }, 'BAD_MESSAGE', null);
  await bad({ type: 'fly', id: 7 }, 'BAD_MESSAGE', 7);
  await bad({ type: 'set-mode', id: 8, mode: 'fast' }, 'BAD_MESSAGE', 8);
  await bad({ type: 'configure', id: 9, config: { gateway: '' } }, 'BAD_MESSAGE', 9);
  // a frame that is not JSON, and one that is not UTF-8
  for (const body of [Buffer.from('{"type":'), Buffer.from([0xc3, 0x28])]) {
    const from = c.messages.length;
    await c.sendBytes(Buffer.concat([le32(body.length), body]));
    const r = (await c.waitFor((m) => m.type === 'response', 5000, from)) as Response;
    assert.equal(r.id, null);
    assert.equal(errorOf(r).code, 'BAD_FRAME');
  }
  assert.equal(resultOf<TunnelStatus>(await c.request('status')).state, 'off');
  assert.deepEqual(c.badOutput, []);
  assert.equal((await c.end()).code, 0);
});

test('an oversized frame is refused at its header, skipped as it streams (not buffered), and the host goes on', async () => {
  const c = host();
  await c.request('status'); // the host is up
  const rss0 = rssKiB(c.proc.pid!);
  const size = 256 * 1024 * 1024;
  const from = c.messages.length;
  await c.sendBytes(le32(size));
  const refused = (await c.waitFor((m) => m.type === 'response', 5000, from)) as Response;
  assert.equal(refused.id, null);
  assert.equal(errorOf(refused).code, 'BAD_FRAME');
  assert.match(errorOf(refused).detail ?? '', new RegExp(`${size} bytes`));
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  let peak = rss0;
  for (let sent = 0; sent < size; sent += chunk.length) {
    await c.sendBytes(chunk);
    if (sent % (32 * chunk.length) === 0) peak = Math.max(peak, rssKiB(c.proc.pid!));
  }
  assert.equal(resultOf<TunnelStatus>(await c.request('status')).state, 'off');
  peak = Math.max(peak, rssKiB(c.proc.pid!));
  assert.ok(peak - rss0 < 64 * 1024, `RSS grew by ${peak - rss0} KiB while skipping a 256 MiB frame`);
  // one byte over the limit is refused too
  const from2 = c.messages.length;
  await c.sendBytes(Buffer.concat([le32(MAX_MESSAGE_BYTES + 1), Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20)]));
  assert.equal(errorOf((await c.waitFor((m) => m.type === 'response', 5000, from2)) as Response).code, 'BAD_FRAME');
  assert.equal(resultOf<TunnelStatus>(await c.request('status')).state, 'off');
  assert.equal((await c.end()).code, 0);
});

test('garbage on stdin: refused, no crash, and the host still exits cleanly at EOF', async () => {
  const c = host();
  await c.request('status');
  const from = c.messages.length;
  await c.sendBytes(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n\x00\xff\xfe garbage'));
  const r = (await c.waitFor((m) => m.type === 'response', 5000, from)) as Response;
  assert.equal(r.id, null);
  assert.equal(errorOf(r).code, 'BAD_FRAME');
  assert.equal(c.proc.exitCode, null, 'still running');
  assert.deepEqual(await c.end(), { code: 0, signal: null });
  assert.deepEqual(c.badOutput, []);
  assert.match(fs.readFileSync(c.logFile, 'utf8'), /refused a \d+-byte message/);
});

// ---------- a first run: the profile proposed from ~/.ssh/config ----------

/** ~/.ssh/config as Grid'5000's Getting Started guide writes it. */
const GUIDE_SSH_CONFIG = `Host g5k
  User jdoe
  Hostname access.grid5000.fr
  ForwardAgent no

Host *.g5k
  User jdoe
  ProxyCommand ssh g5k -W "$(basename %h .g5k):%p"
  ForwardAgent no
`;

function writeSshConfig(home: string, text: string): string {
  const dir = path.join(home, '.ssh');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'config'), text, { mode: 0o600 });
  return dir;
}

test("propose-profile: the guide's ~/.ssh/config, no agent, gateway unknown", async () => {
  const c = host();
  writeSshConfig(c.home, GUIDE_SSH_CONFIG);
  const hello = resultOf<{ capabilities: string[] }>(
    await c.request('hello', { protocol: PROTOCOL_VERSION, client: 'test' }),
  );
  assert.ok(hello.capabilities.includes('propose-profile'));
  const p = resultOf<ProfileProposal>(await c.request('propose-profile'));
  assert.ok(isProfileProposal(p), JSON.stringify(p));
  assert.deepEqual(p, {
    found: true,
    via: 'g5k',
    gateway: 'access.grid5000.fr',
    login: 'jdoe',
    agentHasKey: false,
    gatewayKnown: false,
    source: '~/.ssh/config',
  });
  assert.deepEqual(await c.end(), { code: 0, signal: null });
  assert.deepEqual(c.badOutput, []);
});

test('propose-profile: an agent holding a key and a (hashed) known_hosts entry for the gateway', async () => {
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-propose-'));
  const keys = makeKeys(keysDir);
  const agent = await startAgent([keys.plain]);
  try {
    const c = startHost({ env: { SSH_AUTH_SOCK: agent.socket } });
    clients.push(c);
    const ssh = writeSshConfig(c.home, `${GUIDE_SSH_CONFIG}\nHost *\n  IdentityFile ~/.ssh/id_g5k\n`);
    // a host key line as ssh writes it, then hashed by ssh-keygen itself
    const knownHosts = path.join(ssh, 'known_hosts');
    fs.writeFileSync(knownHosts, `access.grid5000.fr ${fs.readFileSync(`${keys.wrong}.pub`, 'utf8')}`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', knownHosts], { stdio: 'ignore' });
    assert.ok(!fs.readFileSync(knownHosts, 'utf8').includes('grid5000'), 'hashed');
    const p = resultOf<ProfileProposal>(await c.request('propose-profile'));
    assert.equal(p.via, 'g5k');
    assert.equal(p.login, 'jdoe');
    assert.equal(p.identityFile, path.join(c.home, '.ssh', 'id_g5k'));
    assert.equal(p.agentHasKey, true);
    assert.equal(p.gatewayKnown, true);
    // the same host without ~/.ssh/config: nothing found, the facts still told
    fs.rmSync(path.join(ssh, 'config'));
    const none = resultOf<ProfileProposal>(await c.request('propose-profile'));
    assert.equal(none.found, false);
    assert.equal(none.agentHasKey, true);
    assert.equal(none.gatewayKnown, true, 'known_hosts knows access.grid5000.fr');
    assert.match(fs.readFileSync(c.logFile, 'utf8'), /proposed profile: jdoe@access\.grid5000\.fr through g5k/);
  } finally {
    agent.stop();
    fs.rmSync(keysDir, { recursive: true, force: true });
  }
});

// ---------- with a real gateway ----------

let gw: Gateway;
let web: InternalWeb;
before(async () => {
  if (noSshd) return;
  gw = await startGateway();
  web = await startInternalWeb();
});
after(async () => {
  await web?.close();
  await gw?.stop();
});

async function configFor(key: string, extra: Partial<TunnelConfig> = {}): Promise<TunnelConfig> {
  return {
    ...toTunnelConfig(defaultProfile()),
    gateway: gw.host,
    port: gw.port,
    user: gw.user,
    identityFile: key,
    useAgent: false,
    socksPort: await freePort(),
    knownHostsFile: gw.knownHosts,
    strictHostKeyChecking: 'yes',
    connectTimeoutSec: 15,
    ...extra,
  };
}

/** The session's proxy credentials, as `hello` gives them (the socks package's names). */
type Login = { userId: string; password: string };
function loginOf(hello: unknown): Login {
  const p = (hello as { proxy?: { username: string; password: string } }).proxy;
  assert.ok(p, 'hello carries the proxy credentials');
  return { userId: p.username, password: p.password };
}

function socksGet(socksPort: number, host: string, port: number, urlPath = '/', login?: Login): Promise<string> {
  return SocksClient.createConnection({
    proxy: { host: '127.0.0.1', port: socksPort, type: 5, ...login },
    command: 'connect',
    destination: { host, port },
    timeout: 15_000,
  }).then(
    ({ socket }) =>
      new Promise((resolve, reject) => {
        let body = '';
        socket.on('data', (d) => (body += d.toString()));
        socket.on('end', () => resolve(body));
        socket.on('error', reject);
        socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
      }),
  );
}

test('full flow: configure, on, passphrase prompt, connected, SOCKS through the gateway, off, EOF', {
  skip: noSshd ?? false,
}, async () => {
  const c = host();
  const login = loginOf(resultOf(await c.request('hello', { protocol: PROTOCOL_VERSION, client: 'test' })));
  const config = await configFor(gw.keys.encrypted);
  const configured = resultOf<TunnelStatus>(await c.request('configure', { config }));
  assert.equal(configured.mode, 'off');

  const from = c.messages.length;
  const on = c.request('set-mode', { mode: 'on' }, 30_000);
  const prompt = await c.waitForPrompt(15_000, from);
  assert.equal(prompt.kind, 'passphrase');
  assert.equal(prompt.kind === 'passphrase' && prompt.keyFile, gw.keys.encrypted);
  // the pending question is part of the status too
  assert.equal(resultOf<TunnelStatus>(await c.request('status')).prompt?.id, prompt.id);
  assert.equal(errorOf(await c.request('answer', { promptId: prompt.id, value: true })).code, 'BAD_MESSAGE');
  assert.equal(resultOf(await c.request('answer', { promptId: prompt.id, value: KEY_PASSPHRASE })), null);
  assert.equal(
    errorOf(await c.request('answer', { promptId: prompt.id, value: KEY_PASSPHRASE })).code,
    'PROMPT_UNKNOWN',
  );
  resultOf(await on);

  const connected = await c.waitForStatus((s) => s.state === 'connected', 30_000, from);
  assert.equal(connected.prompt, undefined);
  assert.deepEqual(connected.socks, { host: '127.0.0.1', port: config.socksPort });
  assert.ok(connected.timings.some((t) => t.stage === 'auth'));

  await assert.rejects(socksGet(config.socksPort, INTERNAL_NAMES[0]!, web.port), 'no credentials, no service');
  const page = await socksGet(config.socksPort, INTERNAL_NAMES[0]!, web.port, '/', login);
  assert.match(page, /Internal page/);
  assert.match(page, /via-gateway/);
  assert.ok(web.hits.some((h) => h.host.startsWith(INTERNAL_NAMES[0]!) && h.viaGateway));

  const off = resultOf<TunnelStatus>(await c.request('set-mode', { mode: 'off' }));
  assert.equal(off.mode, 'off');
  await c.waitForStatus((s) => s.state === 'off' && s.mode === 'off', 10_000, from);
  await assert.rejects(
    socksGet(config.socksPort, INTERNAL_NAMES[0]!, web.port, '/', login),
    'the SOCKS port is closed when off',
  );

  assert.deepEqual(await c.end(), { code: 0, signal: null });
  assert.deepEqual(c.badOutput, []);
  // every response carries an id that was asked, exactly once
  const ids = c.messages.filter((m) => m.type === 'response').map((m) => (m as Response).id);
  assert.equal(new Set(ids).size, ids.length);
  const log = fs.readFileSync(c.logFile, 'utf8');
  assert.match(log, /prompt .* answered/);
  assert.ok(!log.includes(KEY_PASSPHRASE), 'the passphrase never reaches the log');
  assert.ok(!log.includes(login.password), 'the proxy password never reaches the log');
  assert.ok(!c.stderr().includes(login.password));
  // statuses never carry it either (they are what gets logged and shown)
  for (const m of c.messages) if (m.type === 'status') assert.ok(!JSON.stringify(m).includes(login.password));
  assert.ok(!c.stderr().includes(KEY_PASSPHRASE));
});

test('stdin EOF while connected: everything closes and the host exits at once', { skip: noSshd ?? false }, async () => {
  const c = host();
  const login = loginOf(resultOf(await c.request('hello', { protocol: PROTOCOL_VERSION, client: 'test' })));
  const config = await configFor(gw.keys.plain);
  resultOf(await c.request('configure', { config }));
  resultOf(await c.request('set-mode', { mode: 'on' }, 30_000));
  await c.waitForStatus((s) => s.state === 'connected', 30_000);
  // an open SOCKS connection must not hold the host up
  const { socket } = await SocksClient.createConnection({
    proxy: { host: '127.0.0.1', port: config.socksPort, type: 5, ...login },
    command: 'connect',
    destination: { host: INTERNAL_NAMES[0]!, port: web.port },
  });
  const sessions = gw.sessionPids().length;
  assert.ok(sessions > 0);
  const closed = new Promise((r) => socket.once('close', r));
  socket.on('error', () => {});
  assert.deepEqual(await c.end(3000), { code: 0, signal: null });
  await closed;
  assert.match(fs.readFileSync(c.logFile, 'utf8'), /closing: the browser closed the connection/);
  await assert.rejects(
    SocksClient.createConnection({
      proxy: { host: '127.0.0.1', port: config.socksPort, type: 5 },
      command: 'connect',
      destination: { host: 'x', port: 1 },
      timeout: 3000,
    }),
  );
});

test('SIGTERM while a prompt is pending: the host exits 0', { skip: noSshd ?? false }, async () => {
  const c = host();
  resultOf(await c.request('configure', { config: await configFor(gw.keys.encrypted) }));
  const from = c.messages.length;
  void c.request('set-mode', { mode: 'on' }, 30_000).catch(() => {});
  await c.waitForPrompt(15_000, from);
  c.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    c.exited,
    new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('no exit after SIGTERM')), 3000))),
  ]);
  clearTimeout(timer);
  assert.deepEqual(exit, { code: 0, signal: null });
});

test('test-connection: timings on success, the cause on failure, before any configure', {
  skip: noSshd ?? false,
}, async () => {
  const c = host();
  const ok = resultOf<{ timings: { stage: string }[]; serverBanner?: string }>(
    await c.request('test-connection', { config: await configFor(gw.keys.plain) }, 30_000),
  );
  assert.ok(ok.timings.some((t) => t.stage === 'auth'));
  assert.match(ok.serverBanner ?? '', /^SSH-2\.0-OpenSSH/);
  const denied = errorOf(await c.request('test-connection', { config: await configFor(gw.keys.wrong) }, 30_000));
  assert.equal(denied.code, 'AUTH_FAILED');
  const refused = errorOf(
    await c.request('test-connection', { config: await configFor(gw.keys.plain, { port: await freePort() }) }, 30_000),
  );
  assert.equal(refused.code, 'GATEWAY_UNREACHABLE');
  assert.equal((await c.end()).code, 0);
});

test('an unknown host key becomes a confirm-host-key prompt; declining it ends in HOSTKEY_UNKNOWN', {
  skip: noSshd ?? false,
}, async () => {
  const c = host();
  const knownHostsFile = path.join(c.home, 'known_hosts');
  resultOf(
    await c.request('configure', {
      config: await configFor(gw.keys.plain, { knownHostsFile, strictHostKeyChecking: 'ask' }),
    }),
  );
  const from = c.messages.length;
  const on = c.request('set-mode', { mode: 'on' }, 30_000);
  const prompt = await c.waitForPrompt(15_000, from);
  assert.equal(prompt.kind, 'confirm-host-key');
  if (prompt.kind !== 'confirm-host-key') return;
  assert.equal(prompt.port, gw.port);
  assert.match(prompt.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.equal(prompt.knownHostsFile, knownHostsFile);
  assert.equal(errorOf(await c.request('answer', { promptId: prompt.id, value: 'yes' })).code, 'BAD_MESSAGE');
  resultOf(await c.request('answer', { promptId: prompt.id, value: false }));
  await on.catch(() => {});
  const s = await c.waitForStatus((x) => x.lastError?.code === 'HOSTKEY_UNKNOWN', 15_000, from);
  assert.equal(s.prompt, undefined);
  assert.ok(!fs.existsSync(knownHostsFile) || !fs.readFileSync(knownHostsFile, 'utf8').includes(String(gw.port)));
  assert.equal((await c.end()).code, 0);
});

// ---------- in process: behaviours that need control of time ----------

/** Runs a NativeHost on in-memory streams; returns a way to send requests and read what it sends. */
function inProcess(opts: Partial<ConstructorParameters<typeof NativeHost>[0]>) {
  const input = new PassThrough();
  const output = new PassThrough();
  const decoder = new FrameDecoder();
  const got: { type: string; [k: string]: unknown }[] = [];
  output.on('data', (b: Buffer) => {
    for (const f of decoder.push(b)) if (f.kind === 'message') got.push(f.value as { type: string });
  });
  const h = new NativeHost({ input, output, log: silentLogger, version: 'test', ...opts });
  let id = 1;
  return {
    got,
    host: h,
    send: (type: string, fields: Record<string, unknown> = {}) => {
      const rid = id++;
      input.write(encodeFrame({ type, id: rid, ...fields }));
      return rid;
    },
    async until<T>(pred: () => T | undefined, timeoutMs = 15_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = pred();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(got).slice(-1500)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

test('a prompt nobody answers is declined after the prompt timeout', { skip: noSshd ?? false }, async () => {
  const t = inProcess({ promptTimeoutMs: 300 });
  try {
    t.send('configure', { config: await configFor(gw.keys.encrypted) });
    t.send('set-mode', { mode: 'on' });
    const prompt = await t.until(() => t.got.find((m) => m.type === 'prompt'));
    const s = await t.until(() =>
      t.got.find((m) => m.type === 'status' && (m.status as TunnelStatus).lastError?.code === 'PASSPHRASE_NEEDED'),
    );
    assert.equal((s.status as TunnelStatus).prompt, undefined);
    const late = t.send('answer', { promptId: (prompt.prompt as { id: string }).id, value: KEY_PASSPHRASE });
    const r = await t.until(() => t.got.find((m) => m.type === 'response' && m.id === late));
    assert.equal((r.error as { code: string }).code, 'PROMPT_UNKNOWN');
  } finally {
    await t.host.close();
  }
});

/**
 * A stand-in tunnel for behaviours a real one cannot be made to show on demand (a burst of hundreds
 * of changes within milliseconds, a question pending at the exact moment of closing).
 */
class FakeTunnel extends EventEmitter implements TunnelLike {
  status(): TunnelStatus {
    return {
      state: 'connected',
      mode: 'on',
      gateway: 'g',
      jumps: [],
      socks: null,
      since: 0,
      connections: 1,
      channels: 0,
      bytesUp: 0,
      bytesDown: 0,
      timings: [],
    };
  }
  async configure() {
    return this.status();
  }
  async setMode() {
    return this.status();
  }
  async retry() {
    return this.status();
  }
  async testConnection() {
    return { timings: [] };
  }
  async close() {}
}

test('status pushes are coalesced: a burst of changes gives few pushes, the last state always among them', async () => {
  class Burst extends FakeTunnel {
    n = 0;
    override status(): TunnelStatus {
      return { ...super.status(), channels: this.n };
    }
    override async setMode() {
      for (let i = 1; i <= 500; i++) {
        this.n = i;
        this.emit('status', this.status());
      }
      return this.status();
    }
  }
  const t = inProcess({ createTunnel: async () => new Burst(), statusIntervalMs: 250 });
  try {
    t.send('configure', { config: toTunnelConfig(defaultProfile()) });
    const id = t.send('set-mode', { mode: 'on' });
    await t.until(() => t.got.find((m) => m.type === 'response' && m.id === id));
    const last = await t.until(() =>
      t.got.find((m) => m.type === 'status' && (m.status as TunnelStatus).channels === 500),
    );
    assert.ok(last);
    const pushes = t.got.filter((m) => m.type === 'status').length;
    assert.ok(pushes <= 3, `${pushes} status pushes for a burst of 500 changes`);
  } finally {
    await t.host.close();
  }
});

test('closing with a prompt pending: the question is declined and nothing is left running', async () => {
  let asked: Promise<string | null> | null = null;
  class Asks extends FakeTunnel {
    constructor(private readonly o: TunnelOptions) {
      super();
    }
    override async setMode() {
      asked = this.o.interaction.askPassphrase('/k', 1);
      return this.status();
    }
  }
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const t = inProcess({ createTunnel: async (o) => new Asks(o) });
  t.send('configure', { config: toTunnelConfig(defaultProfile()) });
  t.send('set-mode', { mode: 'on' });
  await t.until(() => t.got.find((m) => m.type === 'prompt'));
  const sent = t.got.length;
  await t.host.close();
  assert.equal(await asked, null, 'the pending passphrase question is declined');
  assert.equal(timers(), before, 'no timer outlives close (prompt timeout, status push)');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(t.got.length, sent, 'nothing is sent after close');
});
