// The native-messaging protocol between the extension and the host: one definition, validated on
// both sides. Every request carries an id; the host answers each with exactly one `response`, and
// pushes `status` and `prompt` events unasked. See docs/PROTOCOL.md.

import { ERROR_CODES, type ErrorCode } from './errors.js';
import type { Parsed } from './parsed.js';
import { checkTunnelConfig, type TunnelConfig } from './tunnel-config.js';

export const PROTOCOL_VERSION = 1;
/** Native-messaging host name (lowercase [a-z0-9_.], equal to the manifest's file name). */
export const NATIVE_HOST_NAME = 'g5k_tunnel';
/** Chrome refuses host → browser messages over 1 MB; we stay well below on both directions. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export const MODES = ['off', 'auto', 'on'] as const;
export type Mode = (typeof MODES)[number];

export const STATES = ['off', 'idle', 'connecting', 'connected', 'reconnecting', 'error'] as const;
export type TunnelState = (typeof STATES)[number];

export const STAGES = ['tcp', 'hostkey', 'auth', 'forwarding'] as const;
export type Stage = (typeof STAGES)[number];

// The tunnel settings a `configure` carries, and their checks: one table, in shared/tunnel-config.
export { checkTunnelConfig, HOST_KEY_POLICIES, type HostKeyPolicy, type TunnelConfig } from './tunnel-config.js';

export interface ProtocolError {
  code: ErrorCode;
  /** What happened, in plain words. */
  message: string;
  /** What to do about it. */
  hint: string;
  /** Technical detail (the underlying error, a known_hosts line...). */
  detail?: string;
}

export interface StageTiming {
  stage: Stage;
  /** The machine this stage concerned (a jump host or the gateway). */
  hop: string;
  ms: number;
}

export type Prompt =
  | { id: string; kind: 'passphrase'; keyFile: string; attempt: number }
  | {
      id: string;
      kind: 'confirm-host-key';
      host: string;
      port: number;
      keyType: string;
      /** As OpenSSH prints it: SHA256:base64-without-padding. */
      fingerprint: string;
      knownHostsFile: string;
    };

export interface TunnelStatus {
  state: TunnelState;
  mode: Mode;
  stage?: Stage;
  /** Display form of the gateway, `user@host:port`. */
  gateway: string;
  jumps: string[];
  /** Where the SOCKS listener is, when there is one. */
  socks: { host: string; port: number } | null;
  /** Epoch ms of the last state change. */
  since: number;
  /** Epoch ms when the current SSH connection became ready. */
  connectedAt?: number;
  connections: number;
  channels: number;
  bytesUp: number;
  bytesDown: number;
  attempt?: number;
  /** Epoch ms of the next reconnection attempt. */
  nextRetryAt?: number;
  lastError?: ProtocolError;
  timings: StageTiming[];
  prompt?: Prompt;
}

/**
 * The credentials the host's proxy port wants for this session (SOCKS5 username/password, HTTP
 * proxy Basic). Made at random by the host when it starts; only `hello` carries them, never a status
 * (statuses are logged), never a file.
 */
export interface ProxyAuth {
  username: string;
  password: string;
}

export interface HelloResult {
  protocol: number;
  version: string;
  capabilities: string[];
  pid: number;
  /** The proxy credentials of this host process (capability `proxy-auth`). */
  proxy?: ProxyAuth;
}

export interface TestResult {
  timings: StageTiming[];
  serverBanner?: string;
}

/** A first profile proposed from ~/.ssh/config, the agent and known_hosts (nothing saved yet). */
export interface ProfileProposal {
  /** A Host of ~/.ssh/config reaches a Grid'5000 access machine. */
  found: boolean;
  /** That Host's alias (e.g. g5k): as the gateway setting, ~/.ssh/config supplies the rest. */
  via?: string;
  /** The access machine it reaches, e.g. access.grid5000.fr. */
  gateway?: string;
  port?: number;
  /** The Grid'5000 login (its User). */
  login?: string;
  /** Its first IdentityFile, ~ expanded. */
  identityFile?: string;
  /** Its ProxyJump hosts, outermost first. */
  jumps?: string[];
  /** Its ProxyCommand, which the tunnel runs as ssh does. */
  proxyCommand?: string;
  /** Other Hosts that reach an access machine too. */
  others?: string[];
  /** The ssh-agent (SSH_AUTH_SOCK, or the Host's IdentityAgent) holds at least one key. */
  agentHasKey: boolean;
  /** known_hosts already holds a key for the gateway (access.grid5000.fr when nothing was found). */
  gatewayKnown: boolean;
  source: '~/.ssh/config';
}

