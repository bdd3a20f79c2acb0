import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTunnelConfig } from '../../../shared/protocol.js';
import {
  SETTINGS_VERSION,
  activeProfile,
  defaultProfile,
  defaultSettings,
  DEFAULT_PATTERNS,
  profileFieldErrors,
  toTunnelConfig,
  validateProfile,
  type Settings,
} from '../../../shared/settings.js';
import {
  exportSettings,
  importSettings,
  migrateSettings,
  addG5kNamesAndNodes,
  V3_NEW_PATTERNS,
} from '../../../shared/settings-migrate.js';
import type { Parsed } from '../../../shared/parsed.js';

/** What an accepted import gives; fails when the file was refused. */
function imported<T>(r: Parsed<T>): T {
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.value;
}

const V1 = {
  version: 1,
  login: 'jdoe',
  gateway: 'access.grid5000.fr',
  port: 2222,
  socksPort: 1081,
  patterns: '*.grid5000.fr\n\n!www.grid5000.fr\r\n  10.0.0.0/8  \n',
  identityFile: '~/.ssh/id_g5k',
  autoStart: false,
  idleMinutes: 15,
};

function custom(): Settings {
  const s = defaultSettings();
  const second = {
    ...defaultProfile(),
    id: 'inria',
    name: 'Inria',
    user: 'jdoe',
    gateway: 'bastion.example',
    jumps: ['jdoe@access.grid5000.fr:22', '[fd00::1]'],
    patterns: ['*.inria.fr', '!www.inria.fr', 'fd00::/8'],
    strictHostKeyChecking: 'accept-new' as const,
    maxConnections: 4,
    restrictToPatterns: true,
  };
  return { ...s, activeProfileId: 'inria', startupMode: 'on', profiles: [...s.profiles, second] };
}

test('nothing stored gives the defaults, with no warning', () => {
  for (const stored of [undefined, null, {}]) {
    const r = migrateSettings(stored);
    assert.deepEqual(r.settings, defaultSettings());
    assert.equal(r.migratedFrom, null);
    assert.deepEqual(r.warnings, []);
  }
});

test('the defaults are valid and give a tunnel config the host accepts', () => {
  assert.deepEqual(validateProfile(defaultProfile()), []);
  assert.equal(checkTunnelConfig(toTunnelConfig(defaultProfile())), null);
  assert.equal(defaultSettings().version, SETTINGS_VERSION);
});

test('version 1 migrates to the current version keeping every value', () => {
  const r = migrateSettings(structuredClone(V1));
  assert.equal(r.migratedFrom, 1);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.settings.version, SETTINGS_VERSION);
  assert.equal(r.settings.profiles.length, 1);
  const p = activeProfile(r.settings);
  assert.equal(p.user, 'jdoe');
  assert.equal(p.gateway, 'access.grid5000.fr');
  assert.equal(p.port, 2222);
  assert.equal(p.socksPort, 1081);
  assert.deepEqual(p.patterns, ['*.grid5000.fr', '!www.grid5000.fr', '10.0.0.0/8']);
  assert.equal(p.identityFile, '~/.ssh/id_g5k');
  assert.equal(p.idleTimeoutSec, 900);
  assert.equal(p.restrictToPatterns, true, 'version 1 had no restriction setting: the new default');
  assert.equal(migrateSettings({ ...V1, socksPort: 1080 }).settings.profiles[0]!.socksPort, 0, '1080 → automatic');
  assert.equal(r.settings.startupMode, 'off');
  assert.equal(migrateSettings({ ...V1, autoStart: true }).settings.startupMode, 'auto');
  assert.deepEqual(validateProfile(p), []);
});

