// Properties of message validation on both sides: any JSON value gets a verdict (never an
// exception), a refusal says why in a bounded string, and every well-formed message is accepted as is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES } from '../../../shared/errors.js';
import {
  HOST_KEY_POLICIES,
  MODES,
  STAGES,
  STATES,
  checkTunnelConfig,
  parseHostMessage,
  parseRequest,
} from '../../../shared/protocol.js';
import type { Parsed } from '../../../shared/parsed.js';
import { check, fc } from '../../support/fuzz.js';

const text = (maxLength: number, minLength = 0) =>
  fc.oneof(fc.string({ minLength, maxLength }), fc.string({ unit: 'binary', minLength, maxLength }));
const id = fc.oneof(fc.nat(1000), fc.constant(Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
const int = (min: number, max: number) => fc.integer({ min, max });
const count = fc.oneof(fc.nat(100), fc.double({ min: 0, max: 1e15, noNaN: true }));

// names as the destination grammar (shared/destination) accepts them
const hostName = fc.oneof(fc.domain(), fc.stringMatching(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,39}$/));
const login = fc.stringMatching(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,19}$/);
const jump = fc
  .tuple(fc.option(login), hostName, fc.option(int(1, 65535)))
  .map(([u, h, p]) => `${u ? `${u}@` : ''}${h}${p ? `:${p}` : ''}`);

// single-line paths, as the host accepts them
const path = text(60).filter((p) => !/[\0\n\r]/.test(p));

const tunnelConfig = fc.record({
  gateway: hostName,
  port: int(0, 65535),
  user: fc.oneof(fc.constant(''), login),
  jumps: fc.array(jump, { maxLength: 16 }),
  identityFile: path,
  useAgent: fc.boolean(),
  socksPort: int(1, 65535),
  idleTimeoutSec: int(0, 604800),
  keepaliveIntervalSec: int(0, 3600),
  keepaliveCountMax: int(1, 100),
  connectTimeoutSec: int(1, 600),
  strictHostKeyChecking: fc.constantFrom(...HOST_KEY_POLICIES),
  knownHostsFile: path,
  restrictTo: fc.array(text(30), { maxLength: 20 }),
  maxConnections: int(1, 16),
});

const request = fc.oneof(
  fc.record({ type: fc.constant('hello'), id, protocol: int(0, 1e6), client: text(40) }),
  fc.record({ type: fc.constantFrom('configure', 'test-connection'), id, config: tunnelConfig }),
  fc.record({ type: fc.constant('set-mode'), id, mode: fc.constantFrom(...MODES) }),
  fc.record({ type: fc.constantFrom('status', 'retry'), id }),
  fc.record({
    type: fc.constant('answer'),
    id,
    promptId: text(64),
    value: fc.oneof(text(200), fc.boolean(), fc.constant(null)),
  }),
);

const protocolError = fc.record(
  { code: fc.constantFrom(...ERROR_CODES), message: text(80), hint: text(80), detail: text(200) },
  { requiredKeys: ['code', 'message', 'hint'] },
);
const prompt = fc.oneof(
  fc.record({ id: text(64), kind: fc.constant('passphrase'), keyFile: text(60), attempt: int(1, 100) }),
  fc.record({
    id: text(64),
    kind: fc.constant('confirm-host-key'),
    host: text(60),
    port: int(1, 65535),
    keyType: text(20),
    fingerprint: text(60),
    knownHostsFile: text(60),
  }),
);
const status = fc.record(
  {
    state: fc.constantFrom(...STATES),
    mode: fc.constantFrom(...MODES),
    stage: fc.constantFrom(...STAGES),
    gateway: text(60),
    jumps: fc.array(text(40), { maxLength: 5 }),
    socks: fc.option(fc.record({ host: text(40), port: int(1, 65535) })),
    since: count,
    connectedAt: count,
    connections: count,
    channels: count,
    bytesUp: count,
    bytesDown: count,
    attempt: count,
    nextRetryAt: count,
    lastError: protocolError,
    timings: fc.array(fc.record({ stage: fc.constantFrom(...STAGES), hop: text(30), ms: fc.nat() }), {
      maxLength: 4,
    }),
    prompt,
  },
  {
    requiredKeys: [
      'state',
      'mode',
      'gateway',
      'jumps',
      'socks',
      'since',
      'connections',
      'channels',
      'bytesUp',
      'bytesDown',
      'timings',
    ],
  },
);
const hostMessage = fc.oneof(
  fc.record({ type: fc.constant('response'), id, ok: fc.constant(true), result: fc.jsonValue() }),
  fc.record({
    type: fc.constant('response'),
    id: fc.option(id),
    ok: fc.constant(false),
    error: protocolError,
  }),
  fc.record({ type: fc.constant('status'), status }),
  fc.record({ type: fc.constant('prompt'), prompt }),
);

