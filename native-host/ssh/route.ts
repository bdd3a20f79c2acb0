// From the tunnel settings and ~/.ssh/config to the list of machines to connect through (jump
// hosts first, the gateway last), each fully resolved like `ssh -G` would: name, port, login, keys,
// known_hosts files, host key policy, timeouts.
//
// Precedence, highest first: `-o` lines; the settings' non-empty fields (port, user, identity file,
// known_hosts file, which act like -p, -l, -i); ~/.ssh/config; OpenSSH's defaults. Timeouts and
// keepalives always come from the settings unless `-o` gives them. The host key policy is the
// stricter of the settings and ~/.ssh/config, unless `-o` sets it: settings never weaken a check.

import path from 'node:path';
import type { HostKeyPolicy, TunnelConfig } from '../../shared/protocol.js';
import { defaultAgentSocket } from './agent.js';
import { DEFAULT_IDENTITY_NAMES, type AuthPlan } from './auth-plan.js';
import { formatDestination, parseDestinations, parseJumpList, type Destination } from '../../shared/destination.js';
import type { SshConfigBlock } from './config-parse.js';
import { resolveHostConfig, type HostConfig } from './config-resolve.js';
import { loadSshConfig, localResolveContext } from './config-files.js';
import type { Hop } from './connect.js';
import { proxyCommandFor } from './proxy-command.js';
import type { Logger } from '../log.js';

export interface RouteContext {
  home: string;
  localUser: string;
  /** `-o` lines (Key=Value or Key Value); they win over everything, first value wins. */
  sshOptions?: string[];
  /** For SSH_AUTH_SOCK and IdentityAgent $VARIABLES. */
  env: NodeJS.ProcessEnv;
  /** This machine's name, for %l, %L and %C in ~/.ssh/config (resolveRoute fills it in). */
  localHost?: string;
  /** The local uid, for %i (resolveRoute fills it in). */
  uid?: number;
  /** For the default ssh-agent (Windows' agent pipe); default: this process's. */
  platform?: NodeJS.Platform;
}

export interface Route {
  /** Jump hosts first, the gateway last. */
  hops: Hop[];
  /** The gateway as shown to the user. */
  gateway: string;
  jumps: string[];
  warnings: string[];
}

/** A setting that cannot be turned into a connection (bad jump host, bad -o line...). */
export class RouteError extends Error {}

/** ProxyJump chains deeper than this are a loop in ~/.ssh/config. */
const MAX_HOPS = 8;

const STRICTNESS: Record<HostKeyPolicy, number> = { no: 0, 'accept-new': 1, ask: 2, yes: 3 };

const quote = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;
const hasOption = (lines: string[], key: string) => lines.some((l) => new RegExp(`^\\s*${key}\\s*[=\\s]`, 'i').test(l));

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

/** Settings that apply to every hop, as -o lines placed after the user's own -o lines. */
function commonOverrides(config: TunnelConfig, home: string): string[] {
  const out = [
    `ServerAliveInterval=${config.keepaliveIntervalSec}`,
    `ServerAliveCountMax=${config.keepaliveCountMax}`,
    `ConnectTimeout=${config.connectTimeoutSec}`,
  ];
  // a literal path: '%' would otherwise be read as an ssh_config token
  if (config.knownHostsFile)
    out.push(`UserKnownHostsFile=${quote(expandHome(config.knownHostsFile, home).replace(/%/g, '%%'))}`);
  return out;
}

function agentSocket(config: TunnelConfig, hc: HostConfig, ctx: RouteContext): string | null {
  if (!config.useAgent) return null;
  const env = ctx.env;
  const a = hc.identityAgent;
  if (a === undefined || a === 'SSH_AUTH_SOCK')
    return env.SSH_AUTH_SOCK || defaultAgentSocket(ctx.platform ?? process.platform);
  if (a === 'none') return null;
  if (a.startsWith('$')) return env[a.slice(1)] || null;
  return a;
}

