// What the toolbar badge, the popup and the error page show for the tunnel's status and for problems
// with the native host itself. Pure (no browser API), so every word is unit-tested.

import { describe, type ErrorCode } from '../../shared/errors.js';
import type { Prompt, ProtocolError, Stage, TunnelState, TunnelStatus } from '../../shared/protocol.js';
import type { View } from './messages.js';

export interface Badge {
  text: string;
  /** Badge background, as #rrggbb. */
  color: string;
  /** Tooltip of the toolbar button. */
  title: string;
}

export interface ErrorView {
  title: string;
  message: string;
  hint: string;
  detail?: string;
  /** 'danger' = do not go on (a host key problem); 'error' = needs the user; 'transient' = retries by itself. */
  severity: 'danger' | 'error' | 'transient';
}

// One text and one colour per situation, none shared, so a glance at the toolbar tells them apart.
// The badge text is white: every colour keeps a contrast of 4.5:1 or more with it.
export const BADGE_TEXT_COLOR = '#ffffff';
const LOOK = {
  unknown: { text: '', color: '#6b7280' },
  off: { text: 'off', color: '#4b5563' },
  idle: { text: 'auto', color: '#1d4ed8' },
  connecting: { text: '…', color: '#b45309' },
  connected: { text: 'on', color: '#15803d' },
  reconnecting: { text: '↻', color: '#c2410c' },
  error: { text: '!', color: '#b91c1c' },
  prompt: { text: '?', color: '#0e7490' },
  host: { text: 'host', color: '#6d28d9' },
} as const;

// the popup's pill is short; the longer words of STATE_LABELS go in its tooltip
const PILL: Record<TunnelState, string> = {
  off: 'Off',
  idle: 'Ready',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  error: 'Error',
};

const STATE_LABELS: Record<TunnelState, string> = {
  off: 'Off',
  idle: 'Idle: connects on first use',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  error: 'Error',
};

const TITLES: Record<ErrorCode, string> = {
  BAD_FRAME: 'Garbled message',
  BAD_MESSAGE: 'Invalid request',
  PROTOCOL_MISMATCH: 'Versions do not match',
  NOT_CONFIGURED: 'Not set up yet',
  GATEWAY_UNREACHABLE: 'Gateway unreachable',
  TIMEOUT: 'Gateway not answering',
  HOSTKEY_CHANGED: 'Host key changed: possible attack',
  HOSTKEY_UNKNOWN: 'Unknown host key',
  HOSTKEY_REVOKED: 'Revoked host key',
  AUTH_FAILED: 'SSH key refused',
  NO_IDENTITY: 'No SSH key',
  PASSPHRASE_NEEDED: 'Passphrase needed',
  KEY_UNREADABLE: 'Identity file unreadable',
  KEY_PERMISSIONS: 'Private key readable by others',
  CONNECTION_LOST: 'Connection lost',
  SOCKS_PORT_IN_USE: 'SOCKS port in use',
  PROMPT_UNKNOWN: 'Question expired',
  HOST_MISSING: 'Native host not installed',
  HOST_FORBIDDEN: 'Native host refuses this extension',
  HOST_CRASHED: 'Native host stopped',
  HOST_OUTDATED: 'Native host out of date',
  INTERNAL: 'Internal error',
};

const DANGER: readonly ErrorCode[] = ['HOSTKEY_CHANGED', 'HOSTKEY_REVOKED'];
const TRANSIENT: readonly ErrorCode[] = ['GATEWAY_UNREACHABLE', 'TIMEOUT', 'CONNECTION_LOST'];

/** Title, words and what to do for an error, from the host or from the host connection. */
export function describeError(err: ProtocolError): ErrorView {
  const known = TITLES[err.code] !== undefined;
  const table = known ? describe(err.code) : { message: '', hint: '' };
  return {
    title: known ? TITLES[err.code] : 'Error',
    message: err.message || table.message,
    hint: err.hint || table.hint,
    ...(err.detail ? { detail: err.detail } : {}),
    severity: DANGER.includes(err.code) ? 'danger' : TRANSIENT.includes(err.code) ? 'transient' : 'error',
  };
}

