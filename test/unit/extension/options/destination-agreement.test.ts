// The options form, the settings check and the destination grammar accept the same destinations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formToSettings, settingsToForm } from '../../../../extension/options/profile-form.js';
import { parseDestination, type Destination } from '../../../../shared/destination.js';
import { activeProfile, defaultProfile, defaultSettings, profileFieldErrors } from '../../../../shared/settings.js';

const SAMPLES = [
  'access.grid5000.fr',
  'jdoe@access.grid5000.fr',
  'access.grid5000.fr:2222',
  'jdoe@access.grid5000.fr:22',
  'jdoe@[::1]:2222',
  '[::1]',
  'fd00::1',
  'fe80::1%eth0',
  '192.0.2.1:80',
  'ssh://jdoe@access.grid5000.fr:2222',
  'ssh://access.grid5000.fr/',
  'SSH://j%40doe@[2001:db8::1]:2200',
  'first.last@example.org@gw',
  'first.last@example.org@gw:2222',
  'g5k',
  'jdoe@',
  '@gw',
  'gw:',
  'gw:0',
  'gw:65536',
  'gw:ssh',
  '[::1',
  '[::1]x',
  '-oProxyCommand=sh',
  '-l@gw',
  'gw;id',
  '*.grid5000.fr',
  'gw[1]',
  'ssh://gw/path',
  'ssh://u;fingerprint=x@gw',
  'ssh://%zz@gw',
  'https://access.grid5000.fr',
  'a'.repeat(254),
  `${'u'.repeat(256)}@gw`,
];

const accepted = (s: string) => parseDestination(s).ok;

/** The destination the grammar reads from an accepted sample. */
function destination(s: string): Destination {
  const d = parseDestination(s);
  assert.ok(d.ok, s);
  return d.value;
}

test('the samples hold both accepted and refused destinations', () => {
  assert.ok(SAMPLES.filter(accepted).length >= 10);
  assert.ok(SAMPLES.filter((s) => !accepted(s)).length >= 10);
});

test('the Gateway input accepts exactly what the grammar accepts, and splits login and port out', () => {
  const base = defaultSettings();
  const blank = { ...settingsToForm(base), user: '', port: '22' };
  for (const s of SAMPLES) {
    const { settings, errors } = formToSettings({ ...blank, gateway: s }, base);
    assert.equal(errors.gateway === undefined, accepted(s), `${s}: ${errors.gateway}`);
    if (!accepted(s)) continue;
    const d = destination(s);
    const p = activeProfile(settings);
    assert.deepEqual([p.user, p.gateway, p.port], [d.user ?? '', d.host, d.port ?? 22], s);
    assert.deepEqual(errors, {}, s);
  }
});

test('the Jump hosts input and the settings accept exactly the jump hosts the grammar accepts', () => {
  const base = defaultSettings();
  for (const s of SAMPLES) {
    const form = formToSettings({ ...settingsToForm(base), jumps: s }, base);
    assert.equal(form.errors.jumps === undefined, accepted(s), `form ${s}: ${form.errors.jumps}`);
    const stored = profileFieldErrors({ ...defaultProfile(), jumps: [s] });
    assert.equal(stored.jumps === undefined, accepted(s), `settings ${s}: ${stored.jumps}`);
  }
});

test('the settings accept every login the grammar accepts (first.last@example.org too)', () => {
  for (const s of SAMPLES.filter(accepted)) {
    const d = destination(s);
    if (d.user === undefined) continue;
    assert.deepEqual(profileFieldErrors({ ...defaultProfile(), user: d.user }), {}, s);
  }
  assert.ok(profileFieldErrors({ ...defaultProfile(), user: 'bad login' }).user);
});

test('a login or port in the Gateway input that contradicts its own input is an error, not a guess', () => {
  const base = defaultSettings();
  const f = settingsToForm(base);
  assert.match(
    formToSettings({ ...f, user: 'alice', gateway: 'bob@gw' }, base).errors.gateway ?? '',
    /^Gateway names the login “bob” but Login says “alice”/,
  );
  assert.match(
    formToSettings({ ...f, port: '2200', gateway: 'gw:2222' }, base).errors.gateway ?? '',
    /^Gateway names port 2222 but Port says 2200/,
  );
  const same = formToSettings({ ...f, user: 'bob', port: '2222', gateway: 'bob@gw:2222' }, base);
  assert.deepEqual(same.errors, {});
});
