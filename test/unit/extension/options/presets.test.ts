// The Grid'5000 range presets and the "new default patterns" note: what the checkboxes add and
// remove, and when the note shows and goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchHost, parseRules } from '../../../../shared/patterns.js';
import { defaultProfile, defaultSettings, type Settings } from '../../../../shared/settings.js';
import { migrateSettings } from '../../../../shared/settings-migrate.js';
import {
  addLines,
  dropNote,
  missingLines,
  noteEntries,
  PRESETS,
  removeLines,
  settleNote,
} from '../../../../extension/options/presets.js';

const preset = (id: string) => PRESETS.find((p) => p.id === id)!;

test('every preset line is a valid pattern; KaVLAN ranges are routed VLANs, not all of 10.0.0.0/8', () => {
  for (const p of PRESETS) assert.deepEqual(parseRules(p.lines).errors, [], p.id);
  const { rules } = parseRules(preset('kavlan').lines);
  assert.equal(rules.length, 11);
  assert.ok(rules.every((r) => r.kind === 'cidr' && r.prefix === 14 && !r.exclude));
  // a routed VLAN gateway of each kind: Nancy kavlan-4, Nantes kavlan-9, Louvain's global VLAN
  for (const host of ['10.16.63.254', '10.45.127.254', '10.51.255.254', '10.4.0.1'])
    assert.ok(matchHost(rules, host), host);
  // home and lab networks, Bordeaux's unused slot, and the VM subnets are left alone
  for (const host of ['10.0.0.1', '10.1.1.1', '10.3.255.255', '10.20.0.1', '10.52.0.1', '10.144.0.1', '192.168.1.1'])
    assert.ok(!matchHost(rules, host), host);
  const v6 = parseRules(preset('ipv6').lines).rules;
  assert.ok(matchHost(v6, '2001:660:4406:500::1'));
  assert.ok(!matchHost(v6, '2001:660:4407::1'));
});

test('a preset is added once, whatever is already there, and removed however it is commented', () => {
  const mine = '*.grid5000.fr\n10.16.0.0/14\n\n!www.grid5000.fr';
  const kav = preset('kavlan').lines;
  assert.equal(missingLines(mine, kav).length, 10);
  const added = addLines(mine, kav);
  assert.deepEqual(missingLines(added, kav), []);
  assert.equal(added.split('\n').filter((l) => l.startsWith('10.16.0.0/14')).length, 1, 'no duplicate');
  assert.ok(added.startsWith('*.grid5000.fr\n10.16.0.0/14\n!www.grid5000.fr\n'), 'the user’s lines stay first');
  assert.equal(addLines(added, kav), added, 'adding twice changes nothing');
  // removing takes every KaVLAN line out, the user's bare 10.16.0.0/14 included, and nothing else
  assert.equal(removeLines(added, kav), '*.grid5000.fr\n!www.grid5000.fr');
  assert.equal(removeLines('2001:660:4406::/48 # mine\na.example', preset('ipv6').lines), 'a.example');
  assert.equal(addLines('', preset('ipv6').lines), "2001:660:4406::/48 # Grid'5000 IPv6");
});

function noted(patterns: string[]): Settings {
  const { patterns: _p, ...rest } = defaultProfile();
  return migrateSettings({
    version: 2,
    activeProfileId: 'grid5000',
    startupMode: 'auto',
    profiles: [{ ...rest, patterns }],
  }).settings;
}

test('the note offers what the list lacks, and goes once the list has it all', () => {
  const s = noted(['*.grid5000.fr', 'intranet.example']);
  assert.deepEqual(noteEntries(s, s.profiles[0]!.patterns.join('\n')), ['*.g5k', '172.16.0.0/16']);
  // typed into the form already: nothing left to offer
  assert.deepEqual(noteEntries(s, '*.grid5000.fr\n*.g5k\n172.16.0.0/16'), []);
  assert.deepEqual(noteEntries(defaultSettings(), '*.grid5000.fr'), [], 'no note, nothing offered');
  // saved with only one of them: the note stays for the other
  const one = { ...s, profiles: [{ ...s.profiles[0]!, patterns: ['*.grid5000.fr', '*.g5k'] }] };
  assert.deepEqual(settleNote(one).newDefaultPatterns, { grid5000: ['*.g5k', '172.16.0.0/16'] });
  const all = { ...s, profiles: [{ ...s.profiles[0]!, patterns: ['*.g5k', 'x.example', '172.16.0.0/16'] }] };
  assert.equal(settleNote(all).newDefaultPatterns, undefined);
  assert.ok(!('newDefaultPatterns' in settleNote(all)), 'no empty field left behind');
});

test('dismissing drops the active profile’s note only', () => {
  const s: Settings = { ...noted(['a.example']), newDefaultPatterns: { grid5000: ['*.g5k'], other: ['*.g5k'] } };
  assert.deepEqual(dropNote(s).newDefaultPatterns, { other: ['*.g5k'] });
  assert.ok(!('newDefaultPatterns' in dropNote(noted(['a.example']))));
  assert.deepEqual(dropNote(s).profiles, s.profiles);
});
