// Grid'5000's SSH guide as a ~/.ssh/config for the test sshd: `Host g5k` (the access machine) and
// `Host *.g5k` reached through it with `ProxyCommand ssh -F <config> g5k -W "$(basename %h .g5k):%p"`,
// with what the test bed needs (address, port, key, known_hosts). Each test adds its own hosts.

import fs from 'node:fs';
import path from 'node:path';
import type { Gateway } from '../../testbed/sshd.js';

export interface GuideSshConfig {
  /** The config file (`<sshDir>/config`). */
  config: string;
  /** The known_hosts file it names, holding the gateway's key under 127.0.0.1 and the .g5k names. */
  knownHosts: string;
}

interface GuideOptions {
  /** More names under which known_hosts holds the gateway's key (127.0.0.1 and nancy.g5k always). */
  knownAs?: string[];
  /** More lines for every block that logs in. */
  login?: string[];
  /** Blocks between `Host g5k` and `Host *.g5k` (so that they win over the latter). */
  before?: (f: { config: string; login: string[] }) => string[];
  /** Blocks after `Host *.g5k`. */
  after?: (f: { config: string; login: string[] }) => string[];
}

/** Writes the guide's config into `sshDir` (which must exist), 0600, and its known_hosts. */
export function writeGuideSshConfig(gw: Gateway, sshDir: string, opts: GuideOptions = {}): GuideSshConfig {
  const config = path.join(sshDir, 'config');
  const knownHosts = path.join(sshDir, 'known_hosts_test');
  const names = ['127.0.0.1', 'nancy.g5k', ...(opts.knownAs ?? [])].map((n) => `[${n}]:${gw.port}`);
  fs.writeFileSync(knownHosts, `${names.join(',')} ${gw.hostKeyPublic}\n`);
  const login = [
    `  User ${gw.user}`,
    `  IdentityFile ${gw.keys.plain}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHosts}`,
    '  StrictHostKeyChecking yes',
    ...(opts.login ?? []),
  ];
  const f = { config, login };
  fs.writeFileSync(
    config,
    [
      'Host g5k',
      '  HostName 127.0.0.1',
      `  Port ${gw.port}`,
      ...login,
      ...(opts.before?.(f) ?? []),
      'Host *.g5k',
      `  Port ${gw.port}`,
      ...login,
      // -F: OpenSSH reads the passwd entry's home, not $HOME
      `  ProxyCommand ssh -F ${config} g5k -W "$(basename %h .g5k):%p"`,
      ...(opts.after?.(f) ?? []),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { config, knownHosts };
}
