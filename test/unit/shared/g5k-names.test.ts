// `.g5k` names: the name the gateway resolves, as the guide's `basename %h .g5k` gives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayName } from '../../../shared/g5k-names.js';

test('a final .g5k is taken off, whatever its case', () => {
  assert.equal(gatewayName('graphite-3.nancy.g5k'), 'graphite-3.nancy');
  assert.equal(gatewayName('nancy.g5k'), 'nancy');
  assert.equal(gatewayName('Nancy.G5K'), 'Nancy');
  assert.equal(gatewayName('nancy.g5k.'), 'nancy', 'a fully qualified form too');
});

test('every other name is unchanged', () => {
  for (const h of [
    'graphite-3.nancy.grid5000.fr',
    'g5k',
    '.g5k',
    'g5k.nancy',
    'nancy.g5kx',
    'nancyg5k',
    'example.org.',
    '192.0.2.1',
    '::1',
  ])
    assert.equal(gatewayName(h), h, h);
});