function authPlan(config: TunnelConfig, hc: HostConfig, ctx: RouteContext): AuthPlan {
  const files: AuthPlan['files'] = [];
  const add = (p: string, explicit: boolean) => {
    if (!files.some((f) => f.path === p)) files.push({ path: p, explicit });
  };
  // like -i: first, and OpenSSH's default names are then not tried
  if (config.identityFile) add(expandHome(config.identityFile, ctx.home), true);
  if (hc.identityFilesFromConfig) for (const f of hc.identityFiles) add(f, false);
  else if (!config.identityFile) for (const n of DEFAULT_IDENTITY_NAMES) add(path.join(ctx.home, '.ssh', n), false);
  return { agentSocket: agentSocket(config, hc, ctx), files, identitiesOnly: hc.identitiesOnly ?? false };
}

function policy(config: TunnelConfig, hc: HostConfig, sshOptions: string[]): HostKeyPolicy {
  if (hasOption(sshOptions, 'StrictHostKeyChecking') && hc.strictHostKeyChecking) return hc.strictHostKeyChecking;
  const fromFile = hc.strictHostKeyChecking ?? config.strictHostKeyChecking;
  return STRICTNESS[fromFile] > STRICTNESS[config.strictHostKeyChecking] ? fromFile : config.strictHostKeyChecking;
}

function toHop(config: TunnelConfig, hc: HostConfig, ctx: RouteContext, sshOptions: string[]): Hop {
  const port = hc.port ?? 22;
  const user = hc.user ?? ctx.localUser;
  return {
    label: formatDestination({ user, host: hc.hostName, port }),
    host: hc.hostName,
    port,
    user,
    ...(hc.hostKeyAlias ? { hostKeyAlias: hc.hostKeyAlias } : {}),
    userKnownHostsFiles: hc.userKnownHostsFiles,
    globalKnownHostsFiles: hc.globalKnownHostsFiles,
    hashKnownHosts: hc.hashKnownHosts ?? false,
    policy: policy(config, hc, sshOptions),
    auth: authPlan(config, hc, ctx),
    connectTimeoutMs: (hc.connectTimeout || config.connectTimeoutSec) * 1000,
    keepaliveIntervalMs: (hc.serverAliveInterval ?? config.keepaliveIntervalSec) * 1000,
    keepaliveCountMax: hc.serverAliveCountMax ?? config.keepaliveCountMax,
  };
}

/** The hop with the ProxyCommand of `hc` expanded into it (none when `hc` is null). */
function withProxyCommand(hop: Hop, hc: HostConfig | null, ctx: RouteContext): Hop {
  if (!hc?.proxyCommand) return hop;
  try {
    return { ...hop, proxyCommand: proxyCommandFor(hc, ctx.localUser)! };
  } catch (err) {
    throw new RouteError(`${hc.originalHost}: ${(err as Error).message}`);
  }
}

function resolve(blocks: SshConfigBlock[], host: string, overrides: string[], ctx: RouteContext): HostConfig {
  try {
    return resolveHostConfig(blocks, host, {
      localUser: ctx.localUser,
      home: ctx.home,
      overrides,
      ...(ctx.localHost !== undefined ? { localHost: ctx.localHost } : {}),
      ...(ctx.uid !== undefined ? { uid: ctx.uid } : {}),
    });
  } catch (err) {
    throw new RouteError(`${host}: ${(err as Error).message}`);
  }
}

function parseJumps(list: string[] | string, where: string): Destination[] {
  const jumps = typeof list === 'string' ? parseJumpList(list) : parseDestinations(list);
  if (!jumps.ok) throw new RouteError(`${where}: ${jumps.error}`);
  return jumps.value;
}

/**
 * The hops for `config`, given parsed ~/.ssh/config blocks. Pure. Throws RouteError on settings
 * that cannot work (a malformed jump host or -o line, a ProxyJump loop).
 */