// ---------- browser → host ----------

export type Request =
  | { type: 'hello'; id: number; protocol: number; client: string }
  | { type: 'configure'; id: number; config: TunnelConfig }
  | { type: 'set-mode'; id: number; mode: Mode }
  | { type: 'status'; id: number }
  | { type: 'retry'; id: number }
  /** The browser saw the network come back: a reconnecting tunnel tries now (rate-limited). */
  | { type: 'network-changed'; id: number }
  | { type: 'answer'; id: number; promptId: string; value: string | boolean | null }
  | { type: 'test-connection'; id: number; config: TunnelConfig }
  | { type: 'propose-profile'; id: number };

export type RequestType = Request['type'];

/** What each request's successful response carries. */
export interface ResultOf {
  hello: HelloResult;
  configure: TunnelStatus;
  'set-mode': TunnelStatus;
  status: TunnelStatus;
  retry: TunnelStatus;
  'network-changed': TunnelStatus;
  answer: null;
  'test-connection': TestResult;
  'propose-profile': ProfileProposal;
}

// ---------- host → browser ----------

export type Response =
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number | null; ok: false; error: ProtocolError };

export type HostEvent = { type: 'status'; status: TunnelStatus } | { type: 'prompt'; prompt: Prompt };

export type HostMessage = Response | HostEvent;

// ---------- validation ----------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isStr = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length <= max;
const isStrList = (v: unknown, maxItems = 256): v is string[] =>
  Array.isArray(v) && v.length <= maxItems && v.every((s) => isStr(s, 1024));
const oneOf = <T extends string>(list: readonly T[], v: unknown): v is T =>
  typeof v === 'string' && (list as readonly string[]).includes(v);

/** Validates one message from the extension. Unknown fields are ignored. */
export function parseRequest(v: unknown): Parsed<Request> {
  if (!isObj(v)) return { ok: false, error: 'a message must be a JSON object' };
  if (!isInt(v.id, 0, Number.MAX_SAFE_INTEGER)) return { ok: false, error: 'id must be a non-negative integer' };
  const id = v.id;
  switch (v.type) {
    case 'hello':
      if (!isInt(v.protocol, 0, 1e6)) return { ok: false, error: 'hello.protocol must be an integer' };
      if (!isStr(v.client, 256)) return { ok: false, error: 'hello.client must be a string' };
      return { ok: true, value: { type: 'hello', id, protocol: v.protocol, client: v.client } };
    case 'configure':
    case 'test-connection': {
      const problem = checkTunnelConfig(v.config);
      if (problem) return { ok: false, error: problem };
      return { ok: true, value: { type: v.type, id, config: v.config as TunnelConfig } };
    }
    case 'set-mode':
      if (!oneOf(MODES, v.mode)) return { ok: false, error: `mode must be one of ${MODES.join(', ')}` };
      return { ok: true, value: { type: 'set-mode', id, mode: v.mode } };
    case 'status':
    case 'retry':
    case 'propose-profile':
    case 'network-changed':
      return { ok: true, value: { type: v.type, id } };
    case 'answer':
      if (!isStr(v.promptId, 64)) return { ok: false, error: 'answer.promptId must be a string' };
      if (!(v.value === null || typeof v.value === 'boolean' || isStr(v.value, 4096)))
        return { ok: false, error: 'answer.value must be a string, a boolean or null' };
      return { ok: true, value: { type: 'answer', id, promptId: v.promptId, value: v.value } };
    default: {
      // a list or an object is named by its kind: String() of one may throw ({"toString": 1}) or
      // overflow the stack (deeply nested)
      const t = isObj(v.type) ? 'an object' : Array.isArray(v.type) ? 'a list' : String(v.type);
      return { ok: false, error: `unknown request type ${JSON.stringify(t).slice(0, 80)}` };
    }
  }
}

