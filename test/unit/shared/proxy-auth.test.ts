// The proxy credentials in the `hello` result: what the extension accepts from the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyAuth } from '../../../shared/protocol.js';

test('well-formed credentials are taken as they are', () => {
  assert.deepEqual(parseProxyAuth({ username: 'g5k-AbC_9', password: 'x-Y_z012' }), {
    username: 'g5k-AbC_9',
    password: 'x-Y_z012',
  });
  // a password may hold ':' (Basic splits at the first one), a name may not
  assert.deepEqual(parseProxyAuth({ username: 'u', password: 'a:b', extra: 1 }), { username: 'u', password: 'a:b' });
});

test('anything else is refused: missing, empty, too long, non-printable, a name with ":"', () => {
  for (const bad of [
    undefined,
    null,
    'u:p',
    {},
    { username: 'u' },
    { username: '', password: 'p' },
    { username: 'u', password: '' },
    { username: 'u', password: 'p'.repeat(256) },
    { username: 'u p', password: 'p' },
    { username: 'u', password: 'p\n' },
    { username: 'u:v', password: 'p' },
    { username: 1, password: 'p' },
  ])
    assert.equal(parseProxyAuth(bad), null, JSON.stringify(bad));
});
