import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formToSettings, settingsToForm } from '../../../../extension/options/profile-form.js';
import { activeProfile, defaultSettings } from '../../../../shared/settings.js';

describe('options form', () => {
  it('round-trips the settings unchanged', () => {
    const s = defaultSettings();
    const { settings, errors } = formToSettings(settingsToForm(s), s);
    assert.deepEqual(errors, {});
    assert.deepEqual(settings, s);
  });

  it('reads jumps like ssh -J and patterns one per line', () => {
    const s = defaultSettings();
    const form = {
      ...settingsToForm(s),
      user: ' jdoe ',
      jumps: 'a@jump1.example, jump2.example:2222',
      patterns: '*.grid5000.fr\n\n  !www.grid5000.fr  \n',
    };
    const { settings, errors } = formToSettings(form, s);
    assert.deepEqual(errors, {});
    const p = activeProfile(settings);
    assert.equal(p.user, 'jdoe');
    assert.deepEqual(p.jumps, ['a@jump1.example', 'jump2.example:2222']);
    assert.deepEqual(p.patterns, ['*.grid5000.fr', '!www.grid5000.fr']);
  });

  it('reports each bad field under its own input id, with its label', () => {
    const s = defaultSettings();
    const form = {
      ...settingsToForm(s),
      port: '22x',
      socksPort: '70000',
      gateway: 'https://access.grid5000.fr',
      patterns: 'http://intranet.grid5000.fr/',
      startupMode: 'sometimes',
    };
    const { errors } = formToSettings(form, s);
    assert.match(errors.port ?? '', /^Port must be a whole number/);
    assert.match(errors.socksPort ?? '', /^SOCKS port must be a whole number from 0 to 65535/);
    assert.match(errors.gateway ?? '', /^Gateway must be a host name, not a URL/);
    assert.match(errors.patterns ?? '', /URL/);
    assert.match(errors.startupMode ?? '', /off, auto, on/);
    assert.equal(errors.user, undefined);
  });

  it('reads the number of SSH connections, 1 to 16', () => {
    const s = defaultSettings();
    assert.equal(
      activeProfile(formToSettings({ ...settingsToForm(s), maxConnections: '4' }, s).settings).maxConnections,
      4,
    );
    assert.match(
      formToSettings({ ...settingsToForm(s), maxConnections: '17' }, s).errors.maxConnections ?? '',
      /^SSH connections must be/,
    );
    assert.match(
      formToSettings({ ...settingsToForm(s), maxConnections: 'two' }, s).errors.maxConnections ?? '',
      /^SSH connections must be/,
    );
  });

  it('keeps the startup mode chosen', () => {
    const s = defaultSettings();
    const { settings } = formToSettings({ ...settingsToForm(s), startupMode: 'on' }, s);
    assert.equal(settings.startupMode, 'on');
  });

  it('carries the "Only allow pattern hosts" box both ways (ticked by default)', () => {
    const s = defaultSettings();
    assert.equal(settingsToForm(s).restrictToPatterns, true);
    const off = formToSettings({ ...settingsToForm(s), restrictToPatterns: false }, s);
    assert.deepEqual(off.errors, {});
    assert.equal(activeProfile(off.settings).restrictToPatterns, false);
    assert.equal(settingsToForm(off.settings).restrictToPatterns, false);
    const on = formToSettings({ ...settingsToForm(off.settings), restrictToPatterns: true }, off.settings);
    assert.equal(activeProfile(on.settings).restrictToPatterns, true);
  });
});