/** What the badge and the pill are made from: the parts of the background's View they read. */
export interface StatusParts {
  status: TunnelStatus | null;
  /** The host's pending question: the View's, which a `prompt` event sets before any status says so. */
  prompt: Prompt | null;
  hostProblem: ProtocolError | null;
}

/** The toolbar badge. A host problem wins over any tunnel state; a pending question over the state. */
export function badge(v: StatusParts): Badge {
  const { status, prompt, hostProblem } = v;
  if (hostProblem) {
    const words = describeError(hostProblem);
    return { ...LOOK.host, title: `g5k-tunnel: ${words.title}. ${words.hint}` };
  }
  if (prompt) {
    const what = prompt.kind === 'passphrase' ? 'your key passphrase' : 'confirmation of the gateway host key';
    return { ...LOOK.prompt, title: `g5k-tunnel: waiting for ${what}; click to answer` };
  }
  if (!status) return { ...LOOK.unknown, title: 'g5k-tunnel: starting…' };
  const where = status.gateway ? ` ${status.gateway}` : '';
  switch (status.state) {
    case 'off':
      return { ...LOOK.off, title: 'g5k-tunnel: off' };
    case 'idle':
      return { ...LOOK.idle, title: `g5k-tunnel: ready; connects to${where || ' the gateway'} on first use` };
    case 'connecting':
      return { ...LOOK.connecting, title: `g5k-tunnel: ${status.stage ? stageLabel(status.stage) : 'Connecting…'}` };
    case 'connected': {
      const ch = status.channels === 1 ? '1 channel' : `${status.channels} channels`;
      return { ...LOOK.connected, title: `g5k-tunnel: connected to${where} (${ch} open)` };
    }
    case 'reconnecting':
      return { ...LOOK.reconnecting, title: `g5k-tunnel: connection lost, reconnecting to${where || ' the gateway'}` };
    case 'error': {
      const v = status.lastError ? describeError(status.lastError) : null;
      return { ...LOOK.error, title: v ? `g5k-tunnel: ${v.title}. ${v.hint}` : 'g5k-tunnel: error' };
    }
  }
}

/** The state pill of the popup and the error page: `data-state`, its word and its tooltip. */
export function pill(v: StatusParts): { state: string; text: string; title: string } {
  if (v.hostProblem) return { state: 'host-problem', text: 'Unavailable', title: v.hostProblem.message };
  if (!v.status) return { state: 'starting', text: 'Starting…', title: stateLabel(null) };
  return { state: v.status.state, text: PILL[v.status.state], title: stateLabel(v.status) };
}

/**
 * The error that explains the tunnel's state now, or null. A past error stays in `lastError` after
 * the tunnel recovers: it counts only while the tunnel is in error or reconnecting.
 */
export function currentError(v: Pick<View, 'status' | 'requestError' | 'hostProblem'>): ProtocolError | null {
  if (v.hostProblem) return null;
  const s = v.status;
  const tunnel = s && (s.state === 'error' || s.state === 'reconnecting') ? s.lastError : undefined;
  return tunnel ?? v.requestError ?? null;
}

export interface Reason {
  /** An error code, or `OFF` `SITE_ACCESS` `PROXY_CONFLICT` `TARGET` `NO_TUNNEL`. */
  code: string;
  title: string;
  message: string;
  hint: string;
}

