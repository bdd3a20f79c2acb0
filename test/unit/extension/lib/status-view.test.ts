import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, makeError } from '../../../../shared/errors.js';
import { STAGES, STATES, type TunnelStatus } from '../../../../shared/protocol.js';
import type { Prompt } from '../../../../shared/protocol.js';
import type { View } from '../../../../extension/lib/messages.js';
import { describeHostProblem } from '../../../../extension/lib/host-problem.js';
import {
  badge,
  codeSpans,
  currentError,
  describeError,
  failureReason,
  formatBytes,
  formatDuration,
  pill,
  retryLabel,
  stageLabel,
  stateLabel,
  type StatusParts,
} from '../../../../extension/lib/status-view.js';

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

const PASSPHRASE: Prompt = { id: 'p1', kind: 'passphrase', keyFile: '~/.ssh/id', attempt: 1 };
const HOSTKEY: Prompt = {
  id: 'p',
  kind: 'confirm-host-key',
  host: 'h',
  port: 22,
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:x',
  knownHostsFile: 'k',
};

/** The View parts the badge reads: a status, and no question or host problem unless given. */
function parts(s: TunnelStatus | null, over: Partial<StatusParts> = {}): StatusParts {
  return { status: s, prompt: null, hostProblem: null, ...over };
}

function view(over: Partial<View> = {}): View {
  return {
    mode: 'auto',
    status: status(),
    hostProblem: null,
    proxyConflict: false,
    proxyPolicy: false,
    privateWindowsExcluded: false,
    siteAccessMissing: false,
    prompt: null,
    requestError: null,
    gateway: 'jdoe@access.grid5000.fr',
    jumps: [],
    ...over,
  };
}