export function planRoute(config: TunnelConfig, blocks: SshConfigBlock[], ctx: RouteContext): Route {
  const sshOptions = ctx.sshOptions ?? [];
  const common = commonOverrides(config, ctx.home);
  const warnings: string[] = [];

  const gwOverrides = [...sshOptions];
  if (config.port) gwOverrides.push(`Port=${config.port}`);
  if (config.user) gwOverrides.push(`User=${quote(config.user)}`);
  const gwConfig = resolve(blocks, config.gateway, [...gwOverrides, ...common], ctx);
  warnings.push(...gwConfig.warnings);

  // Settings' jump list acts like -J; an explicit -o ProxyJump still wins.
  const explicitJumps = config.jumps.length > 0 && !hasOption(sshOptions, 'ProxyJump');
  const first: Destination[] = explicitJumps
    ? parseJumps(config.jumps, 'jump hosts')
    : gwConfig.proxyJump
      ? parseJumps(gwConfig.proxyJump, `ProxyJump of ${config.gateway}`)
      : [];
  // as with ssh -J: the jump list replaces the gateway's ProxyCommand
  if (explicitJumps && gwConfig.proxyCommand)
    warnings.push(`${config.gateway}: ProxyCommand ignored, since jump hosts are given`);

  let firstTaken = false;
  // Each jump host is itself looked up in ~/.ssh/config and may have its own ProxyJump, as with ssh -J.
  const expand = (d: Destination, depth: number): Hop[] => {
    if (depth > MAX_HOPS)
      throw new RouteError(`more than ${MAX_HOPS} jump hosts: is there a ProxyJump loop in ~/.ssh/config?`);
    const o: string[] = [];
    if (d.user) o.push(`User=${quote(d.user)}`);
    if (d.port) o.push(`Port=${d.port}`);
    const hc = resolve(blocks, d.host, [...o, ...common], ctx);
    warnings.push(...hc.warnings);
    const before = hc.proxyJump
      ? parseJumps(hc.proxyJump, `ProxyJump of ${d.host}`).flatMap((j) => expand(j, depth + 1))
      : [];
    // a ProxyCommand starts a chain: only the first hop can use one (later ones, as under ssh -J, do not)
    const proxy = hc.proxyCommand && before.length === 0 && !firstTaken;
    if (hc.proxyCommand && !proxy) warnings.push(`${d.host}: ProxyCommand ignored, since it is not the first hop`);
    firstTaken = true;
    return [...before, withProxyCommand(toHop(config, hc, ctx, []), proxy ? hc : null, ctx)];
  };
  const jumpHops = first.flatMap((d) => expand(d, 1));
  if (jumpHops.length >= MAX_HOPS)
    throw new RouteError(`more than ${MAX_HOPS} jump hosts: is there a ProxyJump loop in ~/.ssh/config?`);
  const gateway = withProxyCommand(toHop(config, gwConfig, ctx, sshOptions), first.length ? null : gwConfig, ctx);
  return { hops: [...jumpHops, gateway], gateway: gateway.label, jumps: jumpHops.map((h) => h.label), warnings };
}

interface ResolveOptions extends RouteContext {
  /** Like ssh -F: only this file. Default: ~/.ssh/config then /etc/ssh/ssh_config. */
  sshConfigFile?: string;
  /** The system-wide file; null to skip it. */
  systemConfigFile?: string | null;
  log: Logger;
}

/** planRoute with the configuration files read from disk. */
export function resolveRoute(config: TunnelConfig, o: ResolveOptions): Route {
  const blocks = loadSshConfig(o.sshConfigFile, o.home, {
    ...(o.systemConfigFile !== undefined ? { systemFile: o.systemConfigFile } : {}),
    warn: (m) => o.log.warn(`ssh config: ${m}`),
  });
  // this machine's name and uid, without which %l, %L, %C and %i are "unavailable tokens"
  const local = localResolveContext();
  const route = planRoute(config, blocks, {
    ...(local.localHost !== undefined ? { localHost: local.localHost } : {}),
    ...(local.uid !== undefined ? { uid: local.uid } : {}),
    ...o,
  });
  for (const w of route.warnings) o.log.warn(`ssh config: ${w}`);
  return route;
}
