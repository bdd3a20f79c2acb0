// What the mode and the settings decide: whether a connection is still wanted, why a CONNECT is
// refused at once, when the last connection closes for want of use, and what a timed-out CONNECT hears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeError } from '../../../../shared/errors.js';
import { lastIdleMs, refusal, waitTimeoutMessage, wantsConnection } from '../../../../native-host/tunnel/policy.js';

test('On mode always wants a connection, Off mode never', () => {
  assert.equal(wantsConnection('on', { idleTimeoutSec: 60 }, 0, 0, 1e9), true);
  assert.equal(wantsConnection('off', { idleTimeoutSec: 0 }, 3, 1e9, 1e9), false);
});

test('Auto mode wants one while CONNECTs wait, while used within the idle timeout, or with no timeout', () => {
  const now = 1_000_000;
  assert.equal(wantsConnection('auto', { idleTimeoutSec: 60 }, 1, 0, now), true, 'a CONNECT waits');
  assert.equal(wantsConnection('auto', { idleTimeoutSec: 0 }, 0, 0, now), true, 'no idle timeout');
  assert.equal(wantsConnection('auto', { idleTimeoutSec: 60 }, 0, now - 59_999, now), true, 'used just now');
  assert.equal(wantsConnection('auto', { idleTimeoutSec: 60 }, 0, now - 60_000, now), false, 'unused for the timeout');
});

test('CONNECTs are refused at once when off or in error, with the error said', () => {
  assert.equal(refusal('off', 'off', undefined), 'the tunnel is off');
  const err = makeError('AUTH_FAILED', 'publickey');
  assert.equal(refusal('on', 'error', err), `the tunnel needs attention: ${err.message}`);
  assert.equal(refusal('auto', 'error', undefined), 'the tunnel needs attention: error');
  for (const state of ['idle', 'connecting', 'connected', 'reconnecting'] as const)
    assert.equal(refusal('auto', state, err), null, state);
});

test('the last connection closes when unused only in Auto mode with an idle timeout', () => {
  assert.equal(lastIdleMs('auto', { idleTimeoutSec: 300 }), 300_000);
  assert.equal(lastIdleMs('auto', { idleTimeoutSec: 0 }), 0);
  assert.equal(lastIdleMs('on', { idleTimeoutSec: 300 }), 0);
  assert.equal(lastIdleMs('off', { idleTimeoutSec: 300 }), 0);
});

test('a CONNECT that waited too long hears the gateway, the wait in seconds and the state', () => {
  assert.equal(
    waitTimeoutMessage('access.grid5000.fr', 15_400, 'reconnecting'),
    'no SSH connection to access.grid5000.fr after 15 s (reconnecting)',
  );
});