test('a bad field takes its default, with a warning that names it; the good ones are kept', () => {
  const r = migrateSettings({ ...V1, socksPort: 'ten-eighty', login: 'j doe' });
  const p = activeProfile(r.settings);
  assert.equal(p.socksPort, 0);
  assert.equal(p.user, '');
  assert.equal(p.gateway, 'access.grid5000.fr');
  assert.equal(p.port, 2222);
  assert.equal(r.warnings.length, 2);
  assert.match(
    r.warnings.join('\n'),
    /SOCKS port must be a whole number from 0 to 65535 \(0 = automatic\); reset to 0/,
  );
  assert.match(r.warnings.join('\n'), /Login must be/);

  const v2 = custom();
  (v2.profiles[1] as unknown as Record<string, unknown>).maxConnections = 99;
  (v2.profiles[1] as unknown as Record<string, unknown>).strictHostKeyChecking = 'maybe';
  const r2 = migrateSettings(v2);
  const inria = r2.settings.profiles[1]!;
  assert.equal(inria.maxConnections, 1);
  assert.equal(inria.strictHostKeyChecking, 'ask');
  assert.equal(inria.gateway, 'bastion.example');
  assert.equal(r2.warnings.length, 2);
  assert.ok(
    r2.warnings.every((w) => w.startsWith('Profile 2 (Inria)')),
    r2.warnings.join('\n'),
  );
});

test('version 2 is validated: bad top-level values, duplicate ids and non-profiles are repaired', () => {
  const s = custom() as unknown as Record<string, unknown>;
  const profiles = s.profiles as Record<string, unknown>[];
  profiles.push({ ...profiles[1], name: 'Copy' }, 'junk' as never);
  s.startupMode = 'sometimes';
  s.activeProfileId = 'gone';
  const r = migrateSettings(s);
  assert.equal(r.migratedFrom, null);
  assert.deepEqual(
    r.settings.profiles.map((p) => p.id),
    ['grid5000', 'inria', 'inria-2'],
  );
  assert.equal(r.settings.startupMode, 'auto');
  assert.equal(r.settings.activeProfileId, 'grid5000');
  const text = r.warnings.join('\n');
  assert.match(text, /used twice; renamed inria-2/);
  assert.match(text, /Profile 4: not a profile; dropped/);
  assert.match(text, /Startup mode must be one of off, auto, on/);
  assert.match(text, /active profile “gone” does not exist/);
});

test('valid current settings come back unchanged and warning-free', () => {
  const s = custom();
  const r = migrateSettings(structuredClone(s));
  assert.deepEqual(r.settings, s);
  assert.deepEqual(r.warnings, []);
  for (const p of r.settings.profiles) assert.equal(checkTunnelConfig(toTunnelConfig(p)), null);
});

test('a missing field in a stored profile takes its default quietly (older save)', () => {
  const { maxConnections: _drop, ...older } = defaultProfile();
  const r = migrateSettings({
    version: 2,
    activeProfileId: 'grid5000',
    startupMode: 'on',
    profiles: [{ ...older, user: 'jdoe' }],
  });
  assert.deepEqual(r.warnings, []);
  assert.equal(r.settings.profiles[0]!.maxConnections, 1);
  assert.equal(r.settings.profiles[0]!.user, 'jdoe');
});

test('bad pattern lines are kept for the options page but warned about', () => {
  const r = migrateSettings({ ...V1, patterns: '*.grid5000.fr\nhttp://intranet.grid5000.fr/' });
  assert.deepEqual(activeProfile(r.settings).patterns, ['*.grid5000.fr', 'http://intranet.grid5000.fr/']);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /Patterns line 2: This is a URL/);
});

test('an unknown future version, or garbage, gives defaults and a warning, never a crash', () => {
  for (const stored of [
    { version: SETTINGS_VERSION + 1, profiles: 'new shape' },
    { version: '2' },
    { version: 2.5, profiles: [] },
    { login: 'x' },
    'text',
    42,
    [1, 2],
  ]) {
    const r = migrateSettings(stored);
    assert.deepEqual(r.settings, defaultSettings(), JSON.stringify(stored));
    assert.equal(r.warnings.length, 1, JSON.stringify(stored));
  }
  assert.match(
    migrateSettings({ version: SETTINGS_VERSION + 1 }).warnings[0]!,
    /newer g5k-tunnel.*Update the extension/,
  );
  assert.match(migrateSettings({ version: 2, profiles: [] }).warnings[0]!, /no profiles/);
});

