// What the mode and the settings decide, apart from the state machine's own moves: whether the
// tunnel still wants a connection, why a CONNECT is refused at once, how long the last connection
// may stay unused, and what a CONNECT that waited too long is told. Pure.

import type { Mode, ProtocolError, TunnelConfig, TunnelState } from '../../shared/protocol.js';

/** Auto mode keeps trying while CONNECTs wait or the tunnel was used within the idle timeout. */
export function wantsConnection(
  mode: Mode,
  config: Pick<TunnelConfig, 'idleTimeoutSec'>,
  waiting: number,
  lastActivity: number,
  now = Date.now(),
): boolean {
  if (mode === 'on') return true;
  if (mode !== 'auto') return false;
  if (waiting > 0 || config.idleTimeoutSec === 0) return true;
  return now - lastActivity < config.idleTimeoutSec * 1000;
}

/** Why CONNECTs fail at once now (the tunnel is off, or waits for the user), or null. */
export function refusal(mode: Mode, state: TunnelState, lastError: ProtocolError | undefined): string | null {
  if (mode === 'off') return 'the tunnel is off';
  if (state === 'error') return `the tunnel needs attention: ${lastError?.message ?? 'error'}`;
  return null;
}

/** How long the last connection may carry no channel before it closes: Auto mode's idle timeout, else 0 (never). */
export function lastIdleMs(mode: Mode, config: Pick<TunnelConfig, 'idleTimeoutSec'>): number {
  return mode === 'auto' && config.idleTimeoutSec > 0 ? config.idleTimeoutSec * 1000 : 0;
}

/** What a CONNECT that found no connection in time is told. */
export function waitTimeoutMessage(gateway: string, waitedMs: number, state: TunnelState): string {
  return `no SSH connection to ${gateway} after ${Math.round(waitedMs / 1000)} s (${state})`;
}
