// Who holds the browser's proxy (levelOfControl → problem) and which popup box says so. A real
// policy-held proxy needs a machine-wide managed policy file, so the browsers are not driven here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { proxyHolder, proxyWarnings } from '../../../../extension/lib/proxy-control.js';
import { t } from '../../../../extension/i18n/t.js';

test('levelOfControl: another extension, a policy, or ours to set', () => {
  assert.equal(proxyHolder('controlled_by_other_extensions'), 'other-extension');
  assert.equal(proxyHolder('not_controllable'), 'policy');
  assert.equal(proxyHolder('controllable_by_this_extension'), null);
  assert.equal(proxyHolder('controlled_by_this_extension'), null);
  // the settings could not be read (Firefox without private-window access): nothing to claim
  for (const v of [undefined, null, '', 'NOT_CONTROLLABLE', 42]) assert.equal(proxyHolder(v), null, String(v));
});

test('the popup shows the policy box for a policy and the other-extension box for an extension, never both', () => {
  assert.deepEqual(proxyWarnings({ proxyConflict: false, proxyPolicy: false }), { conflict: false, policy: false });
  assert.deepEqual(proxyWarnings({ proxyConflict: true, proxyPolicy: false }), { conflict: true, policy: false });
  assert.deepEqual(proxyWarnings({ proxyConflict: false, proxyPolicy: true }), { conflict: false, policy: true });
  assert.deepEqual(proxyWarnings({ proxyConflict: true, proxyPolicy: true }), { conflict: false, policy: true });
});

test("the policy box's words differ from the other extension's and say what to do", () => {
  assert.notEqual(t('popup_proxy_policy_title'), t('popup_proxy_conflict_title'));
  const text = t('popup_proxy_policy_text');
  assert.match(text, /^Your browser's proxy is set by a policy \(administrator\): g5k-tunnel cannot route pages\./);
  assert.match(text, /ask your administrator/i);
  assert.match(text, /`g5k-tunnel -N -D` with another program/);
});
