// Messages between the extension's pages (popup, options, error page) and its background.
// Pages read a `View` (pushed on every change over a `view` port) and send `UiRequest`s.

import {
  checkTunnelConfig,
  MODES,
  type Mode,
  type ProtocolError,
  type Prompt,
  type TunnelConfig,
  type TunnelStatus,
} from '../../shared/protocol.js';
import type { Parsed } from '../../shared/parsed.js';
import type { HostProblem } from './host-problem.js';

export const VIEW_PORT_NAME = 'view';

export interface View {
  mode: Mode;
  /** The host's last status; null until the host has answered. */
  status: TunnelStatus | null;
  hostProblem: HostProblem | null;
  /** Another extension controls the browser's proxy settings. */
  proxyConflict: boolean;
  /** An enterprise policy holds the browser's proxy settings. */
  proxyPolicy: boolean;
  /** Firefox: the extension may not run in private windows, so they are not routed. */
  privateWindowsExcluded: boolean;
  /** Firefox: the user withdrew the access to websites, so no page is routed. */
  siteAccessMissing: boolean;
  prompt: Prompt | null;
  /** The host refused the last command (bad settings…); the status's lastError says more about the tunnel. */
  requestError: ProtocolError | null;
  /** The configured gateway (`user@host:port`) and jumps, shown before the host reports them. */
  gateway: string;
  jumps: string[];
}

export type UiRequest =
  | { type: 'get-view' }
  | { type: 'set-mode'; mode: Mode }
  | { type: 'retry' }
  | { type: 'answer'; promptId: string; value: string | boolean | null }
  | { type: 'test-connection'; config: TunnelConfig }
  /** While nothing was saved: a first profile from the host's ~/.ssh/config (null when it cannot). */
  | { type: 'propose-profile' };

export type UiReply = { ok: true; result: unknown } | { ok: false; error: ProtocolError };

/**
 * Checks a page's message. The error names what is wrong and never quotes a value: an `answer` may
 * carry a passphrase.
 */
export function parseUiRequest(v: unknown): Parsed<UiRequest> {
  const bad = (error: string): Parsed<UiRequest> => ({ ok: false, error });
  if (typeof v !== 'object' || v === null) return bad('a page message must be an object');
  const m = v as Record<string, unknown>;
  switch (m.type) {
    case 'get-view':
    case 'retry':
    case 'propose-profile':
      return { ok: true, value: { type: m.type } };
    case 'set-mode':
      if (!(MODES as readonly unknown[]).includes(m.mode))
        return bad(`set-mode: mode must be one of ${MODES.join(', ')}`);
      return { ok: true, value: { type: 'set-mode', mode: m.mode as Mode } };
    case 'answer':
      if (typeof m.promptId !== 'string') return bad('answer: promptId must be a string');
      if (!(m.value === null || typeof m.value === 'string' || typeof m.value === 'boolean'))
        return bad('answer: value must be a string, a boolean or null');
      return { ok: true, value: { type: 'answer', promptId: m.promptId, value: m.value } };
    case 'test-connection': {
      const problem = checkTunnelConfig(m.config);
      if (problem) return bad(`test-connection: ${problem}`);
      return { ok: true, value: { type: 'test-connection', config: m.config as TunnelConfig } };
    }
    default:
      return bad('unknown page request type');
  }
}

/**
 * True for the extension's own pages (popup, options, error page). Only they may drive the tunnel:
 * not a content script, not another extension, never a web page.
 */
export function isOwnPage(sender: { id?: string; url?: string }, own: { id: string; baseUrl: string }): boolean {
  return sender.id === own.id && typeof sender.url === 'string' && sender.url.startsWith(own.baseUrl);
}

/** `user@host:port` as the popup shows it before the host reports its own form. */
export function gatewayLabel(p: { user: string; gateway: string; port: number }): string {
  return `${p.user ? `${p.user}@` : ''}${p.gateway}${p.port && p.port !== 22 ? `:${p.port}` : ''}`;
}
