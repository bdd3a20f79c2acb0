// OpenSSH host patterns: globs, lists, negation veto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchHostList, matchPattern, matchPatternList } from '../../../../native-host/ssh/pattern.js';

test('matchPattern: * is any run (even empty), ? one character, everything else literal', () => {
  const yes: [string, string][] = [
    ['', '*'],
    ['abc', 'abc'],
    ['abc', 'a*'],
    ['abc', '*c'],
    ['abc', 'a?c'],
    ['aaab', 'a*ab'],
    ['node-1.nancy.grid5000.fr', '*.grid5000.fr'],
    ['[h]:2222', '[h]:*'],
    ['abcabd', '*ab?'],
  ];
  const no: [string, string][] = [
    ['abc', 'ab'],
    ['ab', 'abc'],
    ['ac', 'a?c'],
    ['abc', 'A*'],
    ['grid5000.fr', '*.grid5000.fr'],
    ['abc', '[abc]'],
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '*a*a*a*a*a*a*a*a*a*b'],
  ];
  for (const [s, p] of yes) assert.ok(matchPattern(s, p), `${s} ~ ${p}`);
  for (const [s, p] of no) assert.ok(!matchPattern(s, p), `${s} !~ ${p}`);
});

test('matchPatternList: a matching negation vetoes wherever it stands; lower folds case', () => {
  assert.equal(matchPatternList('a.example', ['*.example', '!a.example'], false), -1);
  assert.equal(matchPatternList('a.example', ['!a.example', '*.example'], false), -1);
  assert.equal(matchPatternList('b.example', ['*.example', '!a.example'], false), 1);
  assert.equal(matchPatternList('b.example', ['!a.example'], false), 0);
  assert.equal(matchPatternList('B.Example', ['*.example'], false), 0);
  assert.equal(matchPatternList('B.Example', ['*.EXAMPLE'], true), 1);
  assert.ok(matchHostList('Node.Grid5000.FR', '*.grid5000.fr,!bad.grid5000.fr'));
  assert.ok(!matchHostList('bad.grid5000.fr', '*.grid5000.fr,!bad.grid5000.fr'));
});
