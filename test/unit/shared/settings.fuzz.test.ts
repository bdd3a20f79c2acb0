// Properties of settings import and migration: whatever is stored or imported, the result is usable
// settings (every field valid, the host accepts the tunnel config) with a bounded list of warnings,
// or a short reason to refuse the file; valid settings survive export and import unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTunnelConfig, HOST_KEY_POLICIES, MODES } from '../../../shared/protocol.js';
import {
  PROFILE_FIELDS,
  SETTINGS_VERSION,
  profileFieldErrors,
  toTunnelConfig,
  type Profile,
  type Settings,
} from '../../../shared/settings.js';
import { exportSettings, importSettings, migrateSettings } from '../../../shared/settings-migrate.js';
import { check, fc } from '../../support/fuzz.js';

/** Warnings stay readable and small whatever the input (64 KiB in all). */
const MAX_WARNING_TEXT = 64 * 1024;
const MAX_ERROR_TEXT = 1000;

type Result = ReturnType<typeof migrateSettings>;

/** Usable settings: what the options page, the PAC builder and the host all accept. */
function assertUsable(r: Result): void {
  const s = r.settings;
  assert.equal(s.version, SETTINGS_VERSION);
  assert.ok((MODES as readonly string[]).includes(s.startupMode), s.startupMode);
  assert.ok(s.profiles.length >= 1 && s.profiles.length <= 50, `${s.profiles.length} profiles`);
  const ids = s.profiles.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, `ids ${ids.join(', ')}`);
  assert.ok(ids.includes(s.activeProfileId));
  for (const p of s.profiles) {
    assert.deepEqual(Object.keys(p).sort(), [...PROFILE_FIELDS].sort());
    // bad pattern lines are kept for the user to fix (and warned about); every other field is valid
    const { patterns: _kept, ...errors } = profileFieldErrors(p);
    assert.deepEqual(errors, {}, JSON.stringify(p).slice(0, 500));
    assert.equal(checkTunnelConfig(toTunnelConfig(p)), null, JSON.stringify(p).slice(0, 500));
  }
  assert.ok(Array.isArray(r.warnings));
  let size = 0;
  for (const w of r.warnings) {
    assert.equal(typeof w, 'string');
    size += w.length;
  }
  assert.ok(size <= MAX_WARNING_TEXT, `${r.warnings.length} warnings, ${size} characters`);
  // usable settings are stable: stored again and read back, they come back the same
  const stored = JSON.parse(JSON.stringify(s));
  const again = migrateSettings(stored);
  assert.deepEqual(again.settings, stored);
  assert.ok(
    again.warnings.every((w) => / Patterns line \d+:|^…and \d+ more warnings$/.test(w)),
    again.warnings.join('\n').slice(0, 500),
  );
}

function assertImported(r: ReturnType<typeof importSettings>): void {
  if (!r.ok) {
    assert.equal(typeof r.error, 'string');
    assert.ok(r.error.length > 0 && r.error.length <= MAX_ERROR_TEXT, `${r.error.length}: ${r.error.slice(0, 200)}`);
  } else assertUsable(r.value);
}

// ---------- valid settings ----------

const hostName = fc.oneof(
  fc.domain().filter((d) => d.length <= 253),
  fc.stringMatching(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,39}$/),
  fc.ipV6(),
);
const login = fc.stringMatching(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,19}$/);
// names near the length limit come up now and then
const longName = fc.integer({ min: 200, max: 253 }).map((n) => 'x'.repeat(n));
const jump = fc
  .tuple(
    fc.option(login),
    fc.oneof(
      { weight: 5, arbitrary: fc.stringMatching(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,39}$/) },
      { weight: 2, arbitrary: fc.ipV6().map((a) => `[${a}]`) },
      { weight: 1, arbitrary: longName },
    ),
  )
  .chain(([user, host]) =>
    fc
      .option(fc.integer({ min: 1, max: 65535 }))
      .map((port) => `${user ? `${user}@` : ''}${host}${port ? `:${port}` : ''}`),
  );
