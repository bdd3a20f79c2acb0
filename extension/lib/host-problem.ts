// Why the native host cannot be used, from what the browser says when the port closes.
// Chromium reports through runtime.lastError, Firefox through port.error; both only give a message.
// Pure: unit-tested with the browsers' exact words.

import { describe, type ErrorCode } from '../../shared/errors.js';
import { PROTOCOL_VERSION, type HelloResult } from '../../shared/protocol.js';

export type HostProblemCode =
  | 'HOST_MISSING'
  | 'HOST_FORBIDDEN'
  | 'HOST_CRASHED'
  | 'HOST_OUTDATED'
  | 'PROTOCOL_MISMATCH';

export interface HostProblem {
  code: HostProblemCode;
  message: string;
  hint: string;
  /** What the browser or the host said, verbatim. */
  detail?: string;
  /** Commands that install or update the host. */
  install: string[];
}

/** Commands that install the host, run in the g5k-tunnel folder: the first is the one shown first. */
export const INSTALL_COMMANDS = ['npm run install-host', 'g5k-tunnel install'];

// What the browsers say: Chromium "Specified native messaging host not found." / "Access to the specified native
// messaging host is forbidden." / "Native host has exited."; Firefox "No such native application
// g5k_tunnel" (also when the manifest does not list the extension) and no message at all on exit.
const MISSING = /not found|no such native application|native messaging host .*not .*installed/i;
const FORBIDDEN = /forbidden|not allowed|does not have permission/i;

/** Classifies the message of a port disconnect. Anything not recognised counts as a crash. */
export function classifyDisconnect(message: string | null | undefined): HostProblemCode {
  const m = String(message ?? '');
  if (MISSING.test(m)) return 'HOST_MISSING';
  if (FORBIDDEN.test(m)) return 'HOST_FORBIDDEN';
  return 'HOST_CRASHED';
}

/**
 * Checks the host's answer to `hello`. An older host either reports an older protocol or does not
 * know `hello` at all (it answers with an error); a newer host means the extension is the old one.
 */
export function checkHello(
  reply: { ok: true; result: unknown } | { ok: false; code: ErrorCode; message: string; detail?: string },
  ours = PROTOCOL_VERSION,
): { problem: HostProblemCode; detail: string } | { hello: HelloResult } {
  if (!reply.ok) {
    const said = `the host refused hello: ${reply.detail ?? reply.message}`;
    if (reply.code === 'PROTOCOL_MISMATCH') {
      // the host names its own protocol ("… speaks protocol 2 …"): a newer host means an older extension
      const theirs = Number(/speaks protocol (\d+)/.exec(reply.detail ?? '')?.[1] ?? NaN);
      return { problem: theirs > ours ? 'PROTOCOL_MISMATCH' : 'HOST_OUTDATED', detail: said };
    }
    return { problem: reply.code === 'BAD_MESSAGE' ? 'HOST_OUTDATED' : 'HOST_CRASHED', detail: said };
  }
  const r = reply.result as Partial<HelloResult> | null;
  if (!r || typeof r !== 'object' || typeof r.protocol !== 'number')
    return { problem: 'HOST_OUTDATED', detail: 'the host did not say which protocol it speaks' };
  if (r.protocol < ours)
    return {
      problem: 'HOST_OUTDATED',
      detail: `host protocol ${r.protocol}, extension protocol ${ours} (host ${r.version ?? '?'})`,
    };
  if (r.protocol > ours)
    return {
      problem: 'PROTOCOL_MISMATCH',
      detail: `host protocol ${r.protocol}, extension protocol ${ours}: update the extension`,
    };
  return {
    hello: {
      protocol: r.protocol,
      version: String(r.version ?? ''),
      capabilities: Array.isArray(r.capabilities) ? r.capabilities.map(String) : [],
      pid: Number(r.pid ?? 0),
    },
  };
}

/** The words the popup shows for a host problem. */
export function describeHostProblem(code: HostProblemCode, detail?: string): HostProblem {
  const { message, hint } = describe(code);
  return { code, message, hint, ...(detail ? { detail } : {}), install: INSTALL_COMMANDS };
}
