// The endpoints under test, each started against the same gateway with the same key, and stopped
// again: OpenSSH `ssh -N -D` (its default cipher, and AES-GCM), `g5k-tunnel -N -D`, the native
// host driven over its stdio protocol, a bare ssh2 forward (the floor ssh2 sets), and no proxy at
// all (the ceiling).

import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Gateway } from '../../testbed/sshd.js';
import { freePort, waitForPort } from '../../testbed/ports.js';
import { defaultProfile, toTunnelConfig } from '../../shared/settings.js';
import type { TunnelConfig, TunnelStatus } from '../../shared/protocol.js';
import * as children from '../../testbed/children.js';
import { uidOf } from '../../testbed/proc.js';
import { HostClient } from '../../testbed/native-client.js';
import type { Proxy } from '../../testbed/socks-client.js';

export const ENDPOINT_IDS = [
  'openssh',
  'openssh-aes',
  'g5k-cli',
  'g5k-pool',
  'g5k-host',
  'ssh2-bare',
  'direct',
] as const;

/** Pool size of the `g5k-pool` endpoint (`g5k-tunnel --connections N`). */
const POOL_SIZE = 4;
export type EndpointId = (typeof ENDPOINT_IDS)[number];

export const LABELS: Record<EndpointId, string> = {
  openssh: 'OpenSSH ssh -D (default cipher)',
  'openssh-aes': 'OpenSSH ssh -D -c aes128-gcm',
  'g5k-cli': 'g5k-tunnel -N -D',
  'g5k-pool': `g5k-tunnel --connections ${POOL_SIZE}`,
  'g5k-host': 'native host (set-mode on)',
  'ssh2-bare': 'bare ssh2 forward (floor)',
  direct: 'no proxy (ceiling)',
};

/** The reference every ratio is taken against. */
export const REFERENCE: EndpointId = 'openssh';

export interface Context {
  /** The project's root (where bin/ and dist/ are). */
  root: string;
  gw: Gateway;
  /** Scratch folder for HOME and logs of the endpoints. */
  scratch: string;
  /** Extra node flags for the Node endpoints (profiling). */
  nodeArgs?: string[];
  /** Extra environment for the Node endpoints (profiling). */
  extraEnv?: NodeJS.ProcessEnv;
}

export interface Running {
  id: EndpointId;
  proxy: Proxy | null;
  /** The proxy process (null without a proxy). */
  pid: number | null;
  /** ms from spawn until the SOCKS port served through an established SSH connection. */
  startMs: number;
  /** The native host's handshake stages, as it reports them. */
  status?: TunnelStatus;
  /** The last few KiB the process wrote on stderr. */
  stderr(): string;
  stop(): Promise<void>;
}

/** What each endpoint runs, for the report (paths shortened). */
export function commandLine(id: EndpointId): string {
  const common =
    '-N -F /dev/null -D 127.0.0.1:PORT -p GWPORT -i KEY -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=KNOWN_HOSTS -o StrictHostKeyChecking=yes g5ktest@127.0.0.1';
  switch (id) {
    case 'openssh':
      return `ssh ${common}`;
    case 'openssh-aes':
      return `ssh -c aes128-gcm@openssh.com ${common}`;
    case 'g5k-cli':
      return `node bin/g5k-tunnel ${common}`;
    case 'g5k-pool':
      return `node bin/g5k-tunnel --connections ${POOL_SIZE} ${common}`;
    case 'g5k-host':
      return 'node dist/native-host/messaging/host-main.js, then hello, configure, set-mode on, wait for status connected';
    case 'ssh2-bare':
      return 'node dist/scripts/bench/bare-ssh2.js 127.0.0.1 GWPORT g5ktest KEY KNOWN_HOSTS PORT (ssh2 Client, forwardOut, pipe)';
    case 'direct':
      return '(the client connects to the target itself)';
  }
}

function sshArgs(gw: Gateway, socksPort: number): string[] {
  return [
    '-N',
    '-F',
    '/dev/null',
    '-D',
    `127.0.0.1:${socksPort}`,
    '-p',
    String(gw.port),
    '-i',
    gw.keys.plain,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${gw.knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    `${gw.user}@${gw.host}`,
  ];
}

/** The environment of every proxy: no agent (the key comes from -i), a scratch HOME. */
export function proxyEnv(ctx: Context): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: ctx.scratch,
    XDG_STATE_HOME: path.join(ctx.scratch, 'state'),
    ...ctx.extraEnv,
  };
  delete env.SSH_AUTH_SOCK;
  return env;
}

export function hostScript(root: string): string {
  return path.join(root, 'dist/native-host/messaging/host-main.js');
}

const bareScript = (root: string) => path.join(root, 'dist/scripts/bench/bare-ssh2.js');

/** null when the endpoint can run, else why not. */
export function unavailable(id: EndpointId, root: string): string | null {
  if (
    (id === 'g5k-cli' || id === 'g5k-pool') &&
    !fs.existsSync(path.join(root, 'dist/native-host/command/g5k-tunnel.js'))
  )
    return 'dist/native-host/command/g5k-tunnel.js is missing (npm run build)';
  if (id === 'g5k-host' && !fs.existsSync(hostScript(root)))
    return 'dist/native-host/messaging/host-main.js is missing (npm run build)';
  if (id === 'ssh2-bare' && !fs.existsSync(bareScript(root)))
    return 'dist/scripts/bench/bare-ssh2.js is missing (npm run build)';
  return null;
}