test('every situation has its own badge text and colour', () => {
  const badges = [
    badge(parts(null)),
    ...STATES.map((state) =>
      badge(parts(status({ state, ...(state === 'error' ? { lastError: makeError('AUTH_FAILED') } : {}) }))),
    ),
    badge(parts(status({ state: 'connecting' }), { prompt: PASSPHRASE })),
    badge(parts(status(), { hostProblem: makeError('HOST_MISSING') })),
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
  assert.equal(badge(parts(status({ state: 'off' }))).text, 'off');
  assert.equal(badge(parts(status())).text, 'on');
  assert.match(badge(parts(status())).title, /connected to jdoe@access\.grid5000\.fr:22 \(2 channels open\)/);
  assert.match(badge(parts(status({ state: 'idle' }))).title, /on first use/);
  assert.match(badge(parts(status({ state: 'connecting', stage: 'hostkey' }))).title, /Checking host key…/);
  assert.match(badge(parts(status({ state: 'reconnecting' }))).title, /reconnecting/);
  const err = badge(parts(status({ state: 'error', lastError: makeError('HOSTKEY_CHANGED') })));
  assert.equal(err.text, '!');
  assert.match(err.title, /Host key changed.*Do not connect/);
  const ask = badge(parts(status({ state: 'connecting' }), { prompt: HOSTKEY }));
  assert.equal(ask.text, '?');
  assert.match(ask.title, /host key; click to answer/);
});

test('the badge says a question waits as soon as the host asks, and no longer once answered', () => {
  // the host's prompt event comes before any status carries the question
  const asked = badge(parts(status({ state: 'connecting', stage: 'auth' }), { prompt: PASSPHRASE }));
  assert.equal(asked.text, '?');
  assert.match(asked.title, /passphrase; click to answer/);
  // answered in the popup: the View has no question although the last status still names it
  const answered = badge(parts(status({ state: 'connecting', stage: 'auth', prompt: PASSPHRASE })));
  assert.equal(answered.text, '…');
  // even before the host's first status
  assert.equal(badge(parts(null, { prompt: HOSTKEY })).text, '?');
});

test('a host problem wins over the tunnel state, whatever the code', () => {
  const codes = ['HOST_MISSING', 'HOST_FORBIDDEN', 'HOST_CRASHED', 'HOST_OUTDATED', 'PROTOCOL_MISMATCH'] as const;
  for (const code of codes) {
    const b = badge(parts(status(), { hostProblem: makeError(code), prompt: PASSPHRASE }));
    assert.equal(b.text, 'host');
    assert.match(b.title, new RegExp(describeError(makeError(code)).title));
  }
  const b = badge(parts(null, { hostProblem: makeError('HOST_MISSING') }));
  assert.match(b.title, /not installed.*npm run install-host/);
});

test('the pill: the host problem, the state, or starting', () => {
  assert.deepEqual(pill(parts(status({ state: 'idle' }))), {
    state: 'idle',
    text: 'Ready',
    title: 'Idle: connects on first use',
  });
  assert.equal(pill(parts(status({ state: 'connecting', stage: 'auth' }))).title, 'Logging in…');
  assert.equal(pill(parts(null)).state, 'starting');
  const host = pill(parts(status(), { hostProblem: makeError('HOST_MISSING') }));
  assert.equal(host.state, 'host-problem');
  assert.equal(host.title, makeError('HOST_MISSING').message);
});

test('currentError: a past error does not explain a tunnel that recovered', () => {
  const lost = makeError('CONNECTION_LOST');
  assert.equal(
    currentError(view({ status: status({ state: 'reconnecting', lastError: lost }) }))?.code,
    'CONNECTION_LOST',
  );
  assert.equal(
    currentError(view({ status: status({ state: 'error', lastError: makeError('AUTH_FAILED') }) }))?.code,
    'AUTH_FAILED',
  );
  assert.equal(currentError(view({ status: status({ state: 'connected', lastError: lost }) })), null);
  assert.equal(currentError(view({ status: status({ state: 'idle', lastError: lost }) })), null);
  assert.equal(currentError(view({ requestError: makeError('NOT_CONFIGURED') }))?.code, 'NOT_CONFIGURED');
  assert.equal(
    currentError(
      view({ status: status({ state: 'error', lastError: lost }), hostProblem: describeHostProblem('HOST_CRASHED') }),
    ),
    null,
  );
});

test('failureReason: why the error page is shown', () => {
  const lost = makeError('CONNECTION_LOST');
  // the tunnel is up again: the address itself is the problem, not the old lost connection
  assert.equal(failureReason(view({ status: status({ state: 'connected', lastError: lost }) })).code, 'TARGET');
  assert.equal(
    failureReason(view({ status: status({ state: 'error', lastError: makeError('AUTH_FAILED') }) })).code,
    'AUTH_FAILED',
  );
  assert.equal(failureReason(view({ mode: 'off' })).code, 'OFF');
  const host = failureReason(view({ hostProblem: describeHostProblem('HOST_MISSING') }));
  assert.equal(host.code, 'HOST_MISSING');
  assert.equal(host.title, 'Native host not installed');
  assert.equal(failureReason(view({ status: null })).code, 'NO_TUNNEL');
  // the page never reached the tunnel: the browser's own reasons come first
  assert.equal(failureReason(view({ siteAccessMissing: true })).code, 'SITE_ACCESS');
  assert.equal(failureReason(view({ proxyConflict: true })).code, 'PROXY_CONFLICT');
  assert.equal(
    failureReason(
      view({ proxyConflict: true, status: status({ state: 'error', lastError: makeError('AUTH_FAILED') }) }),
    ).code,
    'AUTH_FAILED',
  );
});

test('failureReason: a proxy held by a policy is named as such, before any tunnel error', () => {
  const policy = failureReason(view({ proxyPolicy: true }));
  assert.equal(policy.code, 'PROXY_POLICY');
  assert.equal(policy.title, 'The proxy is set by a policy');
  assert.match(policy.message, /set by a policy \(administrator\): g5k-tunnel cannot route pages/);
  assert.match(policy.hint, /ask your administrator/i);
  assert.match(policy.hint, /`g5k-tunnel -N -D` with another program/);
  assert.notEqual(policy.title, failureReason(view({ proxyConflict: true })).title);
  assert.equal(
    failureReason(view({ proxyPolicy: true, status: status({ state: 'error', lastError: makeError('AUTH_FAILED') }) }))
      .code,
    'PROXY_POLICY',
  );
  assert.equal(failureReason(view({ proxyPolicy: true, mode: 'off' })).code, 'OFF');
});

test('codeSpans marks the `commands` of the error table', () => {
  assert.deepEqual(codeSpans('load the key in ssh-agent (`ssh-add`).'), [
    { text: 'load the key in ssh-agent (', code: false },
    { text: 'ssh-add', code: true },
    { text: ').', code: false },
  ]);
  assert.deepEqual(codeSpans('no code'), [{ text: 'no code', code: false }]);
  assert.deepEqual(codeSpans(''), []);
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