/** What the other side receives: the message after a trip through JSON. */
const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** A verdict: accepted, or refused with a short reason. */
function verdict<T>(r: Parsed<T>): void {
  assert.ok(r.ok === true || r.ok === false, JSON.stringify(r));
  if (!r.ok) assert.ok(typeof r.error === 'string' && r.error.length > 0 && r.error.length <= 200, r.error);
}

/** A valid message with one field replaced by any JSON value, removed, or one unknown field added. */
function mutated<T extends object>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc
    .tuple(valid, fc.nat(), fc.jsonValue(), fc.constantFrom('replace', 'delete', 'add'))
    .map(([v, at, x, op]) => {
      const m = wire(v) as Record<string, unknown>;
      // reach into one nested object half of the time (config, status, prompt, error)
      const nested = Object.values(m).find((f) => typeof f === 'object' && f !== null && !Array.isArray(f));
      const target = (at % 2 === 0 && nested ? nested : m) as Record<string, unknown>;
      const keys = Object.keys(target);
      const key = op === 'add' || keys.length === 0 ? `extra${at % 7}` : keys[at % keys.length]!;
      if (op === 'delete') delete target[key];
      else target[key] = x;
      return m;
    });
}

test('any JSON value gets a verdict from both validators, never an exception', () => {
  check(
    fc.property(fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: 'binary' })), (v) => {
      verdict(parseRequest(v));
      verdict(parseHostMessage(v));
      const c = checkTunnelConfig(v);
      assert.ok(c === null || (typeof c === 'string' && c.length <= 200));
      verdict(parseHostMessage({ type: 'status', status: v }));
    }),
  );
});

test('a valid message with one field changed gets a verdict; one it accepts is accepted again as is', () => {
  check(
    fc.property(mutated(request), mutated(hostMessage), (req, msg) => {
      const r = parseRequest(req);
      verdict(r);
      // (compared as sent, through JSON: -0 becomes 0, a missing result stays missing)
      if (r.ok) assert.deepEqual(wire(parseRequest(wire(r.value))), wire(r));
      const h = parseHostMessage(msg);
      verdict(h);
      if (h.ok) assert.deepEqual(wire(parseHostMessage(wire(h.value))), wire(h));
    }),
  );
});

test('every well-formed request is accepted with the same content, unknown fields ignored', () => {
  check(
    fc.property(
      request,
      fc.dictionary(
        fc.string().map((k) => `x-${k}`),
        fc.jsonValue(),
        { maxKeys: 3 },
      ),
      (req, extra) => {
        assert.deepEqual(parseRequest(wire(req)), { ok: true, value: wire(req) });
        assert.deepEqual(parseRequest(wire({ ...extra, ...req })), { ok: true, value: wire(req) });
        if ('config' in req) assert.equal(checkTunnelConfig(wire(req.config)), null);
      },
    ),
  );
});

test('every well-formed host message is accepted with the same content', () => {
  check(
    fc.property(hostMessage, (msg) => {
      assert.deepEqual(parseHostMessage(wire(msg)), { ok: true, value: wire(msg) });
      if (msg.type === 'status') assert.equal(parseHostMessage({ type: 'status', status: wire(msg.status) }).ok, true);
    }),
  );
});

// ---------- examples the properties found ----------

test('a request type that is a list or an object is refused by its kind, not converted to text', () => {
  // String() of {"toString": []} throws, and of a deeply nested list overflows the stack: both
  // once escaped the validator and took the host's message loop down
  const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
  for (const [type, kind] of [
    [{ toString: [] }, 'an object'],
    [{ valueOf: 1, toString: 2 }, 'an object'],
    [deep, 'a list'],
    [[1, 2], 'a list'],
  ] as const) {
    const r = parseRequest({ id: 1, type });
    assert.deepEqual(r, { ok: false, error: `unknown request type "${kind}"` });
  }
  assert.deepEqual(parseRequest({ id: 1, type: 'x'.repeat(1000) }), {
    ok: false,
    error: `unknown request type ${JSON.stringify('x'.repeat(1000)).slice(0, 80)}`,
  });
  assert.deepEqual(parseRequest({ id: 1, type: 7 }), { ok: false, error: 'unknown request type "7"' });
});
