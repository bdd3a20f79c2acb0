// restrictTo: an empty list serves everything; otherwise only what its rules match, and a list of
// nothing but comments or mistakes serves nothing (the mistakes logged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TunnelConfig } from '../../../../shared/protocol.js';
import type { Logger } from '../../../../native-host/log.js';
import { accessOf } from '../../../../native-host/tunnel/access.js';

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return { lines, debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

const config = (restrictTo: string[]) => ({ restrictTo }) as unknown as TunnelConfig;

test('no restrictTo line: every host is served', () => {
  const allows = accessOf(config([]), logger());
  assert.equal(allows('example.org'), true);
  assert.equal(allows('nancy.grid5000.fr'), true);
});

test('restrictTo lines: only the hosts they match', () => {
  const allows = accessOf(config(['*.grid5000.fr']), logger());
  assert.equal(allows('api.grid5000.fr'), true);
  assert.equal(allows('example.org'), false);
});

test('only comments or unreadable lines: nothing is served, and the mistakes are logged', () => {
  const log = logger();
  const allows = accessOf(config(['# a comment', '[::1']), log);
  assert.equal(allows('example.org'), false);
  assert.equal(allows('api.grid5000.fr'), false);
  assert.ok(
    log.lines.some((l) => l.startsWith('warn restrictTo "[::1"')),
    log.lines.join('\n'),
  );
});
