import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, makeError } from '../../shared/errors.js';
import { STAGES, STATES, type TunnelStatus } from '../../shared/protocol.js';
import {
  HOST_PROBLEMS,
  badge,
  describeError,
  formatBytes,
  formatDuration,
  retryLabel,
  stageLabel,
  stateLabel,
  summaryLine,
} from '../../extension/lib/status-view.js';

const NOW = 1_700_000_000_000;

function status(over: Partial<TunnelStatus> = {}): TunnelStatus {
  return {
    state: 'connected',
    mode: 'auto',
    gateway: 'jdoe@access.grid5000.fr:22',
    jumps: [],
    socks: { host: '127.0.0.1', port: 1080 },
    since: NOW - 65_000,
    connectedAt: NOW - 65_000,
    connections: 1,
    channels: 2,
    bytesUp: 1536,
    bytesDown: 30 * 1024 * 1024,
    timings: [],
    ...over,
  };
}

test('every situation has its own badge text and colour', () => {
  const badges = [
    badge(null),
    ...STATES.map((state) =>
      badge(status({ state, ...(state === 'error' ? { lastError: makeError('AUTH_FAILED') } : {}) })),
    ),
    badge(status({ state: 'connecting', prompt: { id: 'p1', kind: 'passphrase', keyFile: '~/.ssh/id', attempt: 1 } })),
    badge(status(), 'HOST_MISSING'),
  ];
  assert.equal(new Set(badges.map((b) => b.text)).size, badges.length, JSON.stringify(badges));
  assert.equal(new Set(badges.map((b) => b.color)).size, badges.length, JSON.stringify(badges));
  for (const b of badges) {
    assert.match(b.color, /^#[0-9a-f]{6}$/);
    assert.ok(b.text.length <= 4, `badge text ${b.text} fits`);
    assert.match(b.title, /^g5k-tunnel: /);
  }
});

test('badge titles say what is going on', () => {
  assert.equal(badge(status({ state: 'off' })).text, 'off');
  assert.equal(badge(status()).text, 'on');
  assert.match(badge(status()).title, /connected to jdoe@access\.grid5000\.fr:22 \(2 channels open\)/);
  assert.match(badge(status({ state: 'idle' })).title, /on first use/);
  assert.match(badge(status({ state: 'connecting', stage: 'hostkey' })).title, /Checking host key…/);
  assert.match(badge(status({ state: 'reconnecting' })).title, /reconnecting/);
  const err = badge(status({ state: 'error', lastError: makeError('HOSTKEY_CHANGED') }));
  assert.equal(err.text, '!');
  assert.match(err.title, /Host key changed.*Do not connect/);
  const ask = badge(
    status({
      state: 'connecting',
      prompt: { id: 'p', kind: 'confirm-host-key', host: 'h', port: 22, keyType: 'ssh-ed25519', fingerprint: 'SHA256:x', knownHostsFile: 'k' },
    }),
  );
  assert.equal(ask.text, '?');
  assert.match(ask.title, /host key; click to answer/);
});

test('a host problem wins over the tunnel state, whatever the code', () => {
  for (const code of HOST_PROBLEMS) {
    const b = badge(status(), code);
    assert.equal(b.text, 'host');
    assert.match(b.title, new RegExp(describeError(makeError(code)).title));
  }
  const b = badge(null, makeError('HOST_MISSING'));
  assert.match(b.title, /not installed.*npm run install-host/);
  assert.equal(badge(status(), null).text, 'on');
});

test('stateLabel names each state, and the stage while connecting', () => {
  const labels = STATES.map((s) => stateLabel(s));
  assert.equal(new Set(labels).size, STATES.length);
  assert.equal(stateLabel('connected'), 'Connected');
  assert.equal(stateLabel(status({ state: 'idle' })), 'Idle: connects on first use');
  assert.equal(stateLabel(status({ state: 'connecting', stage: 'auth' })), 'Logging in…');
  assert.equal(stateLabel(status({ state: 'connecting' })), 'Connecting…');
  assert.match(stateLabel(null), /native host/);
});

test('stageLabel describes each stage, naming the hop when given', () => {
  assert.equal(stageLabel('hostkey'), 'Checking host key…');
  assert.equal(stageLabel('tcp'), 'Connecting to the gateway…');
  assert.equal(stageLabel('tcp', 'access.grid5000.fr'), 'Connecting to access.grid5000.fr…');
  assert.equal(stageLabel('hostkey', 'jump.example'), 'Checking the host key of jump.example…');
  assert.equal(stageLabel('auth', 'access.grid5000.fr'), 'Logging in to access.grid5000.fr…');
  assert.equal(new Set(STAGES.map((s) => stageLabel(s))).size, STAGES.length);
});

test('formatDuration', () => {
  const cases: [number, string][] = [
    [0, '0 s'],
    [999, '0 s'],
    [45_000, '45 s'],
    [59_999, '59 s'],
    [60_000, '1 min 00 s'],
    [185_000, '3 min 05 s'],
    [3_600_000, '1 h 00 min'],
    [7_380_000, '2 h 03 min'],
    [86_400_000, '1 d 0 h'],
    [3 * 86_400_000 + 4 * 3_600_000 + 59_000, '3 d 4 h'],
    [-5, '0 s'],
    [NaN, '0 s'],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
});

test('formatBytes', () => {
  const cases: [number, string][] = [
    [0, '0 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [12 * 1024 * 1024, '12 MiB'],
    [1024 * 1024 - 100, '1.0 MiB'],
    [3.2 * 1024 ** 3, '3.2 GiB'],
    [-1, '0 B'],
    [Infinity, '0 B'],
  ];
  for (const [n, text] of cases) assert.equal(formatBytes(n), text, String(n));
});

test('describeError gives a title, the words, the hint and how serious it is', () => {
  for (const code of ERROR_CODES) {
    const v = describeError(makeError(code));
    assert.ok(v.title && v.title !== 'Error', `${code} has its own title`);
    assert.ok(v.message && v.hint, code);
  }
  const changed = describeError(makeError('HOSTKEY_CHANGED', 'known_hosts:3'));
  assert.equal(changed.severity, 'danger');
  assert.equal(changed.detail, 'known_hosts:3');
  assert.equal(describeError(makeError('CONNECTION_LOST')).severity, 'transient');
  assert.equal(describeError(makeError('AUTH_FAILED')).severity, 'error');
  assert.equal(describeError(makeError('AUTH_FAILED')).detail, undefined);
  const custom = describeError({ code: 'INTERNAL', message: 'boom', hint: '' });
  assert.equal(custom.message, 'boom');
  assert.match(custom.hint, /report it/, 'an empty hint falls back to the table');
});

test('retryLabel counts down to the next attempt', () => {
  const r = (over: Partial<TunnelStatus>) => retryLabel(status({ state: 'reconnecting', ...over }), NOW);
  assert.equal(r({ attempt: 3, nextRetryAt: NOW + 4000 }), 'Retrying in 4 s (attempt 3)');
  assert.equal(r({ attempt: 3, nextRetryAt: NOW + 3200 }), 'Retrying in 4 s (attempt 3)', 'rounds up');
  assert.equal(r({ attempt: 7, nextRetryAt: NOW + 90_000 }), 'Retrying in 1 min 30 s (attempt 7)');
  assert.equal(r({ attempt: 2, nextRetryAt: NOW - 10 }), 'Retrying now (attempt 2)');
  assert.equal(r({ nextRetryAt: NOW + 1000 }), 'Retrying in 1 s');
  assert.equal(r({ attempt: 1 }), 'Reconnecting (attempt 1)');
  assert.equal(retryLabel(status({ attempt: 3, nextRetryAt: NOW + 4000 }), NOW), '', 'not reconnecting');
  assert.equal(retryLabel(null, NOW), '');
});

test('summaryLine: uptime and traffic when connected, the state otherwise', () => {
  assert.equal(summaryLine(status(), NOW), 'Connected for 1 min 05 s · 2 channels · ↑ 1.5 KiB ↓ 30 MiB');
  assert.equal(summaryLine(status({ channels: 1, connectedAt: undefined, since: NOW - 5000 }), NOW).split(' · ')[0], 'Connected for 5 s');
  assert.equal(summaryLine(status({ state: 'reconnecting', attempt: 2, nextRetryAt: NOW + 2000 }), NOW), 'Retrying in 2 s (attempt 2)');
  assert.equal(summaryLine(status({ state: 'off' }), NOW), 'Off');
});
