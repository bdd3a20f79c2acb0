// ssh_config parsing: words, values, and what ssh would refuse; each expectation was checked against
// `ssh -G` (OpenSSH 9.2), and test/integration/ssh-config-oracle.test.ts compares with it live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convtime, parseSshConfig, splitArgs } from '../../../../native-host/ssh/config-parse.js';
import { resolveHostConfig, type ResolveContext } from '../../../../native-host/ssh/config-resolve.js';

const ctx: ResolveContext = { localUser: 'me', home: '/home/me', localHost: 'laptop.example.org', uid: 1000 };

test('splitArgs follows OpenSSH: quotes, escapes, # ends the line only at a word start', () => {
  assert.deepEqual(splitArgs('a "b c" \'d e\' f\\ g h#i # rest'), ['a', 'b c', 'd e', 'f g', 'h#i']);
  assert.deepEqual(splitArgs('x"y z"w'), ['xy zw']);
  assert.deepEqual(splitArgs('"\\"q\\""'), ['"q"']);
  assert.throws(() => splitArgs('"open'), /unbalanced/);
});

test('convtime reads seconds with s/m/h/d/w units', () => {
  assert.equal(convtime('15'), 15);
  assert.equal(convtime('1m'), 60);
  assert.equal(convtime('1h30m'), 5400);
  assert.equal(convtime('2W'), 1209600);
  assert.equal(convtime('1x'), null);
  assert.equal(convtime(''), null);
});

test('parseSshConfig: Key Value, Key=Value, Key = "quoted", case-insensitive keywords, comments', () => {
  const { blocks, errors, includes } = parseSshConfig(
    [
      '# top',
      'Port=2200',
      'HOST=gw other',
      '  user = "j doe" # trailing',
      '\tIdentityFile ~/.ssh/id_g5k',
      'Include a.conf "b c.conf"',
      '',
    ].join('\n'),
    'f',
  );
  assert.deepEqual(errors, []);
  assert.equal(blocks.length, 2);
  assert.deepEqual(blocks[0], {
    kind: 'host',
    patterns: ['*'],
    options: [['port', '2200']],
    optionLines: [2],
    file: 'f',
    line: 0,
  });
  assert.deepEqual(blocks[1]!.patterns, ['gw', 'other']);
  assert.deepEqual(blocks[1]!.options[0], ['user', '"j doe" # trailing']);
  assert.deepEqual(blocks[1]!.optionLines, [4, 5, 6]);
  assert.deepEqual(includes, [{ line: 6, paths: ['a.conf', 'b c.conf'] }]);
});

test('parseSshConfig reports what ssh would refuse, with line numbers, and skips those lines', () => {
  const text = [
    'Host a', // 1
    '  Port 0', // 2
    '  Port 22 23', // 3
    '  StrictHostKeyChecking maybe', // 4
    '  User "unbalanced', // 5
    '  ServerAliveInterval soon', // 6
    '  ProxyJump a,,b', // 7
    '  IdentitiesOnly perhaps', // 8
    '  HostName', // 9
    'Match exec "true"', // 10
    'Match all host x', // 11
    'Match bogus x', // 12
    'Host ""', // 13
    '  User trapped', // 14
  ].join('\n');
  const { blocks, errors } = parseSshConfig(text, 'f');
  const byLine = new Map(errors.map((e) => [e.line, e.message]));
  assert.deepEqual([...byLine.keys()], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  assert.match(byLine.get(2)!, /bad port "0"/);
  assert.match(byLine.get(3)!, /extra arguments/);
  assert.match(byLine.get(4)!, /use yes, no, ask or accept-new/);
  assert.match(byLine.get(5)!, /invalid quotes/);
  assert.match(byLine.get(6)!, /ServerAliveInterval/);
  assert.match(byLine.get(7)!, /entry 2 is empty/);
  assert.match(byLine.get(8)!, /use yes or no/);
  assert.match(byLine.get(9)!, /no argument/);
  assert.match(byLine.get(10)!, /Match exec: not supported, this block never applies/);
  assert.match(byLine.get(11)!, /cannot be combined/);
  assert.match(byLine.get(12)!, /unknown Match criterion/);
  assert.match(byLine.get(13)!, /empty Host pattern/);
  assert.deepEqual(blocks[0]!.options, [], 'bad lines are left out');
  // the options under a broken Host line stay in a block that never applies
  const cfg = resolveHostConfig(blocks, 'a', ctx);
  assert.equal(cfg.user, undefined);
});
