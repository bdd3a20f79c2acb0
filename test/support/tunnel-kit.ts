// Small tools for the tunnel tests: a scripted user, a GET through a SOCKS port
// (on the test bed's SOCKS5 client, which reports the exact reply code), and a wait for a tunnel state.

import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TunnelConfig, TunnelStatus } from '../../shared/protocol.js';
import type { Logger } from '../../native-host/log.js';
import { Tunnel, type Interaction, type TunnelOptions } from '../../native-host/tunnel/tunnel.js';
import { before, after } from 'node:test';
import { canRunSshd, startGateway, type Gateway } from '../../testbed/sshd.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { socksConnect } from '../../testbed/socks-client.js';

/** An empty home folder, so that the machine's own ~/.ssh never leaks into a test. */
export function tempHome(): { dir: string; ssh: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-home-'));
  const ssh = path.join(dir, '.ssh');
  fs.mkdirSync(ssh, { mode: 0o700 });
  return { dir, ssh, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

interface GatewayFixture {
  gw: Gateway;
  web: InternalWeb;
  home: ReturnType<typeof tempHome>;
}

/**
 * For a test file: a real sshd, the internal web server and a temporary HOME, started before its
 * tests (unless this machine cannot run sshd) and stopped after them; `set` receives them.
 */
export function useGateway(set: (f: GatewayFixture) => void): void {
  let f: GatewayFixture | null = null;
  before(async () => {
    if (canRunSshd()) return;
    f = { gw: await startGateway(), web: await startInternalWeb(), home: tempHome() };
    set(f);
  });
  after(async () => {
    await f?.web.close();
    await f?.gw.stop();
    f?.home.cleanup();
  });
}

/** A logger that keeps the lines (and prints nothing), to check what was (not) logged. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return { lines, debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

/** A user who answers from a script and remembers every question. */
export function scriptedUser(script: { passphrases?: (string | null)[]; acceptHostKey?: boolean } = {}) {
  const passphrases = [...(script.passphrases ?? [])];
  const asked: { keyFile: string; attempt: number }[] = [];
  const hostKeyQuestions: Parameters<Interaction['confirmHostKey']>[0][] = [];
  const interaction: Interaction = {
    async askPassphrase(keyFile, attempt) {
      asked.push({ keyFile, attempt });
      return passphrases.length ? (passphrases.shift() ?? null) : null;
    },
    async confirmHostKey(q) {
      hostKeyQuestions.push(q);
      return script.acceptHostKey ?? false;
    },
  };
  return { interaction, asked, hostKeyQuestions };
}

/** A tunnel isolated from this machine's ssh configuration and agent. */
export function isolatedTunnel(config: TunnelConfig, home: string, over: Partial<TunnelOptions> = {}): Tunnel {
  return new Tunnel({
    config,
    interaction: scriptedUser().interaction,
    log: memoryLogger(),
    home,
    localUser: 'g5k-nobody',
    env: {},
    systemSshConfigFile: null,
    ...over,
  });
}

/** Resolves with the first status (the current one included) that satisfies `pred`. */
export function waitForStatus(
  t: Tunnel,
  pred: (s: TunnelStatus) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<TunnelStatus> {
  const now = t.status();
  if (pred(now)) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      t.off('status', on);
      reject(new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(t.status())}`));
    }, timeoutMs);
    const on = (s: TunnelStatus) => {
      if (!pred(s)) return;
      clearTimeout(timer);
      t.off('status', on);
      resolve(s);
    };
    t.on('status', on);
  });
}

export const stateIs = (state: TunnelStatus['state']) => (s: TunnelStatus) => s.state === state;

/** GET `path` from host:port through the SOCKS port; the whole response as text. */
export async function socksGet(
  proxyPort: number,
  host: string,
  port: number,
  urlPath = '/',
): Promise<{ reply: number | null; status: number; body: string }> {
  const { reply, socket } = await socksConnect(proxyPort, host, port);
  if (reply !== 0) {
    socket.destroy();
    return { reply, status: 0, body: '' };
  }
  socket.write(`GET ${urlPath} HTTP/1.0\r\nHost: ${host}:${port}\r\n\r\n`);
  const text = await new Promise<string>((resolve) => {
    const parts: Buffer[] = [];
    socket.on('data', (c: Buffer) => parts.push(c));
    socket.on('close', () => resolve(Buffer.concat(parts).toString('utf8')));
    socket.resume(); // the client hands the socket over paused
  });
  const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? 0);
  return { reply, status, body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

/** Resolves when `sock` closes; `how` says whether it ended cleanly or was reset. */
export function closed(sock: net.Socket): Promise<'end' | 'reset'> {
  return new Promise((resolve) => {
    if (sock.destroyed) return resolve(sock.errored ? 'reset' : 'end');
    let reset = false;
    sock.on('error', () => (reset = true));
    sock.resume();
    sock.once('close', () => resolve(reset ? 'reset' : 'end'));
  });
}

/** Lines of the gateway's log added since `from` characters. */
export function logSince(file: string, from: number): string {
  return fs.readFileSync(file, 'utf8').slice(from);
}

export function logSize(file: string): number {
  try {
    return fs.readFileSync(file, 'utf8').length;
  } catch {
    return 0;
  }
}