/** The tunnel configuration the host gets: the defaults, pointed at the test gateway. */
export function hostConfig(gw: Gateway, socksPort: number): TunnelConfig {
  return {
    ...toTunnelConfig(defaultProfile()),
    gateway: gw.host,
    port: gw.port,
    user: gw.user,
    identityFile: gw.keys.plain,
    useAgent: false,
    knownHostsFile: gw.knownHosts,
    socksPort,
    strictHostKeyChecking: 'yes',
    // the benchmark's targets are on 127.0.0.1, outside the default patterns
    restrictTo: [],
  };
}

/** Keeps the head (where Node announces an inspector) and the tail of a process's stderr. */
function stderrTail(child: ChildProcess): () => string {
  let head = '';
  let text = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (head.length < 2000) head += d.toString();
    text = (text + d.toString()).slice(-4000);
  });
  return () => (head.length < 2000 ? head : `${head}\n…\n${text}`);
}

/** Waits until the SOCKS port listens, or fails with the process's own words if it exits. */
async function listening(child: ChildProcess, port: number, what: string, stderr: () => string): Promise<void> {
  const died = new Promise<never>((_, reject) =>
    child.once('exit', (code, sig) =>
      reject(new Error(`${what} exited (${sig ?? code}) before listening:\n${stderr()}`)),
    ),
  );
  died.catch(() => {});
  await Promise.race([waitForPort(port, '127.0.0.1', 20_000), died]);
}

/** The gateway serves no earlier connection: session measurements then belong to one endpoint. */
export async function gatewayQuiet(gw: Gateway, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (gw.sessionPids().length > 0) {
    if (Date.now() > deadline)
      throw new Error(`sshd sessions still open after ${timeoutMs} ms: ${gw.sessionPids().join(' ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const uids = new Map<string, number>();
function uidOfUser(user: string): number {
  if (!uids.has(user)) uids.set(user, Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim()));
  return uids.get(user)!;
}

/** The processes sshd runs as the user once authenticated (the pre-auth one runs as sshd's own user). */
function userSessions(gw: Gateway): number[] {
  const uid = uidOfUser(gw.user);
  return gw.sessionPids().filter((p) => uidOf(p) === uid);
}

/** The SSH connection is up once sshd serves the authenticated user (ssh -D may listen before that). */
async function sessionUp(gw: Gateway, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (userSessions(gw).length === 0) {
    if (Date.now() > deadline) throw new Error('no authenticated sshd session appeared');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The program and arguments of a command endpoint, serving SOCKS on `socksPort`. */
export function commandFor(id: EndpointId, ctx: Context, socksPort: number): [string, string[]] {
  const pool = id === 'g5k-pool' ? ['--connections', String(POOL_SIZE)] : [];
  const gw = ctx.gw;
  if (id === 'g5k-cli' || id === 'g5k-pool')
    return [
      process.execPath,
      [...(ctx.nodeArgs ?? []), path.join(ctx.root, 'bin/g5k-tunnel'), ...pool, ...sshArgs(gw, socksPort)],
    ];
  if (id === 'ssh2-bare')
    return [
      process.execPath,
      [
        ...(ctx.nodeArgs ?? []),
        bareScript(ctx.root),
        gw.host,
        String(gw.port),
        gw.user,
        gw.keys.plain,
        gw.knownHosts,
        String(socksPort),
      ],
    ];
  if (id === 'openssh' || id === 'openssh-aes')
    return ['ssh', [...(id === 'openssh-aes' ? ['-c', 'aes128-gcm@openssh.com'] : []), ...sshArgs(gw, socksPort)]];
  throw new Error(`${id} is not a command`);
}

/** SIGINT, as a user's Ctrl-C: the Node endpoints then exit cleanly (and write any profile). */
export function stopSignal(id: EndpointId): NodeJS.Signals {
  return id === 'openssh' || id === 'openssh-aes' ? 'SIGTERM' : 'SIGINT';
}

export async function startEndpoint(id: EndpointId, ctx: Context): Promise<Running> {
  if (id === 'direct') return { id, proxy: null, pid: null, startMs: 0, stderr: () => '', stop: async () => {} };
  const why = unavailable(id, ctx.root);
  if (why) throw new Error(why);
  await gatewayQuiet(ctx.gw);
  const socksPort = await freePort();
  const proxy = { host: '127.0.0.1', port: socksPort };
  const env = proxyEnv(ctx);
  const t0 = performance.now();

  if (id === 'g5k-host') {
    const host = new HostClient({
      script: hostScript(ctx.root),
      nodeArgs: ctx.nodeArgs ?? [],
      env,
      args: ['chrome-extension://koolnjbkpcgghpokcmbibabdkklmfaek/'],
    });
    try {
      const auth = ((await host.hello('bench')) as { proxy?: Proxy['auth'] }).proxy;
      await host.configure(hostConfig(ctx.gw, socksPort));
      await host.setMode('on');
      const status = await host.untilStatus((s) => s.state === 'connected', 30_000, 'connected status');
      await waitForPort(socksPort);
      return {
        id,
        proxy: { ...proxy, ...(auth ? { auth } : {}) },
        pid: host.pid,
        startMs: performance.now() - t0,
        status,
        stderr: () => `${host.stderrHead}\n${host.stderrTail}`,
        stop: () => host.close(),
      };
    } catch (e) {
      await host.close(1000);
      throw e;
    }
  }

  const [cmd, args] = commandFor(id, ctx, socksPort);
  const child = children.start(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = stderrTail(child);
  try {
    await listening(child, socksPort, id, stderr);
    await sessionUp(ctx.gw);
  } catch (e) {
    await children.stop(child, 1000);
    throw e;
  }
  return {
    id,
    proxy,
    pid: child.pid ?? null,
    startMs: performance.now() - t0,
    stderr,
    // SIGINT, as a user's Ctrl-C: the Node endpoints then exit cleanly (and write any profile)
    stop: () => children.stop(child, 3000, stopSignal(id)),
  };
}
