// Which error a failed login gives, from what was tried (authFailure's order of precedence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authFailure, type AuthReport } from '../../../../native-host/ssh/auth.js';

const report = (over: Partial<AuthReport> = {}): AuthReport => ({
  offered: [],
  declined: [],
  wrongPassphrase: [],
  unreadable: [],
  unprotected: [],
  ...over,
});
const open = { file: '/home/u/.ssh/id_ed25519', mode: 0o644 };

test('a key ignored for its permissions is KEY_PERMISSIONS with the chmod, whether or not other keys were refused', () => {
  const alone = authFailure(report({ unprotected: [open] }), 'u@gw:22');
  assert.equal(alone.code, 'KEY_PERMISSIONS');
  assert.equal(alone.hint, `Run chmod 600 ${open.file}`);
  assert.match(alone.detail ?? '', /^u@gw:22: \/home\/u\/\.ssh\/id_ed25519: permissions 0644 are too open/);
  const withAgent = authFailure(report({ unprotected: [open], offered: ['agent key A'] }), 'u@gw:22');
  assert.equal(withAgent.code, 'KEY_PERMISSIONS');
  assert.match(withAgent.detail ?? '', /refused: agent key A/);
  // with a missing file named as well, the permissions are still the thing to say
  const both = authFailure(
    report({ unprotected: [open], unreadable: [{ file: '/x', reason: 'no such file', explicit: true }] }),
    'h',
  );
  assert.equal(both.code, 'KEY_PERMISSIONS');
});

test('a declined or wrong passphrase comes first; without ignored keys nothing changes', () => {
  assert.equal(authFailure(report({ unprotected: [open], declined: ['/k'] }), 'h').code, 'PASSPHRASE_NEEDED');
  assert.equal(authFailure(report({ unprotected: [open], wrongPassphrase: ['/k'] }), 'h').code, 'PASSPHRASE_NEEDED');
  assert.equal(authFailure(report({ offered: ['/k'] }), 'h').code, 'AUTH_FAILED');
  assert.equal(authFailure(report(), 'h').code, 'NO_IDENTITY');
  assert.equal(
    authFailure(report({ unreadable: [{ file: '/x', reason: 'no such file', explicit: true }] }), 'h').code,
    'KEY_UNREADABLE',
  );
});
