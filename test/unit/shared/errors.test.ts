import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, ERROR_CODES, isFatalCode, makeError } from '../../../shared/errors.js';

test('every code has plain words and a hint; makeError adds the detail only when there is one', () => {
  for (const code of ERROR_CODES) {
    const e = describe(code);
    assert.ok(e.message.length > 10 && e.hint.length > 10, code);
  }
  assert.deepEqual(makeError('TIMEOUT'), { code: 'TIMEOUT', ...describe('TIMEOUT') });
  assert.equal(makeError('TIMEOUT', 'gw:22').detail, 'gw:22');
  assert.equal(makeError('TIMEOUT', '', 'other words').message, 'other words');
});

test("no hint asks to run npx: g5k-tunnel is not on the npm registry, so npx would fetch a stranger's package", () => {
  for (const code of ERROR_CODES) assert.doesNotMatch(describe(code).hint, /\bnpx\b/, code);
  assert.match(describe('HOST_MISSING').hint, /npm run install-host/);
});

test('fatal is a column of the table: key and host-key failures need the user, network ones are retried', () => {
  const fatal = ERROR_CODES.filter((c) => isFatalCode(c));
  assert.deepEqual(fatal, [
    'HOSTKEY_CHANGED',
    'HOSTKEY_UNKNOWN',
    'HOSTKEY_REVOKED',
    'AUTH_FAILED',
    'NO_IDENTITY',
    'PASSPHRASE_NEEDED',
    'KEY_UNREADABLE',
    'KEY_PERMISSIONS',
  ]);
  for (const code of ['GATEWAY_UNREACHABLE', 'TIMEOUT', 'CONNECTION_LOST'] as const)
    assert.equal(isFatalCode(code), false);
});
