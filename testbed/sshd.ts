// A real OpenSSH sshd on loopback for tests and benchmarks, with names that only it resolves
// (its own mount namespace sees a different /etc/hosts), as the Grid'5000 access machine does.
// Needs root (useradd, unshare); `canRunSshd()` says whether this machine can.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TunnelConfig } from '../shared/protocol.js';
import { freePort, waitForPort } from './ports.js';
import { descendants } from './proc.js';

const SSHD = '/usr/sbin/sshd';
export const TEST_USER = 'g5ktest';
export const KEY_PASSPHRASE = 'correct horse battery staple';

/** Names that resolve only on the gateway, all to 127.0.0.2 (where internal test servers listen). */
export const INTERNAL_IP = '127.0.0.2';
export const INTERNAL_NAMES = [
  'graphite-3.nancy.grid5000.fr',
  'intranet.grid5000.fr',
  'dashboard.nancy.grid5000.fr',
  'jupyter.internal.test',
];
/** A short name the gateway resolves too (to INTERNAL_IP), as Grid'5000's resolves `graphite-3.nancy`. */
export const INTERNAL_SHORT_NAME = 'graphite-3.nancy';
/** A name that resolves on the gateway to the IPv6 loopback. */
const INTERNAL_NAME_V6 = 'v6only.grid5000.fr';

interface Keys {
  dir: string;
  /** Unencrypted ed25519, authorized. */
  plain: string;
  /** Passphrase-protected ed25519 (KEY_PASSPHRASE), authorized. */
  encrypted: string;
  /** A valid key the gateway does not authorize. */
  wrong: string;
}

export interface Gateway {
  host: string;
  port: number;
  user: string;
  dir: string;
  keys: Keys;
  /** `ssh-ed25519 AAAA…` of the current host key. */
  hostKeyPublic: string;
  /** A known_hosts file holding the gateway's current key, as `[127.0.0.1]:port key`. */
  knownHosts: string;
  logFile: string;
  pid(): number;
  /** Pids of the processes serving open SSH connections (children of the listener, and theirs). */
  sessionPids(): number[];
  /** Stops and starts again on the same port, with a new host key if asked. */
  restart(opts?: { newHostKey?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export function canRunSshd(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (useradd, unshare for gateway-only DNS)';
  if (!fs.existsSync(SSHD)) return `${SSHD} missing: apt-get install openssh-server`;
  return null;
}

function ensureTestUser(): void {
  try {
    execFileSync('id', [TEST_USER], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('useradd', ['-m', '-s', '/bin/sh', TEST_USER], { stdio: 'ignore' });
    } catch {
      // another test process created it at the same time
      execFileSync('id', [TEST_USER], { stdio: 'ignore' });
    }
  }
  // A locked account ('!') is refused when UsePAM is off.
  execFileSync('usermod', ['-p', '*', TEST_USER], { stdio: 'ignore' });
}

function keygen(file: string, passphrase = '', type = 'ed25519'): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', path.basename(file), '-f', file], {
    stdio: 'ignore',
  });
}

/** Makes client keys in a fresh folder: plain, encrypted and an unauthorized one. */
export function makeKeys(dir: string): Keys {
  const keys = {
    dir,
    plain: path.join(dir, 'id_ed25519'),
    encrypted: path.join(dir, 'id_ed25519_enc'),
    wrong: path.join(dir, 'id_ed25519_wrong'),
  };
  keygen(keys.plain);
  keygen(keys.encrypted, KEY_PASSPHRASE);
  keygen(keys.wrong);
  return keys;
}

interface GatewayOptions {
  /** More sshd_config lines, written after the defaults. sshd keeps the FIRST value of a keyword,
   *  so to override a default, put it in a block: ['Match all', 'AllowTcpForwarding no']. */
  extraConfig?: string[];
  /** sshd's MaxStartups (default '200:30:400', so that parallel tests are never refused): a small
   *  value makes it drop new connections while that many are unauthenticated, as a busy access machine. */
  maxStartups?: string;
  /** More /etc/hosts lines seen only by this sshd, e.g. '127.0.0.1 gateway.internal.test' for a jump host. */
  extraHosts?: string[];
}

