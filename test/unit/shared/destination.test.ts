// Destinations and -J lists as typed by users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatDestination,
  hostProblem,
  loginProblem,
  parseCommandDestination,
  parseDestination,
  parseJumpList,
} from '../../../shared/destination.js';

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
  for (const [s, want] of cases) assert.deepEqual(parseDestination(s), want, s);
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
    assert.throws(
      () => parseDestination(s),
      (e: Error) => {
        assert.match(e.message, re, s);
        assert.ok(e.message.includes(`"${s.trim()}"`) || s.trim() === '', `names the input: ${e.message}`);
        return true;
      },
    );
  }
});

test('parseJumpList splits on commas; none means no jump; empty entries are refused', () => {
  assert.deepEqual(parseJumpList('none'), []);
  assert.deepEqual(parseJumpList('NONE'), []);
  assert.deepEqual(parseJumpList('a,b,user@c:2222'), [
    { host: 'a' },
    { host: 'b' },
    { user: 'user', host: 'c', port: 2222 },
  ]);
  assert.deepEqual(parseJumpList('ssh://u@[::1]:22'), [{ user: 'u', host: '::1', port: 22 }]);
  assert.throws(() => parseJumpList(''), /empty jump host list/);
  assert.throws(() => parseJumpList('a,,b'), /entry 2 is empty/);
  assert.throws(() => parseJumpList('a,b:x'), /port "x"/);
});

test('formatDestination round-trips through parseDestination', () => {
  for (const s of ['gw', 'u@gw', 'u@gw:2222', 'u@[::1]:2222', '[::1]', 'first.last@example.org@gw:22']) {
    const d = parseDestination(s);
    assert.deepEqual(parseDestination(formatDestination(d)), d, s);
  }
  assert.equal(formatDestination({ user: 'u', host: '::1', port: 22 }), 'u@[::1]:22');
});

test('parseCommandDestination reads the command argument as ssh does: no port, last "@" ends the login', () => {
  assert.deepEqual(parseCommandDestination('a@b@host'), { user: 'a@b', host: 'host' });
  assert.deepEqual(parseCommandDestination('host:2222'), { host: 'host:2222' });
  assert.deepEqual(parseCommandDestination('ssh://u@h:2200'), { user: 'u', host: 'h', port: 2200 });
  assert.throws(() => parseCommandDestination('@h'), /user name before "@" is empty/);
  assert.throws(() => parseCommandDestination('-oProxyCommand=x'), /cannot start with "-"/);
  assert.throws(() => parseCommandDestination('h;id'), /not a host name/);
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
