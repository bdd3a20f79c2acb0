// The I/O behind `propose-profile`: reads ~/.ssh/config (then /etc/ssh/ssh_config, as ssh does),
// asks the ssh-agent how many keys it holds, looks the gateway up in known_hosts, and hands all of
// it to the pure choice in propose.ts. Reads only; nothing is written or connected to but the agent.

import os from 'node:os';
import ssh2 from 'ssh2';
import type { ProfileProposal } from '../../shared/protocol.js';
import { homeDir } from '../home.js';
import type { Logger } from '../log.js';
import { loadSshConfig } from '../ssh/config-files.js';
import type { HostConfig, ResolveContext } from '../ssh/config-resolve.js';
import { entryMatches, knownHostsName } from '../ssh/known-hosts.js';
import { readKnownHostsFiles } from '../ssh/known-hosts-store.js';
import type { RouteSources } from '../tunnel/config.js';
import { chooseProfile, defaultTarget, proposal } from './propose.js';

const { OpenSSHAgent } = ssh2;

/** An agent that does not answer within this long counts as holding no key. */
const AGENT_TIMEOUT_MS = 2000;

/** The agent ssh would ask for this host: IdentityAgent, else SSH_AUTH_SOCK (as route.ts). */
function agentSocketFor(cfg: HostConfig | null, env: NodeJS.ProcessEnv): string | null {
  const a = cfg?.identityAgent;
  if (a === undefined || a === 'SSH_AUTH_SOCK') return env.SSH_AUTH_SOCK || null;
  if (a === 'none') return null;
  if (a.startsWith('$')) return env[a.slice(1)] || null;
  return a;
}

/** Whether the agent on `socket` lists at least one key; false when there is none or it fails. */
function agentHasKey(socket: string | null, timeoutMs = AGENT_TIMEOUT_MS): Promise<boolean> {
  if (!socket) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    try {
      new OpenSSHAgent(socket).getIdentities((err, keys) => {
        clearTimeout(timer);
        resolve(!err && (keys?.length ?? 0) > 0);
      });
    } catch {
      clearTimeout(timer);
      resolve(false);
    }
  });
}

/** Whether the known_hosts files ssh would read for this host hold a (not revoked) key for it. */
function gatewayKnown(cfg: HostConfig): boolean {
  const name = cfg.hostKeyAlias ?? knownHostsName(cfg.hostName, cfg.port ?? 22);
  const { entries } = readKnownHostsFiles([...cfg.userKnownHostsFiles, ...cfg.globalKnownHostsFiles]);
  return entries.some((e) => e.marker === '' && entryMatches(e, name));
}

/** The proposal for this machine's user (`src` as the tunnel gets it: home, env, config files). */
export async function proposeProfile(src: RouteSources, log: Logger): Promise<ProfileProposal> {
  const env = src.env ?? process.env;
  const home = src.home ?? homeDir(env);
  const blocks = loadSshConfig(src.sshConfigFile, home, {
    ...(src.systemSshConfigFile !== undefined ? { systemFile: src.systemSshConfigFile } : {}),
    warn: (m) => log.warn(`ssh config: ${m}`),
  });
  const ctx: ResolveContext = {
    localUser: src.localUser ?? os.userInfo().username,
    home,
    localHost: os.hostname(),
    ...(process.getuid ? { uid: process.getuid() } : {}),
  };
  const choice = chooseProfile(blocks, ctx);
  const target = choice?.cfg ?? defaultTarget(blocks, ctx);
  const facts = {
    agentHasKey: await agentHasKey(agentSocketFor(target, env)),
    gatewayKnown: target ? gatewayKnown(target) : false,
  };
  const p = proposal(choice, facts);
  log.info(
    p.found
      ? `proposed profile: ${p.login ? `${p.login}@` : ''}${p.gateway}${p.via ? ` through ${p.via}` : ''} (agent key: ${p.agentHasKey ? 'yes' : 'no'}, known host: ${p.gatewayKnown ? 'yes' : 'no'})`
      : "proposed profile: no Host of ~/.ssh/config reaches a Grid'5000 access machine",
  );
  return p;
}
