// The status snapshot: each optional field only in the states where it means something, and a copy
// that later changes to the tunnel's own records do not reach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeError } from '../../../../shared/errors.js';
import type { TunnelState } from '../../../../shared/protocol.js';
import { snapshot, type StatusFacts } from '../../../../native-host/tunnel/status.js';

const facts = (extra: Partial<StatusFacts> = {}): StatusFacts => ({
  state: 'connected',
  mode: 'on',
  display: { gateway: 'jdoe@access.grid5000.fr', jumps: ['jump.example.org'] },
  socks: { host: '127.0.0.1', port: 1080 },
  since: 1000,
  connections: 2,
  channels: 5,
  bytes: { up: 10, down: 20 },
  timings: [{ stage: 'tcp', hop: 'jump.example.org', ms: 12 }],
  stage: undefined,
  connectedAt: 900,
  retries: 0,
  nextRetryAt: undefined,
  lastError: undefined,
  ...extra,
});

test('the fields every status has', () => {
  assert.deepEqual(snapshot(facts()), {
    state: 'connected',
    mode: 'on',
    gateway: 'jdoe@access.grid5000.fr',
    jumps: ['jump.example.org'],
    socks: { host: '127.0.0.1', port: 1080 },
    since: 1000,
    connections: 2,
    channels: 5,
    bytesUp: 10,
    bytesDown: 20,
    timings: [{ stage: 'tcp', hop: 'jump.example.org', ms: 12 }],
    connectedAt: 900,
  });
  assert.equal(snapshot(facts({ socks: null })).socks, null);
});

test('the stage only while connecting', () => {
  assert.equal(snapshot(facts({ state: 'connecting', stage: 'auth' })).stage, 'auth');
  for (const state of ['connected', 'reconnecting', 'idle', 'error', 'off'] as TunnelState[])
    assert.equal('stage' in snapshot(facts({ state, stage: 'auth' })), false, state);
});

test('connectedAt only while a connection is open', () => {
  assert.equal('connectedAt' in snapshot(facts({ connections: 0 })), false);
  assert.equal('connectedAt' in snapshot(facts({ connectedAt: undefined })), false);
});

test('the attempt number while (re)connecting after failures; the next try only while reconnecting', () => {
  assert.equal(snapshot(facts({ state: 'reconnecting', retries: 3 })).attempt, 3);
  assert.equal(snapshot(facts({ state: 'connecting', retries: 3 })).attempt, 3);
  assert.equal('attempt' in snapshot(facts({ state: 'connecting', retries: 0 })), false);
  assert.equal('attempt' in snapshot(facts({ state: 'idle', retries: 3 })), false);
  assert.equal(snapshot(facts({ state: 'reconnecting', nextRetryAt: 5000 })).nextRetryAt, 5000);
  assert.equal('nextRetryAt' in snapshot(facts({ state: 'connecting', nextRetryAt: 5000 })), false);
});

test('the last error whenever there is one', () => {
  const err = makeError('GATEWAY_UNREACHABLE', 'ECONNREFUSED');
  assert.deepEqual(snapshot(facts({ state: 'reconnecting', lastError: err })).lastError, err);
  assert.equal('lastError' in snapshot(facts()), false);
});

test('a copy: changing the records afterwards does not change a snapshot taken before', () => {
  const f = facts({ lastError: makeError('TIMEOUT', 'x') });
  const s = snapshot(f);
  f.display.jumps.push('another');
  f.timings[0]!.ms = 999;
  f.socks!.port = 1;
  f.lastError!.detail = 'changed';
  assert.deepEqual(s.jumps, ['jump.example.org']);
  assert.equal(s.timings[0]!.ms, 12);
  assert.equal(s.socks!.port, 1080);
  assert.equal(s.lastError!.detail, 'x');
});