test('validateProfile gives one clear message per bad field', () => {
  const bad = {
    ...defaultProfile(),
    gateway: 'jdoe@access.grid5000.fr',
    port: 70000,
    socksPort: 70000,
    jumps: ['jdoe@', 'ok.example'],
    patterns: ['*.grid5000.fr', 'grid5000.fr/path'],
    identityFile: 'a\nb',
    useAgent: 'yes',
  };
  const messages = validateProfile(bad);
  assert.equal(messages.length, 7, messages.join('\n'));
  const text = messages.join('\n');
  assert.match(text, /^Gateway: must not include the login: put it in the Login field$/m);
  assert.match(text, /^Port: must be a whole number from 0 to 65535/m);
  assert.match(text, /^SOCKS port: must be a whole number from 0 to 65535 \(0 = automatic\)$/m);
  assert.match(text, /^Jump hosts: “jdoe@” must be written \[login@\]host\[:port\]/m);
  assert.match(text, /^Patterns: line 2: .*path/m);
  assert.match(text, /^Identity file: must be a single-line file path$/m);
  assert.match(text, /^Use ssh-agent: must be true or false$/m);

  assert.match(validateProfile({ ...defaultProfile(), gateway: 'https://access.grid5000.fr/' })[0]!, /not a URL/);
  assert.match(validateProfile({ ...defaultProfile(), gateway: 'access.grid5000.fr:22' })[0]!, /Port field/);
  assert.deepEqual(validateProfile({ ...defaultProfile(), gateway: 'g5k', jumps: ['[fd00::1]:2222', 'a@b'] }), []);
  assert.match(
    validateProfile({ ...defaultProfile(), patterns: ['!www.grid5000.fr'] })[0]!,
    /^Patterns: none of them routes/,
  );
  assert.deepEqual(validateProfile('nope'), ['The profile must be an object']);
  assert.deepEqual(Object.keys(profileFieldErrors({ ...defaultProfile(), socksPort: 1.5 })), ['socksPort']);
});

test('export then import gives the same settings', () => {
  const s = custom();
  const text = exportSettings(s);
  assert.match(text, new RegExp(`^\\{\\n {2}"version": ${SETTINGS_VERSION},`), 'pretty JSON');
  const r = imported(importSettings(text));
  assert.deepEqual(r.settings, s);
  assert.deepEqual(r.warnings, []);
});

test('import accepts a version 1 file and converts it', () => {
  const r = imported(importSettings(`\uFEFF${JSON.stringify(V1)}`));
  assert.equal(r.migratedFrom, 1);
  assert.equal(activeProfile(r.settings).user, 'jdoe');
});

test('import refuses what it cannot use, with a reason, and never throws', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['{"version": 2, "profiles": [', /not valid JSON/],
    ['[1,2]', /not a g5k-tunnel settings file/],
    ['{"hello": "world"}', /not a g5k-tunnel settings file/],
    ['{"version": 7, "profiles": []}', /newer g5k-tunnel.*update the extension/],
    ['{"version": "two"}', /Unknown settings version/],
    ['{"version": 2}', /no profile/],
    ['{"version": 1}', /holds no setting/],
    [' '.repeat(1_000_001), /too large/],
  ];
  for (const [text, expected] of cases) {
    const r = importSettings(text);
    assert.equal(r.ok, false, `${text.slice(0, 40)} should be refused`);
    assert.match(r.ok ? '' : r.error, expected);
  }
  assert.equal(importSettings(undefined as unknown as string).ok, false);
});

