import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkHello,
  classifyDisconnect,
  describeHostProblem,
  INSTALL_COMMANDS,
} from '../../../../extension/lib/host-problem.js';
import { describe as words } from '../../../../shared/errors.js';
import { PROTOCOL_VERSION } from '../../../../shared/protocol.js';

describe('classifyDisconnect', () => {
  it('recognises a missing host in both browsers', () => {
    assert.equal(classifyDisconnect('Specified native messaging host not found.'), 'HOST_MISSING');
    assert.equal(classifyDisconnect('No such native application g5k_tunnel'), 'HOST_MISSING');
  });

  it('recognises a host that does not allow the extension', () => {
    assert.equal(classifyDisconnect('Access to the specified native messaging host is forbidden.'), 'HOST_FORBIDDEN');
    assert.equal(
      classifyDisconnect('This extension does not have permission to use native messaging host g5k_tunnel'),
      'HOST_FORBIDDEN',
    );
  });

  it('counts an exit, a garbled stream and silence as a crash', () => {
    assert.equal(classifyDisconnect('Native host has exited.'), 'HOST_CRASHED');
    assert.equal(classifyDisconnect('Error when communicating with the native messaging host.'), 'HOST_CRASHED');
    assert.equal(classifyDisconnect('An unexpected error occurred'), 'HOST_CRASHED');
    assert.equal(classifyDisconnect(''), 'HOST_CRASHED');
    assert.equal(classifyDisconnect(undefined), 'HOST_CRASHED');
    assert.equal(classifyDisconnect(null), 'HOST_CRASHED');
  });
});

describe('checkHello', () => {
  const hello = { protocol: PROTOCOL_VERSION, version: '1.2.3', capabilities: ['status-push'], pid: 42 };

  it('accepts a host speaking our protocol', () => {
    assert.deepEqual(checkHello({ ok: true, result: hello }), { hello });
  });

  it('calls a host with an older protocol outdated', () => {
    const r = checkHello({ ok: true, result: { ...hello, protocol: 1 } }, 2);
    assert.ok('problem' in r);
    assert.equal(r.problem, 'HOST_OUTDATED');
    assert.match(r.detail, /host protocol 1, extension protocol 2/);
  });

  it('calls a host that answers hello without a protocol outdated', () => {
    const r = checkHello({ ok: true, result: { version: '0.0.1' } });
    assert.ok('problem' in r && r.problem === 'HOST_OUTDATED');
  });

  it('calls a host that does not know hello outdated', () => {
    const r = checkHello({
      ok: false,
      code: 'BAD_MESSAGE',
      message: 'invalid',
      detail: 'unknown request type "hello"',
    });
    assert.ok('problem' in r && r.problem === 'HOST_OUTDATED');
    assert.match(r.detail, /unknown request type/);
  });

  it('tells an older host from a newer one when the host refuses our protocol', () => {
    const older = checkHello(
      {
        ok: false,
        code: 'PROTOCOL_MISMATCH',
        message: 'm',
        detail: 'this host (0.1.0) speaks protocol 1, the client 2',
      },
      2,
    );
    assert.ok('problem' in older && older.problem === 'HOST_OUTDATED');
    const newer = checkHello(
      {
        ok: false,
        code: 'PROTOCOL_MISMATCH',
        message: 'm',
        detail: 'this host (9.0.0) speaks protocol 3, the client 2',
      },
      2,
    );
    assert.ok('problem' in newer && newer.problem === 'PROTOCOL_MISMATCH');
  });

  it('reports a newer protocol as the extension being out of date', () => {
    const r = checkHello({ ok: true, result: { ...hello, protocol: PROTOCOL_VERSION + 1 } });
    assert.ok('problem' in r && r.problem === 'PROTOCOL_MISMATCH');
  });
});

describe('describeHostProblem', () => {
  it('gives the words of the error table and the install commands', () => {
    const p = describeHostProblem('HOST_MISSING', 'Specified native messaging host not found.');
    assert.equal(p.code, 'HOST_MISSING');
    assert.equal(p.message, words('HOST_MISSING').message);
    assert.equal(p.hint, words('HOST_MISSING').hint);
    assert.equal(p.detail, 'Specified native messaging host not found.');
    assert.deepEqual(p.install, INSTALL_COMMANDS);
    assert.ok(p.install.includes('g5k-tunnel install') && p.install.includes('npm run install-host'));
  });
});
