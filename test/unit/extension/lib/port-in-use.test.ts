// The options page's "in use now" note under the SOCKS port, from the host's status.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { portInUse, portInUseNote } from '../../../../extension/lib/port-in-use.js';
import type { TunnelStatus } from '../../../../shared/protocol.js';

function status(socks: TunnelStatus['socks']): TunnelStatus {
  return {
    state: 'connected',
    mode: 'auto',
    gateway: 'jdoe@access.grid5000.fr',
    jumps: [],
    socks,
    since: 0,
    connections: 1,
    channels: 0,
    bytesUp: 0,
    bytesDown: 0,
    timings: [],
  };
}

test('the port the host reports is the one in use (port 0 resolved to the one it got)', () => {
  assert.equal(portInUse(status({ host: '127.0.0.1', port: 41234 })), 41234);
  assert.equal(portInUseNote(status({ host: '127.0.0.1', port: 41234 })), 'In use now: port 41234.');
});

test('no host yet, no listener, or no real port: nothing is claimed', () => {
  assert.equal(portInUse(null), null);
  assert.equal(portInUse(status(null)), null);
  assert.equal(portInUse(status({ host: '127.0.0.1', port: 0 })), null);
  assert.equal(portInUseNote(null), '');
  assert.equal(portInUseNote(status(null)), '');
});
