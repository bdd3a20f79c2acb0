// A first run with nothing to type: the native host's proposal (from ~/.ssh/config, the agent and
// known_hosts) → what the popup shows, and the settings "Use this" or the login alone would save.
// Pure: no browser API here; the popup and the options page put it on screen.

import {
  isProfileProposal,
  type ProfileProposal,
  type ProtocolError,
  type TunnelConfig,
} from '../../shared/protocol.js';
import { activeProfile, defaultProfile, fieldLabel, profileFieldErrors, type Settings } from '../../shared/settings.js';
import { t } from '../i18n/t.js';

/** One fact about the machine, and how it reads: fine, to know, or to act on. */
export interface FactLine {
  text: string;
  tone: 'good' | 'info' | 'warn';
}

interface ProposalView {
  /** A Host of ~/.ssh/config was found: "Use this"; else the login alone is asked. */
  found: boolean;
  /** "Found in ~/.ssh/config: login jdoe, through g5k", or what to do when nothing was found. */
  summary: string;
  /** The gateway and its jump hosts ("Gateway: access.grid5000.fr via a → b"); '' when unknown. */
  route: string;
  /** The key ssh would log in with; null when the host could not tell. */
  key: FactLine | null;
  /** Whether the gateway's host key is known already; null when the host could not tell. */
  hostKey: FactLine | null;
  /** The Hosts to choose from, the proposed one first; empty when there is no other. */
  choices: string[];
  /** The Host (or gateway) "Use this" saves. */
  target: string;
}

/** The host's reply to `propose-profile`, or null when it gave none that can be used. */
export function readProposal(
  reply: { ok: true; result: unknown } | { ok: false; error: ProtocolError },
): ProfileProposal | null {
  return reply.ok && isProfileProposal(reply.result) ? reply.result : null;
}

/** The proposed Host, or `choice` when it is one of the others. */
export function proposalTarget(p: ProfileProposal, choice?: string): string {
  if (choice && p.others?.includes(choice)) return choice;
  return p.via ?? p.gateway ?? defaultProfile().gateway;
}

function hostLabel(host: string, port?: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port && port !== 22 ? `${h}:${port}` : h;
}

function summaryOf(p: ProfileProposal): string {
  if (p.via && p.login) return t('first_run_found_login_via', p.login, p.via);
  if (p.via) return t('first_run_found_via', p.via);
  if (p.login) return t('first_run_found_login', p.login);
  return t('first_run_found');
}

function keyLine(p: ProfileProposal): FactLine {
  if (p.agentHasKey) return { text: t('first_run_key_agent'), tone: 'good' };
  if (p.identityFile) return { text: t('first_run_key_file', p.identityFile), tone: 'info' };
  return { text: t('first_run_key_none'), tone: 'warn' };
}

function hostKeyLine(p: ProfileProposal): FactLine {
  return p.gatewayKnown
    ? { text: t('first_run_hostkey_known'), tone: 'good' }
    : { text: t('first_run_hostkey_unknown'), tone: 'info' };
}

/**
 * What the popup shows for a proposal (null: the host could not propose one), with `choice` the
 * Host picked among the alternatives. Of another Host than the proposed one the host told nothing:
 * ~/.ssh/config supplies its login, key and gateway.
 */
export function proposalView(p: ProfileProposal | null, choice?: string): ProposalView {
  const fallback = defaultProfile().gateway;
  if (!p)
    return {
      found: false,
      summary: t('first_run_ask'),
      route: '',
      key: null,
      hostKey: null,
      choices: [],
      target: fallback,
    };
  if (!p.found)
    return {
      found: false,
      summary: t('first_run_not_found'),
      route: '',
      key: keyLine(p),
      hostKey: hostKeyLine(p),
      choices: [],
      target: fallback,
    };
  const target = proposalTarget(p, choice);
  const proposed = proposalTarget(p);
  const choices = p.others?.length ? [proposed, ...p.others.filter((o) => o !== proposed)] : [];
  if (target !== proposed)
    return {
      found: true,
      summary: t('first_run_found_via', target),
      route: t('first_run_other'),
      key: null,
      hostKey: null,
      choices,
      target,
    };
  const gateway = hostLabel(p.gateway ?? fallback, p.port);
  const route = p.jumps?.length
    ? t('first_run_gateway_via', gateway, p.jumps.join(' → '))
    : t('first_run_gateway', gateway);
  return { found: true, summary: summaryOf(p), route, key: keyLine(p), hostKey: hostKeyLine(p), choices, target };
}

/** `base` with its active profile's SSH fields replaced (the rest, SOCKS port and patterns, kept). */
function withSsh(
  base: Settings,
  ssh: Pick<TunnelConfig, 'gateway' | 'user' | 'port' | 'identityFile' | 'jumps'>,
): Settings {
  const current = activeProfile(base);
  const profile = { ...current, ...ssh, jumps: [...ssh.jumps] };
  const profiles = base.profiles.some((p) => p.id === current.id)
    ? base.profiles.map((p) => (p.id === current.id ? profile : p))
    : [profile];
  return { ...base, activeProfileId: profile.id, profiles };
}

/**
 * The settings "Use this" saves: the gateway is the Host alias, with the login, port, key and jump
 * hosts left empty so that ~/.ssh/config supplies them, as `ssh g5k` would. Without an alias (only
 * a wildcard block names the access machine) the gateway is the access machine, and the login the
 * proposal found is kept, since nothing in ~/.ssh/config would give it for that name.
 */
export function settingsFromProposal(p: ProfileProposal, base: Settings, choice?: string): Settings {
  const target = proposalTarget(p, choice);
  const isAlias = p.via !== undefined || target !== p.gateway;
  return withSsh(base, {
    gateway: target,
    user: isAlias ? '' : (p.login ?? ''),
    port: 0,
    identityFile: '',
    jumps: [],
  });
}

/**
 * The settings saving the login alone gives: that login on the current gateway (by default
 * access.grid5000.fr, port 22). `error` (the login is missing or malformed) means nothing to save.
 */
export function settingsFromLogin(login: string, base: Settings): { settings: Settings; error?: string } {
  const user = login.trim();
  const { gateway, port, identityFile, jumps } = activeProfile(base);
  const settings = withSsh(base, { gateway, user, port, identityFile, jumps });
  if (user === '') return { settings, error: t('first_run_login_required') };
  const problem = profileFieldErrors(activeProfile(settings)).user;
  return problem ? { settings, error: `${fieldLabel('user')} ${problem}` } : { settings };
}
