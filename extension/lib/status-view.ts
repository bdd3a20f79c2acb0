// What the toolbar badge, the popup and the error page show for the tunnel's status and for problems
// with the native host itself. Pure but for the words (i18n/t.ts: English outside a browser), so every
// word is unit-tested.

import { describe, ERROR_CODES, type ErrorCode } from '../../shared/errors.js';
import type { ErrorPart } from '../i18n/en.js';
import { t } from '../i18n/t.js';
import type { Prompt, ProtocolError, Stage, TunnelState, TunnelStatus } from '../../shared/protocol.js';
import type { View } from './messages.js';

interface Badge {
  text: string;
  /** Badge background, as #rrggbb. */
  color: string;
  /** Tooltip of the toolbar button. */
  title: string;
}

interface ErrorView {
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

// the popup's pill is short; the longer words of stateLabel go in its tooltip
function pillText(state: TunnelState): string {
  return state === 'idle' ? t('pill_idle') : t(`state_${state}`);
}

const DANGER: readonly ErrorCode[] = ['HOSTKEY_CHANGED', 'HOSTKEY_REVOKED'];
const TRANSIENT: readonly ErrorCode[] = ['GATEWAY_UNREACHABLE', 'TIMEOUT', 'CONNECTION_LOST'];

/** Title, words and what to do for an error, from the host or from the host connection. */
export function describeError(err: ProtocolError): ErrorView {
  const known = (ERROR_CODES as readonly string[]).includes(err.code);
  const table = known ? describe(err.code) : { message: '', hint: '' };
  // the table's own words are shown in the UI language; words of the moment (a host's message) as said
  const words = (part: Exclude<ErrorPart, 'title'>, said: string) =>
    known && (said === '' || said === table[part]) ? t(`err_${err.code}_${part}`) : said;
  return {
    title: known ? t(`err_${err.code}_title`) : t('error_title'),
    message: words('message', err.message),
    hint: words('hint', err.hint),
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
    return { ...LOOK.host, title: titled(t('badge_problem', words.title, words.hint)) };
  }
  if (prompt) {
    const what = prompt.kind === 'passphrase' ? t('badge_prompt_passphrase') : t('badge_prompt_hostkey');
    return { ...LOOK.prompt, title: titled(what) };
  }
  if (!status) return { ...LOOK.unknown, title: titled(t('badge_starting')) };
  const gw = status.gateway;
  switch (status.state) {
    case 'off':
      return { ...LOOK.off, title: titled(t('badge_off')) };
    case 'idle':
      return { ...LOOK.idle, title: titled(gw ? t('badge_idle_at', gw) : t('badge_idle')) };
    case 'connecting':
      return {
        ...LOOK.connecting,
        title: titled(status.stage ? stageLabel(status.stage) : t('state_connecting')),
      };
    case 'connected': {
      const ch = status.channels === 1 ? t('channels_one') : t('channels_many', status.channels);
      return { ...LOOK.connected, title: titled(gw ? t('badge_connected_at', gw, ch) : t('badge_connected', ch)) };
    }
    case 'reconnecting':
      return {
        ...LOOK.reconnecting,
        title: titled(gw ? t('badge_reconnecting_at', gw) : t('badge_reconnecting')),
      };
    case 'error': {
      const v = status.lastError ? describeError(status.lastError) : null;
      return { ...LOOK.error, title: titled(v ? t('badge_problem', v.title, v.hint) : t('badge_error')) };
    }
  }
}

/** The toolbar tooltip names the extension first. */
function titled(text: string): string {
  return t('badge_title', text);
}

/** The state pill of the popup and the error page: `data-state`, its word and its tooltip. */
export function pill(v: StatusParts): { state: string; text: string; title: string } {
  if (v.hostProblem)
    return { state: 'host-problem', text: t('pill_unavailable'), title: describeError(v.hostProblem).message };
  if (!v.status) return { state: 'starting', text: t('pill_starting'), title: stateLabel(null) };
  return { state: v.status.state, text: pillText(v.status.state), title: stateLabel(v.status) };
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

interface Reason {
  /** An error code, or `OFF` `SITE_ACCESS` `PROXY_POLICY` `PROXY_CONFLICT` `TARGET` `NO_TUNNEL`. */
  code: string;
  title: string;
  message: string;
  hint: string;
}

/** Why a Grid'5000 page failed to load, for the error page, from the live View. */
export function failureReason(v: View): Reason {
  if (v.hostProblem) {
    const { title, message, hint } = describeError(v.hostProblem);
    return { ...v.hostProblem, title, message, hint };
  }
  if (v.mode === 'off') return reason('OFF');
  if (v.siteAccessMissing) return reason('SITE_ACCESS');
  // a policy-held proxy never lets a page reach the tunnel, whatever the tunnel's state
  if (v.proxyPolicy) return reason('PROXY_POLICY');
  const err = currentError(v);
  if (err) return { code: err.code, ...describeError(err) };
  if (v.proxyConflict) return reason('PROXY_CONFLICT');
  if (v.status?.state === 'connected') return reason('TARGET');
  return reason('NO_TUNNEL');
}

function reason(code: 'OFF' | 'SITE_ACCESS' | 'PROXY_POLICY' | 'PROXY_CONFLICT' | 'TARGET' | 'NO_TUNNEL'): Reason {
  return {
    code,
    title: t(`reason_${code}_title`),
    message: t(`reason_${code}_message`),
    hint: t(`reason_${code}_hint`),
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
  if (s === null) return t('state_waiting_host');
  if (typeof s === 'string') return t(`state_${s}`);
  if (s.state === 'connecting' && s.stage) return stageLabel(s.stage);
  return t(`state_${s.state}`);
}

/** What the connection is doing right now; `hop` names the machine when there are jump hosts. */
export function stageLabel(stage: Stage, hop?: string): string {
  if (stage === 'forwarding') return t('stage_forwarding');
  return hop ? t(`stage_${stage}_hop`, hop) : t(`stage_${stage}`);
}

/** Uptime: `45 s`, `3 min 05 s`, `2 h 03 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  const total = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  const pad = (n: number) => String(n).padStart(2, '0');
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600) % 24;
  const d = Math.floor(total / 86400);
  if (total < 60) return t('duration_s', s);
  if (total < 3600) return t('duration_min_s', m, pad(s));
  if (total < 86400) return t('duration_h_min', h, pad(m));
  return t('duration_d_h', d, h);
}

/** Traffic: `512 B`, `1.5 KiB`, `12 MiB` (one decimal below 10). */
export function formatBytes(n: number): string {
  const units = t('byte_units').split(' ');
  if (!Number.isFinite(n) || n <= 0) return `0 ${units[0]}`;
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  let text = v < 10 ? v.toFixed(1) : String(Math.round(v));
  if (text === '1024' && u < units.length - 1) [text, u] = ['1.0', u + 1]; // 1023.7 KiB reads 1.0 MiB
  return `${text} ${units[u]}`;
}

/** While reconnecting: `Retrying in 4 s (attempt 3)`; '' in any other state. */
export function retryLabel(status: TunnelStatus | null, now: number): string {
  if (status?.state !== 'reconnecting') return '';
  const attempt = status.attempt ? ` ${t('retry_attempt', status.attempt)}` : '';
  if (status.nextRetryAt === undefined) return t('retry_reconnecting') + attempt;
  const wait = status.nextRetryAt - now;
  if (wait <= 0) return t('retry_now') + attempt;
  return t('retry_in', formatDuration(Math.ceil(wait / 1000) * 1000)) + attempt;
}