test('profile and tunnel config share one field table: what a profile accepts, the host accepts', () => {
  // 500 patterns used as restrictTo: within the one limit both sides apply
  const many = {
    ...defaultProfile(),
    restrictToPatterns: true,
    patterns: Array.from({ length: 500 }, (_, i) => `h${i}.example`),
  };
  assert.deepEqual(validateProfile(many), []);
  assert.equal(checkTunnelConfig(toTunnelConfig(many)), null);
  // a login holding "@" and an ssh:// jump host, as ssh takes them
  const sshLike = { ...defaultProfile(), user: 'first.last@example.org', jumps: ['ssh://u@[fd00::1]:2222'] };
  assert.deepEqual(validateProfile(sshLike), []);
  assert.equal(checkTunnelConfig(toTunnelConfig(sshLike)), null);
  // the same limit, worded for each side
  assert.match(
    validateProfile({ ...defaultProfile(), maxConnections: 17 })[0]!,
    /^SSH connections: must be a whole number from 1 to 16$/,
  );
  assert.equal(
    checkTunnelConfig({ ...toTunnelConfig(defaultProfile()), maxConnections: 17 }),
    'config.maxConnections must be a whole number from 1 to 16',
  );
  assert.match(checkTunnelConfig({ ...toTunnelConfig(defaultProfile()), jumps: ['@j'] }) ?? '', /^config\.jumps “@j”/);
  assert.equal(checkTunnelConfig([]), 'config must be an object');
});

test('version 2 moves on: the old defaults (port 1080, unrestricted) become automatic and restricted', () => {
  const old = (over: Record<string, unknown>) => ({
    version: 2,
    activeProfileId: 'grid5000',
    startupMode: 'auto',
    profiles: [{ ...defaultProfile(), socksPort: 1080, restrictToPatterns: false, ...over }],
  });
  const r = migrateSettings(old({}));
  assert.equal(r.migratedFrom, 2);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.settings.version, SETTINGS_VERSION);
  assert.equal(r.settings.profiles[0]!.socksPort, 0);
  assert.equal(r.settings.profiles[0]!.restrictToPatterns, true);
  // a port the user chose stays
  assert.equal(migrateSettings(old({ socksPort: 1081 })).settings.profiles[0]!.socksPort, 1081);
  // a version 3 file keeps what it says, the fixed 1080 and no restriction included
  const v3 = migrateSettings({ ...old({}), version: 3 });
  assert.equal(v3.migratedFrom, 3);
  assert.equal(v3.settings.profiles[0]!.socksPort, 1080);
  assert.equal(v3.settings.profiles[0]!.restrictToPatterns, false);
  const fromFile = imported(importSettings(JSON.stringify(old({}))));
  assert.equal(fromFile.settings.profiles[0]!.socksPort, 0);
});

test('new profiles: automatic port, destinations restricted to the patterns', () => {
  assert.equal(defaultProfile().socksPort, 0);
  assert.equal(defaultProfile().restrictToPatterns, true);
  assert.deepEqual(toTunnelConfig(defaultProfile()).restrictTo, DEFAULT_PATTERNS);
});

test('a restricted profile never sends the "unrestricted" empty list, even with no pattern line', () => {
  const none = toTunnelConfig({ ...defaultProfile(), patterns: [] });
  assert.ok(none.restrictTo.length > 0, 'an empty restrictTo would allow every host');
  assert.equal(checkTunnelConfig(none), null);
  assert.deepEqual(toTunnelConfig({ ...defaultProfile(), restrictToPatterns: false }).restrictTo, []);
  assert.deepEqual(toTunnelConfig({ ...defaultProfile(), patterns: ['# only a comment'] }).restrictTo, [
    '# only a comment',
  ]);
});

// ---------- version 3 → 4: `.g5k` names and node addresses join the defaults ----------

/** Version 2 settings as they were stored, with one profile's patterns. */
function v2With(patterns: string[], id = 'grid5000'): Record<string, unknown> {
  const { patterns: _p, ...rest } = defaultProfile();
  return { version: 2, activeProfileId: id, startupMode: 'auto', profiles: [{ ...rest, id, patterns }] };
}