export async function startGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const why = canRunSshd();
  if (why) throw new Error(`cannot run sshd: ${why}`);
  ensureTestUser();
  fs.mkdirSync('/run/sshd', { recursive: true });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-sshd-'));
  fs.chmodSync(dir, 0o755); // the session user reads authorized_keys here
  const keysDir = path.join(dir, 'client');
  fs.mkdirSync(keysDir, { mode: 0o700 });
  const keys = makeKeys(keysDir);
  const authorized = path.join(dir, 'authorized_keys');
  fs.writeFileSync(
    authorized,
    `${[keys.plain, keys.encrypted].map((k) => fs.readFileSync(`${k}.pub`, 'utf8').trim()).join('\n')}\n`,
    { mode: 0o644 },
  );

  const hostsFile = path.join(dir, 'hosts.gateway');
  fs.writeFileSync(
    hostsFile,
    fs.readFileSync('/etc/hosts', 'utf8') +
      `\n${INTERNAL_IP} ${INTERNAL_NAMES.join(' ')} ${INTERNAL_SHORT_NAME}\n::1 ${INTERNAL_NAME_V6}\n${(opts.extraHosts ?? []).join('\n')}\n`,
  );

  const port = await freePort();
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const conf = path.join(dir, 'sshd_config');
  const logFile = path.join(dir, 'sshd.log');
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(
    conf,
    `${[
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'StrictModes no',
      'UsePAM no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      `AllowUsers ${TEST_USER}`,
      'AllowTcpForwarding yes',
      `MaxStartups ${opts.maxStartups ?? '200:30:400'}`,
      'LogLevel VERBOSE',
      ...(opts.extraConfig ?? []),
    ].join('\n')}\n`,
  );

  let child: ChildProcess | null = null;
  let hostKeyPublic = '';

  const newHostKey = () => {
    fs.rmSync(hostKey, { force: true });
    fs.rmSync(`${hostKey}.pub`, { force: true });
    keygen(hostKey);
    hostKeyPublic = fs.readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKeyPublic}\n`);
  };

  const start = async () => {
    const log = fs.openSync(logFile, 'a');
    // unshare + bind mount: only this sshd (and its sessions) sees the internal names.
    child = spawn(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$1" /etc/hosts && exec "$2" -D -f "$3" -E "$4"',
        'sh',
        hostsFile,
        SSHD,
        conf,
        logFile,
      ],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`sshd exited (${code}); see ${logFile}:\n${safeRead(logFile)}`))),
    );
    await Promise.race([waitForPort(port).then(() => bannerProbe(port)), exited]);
    exited.catch(() => {});
    // the probes made sshd fork pre-auth children (the banner proves they exist by now): let them
    // go, so that sessionPids() counts only the connections of the code under test
    const deadline = Date.now() + 5000;
    while (descendants(child.pid!).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };

  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const pids = descendants(c.pid!);
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    for (const p of pids) {
      try {
        process.kill(p, 'SIGCONT');
        process.kill(p, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    await gone;
  };

  newHostKey();
  await start();

  const gw: Gateway = {
    host: '127.0.0.1',
    port,
    user: TEST_USER,
    dir,
    keys,
    get hostKeyPublic() {
      return hostKeyPublic;
    },
    knownHosts,
    logFile,
    pid: () => child?.pid ?? -1,
    sessionPids: () => (child?.pid ? descendants(child.pid) : []),
    async restart(o = {}) {
      await stop();
      if (o.newHostKey) newHostKey();
      await start();
    },
    async stop() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return gw;
}

/** Connects, waits for sshd's banner (sent by the child it forks for us), and hangs up. */
function bannerProbe(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => (sock.destroy(), reject(new Error(`sshd on port ${port} sent no banner`))), 10_000);
    sock.once('data', () => (clearTimeout(timer), sock.destroy(), resolve()));
    sock.once('error', (e) => (clearTimeout(timer), reject(e)));
  });
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

interface Agent {
  socket: string;
  stop(): void;
}

/** True when a Unix socket accepts a connection. */
function accepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socketPath);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Starts an ssh-agent holding the given unencrypted keys. */
export async function startAgent(keyFiles: string[]): Promise<Agent> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-agent-'));
  const socket = path.join(dir, 'agent.sock');
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  const stop = () => {
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // the socket file appears at bind(), before the agent listens: wait until it accepts
    const deadline = Date.now() + 5000;
    while (!(await accepts(socket))) {
      if (Date.now() > deadline) throw new Error('ssh-agent did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const k of keyFiles)
      execFileSync('ssh-add', ['-q', k], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
  } catch (e) {
    stop(); // a failed start leaves no agent behind (it would keep the test process alive)
    throw e;
  }
  return { socket, stop };
}

/**
 * The arguments of `g5k-tunnel` (or `ssh`) for a dynamic forward on `socksPort` through this
 * gateway: its port, a key (the plain one unless given), its known_hosts, user@127.0.0.1.
 */
export function commandArgs(
  gw: Gateway,
  socksPort: number,
  over: { key?: string; knownHosts?: string } = {},
): string[] {
  return [
    '-N',
    '-D',
    String(socksPort),
    '-p',
    String(gw.port),
    '-i',
    over.key ?? gw.keys.plain,
    '-o',
    `UserKnownHostsFile=${over.knownHosts ?? gw.knownHosts}`,
    `${gw.user}@127.0.0.1`,
  ];
}

/** Settings for a tunnel to the test gateway: its plain key, its known_hosts, strict checking. */
export async function gatewayConfig(gw: Gateway, over: Partial<TunnelConfig> = {}): Promise<TunnelConfig> {
  return {
    gateway: gw.host,
    port: gw.port,
    user: gw.user,
    jumps: [],
    identityFile: gw.keys.plain,
    useAgent: false,
    socksPort: await freePort(),
    idleTimeoutSec: 0,
    keepaliveIntervalSec: 0,
    keepaliveCountMax: 3,
    connectTimeoutSec: 10,
    strictHostKeyChecking: 'yes',
    knownHostsFile: gw.knownHosts,
    restrictTo: [],
    maxConnections: 1,
    ...over,
  };
}
