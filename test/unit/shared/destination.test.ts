// Destinations and -J lists as typed by users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatDestination,
  hostProblem,
  loginProblem,
  parseCommandDestination,
  parseDestination,
  parseDestinations,
  parseJumpList,
} from '../../../shared/destination.js';
import type { Parsed } from '../../../shared/parsed.js';

/** The refusal's message; fails when the input was accepted. */
function refusal<T>(r: Parsed<T>): string {
  assert.equal(r.ok, false, `accepted: ${JSON.stringify(r)}`);
  return r.ok ? '' : r.error;
}

/** The value; fails when the input was refused. */
function value<T>(r: Parsed<T>): T {
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.value;
}

test('parseDestination reads every accepted form', () => {
  const cases: [string, object][] = [
    ['access.grid5000.fr', { host: 'access.grid5000.fr' }],
    ['jdoe@access.grid5000.fr', { user: 'jdoe', host: 'access.grid5000.fr' }],
    ['access.grid5000.fr:2222', { host: 'access.grid5000.fr', port: 2222 }],
    ['jdoe@access.grid5000.fr:22', { user: 'jdoe', host: 'access.grid5000.fr', port: 22 }],
    ['jdoe@[::1]:2222', { user: 'jdoe', host: '::1', port: 2222 }],
    ['[::1]', { host: '::1' }],
    ['::1', { host: '::1' }],
    ['fe80::1%eth0', { host: 'fe80::1%eth0' }],
    ['192.0.2.1:80', { host: '192.0.2.1', port: 80 }],
    ['ssh://jdoe@access.grid5000.fr:2222', { user: 'jdoe', host: 'access.grid5000.fr', port: 2222 }],
    ['ssh://access.grid5000.fr/', { host: 'access.grid5000.fr' }],
    ['SSH://j%40doe@[2001:db8::1]:2200', { user: 'j@doe', host: '2001:db8::1', port: 2200 }],
    ['first.last@example.org@gw', { user: 'first.last@example.org', host: 'gw' }],
    ['  gw  ', { host: 'gw' }],
  ];
  for (const [s, want] of cases) assert.deepEqual(parseDestination(s), { ok: true, value: want }, s);
});

test('parseDestination refuses bad input with a message naming the input and the fix', () => {
  const cases: [string, RegExp][] = [
    ['', /empty; write host, user@host/],
    ['jdoe@', /host name is empty/],
    ['@gw', /user name before "@" is empty/],
    ['gw:', /port "" is not a number/],
    ['gw:0', /out of range/],
    ['gw:65536', /out of range/],
    ['gw:ssh', /port "ssh" is not a number/],
    ['[::1', /missing "\]"/],
    ['[::1]x', /unexpected "x"/],
    ['-oProxyCommand=sh', /cannot start with "-"/],
    ['-l@gw', /user name cannot start with "-"/],
    ['gw;rm -rf', /not a host name/],
    ['a b', /not a host name/],
    ['*.grid5000.fr', /not a host name/],
    ['gw[1]', /not a host name/],
    ['ssh://gw/path', /cannot have a path/],
    ['ssh://u;fingerprint=x@gw', /not supported/],
    ['ssh://%zz@gw', /%-escape/],
  ];
  for (const [s, re] of cases) {
    const error = refusal(parseDestination(s));
    assert.match(error, re, s);
    assert.ok(error.includes(`"${s.trim()}"`) || s.trim() === '', `names the input: ${error}`);
  }
});

test('parseJumpList splits on commas; none means no jump; empty entries are refused', () => {
  assert.deepEqual(value(parseJumpList('none')), []);
  assert.deepEqual(value(parseJumpList('NONE')), []);
  assert.deepEqual(value(parseJumpList('a,b,user@c:2222')), [
    { host: 'a' },
    { host: 'b' },
    { user: 'user', host: 'c', port: 2222 },
  ]);
  assert.deepEqual(value(parseJumpList('ssh://u@[::1]:22')), [{ user: 'u', host: '::1', port: 22 }]);
  assert.match(refusal(parseJumpList('')), /empty jump host list/);
  assert.match(refusal(parseJumpList('a,,b')), /entry 2 is empty/);
  assert.match(refusal(parseJumpList('a,b:x')), /port "x"/);
  // entries are read in order: the first bad one is the one reported
  assert.match(refusal(parseJumpList('a,b:x,,c')), /port "x"/);
});

test('parseDestinations reads each entry of a list, or reports the first refusal', () => {
  assert.deepEqual(value(parseDestinations(['a', 'u@b:22'])), [{ host: 'a' }, { user: 'u', host: 'b', port: 22 }]);
  assert.deepEqual(value(parseDestinations([])), []);
  assert.match(refusal(parseDestinations(['a', 'b:x', '@c'])), /port "x"/);
});

test('formatDestination round-trips through parseDestination', () => {
  for (const s of ['gw', 'u@gw', 'u@gw:2222', 'u@[::1]:2222', '[::1]', 'first.last@example.org@gw:22']) {
    const d = value(parseDestination(s));
    assert.deepEqual(parseDestination(formatDestination(d)), { ok: true, value: d }, s);
  }
  assert.equal(formatDestination({ user: 'u', host: '::1', port: 22 }), 'u@[::1]:22');
});

test('parseCommandDestination reads the command argument as ssh does: no port, last "@" ends the login', () => {
  assert.deepEqual(value(parseCommandDestination('a@b@host')), { user: 'a@b', host: 'host' });
  assert.deepEqual(value(parseCommandDestination('host:2222')), { host: 'host:2222' });
  assert.deepEqual(value(parseCommandDestination('ssh://u@h:2200')), { user: 'u', host: 'h', port: 2200 });
  assert.match(refusal(parseCommandDestination('@h')), /user name before "@" is empty/);
  assert.match(refusal(parseCommandDestination('-oProxyCommand=x')), /cannot start with "-"/);
  assert.match(refusal(parseCommandDestination('h;id')), /not a host name/);
});

test('hostProblem and loginProblem are the parts of the grammar the settings check alone', () => {
  assert.equal(hostProblem('access.grid5000.fr'), null);
  assert.equal(hostProblem('fd00::1'), null);
  assert.match(hostProblem('a'.repeat(254)) ?? '', /at most 253/);
  assert.match(hostProblem('gw;id') ?? '', /not a host name/);
  assert.equal(loginProblem('first.last@example.org'), null);
  assert.match(loginProblem('') ?? '', /empty/);
  assert.match(loginProblem('-l') ?? '', /cannot start with "-"/);
  assert.match(loginProblem('a b') ?? '', /not a valid user name/);
});
