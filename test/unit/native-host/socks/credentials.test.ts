// Session credentials: random, checked in constant time from SOCKS5 bytes or an HTTP Basic header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  basicAuthorization,
  basicMatches,
  credentialsMatch,
  makeCredentials,
  parseCredentials,
} from '../../../../native-host/socks/credentials.js';

test('each session gets new, unguessable credentials that fit RFC 1929 and a Basic header', () => {
  const a = makeCredentials();
  const b = makeCredentials();
  assert.notEqual(a.password, b.password);
  assert.notEqual(a.username, b.username);
  assert.ok(a.password.length >= 32, a.password);
  for (const c of [a, b]) {
    assert.match(c.username, /^[A-Za-z0-9_-]+$/);
    assert.match(c.password, /^[A-Za-z0-9_-]+$/);
  }
});

test('credentialsMatch: both parts must match exactly, from strings or raw bytes', () => {
  const c = { username: 'g5k-u', password: 'secret' };
  assert.equal(credentialsMatch(c, 'g5k-u', 'secret'), true);
  assert.equal(credentialsMatch(c, Buffer.from('g5k-u'), Buffer.from('secret')), true);
  assert.equal(credentialsMatch(c, 'g5k-u', 'secreT'), false);
  assert.equal(credentialsMatch(c, 'g5k-u', 'secret '), false);
  assert.equal(credentialsMatch(c, 'g5k-v', 'secret'), false);
  assert.equal(credentialsMatch(c, '', ''), false);
  assert.equal(credentialsMatch(c, 'secret', 'g5k-u'), false);
});

test('basicMatches: the right header only; missing, malformed or other schemes fail', () => {
  const c = makeCredentials();
  assert.equal(basicMatches(c, basicAuthorization(c)), true);
  assert.equal(basicMatches(c, basicAuthorization(c).replace('Basic', 'basic')), true);
  const wrong = [
    null,
    '',
    'Basic',
    'Basic !!!',
    `Bearer ${c.password}`,
    basicAuthorization({ ...c, password: `${c.password}x` }),
    `Basic ${Buffer.from(`${c.username}${c.password}`).toString('base64')}`,
    `Basic ${Buffer.from(`${c.username}:`).toString('base64')}`,
  ];
  for (const h of wrong) assert.equal(basicMatches(c, h), false, String(h));
});

test("parseCredentials reads user:password from a file's first line, and never echoes it back", () => {
  assert.deepEqual(parseCredentials('alice:pa:ss\nignored\n'), {
    ok: true,
    value: { username: 'alice', password: 'pa:ss' },
  });
  assert.deepEqual(parseCredentials('\uFEFFbob:x\r\n'), { ok: true, value: { username: 'bob', password: 'x' } });
  for (const bad of ['', 'nocolon', ':pw', 'alice:', `u:${'p'.repeat(256)}`]) {
    const r = parseCredentials(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok && bad.length > 3) assert.ok(!r.error.includes(bad), 'the error does not repeat the secret');
  }
});
