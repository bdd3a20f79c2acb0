// The status snapshot the tunnel reports (the 'status' event, and every control answer), from what
// it knows at that moment. Pure: each optional field shows only in the states where it means something.

import type { Mode, ProtocolError, Stage, StageTiming, TunnelState, TunnelStatus } from '../../shared/protocol.js';
import type { Display } from './config.js';

export interface StatusFacts {
  state: TunnelState;
  mode: Mode;
  display: Display;
  socks: TunnelStatus['socks'];
  since: number;
  connections: number;
  channels: number;
  bytes: { up: number; down: number };
  timings: StageTiming[];
  stage: Stage | undefined;
  connectedAt: number | undefined;
  /** Failed attempts since the last connection. */
  retries: number;
  nextRetryAt: number | undefined;
  lastError: ProtocolError | undefined;
}

/** A copy: nothing in it is shared with the tunnel, so a holder can keep it as it was. */
export function snapshot(f: StatusFacts): TunnelStatus {
  const s: TunnelStatus = {
    state: f.state,
    mode: f.mode,
    gateway: f.display.gateway,
    jumps: [...f.display.jumps],
    socks: f.socks ? { ...f.socks } : null,
    since: f.since,
    connections: f.connections,
    channels: f.channels,
    bytesUp: f.bytes.up,
    bytesDown: f.bytes.down,
    timings: f.timings.map((t) => ({ ...t })),
  };
  if (f.state === 'connecting' && f.stage) s.stage = f.stage;
  if (f.connectedAt !== undefined && f.connections) s.connectedAt = f.connectedAt;
  if (f.retries > 0 && (f.state === 'reconnecting' || f.state === 'connecting')) s.attempt = f.retries;
  if (f.state === 'reconnecting' && f.nextRetryAt !== undefined) s.nextRetryAt = f.nextRetryAt;
  if (f.lastError) s.lastError = { ...f.lastError };
  return s;
}
