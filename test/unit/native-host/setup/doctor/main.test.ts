// doctor's arguments: --gateway and --jump read destinations with the one grammar (shared/destination).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDoctorArgs, type DoctorOptions } from '../../../../../native-host/setup/doctor/main.js';

const parse = (...args: string[]) => parseDoctorArgs(args, {}, 'linux');

test('--gateway takes login@host:port, ssh:// and a login holding "@", as ssh does', () => {
  const o = parse('--gateway', 'first.last@example.org@gw:2222') as DoctorOptions;
  assert.deepEqual([o.user, o.gateway, o.port], ['first.last@example.org', 'gw', 2222]);
  const u = parse('--gateway=ssh://jdoe@[::1]:2200') as DoctorOptions;
  assert.deepEqual([u.user, u.gateway, u.port], ['jdoe', '::1', 2200]);
  const plain = parse('--gateway', 'g5k') as DoctorOptions;
  assert.deepEqual([plain.user, plain.gateway, plain.port], [undefined, 'g5k', 0]);
});

test('--jump is a -J list, written back in canonical form; bad destinations are refused with the reason', () => {
  assert.deepEqual((parse('-J', 'a@j1,ssh://u@[::1]:22') as DoctorOptions).jumps, ['a@j1', 'u@[::1]:22']);
  assert.match(parse('--gateway', '@gw') as string, /^--gateway @gw: the user name before "@" is empty/);
  assert.match(parse('--gateway', 'gw;id') as string, /not a host name/);
  assert.match(parse('--jump', 'a,,b') as string, /entry 2 is empty/);
});
