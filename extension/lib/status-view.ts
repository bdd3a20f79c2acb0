// What the toolbar badge, the popup and the error page show for the tunnel's status and for problems
// with the native host itself. Pure (no browser API), so every word is unit-tested.

import { describe, type ErrorCode } from '../../shared/errors.js';
import type { ProtocolError, Stage, TunnelState, TunnelStatus } from '../../shared/protocol.js';

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

/** Problems with the native host (not with the tunnel): shown instead of any tunnel state. */
export const HOST_PROBLEMS: readonly ErrorCode[] = [
  'HOST_MISSING',
  'HOST_FORBIDDEN',
  'HOST_CRASHED',
  'HOST_OUTDATED',
  'PROTOCOL_MISMATCH',
];

// One text and one colour per situation, none shared, so a glance at the toolbar tells them apart.
const LOOK = {
  unknown: { text: '', color: '#9ca3af' },
  off: { text: 'off', color: '#6b7280' },
  idle: { text: 'auto', color: '#2563eb' },
  connecting: { text: '…', color: '#d97706' },
  connected: { text: 'on', color: '#16a34a' },
  reconnecting: { text: '↻', color: '#ea580c' },
  error: { text: '!', color: '#dc2626' },
  prompt: { text: '?', color: '#0891b2' },
  host: { text: 'host', color: '#7c3aed' },
} as const;

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
  CONNECTION_LOST: 'Connection lost',
  SOCKS_PORT_IN_USE: 'SOCKS port in use',
  PROMPT_UNKNOWN: 'Question expired',
  HOST_MISSING: 'Native host not installed',
  HOST_FORBIDDEN: 'Native host refuses this extension',
  HOST_CRASHED: 'Native host stopped',
  HOST_OUTDATED: 'Native host outdated',
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

function asError(e: ErrorCode | ProtocolError): ProtocolError {
  if (typeof e !== 'string') return e;
  const { message, hint } = describe(e);
  return { code: e, message, hint };
}

/** The toolbar badge. A host problem wins over any tunnel state; a pending question over the state. */
export function badge(status: TunnelStatus | null, hostError?: ErrorCode | ProtocolError | null): Badge {
  if (hostError) {
    const v = describeError(asError(hostError));
    return { ...LOOK.host, title: `g5k-tunnel: ${v.title}. ${v.hint}` };
  }
  if (!status) return { ...LOOK.unknown, title: 'g5k-tunnel: starting…' };
  if (status.prompt) {
    const what = status.prompt.kind === 'passphrase' ? 'your key passphrase' : 'confirmation of the gateway host key';
    return { ...LOOK.prompt, title: `g5k-tunnel: waiting for ${what}; click to answer` };
  }
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
  if (!status || status.state !== 'reconnecting') return '';
  const attempt = status.attempt ? ` (attempt ${status.attempt})` : '';
  if (status.nextRetryAt === undefined) return `Reconnecting${attempt}`;
  const wait = status.nextRetryAt - now;
  if (wait <= 0) return `Retrying now${attempt}`;
  return `Retrying in ${formatDuration(Math.ceil(wait / 1000) * 1000)}${attempt}`;
}

/** One line for the popup: `Connected for 3 min 05 s · 2 connections · ↑ 1.2 MiB ↓ 30 MiB`. */
export function summaryLine(status: TunnelStatus, now: number): string {
  if (status.state === 'reconnecting') return retryLabel(status, now);
  if (status.state !== 'connected') return stateLabel(status);
  const parts = [`Connected for ${formatDuration(now - (status.connectedAt ?? status.since))}`];
  parts.push(status.channels === 1 ? '1 channel' : `${status.channels} channels`);
  parts.push(`↑ ${formatBytes(status.bytesUp)} ↓ ${formatBytes(status.bytesDown)}`);
  return parts.join(' · ');
}
