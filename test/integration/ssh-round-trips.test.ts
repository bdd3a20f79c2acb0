// Round trips from nothing to the first byte of a page, counted at a relay between the client and
// the real sshd (a count, not a time): our login skips the publickey query for a key that signs
// unattended, and nothing waits for a reply between the login and the first channel, so
// openConnection + forwardOut and the `g5k-tunnel -N -D` command need fewer than `ssh -N -D`
// measured the same way. Keys the server refuses, and agent keys on a first login, still go
// through the query; a key that logged in before is signed with at once.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyCache } from '../../native-host/ssh/key-cache.js';
import { countAutoMode, countCommand, countOpenConnection } from '../../scripts/bench/rtt-count.js';
import { startRoundTripRelay } from '../../testbed/round-trip-relay.js';
import { canRunSshd, startAgent, type Gateway } from '../../testbed/sshd.js';
import type { InternalWeb } from '../../testbed/internal-web.js';
import { type tempHome, useGateway } from '../support/tunnel-kit.js';

const skip = canRunSshd() ?? false;
const T = { skip, timeout: 60_000 };
/** Well above either end's processing time (a command's start-up included), so that nothing looks
 *  caused by what it did not wait for: a client that sends late looks like one that waited. */
const RTT = 300;
/** Key exchange (KEXINIT, ECDH), ssh-userauth, the signed login, the channel, the request. */
const OURS = 6;

let gw: Gateway;
let web: InternalWeb;
let home: ReturnType<typeof tempHome>;
useGateway((f) => ({ gw, web, home } = f));
// ssh2 loads with the first connection of a process (while its TCP connection opens): loaded here
// first, so that the counts of this process's connections are the protocol's alone
before(async () => {
  await import('../../native-host/ssh/handshake.js');
  await import('../../native-host/ssh/window.js');
});

test('openConnection + forwardOut reach the first byte in fewer round trips than ssh -N -D', T, async () => {
  const ssh = await countCommand('ssh', gw, web, RTT, home.dir);
  const ours = await countOpenConnection(gw, web, RTT, home.dir);
  // ssh: key exchange 2, ssh-userauth 1, `none` 1, publickey query 1, signed request 1, channel 1, request 1
  assert.equal(ssh.rounds, 8, 'OpenSSH as measured here');
  assert.ok(ours.rounds <= OURS, `openConnection: ${ours.rounds} round trips, at most ${OURS}`);
  assert.ok(ours.rounds <= ssh.rounds - 2, `openConnection ${ours.rounds} vs ssh ${ssh.rounds}`);
});

test('the g5k-tunnel -N -D command reaches the first byte in fewer round trips than ssh -N -D', T, async () => {
  const ssh = await countCommand('ssh', gw, web, RTT, home.dir);
  const ours = await countCommand('g5k-tunnel', gw, web, RTT, home.dir);
  assert.ok(ours.rounds <= OURS, `g5k-tunnel: ${ours.rounds} round trips, at most ${OURS}`);
  assert.ok(ours.rounds <= ssh.rounds - 2, `g5k-tunnel ${ours.rounds} vs ssh ${ssh.rounds}`);
});

test('Auto mode: from the first CONNECT, nothing but the connection itself before the channel opens', T, async () => {
  const ours = await countAutoMode(gw, web, RTT, home.dir);
  assert.ok(ours.rounds <= OURS, `Auto mode: ${ours.rounds} round trips, at most ${OURS}`);
});

test('an agent key is asked about first on a first login, then signed with at once', T, async (t) => {
  const agent = await startAgent([gw.keys.plain]);
  t.after(() => agent.stop());
  const relay = await startRoundTripRelay({ target: { host: gw.host, port: gw.port }, rttMs: RTT });
  t.after(() => relay.close());
  const keys = new KeyCache();
  const auth = { agentSocket: agent.socket, files: [], identitiesOnly: false };
  const first = await countOpenConnection(gw, web, RTT, home.dir, { keys, auth, relay });
  const again = await countOpenConnection(gw, web, RTT, home.dir, { keys, auth, relay });
  assert.equal(first.rounds, OURS + 1, 'the publickey query before the agent signs');
  assert.equal(again.rounds, OURS, 'the key that logged in is signed with at once');
  // a fresh process knows no earlier login: the query again
  const fresh = await countOpenConnection(gw, web, RTT, home.dir, { keys: new KeyCache(), auth, relay });
  assert.equal(fresh.rounds, OURS + 1);
});

test('a first identity file the gateway refuses costs one round trip, then the next key logs in', T, async () => {
  const auth = {
    agentSocket: null,
    files: [
      { path: gw.keys.wrong, explicit: true },
      { path: gw.keys.plain, explicit: true },
    ],
    identitiesOnly: true,
  };
  const r = await countOpenConnection(gw, web, RTT, home.dir, { auth });
  // the refused signed request, then the query and the signed request for the key that is taken
  assert.equal(r.rounds, OURS + 2);
});
