// Private key files others can access: OpenSSH's verdict from owner and mode, its words, our error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkKeyPermissions,
  keyPermissionsError,
  octalMode,
  shellQuote,
  unprotectedKeyFromLog,
  unprotectedKeyLines,
  unprotectedKeyLog,
} from '../../../../native-host/ssh/key-permissions.js';
import { describe } from '../../../../shared/errors.js';

const me = { platform: 'linux' as const, uid: 1000 };
const FILE = '/home/u/.ssh/id_ed25519';
/** st_mode of a regular file with these permission bits. */
const reg = (perm: number) => 0o100000 | perm;

test('a key file of the user with any access for group or others is refused, with the chmod to run', () => {
  for (const perm of [0o644, 0o640, 0o604, 0o601, 0o610, 0o660, 0o666, 0o777, 0o700 | 0o004]) {
    assert.deepEqual(
      checkKeyPermissions(FILE, { mode: reg(perm), uid: 1000 }, me),
      { ok: false, mode: perm, fix: `chmod 600 ${FILE}` },
      perm.toString(8),
    );
  }
});

test('owner-only modes are fine, the owner execute bit and setuid bits included (OpenSSH looks at 077 only)', () => {
  for (const perm of [0o600, 0o400, 0o700, 0o200, 0o000, 0o4600])
    assert.deepEqual(checkKeyPermissions(FILE, { mode: reg(perm), uid: 1000 }, me), { ok: true }, perm.toString(8));
});

test('a file owned by someone else is not judged, as OpenSSH ("then we don\'t care"); nor is anything on Windows', () => {
  assert.deepEqual(checkKeyPermissions(FILE, { mode: reg(0o644), uid: 0 }, me), { ok: true });
  assert.deepEqual(checkKeyPermissions(FILE, { mode: reg(0o644), uid: 1000 }, { platform: 'win32', uid: 1000 }), {
    ok: true,
  });
  assert.deepEqual(checkKeyPermissions(FILE, { mode: reg(0o644), uid: 0 }, { platform: 'win32', uid: undefined }), {
    ok: true,
  });
  // root's own keys are judged like anyone's
  assert.equal(checkKeyPermissions(FILE, { mode: reg(0o644), uid: 0 }, { platform: 'linux', uid: 0 }).ok, false);
});

test("OpenSSH's warning, line for line, as ssh 9 prints it", () => {
  assert.deepEqual(unprotectedKeyLines('k', 0o644), [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    "Permissions 0644 for 'k' are too open.",
    'It is required that your private key files are NOT accessible by others.',
    'This private key will be ignored.',
    'Load key "k": bad permissions',
  ]);
  assert.equal(octalMode(0o100640), '0640');
  assert.equal(octalMode(0o004), '0004');
});

test('the log line reads back to the file and mode, odd paths included; other lines do not', () => {
  for (const file of [FILE, "/tmp/it's here/id rsa", '/x/a: b']) {
    const line = unprotectedKeyLog(file, 0o640);
    assert.deepEqual(unprotectedKeyFromLog(line), { file, mode: 0o640 }, line);
    assert.ok(line.includes(`chmod 600 ${shellQuote(file)}`), line);
  }
  assert.equal(unprotectedKeyFromLog('ssh config: something else'), null);
  assert.equal(unprotectedKeyFromLog("Permissions 0644 for 'x' are too open."), null);
});

test('shellQuote leaves plain paths alone and makes the others one shell word', () => {
  assert.equal(shellQuote('/home/u/.ssh/id_ed25519'), '/home/u/.ssh/id_ed25519');
  assert.equal(shellQuote('/a b/k'), "'/a b/k'");
  assert.equal(shellQuote("/it's"), "'/it'\\''s'");
  assert.equal(shellQuote('~/k'), "'~/k'");
  assert.equal(shellQuote('$HOME/k'), "'$HOME/k'");
});

test('KEY_PERMISSIONS names every ignored file and mode, the keys refused, and the chmod as the hint', () => {
  const e = keyPermissionsError(
    [
      { file: FILE, mode: 0o644 },
      { file: '/a b/k', mode: 0o640 },
    ],
    'u@gw:22',
    ['agent key ssh-ed25519 SHA256:x'],
  );
  assert.equal(e.code, 'KEY_PERMISSIONS');
  assert.equal(e.message, describe('KEY_PERMISSIONS').message);
  assert.equal(e.hint, `Run chmod 600 ${FILE} '/a b/k'`);
  assert.equal(
    e.detail,
    `u@gw:22: ${FILE}: permissions 0644 are too open; /a b/k: permissions 0640 are too open; private key ignored; refused: agent key ssh-ed25519 SHA256:x`,
  );
  assert.doesNotMatch(keyPermissionsError([{ file: FILE, mode: 0o600 | 0o044 }], 'h').detail ?? '', /refused/);
});
