// Messages between the extension's pages (popup, options, error page) and its background.
// Pages read a `View` (pushed on every change over a `view` port) and send `UiRequest`s.

import { MODES, type Mode, type ProtocolError, type Prompt, type TunnelConfig, type TunnelStatus } from '../../shared/protocol.js';
import type { HostProblem } from './host-problem.js';

export const VIEW_PORT_NAME = 'view';

export interface View {
  mode: Mode;
  /** The host's last status; null until the host has answered. */
  status: TunnelStatus | null;
  hostProblem: HostProblem | null;
  /** Another extension controls the browser's proxy settings. */
  proxyConflict: boolean;
  /** Firefox: the extension may not run in private windows, so they are not routed. */
  privateWindowsExcluded: boolean;
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
  | { type: 'reconnect-host' };

export type UiReply = { ok: true; result: unknown } | { ok: false; error: ProtocolError };

/** Checks a page's message (only the extension's own pages can send one, but shapes still vary). */
export function parseUiRequest(v: unknown): UiRequest | null {
  if (typeof v !== 'object' || v === null) return null;
  const m = v as Record<string, unknown>;
  switch (m.type) {
    case 'get-view':
    case 'retry':
    case 'reconnect-host':
      return { type: m.type };
    case 'set-mode':
      return (MODES as readonly unknown[]).includes(m.mode) ? { type: 'set-mode', mode: m.mode as Mode } : null;
    case 'answer':
      if (typeof m.promptId !== 'string') return null;
      if (!(m.value === null || typeof m.value === 'string' || typeof m.value === 'boolean')) return null;
      return { type: 'answer', promptId: m.promptId, value: m.value };
    case 'test-connection':
      return typeof m.config === 'object' && m.config !== null ? { type: 'test-connection', config: m.config as TunnelConfig } : null;
    default:
      return null;
  }
}

/** `user@host:port` as the popup shows it before the host reports its own form. */
export function gatewayLabel(p: { user: string; gateway: string; port: number }): string {
  return `${p.user ? `${p.user}@` : ''}${p.gateway}${p.port && p.port !== 22 ? `:${p.port}` : ''}`;
}
