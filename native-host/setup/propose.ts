// A first profile from what the machine already says, so that a first run needs nothing typed: the
// Host of ~/.ssh/config that reaches a Grid'5000 access machine (its alias, login, key, jump hosts),
// plus two facts gathered elsewhere (propose-facts.ts): does the agent hold a key, does known_hosts
// know the gateway. Pure: parsed config blocks in, a choice and then a proposal out.

import { formatDestination, parseDestination, parseJumpList } from '../../shared/destination.js';
import type { ProfileProposal } from '../../shared/protocol.js';
import { splitArgs, type SshConfigBlock } from '../ssh/config-parse.js';
import { resolveHostConfig, type HostConfig, type ResolveContext } from '../ssh/config-resolve.js';

/** Grid'5000's access machines: the main one, and the north and south ones. */
const ACCESS_MACHINE = /^access(-north|-south)?\.grid5000\.fr$/i;
const DEFAULT_ACCESS = 'access.grid5000.fr';

interface Choice {
  /** The Host alias to connect through; absent when only a wildcard block names the access machine. */
  alias?: string;
  /** The access machine. */
  gateway: string;
  /** What ssh would use for it (known_hosts files, IdentityAgent, port...). */
  cfg: HostConfig;
  login?: string;
  identityFile?: string;
  jumps: string[];
  proxyCommand?: string;
  /** Other aliases that reach an access machine, in file order. */
  others: string[];
}

interface Facts {
  agentHasKey: boolean;
  gatewayKnown: boolean;
}

const literal = (p: string) => p !== '' && !/[*?!]/.test(p);

/** Every literal Host name, once, in file order (wildcards and negations are not names). */
function aliases(blocks: SshConfigBlock[]): string[] {
  const seen = new Set<string>();
  for (const b of blocks) if (b.kind === 'host') for (const p of b.patterns) if (literal(p)) seen.add(p);
  return [...seen];
}

function resolveOrNull(blocks: SshConfigBlock[], host: string, ctx: ResolveContext): HostConfig | null {
  try {
    return resolveHostConfig(blocks, host, ctx);
  } catch {
    return null; // a bad %-token in that block: ssh would refuse it too
  }
}

/** Better candidates first: a login on file, the main access machine, no ProxyCommand. */
function score(c: Choice): number {
  return (
    (c.login ? 4 : 0) + (c.gateway.toLowerCase() === DEFAULT_ACCESS ? 2 : 0) + (c.proxyCommand === undefined ? 1 : 0)
  );
}

function fromAlias(alias: string, cfg: HostConfig): Choice {
  const c: Choice = { alias, gateway: cfg.hostName, cfg, jumps: [], others: [] };
  if (cfg.user) c.login = cfg.user;
  if (cfg.identityFilesFromConfig && cfg.identityFiles[0]) c.identityFile = cfg.identityFiles[0];
  if (cfg.proxyJump) {
    const jumps = parseJumpList(cfg.proxyJump);
    c.jumps = jumps.ok ? jumps.value.map(formatDestination) : [];
  }
  if (cfg.proxyCommand) c.proxyCommand = cfg.proxyCommand;
  return c;
}

/**
 * A wildcard block (e.g. `Host *.g5k`) whose ProxyJump or ProxyCommand names an access machine,
 * `[login@]access.grid5000.fr`: the gateway and maybe the login, with no alias to go through.
 */
function fromWildcards(blocks: SshConfigBlock[]): { gateway: string; login?: string } | null {
  for (const b of blocks) {
    if (b.kind !== 'host') continue;
    const user = b.options.find(([k]) => k === 'user')?.[1];
    for (const [key, value] of b.options) {
      let words: string[] = [];
      try {
        words = key === 'proxyjump' ? value.split(',') : key === 'proxycommand' ? splitArgs(value) : [];
      } catch {
        continue;
      }
      for (const w of words) {
        const parsed = parseDestination(w.trim());
        if (!parsed.ok) continue;
        const d = parsed.value;
        if (!ACCESS_MACHINE.test(d.host)) continue;
        const login = d.user ?? (user !== undefined ? splitArgs(user)[0] : undefined);
        return { gateway: d.host.toLowerCase(), ...(login ? { login } : {}) };
      }
    }
  }
  return null;
}

/** The best Host for a Grid'5000 tunnel, or null when ~/.ssh/config names no access machine. */
export function chooseProfile(blocks: SshConfigBlock[], ctx: ResolveContext): Choice | null {
  const found: Choice[] = [];
  for (const alias of aliases(blocks)) {
    const cfg = resolveOrNull(blocks, alias, ctx);
    if (cfg && ACCESS_MACHINE.test(cfg.hostName)) found.push(fromAlias(alias, cfg));
  }
  if (found.length) {
    // stable: on a tie the first in the file wins
    const best = found.reduce((a, b) => (score(b) > score(a) ? b : a));
    best.others = found.filter((c) => c !== best).map((c) => c.alias!);
    return best;
  }
  const wild = fromWildcards(blocks);
  if (!wild) return null;
  const cfg = resolveOrNull(blocks, wild.gateway, ctx);
  if (!cfg) return null;
  const c = fromAlias(wild.gateway, cfg);
  delete c.alias;
  if (wild.login) c.login = wild.login;
  return c;
}

/** What ssh would use to reach the gateway when nothing was found: the main access machine's entry. */
export function defaultTarget(blocks: SshConfigBlock[], ctx: ResolveContext): HostConfig | null {
  return resolveOrNull(blocks, DEFAULT_ACCESS, ctx);
}

/** The answer to `propose-profile`. */
export function proposal(choice: Choice | null, facts: Facts): ProfileProposal {
  const p: ProfileProposal = { found: choice !== null, ...facts, source: '~/.ssh/config' };
  if (!choice) return p;
  if (choice.alias !== undefined) p.via = choice.alias;
  p.gateway = choice.gateway;
  if (choice.cfg.port !== undefined && choice.cfg.port !== 22) p.port = choice.cfg.port;
  if (choice.login) p.login = choice.login;
  if (choice.identityFile) p.identityFile = choice.identityFile;
  if (choice.jumps.length) p.jumps = choice.jumps;
  if (choice.proxyCommand) p.proxyCommand = choice.proxyCommand;
  if (choice.others.length) p.others = choice.others;
  return p;
}
