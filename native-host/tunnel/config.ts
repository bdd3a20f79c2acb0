// What the tunnel makes of its settings (pure, apart from reading ~/.ssh/config for the route):
// which changes need a new SSH connection, the name shown for the gateway, the restrictTo rules,
// the hops to connect through, and the protocol error for a failure.

import os from 'node:os';
import { makeError } from '../../shared/errors.js';
import { parseRules, type Rule } from '../../shared/patterns.js';
import type { ProtocolError, TunnelConfig } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { ConnectError } from '../ssh/connect.js';
import { resolveRoute, RouteError, type Route } from '../ssh/route.js';

/** Where the tunnel finds the user's SSH setup (defaults: this process's user and environment). */
export interface RouteSources {
  home?: string;
  localUser?: string;
  sshConfigFile?: string;
  /** OpenSSH -o lines, they win over everything (first value wins) */
  sshOptions?: string[];
  env?: NodeJS.ProcessEnv;
  /** /etc/ssh/ssh_config by default; null skips it. */
  systemSshConfigFile?: string | null;
}

/** Settings whose change means a new SSH connection. */
const CONNECTION_FIELDS: (keyof TunnelConfig)[] = [
  'gateway',
  'port',
  'user',
  'jumps',
  'identityFile',
  'useAgent',
  'keepaliveIntervalSec',
  'keepaliveCountMax',
  'connectTimeoutSec',
  'strictHostKeyChecking',
  'knownHostsFile',
];

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function connectionChanged(old: TunnelConfig, config: TunnelConfig): boolean {
  return CONNECTION_FIELDS.some((k) => !sameValue(old[k], config[k]));
}

export interface Display {
  gateway: string;
  jumps: string[];
}

/** The gateway as the settings name it, before the route is resolved. */
export function displayOf(c: TunnelConfig): Display {
  return { gateway: `${c.user ? `${c.user}@` : ''}${c.gateway}${c.port ? `:${c.port}` : ''}`, jumps: [...c.jumps] };
}

export function restrictRules(c: TunnelConfig, log: Logger): Rule[] {
  const { rules, errors } = parseRules(c.restrictTo);
  for (const e of errors) log.warn(`restrictTo "${e.raw}": ${e.message}`);
  return rules;
}

export function routeOf(config: TunnelConfig, src: RouteSources, log: Logger): Route {
  return resolveRoute(config, {
    home: src.home ?? os.homedir(),
    localUser: src.localUser ?? os.userInfo().username,
    env: src.env ?? process.env,
    log,
    ...(src.sshConfigFile !== undefined ? { sshConfigFile: src.sshConfigFile } : {}),
    ...(src.sshOptions ? { sshOptions: src.sshOptions } : {}),
    ...(src.systemSshConfigFile !== undefined ? { systemConfigFile: src.systemSshConfigFile } : {}),
  });
}

/** A failed connection attempt as the protocol tells it, and whether retrying is pointless. */
export function errorOf(err: unknown): { error: ProtocolError; fatal: boolean } {
  if (err instanceof ConnectError) return { error: err.protocolError, fatal: err.fatal };
  if (err instanceof RouteError)
    return { error: makeError('NOT_CONFIGURED', err.message, 'The tunnel settings cannot be used.'), fatal: true };
  // an unexpected failure: stop rather than retry a bug in a loop
  return { error: makeError('INTERNAL', (err as Error)?.message ?? String(err)), fatal: true };
}

/** Why the SOCKS listener could not start on `where`. */
export function listenError(e: NodeJS.ErrnoException, where: string): ProtocolError {
  if (e.code === 'EADDRINUSE') return makeError('SOCKS_PORT_IN_USE', `${where} is already in use`);
  if (e.code === 'EACCES')
    return makeError(
      'SOCKS_PORT_IN_USE',
      `${where}: permission denied (ports below 1024 need privileges)`,
      'The local SOCKS port cannot be used.',
    );
  return makeError('INTERNAL', `cannot listen on ${where}: ${e.message}`);
}
