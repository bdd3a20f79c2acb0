// A busy access machine: a real sshd with a small MaxStartups, its slots taken by connections that
// never log in. The pool's extra connections are dropped: a burst of downloads still completes on
// the connection that is up, the tunnel stays connected with no error, and once the gateway has
// room again the pool, after its cooldown, opens its extras one handshake at a time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TunnelStatus } from '../../shared/protocol.js';
import { POOL_COOLDOWN_MS } from '../../native-host/tunnel/pool.js';
import { canRunSshd, INTERNAL_NAMES, startGateway, type Gateway, gatewayConfig } from '../../testbed/sshd.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { socksConnect } from '../../testbed/socks-client.js';
import {
  closed,
  isolatedTunnel,
  logSince,
  logSize,
  memoryLogger,
  socksGet,
  stateIs,
  tempHome,
  waitForStatus,
} from '../support/tunnel-kit.js';

const skip = canRunSshd();
const MAX_STARTUPS = 2;
let gw: Gateway;
let web: InternalWeb;
let home: ReturnType<typeof tempHome>;

before(async () => {
  if (skip) return;
  gw = await startGateway({ maxStartups: String(MAX_STARTUPS) });
  web = await startInternalWeb();
  home = tempHome();
});
after(async () => {
  await web?.close();
  await gw?.stop();
  home?.cleanup();
});

/** A TCP connection to sshd that never sends a byte: it holds one unauthenticated slot until closed. */
function holdSlot(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    // the banner comes from the child sshd forked for it: from then on the slot is counted
    sock.once('data', () => resolve(sock));
    sock.once('error', reject);
  });
}

/** `n` downloads of `size` bytes at once, over three gateway-only names; each checked byte for byte. */
async function burst(socksPort: number, n: number, size: number): Promise<void> {
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => socksGet(socksPort, INTERNAL_NAMES[i % 3]!, web.port, `/bytes/${size}`)),
  );
  for (const [i, r] of results.entries()) {
    assert.equal(r.status, 200, `download ${i}: status ${r.status} (SOCKS reply ${r.reply})`);
    assert.equal(r.body.length, size, `download ${i}: ${r.body.length} of ${size} bytes`);
    assert.ok(/^a*$/.test(r.body), `download ${i}: corrupted`);
  }
}

/** The most extra-connection handshakes in flight at once, from the pool's own log lines. */
function mostInFlight(lines: string[]): number {
  let now = 0;
  let most = 0;
  for (const l of lines) {
    if (/^debug opening SSH connection \d+ of at most/.test(l)) most = Math.max(most, ++now);
    else if (/extra SSH connection (ready|failed)|the gateway is busy/.test(l)) now--;
  }
  return most;
}

test('sshd dropping new connections (MaxStartups) is a busy gateway: downloads complete, no error, one handshake at a time', {
  skip: skip ?? false,
  timeout: 90_000,
}, async () => {
  const log = memoryLogger();
  const config = await gatewayConfig(gw, { maxConnections: 4 });
  const t = isolatedTunnel(config, home.dir, { log, channelsPerConnection: 2 });
  const statuses: TunnelStatus[] = [];
  t.on('status', (s: TunnelStatus) => statuses.push(s));
  const held: net.Socket[] = [];
  try {
    const s = await t.setMode('on');
    await waitForStatus(t, stateIs('connected'), 'connected');
    const port = s.socks!.port;
    statuses.length = 0;

    // the gateway is full: every new connection is dropped before its banner
    const busyFrom = logSize(gw.logFile);
    for (let i = 0; i < MAX_STARTUPS; i++) held.push(await holdSlot(gw.port));
    await burst(port, 12, 1_000_000);
    const busyLog = logSince(gw.logFile, busyFrom);
    const dropped = busyLog.match(/past MaxStartups/g)?.length ?? 0;
    assert.ok(dropped >= 1, `sshd dropped the pool's extra connections:\n${busyLog}`);
    assert.ok(
      log.lines.some((l) => l.startsWith('info the gateway is busy')),
      `the pool saw a busy gateway:\n${log.lines.join('\n')}`,
    );
    assert.equal(busyLog.match(/Accepted publickey/g)?.length ?? 0, 0, 'no extra connection got through');
    assert.ok(
      statuses.every((x) => x.state === 'connected' && x.connections === 1 && !x.lastError),
      `the tunnel stayed connected on its one connection, with no error: ${JSON.stringify(statuses.find((x) => x.state !== 'connected' || x.connections !== 1 || x.lastError))}`,
    );
    assert.ok(!log.lines.some((l) => l.startsWith('warn') || l.startsWith('error')), log.lines.join('\n'));

    // room again: after the cooldown, load opens the extras, one after the other (channels held
    // open, since loopback downloads end before a pool could grow)
    for (const h of held.splice(0)) h.destroy();
    // the cooldown the pool announced last (it grows if the burst saw several busy answers)
    const busyLines = log.lines.filter((l) => l.startsWith('info the gateway is busy'));
    const cooldownMs = Number(/next try in (\d+) s/.exec(busyLines.at(-1) ?? '')?.[1] ?? 0) * 1000;
    assert.ok(cooldownMs >= POOL_COOLDOWN_MS, busyLines.join('\n'));
    await new Promise((r) => setTimeout(r, cooldownMs + 500));
    const freeFrom = logSize(gw.logFile);
    const channels = await Promise.all(
      Array.from({ length: 16 }, (_, i) => socksConnect(port, INTERNAL_NAMES[i % 3]!, web.port)),
    );
    assert.ok(channels.every((c) => c.reply === 0));
    const grown = await waitForStatus(t, (x) => x.connections === 4, 'four connections');
    assert.equal(grown.state, 'connected');
    await burst(port, 16, 1_000_000);
    for (const c of channels) c.socket.destroy();
    await Promise.all(channels.map((c) => closed(c.socket)));
    assert.ok(
      statuses.every((x) => x.state === 'connected' && x.connections <= 4 && !x.lastError),
      'never an error, never beyond maxConnections',
    );
    // sshd's view: each new connection logged in before the next one arrived
    const freeLog = logSince(gw.logFile, freeFrom);
    const sequence = freeLog
      .split('\n')
      .map((l) => (/Connection from /.test(l) ? 'C' : /Accepted publickey/.test(l) ? 'A' : ''))
      .join('');
    assert.equal(sequence, 'CA'.repeat(3), `sshd saw handshakes overlap:\n${freeLog}`);
    assert.equal(mostInFlight(log.lines), 1, `the pool's handshakes:\n${log.lines.join('\n')}`);
  } finally {
    for (const h of held) h.destroy();
    await t.close();
  }
});
