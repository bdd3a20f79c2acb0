// The harness itself: a real sshd whose internal names resolve only on its side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dns from 'node:dns/promises';
import { promisify } from 'node:util';
import { canRunSshd, startGateway, INTERNAL_NAMES } from '../../testbed/sshd.js';
import { startInternalWeb } from '../../testbed/internal-web.js';

const run = promisify(execFile);
const skip = canRunSshd();

test('internal names resolve only on the gateway, and OpenSSH -W reaches the internal server through it', {
  skip: skip ?? false,
}, async () => {
  const gw = await startGateway();
  const web = await startInternalWeb();
  try {
    await assert.rejects(dns.lookup(INTERNAL_NAMES[0]!), 'the test machine itself must not resolve internal names');
    const { stdout } = await run('ssh', [
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${gw.knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-i',
      gw.keys.plain,
      '-p',
      String(gw.port),
      `${gw.user}@127.0.0.1`,
      `getent hosts ${INTERNAL_NAMES[0]}`,
    ]);
    assert.match(stdout, /127\.0\.0\.2/);
  } finally {
    await web.close();
    await gw.stop();
  }
});