const path = fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => !/[\0\n\r]/.test(s));
const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
const hostGlob = fc
  .tuple(fc.boolean(), fc.array(label, { minLength: 1, maxLength: 4 }))
  .map(([wild, labels]) => `${wild ? '*.' : ''}${labels.join('.')}`);
const patternLines = fc
  .tuple(
    fc.array(hostGlob, { minLength: 1, maxLength: 5 }),
    fc.array(
      fc.oneof(
        hostGlob.map((h) => `!${h}`),
        fc.constantFrom('', '# note', '10.0.0.0/8', '!fd00::/8'),
      ),
      {
        maxLength: 4,
      },
    ),
  )
  .chain(([include, rest]) =>
    // a long list now and then (a profile may hold 1000 lines; the host once took only 256)
    fc
      .oneof({ weight: 19, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 250, max: 400 }) })
      .map((more) => [...include, ...rest, ...Array.from({ length: more }, (_, i) => `h${i}.example`)]),
  );

const profile: fc.Arbitrary<Profile> = fc.record(
  {
    id: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    name: fc.string({ minLength: 1, maxLength: 64 }).filter((s) => s.trim() !== ''),
    user: fc.oneof(fc.constant(''), login),
    gateway: hostName,
    port: fc.integer({ min: 0, max: 65535 }),
    jumps: fc.array(jump, { maxLength: 4 }),
    identityFile: path,
    useAgent: fc.boolean(),
    socksPort: fc.integer({ min: 1, max: 65535 }),
    patterns: patternLines,
    idleTimeoutSec: fc.integer({ min: 0, max: 604800 }),
    keepaliveIntervalSec: fc.integer({ min: 0, max: 3600 }),
    keepaliveCountMax: fc.integer({ min: 1, max: 100 }),
    connectTimeoutSec: fc.integer({ min: 1, max: 600 }),
    strictHostKeyChecking: fc.constantFrom(...HOST_KEY_POLICIES),
    knownHostsFile: path,
    restrictToPatterns: fc.boolean(),
    maxConnections: fc.integer({ min: 1, max: 16 }),
  },
  { noNullPrototype: true },
);

const settings: fc.Arbitrary<Settings> = fc
  .tuple(
    fc.uniqueArray(profile, { minLength: 1, maxLength: 4, selector: (p) => p.id }),
    fc.nat(),
    fc.constantFrom(...MODES),
  )
  .map(([profiles, active, startupMode]) => ({
    version: SETTINGS_VERSION,
    activeProfileId: profiles[active % profiles.length]!.id,
    startupMode,
    profiles,
  }));

test('valid settings come back unchanged and warning-free from export then import', () => {
  check(
    fc.property(settings, (s) => {
      assert.deepEqual(importSettings(exportSettings(s)), {
        ok: true,
        value: { settings: s, warnings: [], migratedFrom: null },
      });
      for (const p of s.profiles) assert.equal(checkTunnelConfig(toTunnelConfig(p)), null);
    }),
  );
});

// ---------- anything else ----------

/** Valid settings with fields replaced by any JSON value, or removed. */
const damaged: fc.Arbitrary<unknown> = fc
  .tuple(
    settings,
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.oneof(fc.jsonValue(), fc.string({ unit: 'binary' })), fc.boolean()), {
      minLength: 1,
      maxLength: 6,
    }),
  )
  .map(([s, changes]) => {
    const data = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
    const profiles = data.profiles as Record<string, unknown>[];
    for (const [which, field, value, remove] of changes) {
      const top = which % (profiles.length + 1) === profiles.length;
      const target = top ? data : profiles[which % profiles.length]!;
      const keys = top ? ['version', 'activeProfileId', 'startupMode', 'profiles'] : PROFILE_FIELDS;
      const key = keys[field % keys.length]!;
      if (remove) delete target[key];
      else target[key] = value;
      if (top && key === 'profiles') break; // the profiles list itself was replaced
    }
    return data;
  });

