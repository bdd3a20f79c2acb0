// Settings: the stored shape (versioned, a list of profiles), defaults, and the profile → tunnel
// config mapping. Pure: no storage API here; the extension reads and writes, this module checks.

import type { HostKeyPolicy, Mode, TunnelConfig } from './protocol.js';

export const SETTINGS_VERSION = 2;
export const DEFAULT_PATTERNS = ['*.grid5000.fr'];
export const DEFAULT_SOCKS_PORT = 1080;

export interface Profile {
  id: string;
  name: string;
  /** Grid'5000 login ('' = from ~/.ssh/config or the local user). */
  user: string;
  gateway: string;
  /** 0 = from ~/.ssh/config, else 22. */
  port: number;
  jumps: string[];
  /** '' = ssh-agent, then the default key files. */
  identityFile: string;
  useAgent: boolean;
  socksPort: number;
  /** Host rules: `*.grid5000.fr`, `host.example`, `10.0.0.0/8`, `!excluded.grid5000.fr`. */
  patterns: string[];
  idleTimeoutSec: number;
  keepaliveIntervalSec: number;
  keepaliveCountMax: number;
  connectTimeoutSec: number;
  strictHostKeyChecking: HostKeyPolicy;
  knownHostsFile: string;
  /** Refuse SOCKS destinations that match none of the patterns. */
  restrictToPatterns: boolean;
  maxConnections: number;
}

export interface Settings {
  version: typeof SETTINGS_VERSION;
  activeProfileId: string;
  /** Mode the tunnel takes when the browser starts. */
  startupMode: Mode;
  profiles: Profile[];
}

export function defaultProfile(): Profile {
  return {
    id: 'grid5000',
    name: "Grid'5000",
    user: '',
    gateway: 'access.grid5000.fr',
    port: 22,
    jumps: [],
    identityFile: '',
    useAgent: true,
    socksPort: DEFAULT_SOCKS_PORT,
    patterns: [...DEFAULT_PATTERNS],
    idleTimeoutSec: 600,
    keepaliveIntervalSec: 15,
    keepaliveCountMax: 3,
    connectTimeoutSec: 20,
    strictHostKeyChecking: 'ask',
    knownHostsFile: '',
    restrictToPatterns: false,
    maxConnections: 1,
  };
}

export function defaultSettings(): Settings {
  const profile = defaultProfile();
  return { version: SETTINGS_VERSION, activeProfileId: profile.id, startupMode: 'auto', profiles: [profile] };
}

export function activeProfile(s: Settings): Profile {
  return s.profiles.find((p) => p.id === s.activeProfileId) ?? s.profiles[0] ?? defaultProfile();
}

export function toTunnelConfig(p: Profile): TunnelConfig {
  return {
    gateway: p.gateway,
    port: p.port,
    user: p.user,
    jumps: [...p.jumps],
    identityFile: p.identityFile,
    useAgent: p.useAgent,
    socksPort: p.socksPort,
    idleTimeoutSec: p.idleTimeoutSec,
    keepaliveIntervalSec: p.keepaliveIntervalSec,
    keepaliveCountMax: p.keepaliveCountMax,
    connectTimeoutSec: p.connectTimeoutSec,
    strictHostKeyChecking: p.strictHostKeyChecking,
    knownHostsFile: p.knownHostsFile,
    restrictTo: p.restrictToPatterns ? [...p.patterns] : [],
    maxConnections: p.maxConnections,
  };
}
