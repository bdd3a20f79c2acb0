// Fail closed: the browser routes matching hosts to the host's own listener with the session's
// credentials, and to the blackhole whenever the host reports no listener of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLACKHOLE, firefoxProxyInfo, proxyEndpoint, type Routing } from '../../../../extension/background/endpoint.js';
import { buildPac } from '../../../../shared/pac.js';
import { makeError } from '../../../../shared/errors.js';
import { parseRules } from '../../../../shared/patterns.js';
import type { TunnelStatus } from '../../../../shared/protocol.js';

const AUTH = { username: 'g5k-abc', password: 'secret-xyz' };
const rules = parseRules(['*.grid5000.fr']).rules;

function status(over: Partial<TunnelStatus>): TunnelStatus {
  return {
    state: 'idle',
    mode: 'auto',
    gateway: 'access.grid5000.fr',
    jumps: [],
    socks: { host: '127.0.0.1', port: 41234 },
    since: 0,
    connections: 0,
    channels: 0,
    bytesUp: 0,
    bytesDown: 0,
    timings: [],
    ...over,
  };
}

test('the endpoint is the listener the host reports, with the same session credentials', () => {
  assert.deepEqual(proxyEndpoint(status({}), AUTH), { port: 41234, ...AUTH });
});

test('no endpoint without a listener of ours: port held by another program, off, no host, no credentials', () => {
  const inUse = status({ state: 'error', socks: null, lastError: makeError('SOCKS_PORT_IN_USE', '127.0.0.1:1080') });
  assert.equal(proxyEndpoint(inUse, AUTH), null);
  assert.equal(proxyEndpoint(status({ socks: null }), AUTH), null);
  assert.equal(proxyEndpoint(null, AUTH), null);
  assert.equal(proxyEndpoint(status({}), null), null);
});

test('Firefox: matching hosts go to our SOCKS port with the credentials and proxyDNS, others are left alone', () => {
  const r: Routing = { mode: 'auto', rules, proxy: { port: 41234, ...AUTH } };
  assert.deepEqual(firefoxProxyInfo(r, 'https://intranet.grid5000.fr/'), {
    type: 'socks',
    host: '127.0.0.1',
    port: 41234,
    username: AUTH.username,
    password: AUTH.password,
    proxyDNS: true,
  });
  assert.equal(firefoxProxyInfo(r, 'https://www.example.org/'), undefined);
  assert.equal(firefoxProxyInfo({ ...r, mode: 'off' }, 'https://intranet.grid5000.fr/'), undefined);
});

test('Firefox fails closed: with no listener of ours a matching host gets the blackhole, never direct', () => {
  const r: Routing = { mode: 'on', rules, proxy: null };
  const info = firefoxProxyInfo(r, 'https://intranet.grid5000.fr/');
  assert.deepEqual(info, { type: 'socks', host: BLACKHOLE.host, port: BLACKHOLE.port, proxyDNS: true });
  assert.ok(BLACKHOLE.port < 1024, 'a privileged port: no ordinary program can listen there');
});

test('Chromium fails closed: the PAC for a port held by another program names only the blackhole', () => {
  const inUse = status({ state: 'error', socks: null, lastError: makeError('SOCKS_PORT_IN_USE', 'held') });
  const endpoint = proxyEndpoint(inUse, AUTH);
  const pac = buildPac(rules, endpoint ? { host: '127.0.0.1', port: endpoint.port } : BLACKHOLE, 'PROXY');
  assert.match(pac, /var TUNNEL = "PROXY 127\.0\.0\.1:9";/);
  assert.doesNotMatch(pac, /;\s*DIRECT/, 'no DIRECT fallback for matching hosts');
});