/** Version 1 files: the old flat shape, with any values. */
const v1 = fc.record(
  {
    version: fc.constant(1),
    login: fc.oneof(login, fc.jsonValue()),
    gateway: fc.oneof(hostName, fc.jsonValue()),
    port: fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.jsonValue()),
    socksPort: fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.jsonValue()),
    patterns: fc.oneof(
      patternLines.map((l) => l.join('\n')),
      fc.string({ unit: fc.constantFrom(...'ab*.!/:[] \n\r#1'.split('')), maxLength: 200 }),
      fc.jsonValue(),
    ),
    identityFile: fc.oneof(path, fc.jsonValue()),
    autoStart: fc.oneof(fc.boolean(), fc.jsonValue()),
    idleMinutes: fc.oneof(fc.double(), fc.integer(), fc.jsonValue()),
  },
  { requiredKeys: ['version'] },
);

const anyJson = fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: 'binary' }), damaged, v1);

test('any stored value migrates to usable settings with bounded warnings, never an exception', () => {
  check(fc.property(anyJson, (stored) => assertUsable(migrateSettings(stored))));
});

test('any file, JSON or not, imports to usable settings or a short reason, never an exception', () => {
  const jsonText = anyJson.map((v) => JSON.stringify(v) ?? '');
  const mangled = jsonText.chain((t) =>
    fc.tuple(fc.nat(t.length), fc.nat(t.length)).map(([a, b]) => t.slice(0, Math.min(a, b)) + t.slice(Math.max(a, b))),
  );
  check(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), jsonText, mangled), (text) =>
      assertImported(importSettings(text)),
    ),
  );
});

// ---------- size ----------

const MB = 1_000_000;
/** A file just under the 1 MB import limit, built to make many long warnings. */
const hugeFile = fc
  .record({
    profiles: fc.integer({ min: 1, max: 60 }),
    nameShare: fc.double({ min: 0, max: 0.95, noNaN: true }),
    badLine: fc.constantFrom('!', 'a b', 'http://x/', '[::1', 'x:80', 'é.fr', '999.1.1.1'),
    lineLength: fc.integer({ min: 1, max: 1024 }),
    where: fc.constantFrom('name', 'activeProfileId', 'version', 'patterns', 'gateway'),
  })
  .map(({ profiles, nameShare, badLine, lineLength, where }) => {
    const budget = MB - 2000;
    const nameLength = Math.floor((budget * nameShare) / profiles);
    const perProfile = Math.floor((budget * (1 - nameShare)) / profiles);
    // a bad line padded to lineLength where its message quotes it (spaces keep it one bad line)
    const line = badLine === 'a b' ? `a${' b'.repeat(Math.max(1, lineLength >> 1))}`.slice(0, 1024) : badLine;
    const lines = Math.max(1, Math.min(1000, Math.floor(perProfile / (line.length + 3))));
    const long = 'n'.repeat(nameLength);
    const list = Array.from({ length: profiles }, (_, i) => ({
      id: `p${i}`,
      name: where === 'name' ? long : `P${i}`,
      gateway: where === 'gateway' ? `${long} x` : 'access.grid5000.fr',
      patterns: Array<string>(lines).fill(line),
    }));
    const data: Record<string, unknown> = { version: 2, activeProfileId: 'p0', profiles: list };
    if (where === 'activeProfileId') data.activeProfileId = long;
    let text = JSON.stringify(data);
    if (where === 'version') text = JSON.stringify({ version: long, profiles: [{}] });
    return text.length <= MB ? text : `${text.slice(0, MB - 2)}]}`;
  });

test('a file near the 1 MB limit gives at most 64 KiB of warnings, however it is built', () => {
  check(
    fc.property(hugeFile, (text) => {
      const started = Date.now();
      assertImported(importSettings(text));
      assert.ok(Date.now() - started < 5000, `import took ${Date.now() - started} ms`);
    }),
    { scale: 0.03 },
  );
});

// ---------- examples the properties found ----------