function checkError(v: unknown): v is ProtocolError {
  return (
    isObj(v) &&
    oneOf(ERROR_CODES, v.code) &&
    isStr(v.message) &&
    isStr(v.hint) &&
    (v.detail === undefined || isStr(v.detail, 65536))
  );
}

function checkPrompt(v: unknown): v is Prompt {
  if (!isObj(v) || !isStr(v.id, 64)) return false;
  if (v.kind === 'passphrase') return isStr(v.keyFile) && isInt(v.attempt, 1, 100);
  if (v.kind === 'confirm-host-key')
    return (
      isStr(v.host) && isInt(v.port, 1, 65535) && isStr(v.keyType) && isStr(v.fingerprint) && isStr(v.knownHostsFile)
    );
  return false;
}

function checkStatus(v: unknown): v is TunnelStatus {
  if (!isObj(v)) return false;
  const n = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  return (
    oneOf(STATES, v.state) &&
    oneOf(MODES, v.mode) &&
    (v.stage === undefined || oneOf(STAGES, v.stage)) &&
    isStr(v.gateway) &&
    isStrList(v.jumps) &&
    (v.socks === null || (isObj(v.socks) && isStr(v.socks.host) && isInt(v.socks.port, 1, 65535))) &&
    n(v.since) &&
    (v.connectedAt === undefined || n(v.connectedAt)) &&
    n(v.connections) &&
    n(v.channels) &&
    n(v.bytesUp) &&
    n(v.bytesDown) &&
    (v.attempt === undefined || n(v.attempt)) &&
    (v.nextRetryAt === undefined || n(v.nextRetryAt)) &&
    (v.lastError === undefined || checkError(v.lastError)) &&
    Array.isArray(v.timings) &&
    (v.prompt === undefined || checkPrompt(v.prompt))
  );
}

/** Validates one message from the host (the extension trusts nothing it did not check). */
export function parseHostMessage(v: unknown): Parsed<HostMessage> {
  if (!isObj(v)) return { ok: false, error: 'a host message must be a JSON object' };
  switch (v.type) {
    case 'response':
      if (v.ok === true && isInt(v.id, 0, Number.MAX_SAFE_INTEGER))
        return { ok: true, value: { type: 'response', id: v.id, ok: true, result: v.result } };
      if (v.ok === false && (v.id === null || isInt(v.id, 0, Number.MAX_SAFE_INTEGER)) && checkError(v.error))
        return { ok: true, value: { type: 'response', id: v.id, ok: false, error: v.error } };
      return { ok: false, error: 'malformed response' };
    case 'status':
      return checkStatus(v.status)
        ? { ok: true, value: { type: 'status', status: v.status } }
        : { ok: false, error: 'malformed status' };
    case 'prompt':
      return checkPrompt(v.prompt)
        ? { ok: true, value: { type: 'prompt', prompt: v.prompt } }
        : { ok: false, error: 'malformed prompt' };
    default:
      return { ok: false, error: 'unknown host message type' };
  }
}

// RFC 1929 caps each at 255 bytes; a Basic header must be able to split them at the first ':'.
const isCredential = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= 255 && /^[\x21-\x7e]+$/.test(v);

/** The proxy credentials of a `hello` result, or null when they are missing or malformed. */
export function parseProxyAuth(v: unknown): ProxyAuth | null {
  if (!isObj(v) || !isCredential(v.username) || !isCredential(v.password) || v.username.includes(':')) return null;
  return { username: v.username, password: v.password };
}

/** True when `v` is a well-formed ProfileProposal (a `propose-profile` result). */
export function isProfileProposal(v: unknown): v is ProfileProposal {
  if (!isObj(v)) return false;
  const opt = (x: unknown) => x === undefined || isStr(x);
  return (
    typeof v.found === 'boolean' &&
    opt(v.via) &&
    opt(v.gateway) &&
    (v.port === undefined || isInt(v.port, 1, 65535)) &&
    opt(v.login) &&
    opt(v.identityFile) &&
    (v.jumps === undefined || isStrList(v.jumps, 16)) &&
    opt(v.proxyCommand) &&
    (v.others === undefined || isStrList(v.others)) &&
    typeof v.agentHasKey === 'boolean' &&
    typeof v.gatewayKnown === 'boolean' &&
    v.source === '~/.ssh/config'
  );
}
