// doctor's arguments: --gateway and --jump read destinations with the one grammar (shared/destination).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDoctorArgs, type DoctorOptions } from '../../../../../native-host/setup/doctor/main.js';

/** The options a command line gives; fails when it is refused. */
function parse(...args: string[]): DoctorOptions {
  const r = parseDoctorArgs(args, {}, 'linux');
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.value;
}

/** The refusal of a command line; fails when it is accepted. */
function refusal(...args: string[]): string {
  const r = parseDoctorArgs(args, {}, 'linux');
  assert.equal(r.ok, false, args.join(' '));
  return r.ok ? '' : r.error;
}

test('--gateway takes login@host:port, ssh:// and a login holding "@", as ssh does', () => {
  const o = parse('--gateway', 'first.last@example.org@gw:2222');
  assert.deepEqual([o.user, o.gateway, o.port], ['first.last@example.org', 'gw', 2222]);
  const u = parse('--gateway=ssh://jdoe@[::1]:2200');
  assert.deepEqual([u.user, u.gateway, u.port], ['jdoe', '::1', 2200]);
  const plain = parse('--gateway', 'g5k');
  assert.deepEqual([plain.user, plain.gateway, plain.port], [undefined, 'g5k', 0]);
});

test('--jump is a -J list, written back in canonical form; bad destinations are refused with the reason', () => {
  assert.deepEqual(parse('-J', 'a@j1,ssh://u@[::1]:22').jumps, ['a@j1', 'u@[::1]:22']);
  assert.match(refusal('--gateway', '@gw'), /^--gateway @gw: the user name before "@" is empty/);
  assert.match(refusal('--gateway', 'gw;id'), /not a host name/);
  assert.match(refusal('--jump', 'a,,b'), /entry 2 is empty/);
});