/** Why a Grid'5000 page failed to load, for the error page, from the live View. */
export function failureReason(v: View): Reason {
  if (v.hostProblem) return { ...v.hostProblem, title: describeError(v.hostProblem).title };
  if (v.mode === 'off')
    return { code: 'OFF', title: 'Tunnel off', message: 'The tunnel is off.', hint: 'Retry turns it back on (Auto).' };
  if (v.siteAccessMissing)
    return {
      code: 'SITE_ACCESS',
      title: 'No access to websites',
      message: 'Firefox does not let g5k-tunnel see which sites you open, so this page did not go through the tunnel.',
      hint: 'Press “Allow access” in the g5k-tunnel toolbar popup, then Retry.',
    };
  const err = currentError(v);
  if (err) return { code: err.code, ...describeError(err) };
  if (v.proxyConflict)
    return {
      code: 'PROXY_CONFLICT',
      title: 'Another extension controls the proxy',
      message: 'The browser sent this page through another extension’s proxy, not through the tunnel.',
      hint: 'Disable the other proxy extension, or remove its proxy settings, then Retry.',
    };
  if (v.status?.state === 'connected')
    return {
      code: 'TARGET',
      title: 'Address unreachable from the gateway',
      message: 'The tunnel is up, but the gateway could not reach this address.',
      hint: 'Check the host name and port, and that the service runs (a node must be reserved and deployed).',
    };
  return {
    code: 'NO_TUNNEL',
    title: 'No tunnel',
    message: 'The tunnel was not up when the page was loaded.',
    hint: 'Retry starts it and loads the page again.',
  };
}

/** Splits words of the error table on `backticks` so that pages show commands as code. */
export function codeSpans(text: string): { text: string; code: boolean }[] {
  return text
    .split('`')
    .map((t, i) => ({ text: t, code: i % 2 === 1 }))
    .filter((p) => p.text !== '');
}

/** A short name for the state, as the popup's heading shows it. */
export function stateLabel(s: TunnelState | TunnelStatus | null): string {
  if (s === null) return 'Waiting for the native host…';
  if (typeof s === 'string') return STATE_LABELS[s];
  if (s.state === 'connecting' && s.stage) return stageLabel(s.stage);
  return STATE_LABELS[s.state];
}

/** What the connection is doing right now; `hop` names the machine when there are jump hosts. */
export function stageLabel(stage: Stage, hop?: string): string {
  const on = hop ? ` ${hop}` : '';
  switch (stage) {
    case 'tcp':
      return `Connecting to${on || ' the gateway'}…`;
    case 'hostkey':
      return hop ? `Checking the host key of${on}…` : 'Checking host key…';
    case 'auth':
      return hop ? `Logging in to${on}…` : 'Logging in…';
    case 'forwarding':
      return 'Starting the SOCKS proxy…';
  }
}

/** Uptime: `45 s`, `3 min 05 s`, `2 h 03 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  const total = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  const pad = (n: number) => String(n).padStart(2, '0');
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600) % 24;
  const d = Math.floor(total / 86400);
  if (total < 60) return `${s} s`;
  if (total < 3600) return `${m} min ${pad(s)} s`;
  if (total < 86400) return `${h} h ${pad(m)} min`;
  return `${d} d ${h} h`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Traffic: `512 B`, `1.5 KiB`, `12 MiB` (one decimal below 10). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0 B';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  let text = v < 10 ? v.toFixed(1) : String(Math.round(v));
  if (text === '1024' && u < UNITS.length - 1) [text, u] = ['1.0', u + 1]; // 1023.7 KiB reads 1.0 MiB
  return `${text} ${UNITS[u]}`;
}

/** While reconnecting: `Retrying in 4 s (attempt 3)`; '' in any other state. */
export function retryLabel(status: TunnelStatus | null, now: number): string {
  if (status?.state !== 'reconnecting') return '';
  const attempt = status.attempt ? ` (attempt ${status.attempt})` : '';
  if (status.nextRetryAt === undefined) return `Reconnecting${attempt}`;
  const wait = status.nextRetryAt - now;
  if (wait <= 0) return `Retrying now${attempt}`;
  return `Retrying in ${formatDuration(Math.ceil(wait / 1000) * 1000)}${attempt}`;
}