test('a long profile name quoted in a thousand warnings stays a short list of short lines', () => {
  const name = 'n'.repeat(990_000);
  const parsed = importSettings(
    JSON.stringify({ version: 2, profiles: [{ id: 'a', name, patterns: Array(1000).fill('!') }] }),
  );
  assert.ok(parsed.ok);
  const r = parsed.value;
  // once 1001 warnings quoting the name in full: close to a gigabyte of text
  assert.equal(r.warnings.length, 51);
  assert.match(r.warnings[0]!, /^Profile 1 \(n{60}…\): Profile name must be 1-64 characters/);
  assert.match(r.warnings[1]!, /^Profile 1 \(n{60}…\): Patterns line 1: “!” alone excludes nothing/);
  assert.equal(r.warnings[50], '…and 951 more warnings');
  assert.ok(r.warnings.every((w) => w.length <= 301));
});

test('a huge version or active profile id is quoted short', () => {
  const long = 'v'.repeat(900_000);
  const refused = importSettings(JSON.stringify({ version: long, profiles: [{}] }));
  assert.equal(refused.ok, false);
  assert.match(refused.ok ? '' : refused.error, /^Unknown settings version "v{59}…: this file cannot be imported\.$/);
  const r = migrateSettings({ version: 2, activeProfileId: long, profiles: [{ id: 'a' }] });
  assert.deepEqual(r.warnings, [`Settings: the active profile “${'v'.repeat(60)}…” does not exist; using a`]);
});

test('a jump host longer than a host name is refused, not passed on for the host to refuse', () => {
  const base = { version: 2, profiles: [{ id: 'a', jumps: [`${'x'.repeat(1100)}:22`] }] };
  const r = migrateSettings(base);
  assert.deepEqual(r.settings.profiles[0]!.jumps, []);
  assert.match(
    r.warnings.join('\n'),
    /Jump hosts “x{60}…” must be written \[login@\]host\[:port\].*host name has at most 253 characters.*; reset to \[\]/,
  );
  const login = migrateSettings({ ...base, profiles: [{ id: 'a', jumps: [`${'u'.repeat(256)}@host`] }] });
  assert.match(login.warnings.join('\n'), /Jump hosts “u{60}…” must be written .*user name has at most 255 characters/);
  const ok = migrateSettings({ ...base, profiles: [{ id: 'a', jumps: [`${'u'.repeat(64)}@${'h'.repeat(253)}:22`] }] });
  assert.deepEqual(ok.warnings, []);
  assert.equal(checkTunnelConfig(toTunnelConfig(ok.settings.profiles[0]!)), null);
});

test('a profile restricted to 1000 pattern lines gives a tunnel config the host accepts', () => {
  const patterns = Array.from({ length: 1000 }, (_, i) => `h${i}.example`);
  const r = migrateSettings({ version: 2, profiles: [{ id: 'a', patterns, restrictToPatterns: true }] });
  assert.deepEqual(r.warnings, []);
  // the host took only 256 lines, so such a profile could never connect
  assert.equal(checkTunnelConfig(toTunnelConfig(r.settings.profiles[0]!)), null);
});

test('a version or active profile id that is a list or an object is named by its kind, never converted', () => {
  // String() of {"toString": []} throws, JSON.stringify of a deeply nested list overflows the stack
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const refused = importSettings(`{"version": ${deep}}`);
  assert.deepEqual(refused, { ok: false, error: 'Unknown settings version a list: this file cannot be imported.' });
  const odd = importSettings('{"version": {"toString": []}}');
  assert.deepEqual(odd, { ok: false, error: 'Unknown settings version an object: this file cannot be imported.' });
  assert.deepEqual(migrateSettings({ version: JSON.parse(deep) }).warnings, [
    'Settings: unknown settings version a list; using defaults',
  ]);
  for (const [active, shown] of [
    [{ toString: [] }, 'an object'],
    [JSON.parse(deep), 'a list'],
    [7, '7'],
  ] as const) {
    const r = migrateSettings({ version: 2, activeProfileId: active, profiles: [{ id: 'a' }] });
    assert.deepEqual(r.warnings, [`Settings: the active profile “${shown}” does not exist; using a`]);
  }
});