test('the defaults route .g5k names and node addresses, never all of 172.16.0.0/12', () => {
  assert.deepEqual(DEFAULT_PATTERNS, ['*.grid5000.fr', '*.g5k', '172.16.0.0/16']);
  assert.ok(!DEFAULT_PATTERNS.some((p) => p.endsWith('/12')));
});

test('to version 4: an unmodified default list gets the new entries, with no note', () => {
  const r = migrateSettings(v2With(['*.grid5000.fr']));
  assert.equal(r.migratedFrom, 2);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.settings.version, SETTINGS_VERSION);
  assert.deepEqual(activeProfile(r.settings).patterns, ['*.grid5000.fr', '*.g5k', '172.16.0.0/16']);
  assert.equal(r.settings.newDefaultPatterns, undefined);
});

test('to version 4: a modified list is left alone and noted for the options page', () => {
  const mine = ['*.grid5000.fr', '!www.grid5000.fr', 'intranet.example'];
  const r = migrateSettings(v2With(mine, 'work'));
  assert.deepEqual(activeProfile(r.settings).patterns, mine);
  assert.deepEqual(r.settings.newDefaultPatterns, { work: V3_NEW_PATTERNS });
  // a list that already has one of them is noted for the other only
  const some = migrateSettings(v2With(['*.grid5000.fr', '*.G5K']));
  assert.deepEqual(activeProfile(some.settings).patterns, ['*.grid5000.fr', '*.G5K']);
  assert.deepEqual(some.settings.newDefaultPatterns, { grid5000: ['172.16.0.0/16'] });
  // one that has them all needs no note
  const all = migrateSettings(v2With(['172.16.0.0/16', '*.g5k', '*.inria.fr']));
  assert.equal(all.settings.newDefaultPatterns, undefined);
});

test('to version 4 looks at every profile; version 1 goes through it too', () => {
  const s = addG5kNamesAndNodes({
    ...defaultSettings(),
    profiles: [
      { ...defaultProfile(), id: 'a', patterns: ['*.grid5000.fr'] },
      { ...defaultProfile(), id: 'b', patterns: ['*.inria.fr'] },
    ],
  });
  assert.deepEqual(s.profiles[0]!.patterns, ['*.grid5000.fr', ...V3_NEW_PATTERNS]);
  assert.deepEqual(s.profiles[1]!.patterns, ['*.inria.fr']);
  assert.deepEqual(s.newDefaultPatterns, { b: V3_NEW_PATTERNS });
  const v1 = migrateSettings({ version: 1, patterns: '*.grid5000.fr\n' });
  assert.deepEqual(activeProfile(v1.settings).patterns, DEFAULT_PATTERNS);
  assert.equal(v1.settings.newDefaultPatterns, undefined);
  assert.deepEqual(migrateSettings(structuredClone(V1)).settings.newDefaultPatterns, { grid5000: V3_NEW_PATTERNS });
});

test('the note is stored with the settings, and dropped for unknown profiles or bad values', () => {
  const noted = { ...defaultSettings(), newDefaultPatterns: { grid5000: ['*.g5k'] } };
  assert.deepEqual(migrateSettings(structuredClone(noted)).settings, noted);
  const r = imported(importSettings(exportSettings(noted)));
  assert.deepEqual(r.settings.newDefaultPatterns, { grid5000: ['*.g5k'] });
  for (const bad of [{ gone: ['*.g5k'] }, { grid5000: 'no' }, { grid5000: [] }, 'x', [1]]) {
    const back = migrateSettings({ ...defaultSettings(), newDefaultPatterns: bad });
    assert.equal(back.settings.newDefaultPatterns, undefined, JSON.stringify(bad));
    assert.deepEqual(back.warnings, []);
  }
  // a version 2 file still imports, through the same step
  const old = imported(importSettings(JSON.stringify(v2With(['*.grid5000.fr']))));
  assert.equal(old.migratedFrom, 2);
  assert.deepEqual(activeProfile(old.settings).patterns, DEFAULT_PATTERNS);
});
