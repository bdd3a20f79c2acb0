// Channel windows: the pure policy (how much credit, when, how large the window grows), the check
// of ssh2's internals (fails loudly when an ssh2 upgrade changes them), and the takeover of a real
// ssh2 Channel object fed the way ssh2 1.17's CHANNEL_DATA handler feeds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import {
  INITIAL_WINDOW,
  PACKET,
  SSH2_VERSION,
  WINDOW_CAP,
  WindowPolicy,
  channelShapeProblem,
  ssh2Internals,
  tuneChannel,
  windowStats,
} from '../../../../native-host/ssh/window.js';

const require = createRequire(import.meta.url);
const MiB = 1024 * 1024;

test('the installed ssh2 is the pinned version whose internals window.ts knows', () => {
  assert.equal(ssh2Internals.problem, null, `window tuning is off: ${ssh2Internals.problem}`);
  assert.equal(ssh2Internals.version, SSH2_VERSION);
  const pkg = JSON.parse(fs.readFileSync(new URL('../../../../../package.json', import.meta.url), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  assert.equal(pkg.dependencies.ssh2, SSH2_VERSION, 'package.json pins ssh2 exactly to the version window.ts checks');
});

test('policy: no credit until a step is consumed, then back up to the target; eager once grown', () => {
  const p = new WindowPolicy({ initial: INITIAL_WINDOW, cap: WINDOW_CAP, rttMs: () => 20 });
  assert.equal(p.target, INITIAL_WINDOW);
  assert.equal(p.grant(INITIAL_WINDOW, 0), 0);
  assert.equal(p.grant(INITIAL_WINDOW - p.step + 1, 0), 0);
  assert.equal(p.grant(INITIAL_WINDOW - p.step, 0), p.step);
  // not grown (the path does not need more): half, as ssh2 does, fewer packets
  assert.equal(p.step, INITIAL_WINDOW / 2);
  feed(p, p.target, 3, 20);
  assert.ok(p.target > INITIAL_WINDOW);
  // grown: far earlier than ssh2's "half the window is gone"
  assert.ok(p.step <= p.target / 8 && p.step >= 3 * PACKET, `step ${p.step} of ${p.target}`);
  assert.equal(p.grant(p.target - p.step, 0), p.step);
});

test('policy: credit outstanding plus bytes unread never exceed the target', () => {
  const p = new WindowPolicy({ initial: INITIAL_WINDOW, cap: WINDOW_CAP, rttMs: () => 20 });
  assert.equal(p.grant(0, INITIAL_WINDOW), 0, 'a reader holding a full window gets nothing more');
  assert.equal(p.grant(0, INITIAL_WINDOW - p.step), p.step);
  for (const window of [0, 1, MiB, INITIAL_WINDOW])
    for (const unread of [0, 5, MiB, 3 * MiB]) {
      const g = p.grant(window, unread);
      assert.ok(g === 0 || window + g + unread === p.target, `window ${window} unread ${unread} → ${g}`);
    }
});

/** Feeds `bytes` per `everyMs` for `ms`, in packets, with the reader keeping up (or not). */
function feed(p: WindowPolicy, perRtt: number, rtts: number, rttMs: number, unread = 0, t0 = 0): number {
  const packets = Math.max(1, Math.round(perRtt / PACKET));
  let t = t0;
  for (let r = 0; r < rtts; r++)
    for (let i = 0; i < packets; i++) {
      t += rttMs / packets;
      p.received(PACKET, t, unread);
    }
  return t;
}

test('policy: the window grows while more than half of it arrives per round trip, up to the cap', () => {
  const p = new WindowPolicy({ initial: INITIAL_WINDOW, cap: WINDOW_CAP, rttMs: () => 20 });
  let t = 0;
  const seen = [p.target];
  for (let i = 0; i < 10; i++) {
    // window-limited: about the whole window arrives each round trip
    t = feed(p, p.target, 1, 20, 0, t);
    seen.push(p.target);
  }
  assert.ok(seen[2]! > INITIAL_WINDOW, `grew: ${seen.join(' ')}`);
  assert.equal(p.target, WINDOW_CAP, `reached the cap: ${seen.join(' ')}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, 'never shrinks');
});

test('policy: no growth before the round trip is measured', () => {
  const p = new WindowPolicy({ initial: INITIAL_WINDOW, cap: WINDOW_CAP, rttMs: () => undefined });
  feed(p, INITIAL_WINDOW, 20, 20);
  assert.equal(p.target, INITIAL_WINDOW);
});

test('a tuned channel measures the path with one SSH ping, answered in order with other global requests', () => {
  const { ch, pings, client } = channel();
  tuneChannel(ch);
  assert.equal(pings.length, 1);
  assert.equal(client._callbacks.length, 1, 'its answer is expected in ssh2’s queue of global-request answers');
  tuneChannel(channel().ch); // another connection: its own ping
  // while the first ping is unanswered, another channel on the same connection sends none
  const { Channel } = require('ssh2/lib/Channel.js') as { Channel: new (client: unknown, info: unknown) => Internal };
  const second = new Channel(client, {
    type: 'direct-tcpip',
    incoming: { id: 1, window: INITIAL_WINDOW, packetSize: PACKET, state: 'open' },
    outgoing: { id: 8, window: INITIAL_WINDOW, packetSize: PACKET, state: 'open' },
  });
  tuneChannel(second);
  assert.equal(pings.length, 1);
  client._callbacks.shift()!(true); // sshd answers keepalive@openssh.com with a failure
  assert.equal(pings.length, 2, 'three pings in a row for a new connection');
  client._callbacks.shift()!(true);
  client._callbacks.shift()!(true);
  assert.equal(pings.length, 3);
  assert.equal(client._callbacks.length, 0);
  // and none on disconnection (ssh2 then calls pending callbacks with an Error)
  const other = channel();
  tuneChannel(other.ch);
  other.client._callbacks.shift()!(new Error('No response from server'));
  assert.equal(other.pings.length, 1);
});

test('policy: no growth when the rate is not window-limited, or when the reader is behind', () => {
  const slow = new WindowPolicy({ initial: INITIAL_WINDOW, cap: WINDOW_CAP, rttMs: () => 20 });
  feed(slow, INITIAL_WINDOW / 4, 20, 20);
  assert.equal(slow.target, INITIAL_WINDOW, 'a quarter window per round trip: the path, not the window, limits');
  const behind = new WindowPolicy({ initial: INITIAL_WINDOW, cap: WINDOW_CAP, rttMs: () => 20 });
  feed(behind, INITIAL_WINDOW, 20, 20, MiB);
  assert.equal(behind.target, INITIAL_WINDOW, 'a reader that does not keep up does not earn a larger window');
  const loopback = new WindowPolicy({ initial: INITIAL_WINDOW, cap: WINDOW_CAP, rttMs: () => 0.3 });
  feed(loopback, 64 * 1024, 1000, 0.3);
  assert.equal(loopback.target, INITIAL_WINDOW, 'on loopback a round trip carries little: the window stays');
});

// ---------- a real ssh2 Channel ----------

type Internal = Duplex & {
  _read(size: number): void;
  incoming: { window: number; state: string };
  outgoing: { id: number; state: string };
  _waitChanDrain: boolean;
};

/** A Channel of the installed ssh2 over a protocol that records WINDOW_ADJUSTs. */
function channel() {
  const { Channel } = require('ssh2/lib/Channel.js') as { Channel: new (client: unknown, info: unknown) => Internal };
  const adjusts: number[] = [];
  const pings: number[] = [];
  const client = {
    _protocol: {
      channelWindowAdjust: (_id: number, n: number) => void adjusts.push(n),
      ping: () => void pings.push(Date.now()),
    },
    _callbacks: [] as ((answer: unknown) => void)[],
  };
  const ch = new Channel(client, {
    type: 'direct-tcpip',
    incoming: { id: 0, window: INITIAL_WINDOW, packetSize: PACKET, state: 'open' },
    outgoing: { id: 7, window: INITIAL_WINDOW, packetSize: PACKET, state: 'open' },
  });
  return { ch, adjusts, pings, client };
}

/** What ssh2 1.17's CHANNEL_DATA handler does (lib/client.js), with its own top-up rule. */
function deliver(ch: Internal, data: Buffer, ssh2Adjust: () => void): void {
  if (ch.incoming.window === 0) return;
  ch.incoming.window -= data.length;
  if (ch.push(data) === false) {
    ch._waitChanDrain = true;
    return;
  }
  if (ch.incoming.window <= INITIAL_WINDOW / 2) ssh2Adjust();
}

test('a tuned ssh2 channel: ssh2 never tops up, we do; a paused reader stops the credit', async () => {
  const { ch, adjusts } = channel();
  assert.equal(channelShapeProblem(ch), null);
  assert.equal(tuneChannel(ch, { cap: 4 * MiB }), true);
  let ssh2Adjusts = 0;
  const packet = Buffer.alloc(PACKET);
  let got = 0;
  ch.on('data', (d: Buffer) => (got += d.length));
  await new Promise((r) => setImmediate(r)); // a reader flows from the next tick on
  for (let i = 0; i < 200; i++) deliver(ch, packet, () => ssh2Adjusts++);
  assert.equal(ssh2Adjusts, 0, "ssh2's own top-up never fires");
  assert.equal(got, 200 * PACKET);
  const st = windowStats(ch)!;
  assert.ok(adjusts.length > 0 && st.adjusts === adjusts.length);
  // not grown (no round trip measured here): top-ups as ssh2's, half a window at a time
  assert.equal(st.target, INITIAL_WINDOW);
  assert.ok(
    adjusts.every((n) => n >= INITIAL_WINDOW / 2),
    `adjusts ${adjusts.join(' ')}`,
  );
  const sum = adjusts.reduce((a, b) => a + b, 0);
  assert.equal(ch.incoming.window, INITIAL_WINDOW + sum - 200 * PACKET, 'our accounting is ssh2’s');

  // the reader stops: credit runs out and is not renewed, whatever arrives
  ch.pause();
  const before = adjusts.length;
  while (ch.incoming.window > 0)
    deliver(ch, packet.subarray(0, Math.min(PACKET, ch.incoming.window)), () => ssh2Adjusts++);
  assert.equal(adjusts.length, before, 'no credit while nobody reads');
  assert.ok(ch.readableLength <= st.target, `unread ${ch.readableLength} ≤ target ${st.target}`);
  assert.equal(ssh2Adjusts, 0);
  // ssh2's own drain path (_read with _waitChanDrain set) must not top up either
  assert.equal(ch._waitChanDrain, true, 'ssh2 marked the channel as waiting for its reader');
  ch._read(0);
  assert.equal(adjusts.length, before, "ssh2's _read does not top up a tuned channel");

  // reading again renews the credit
  ch.resume();
  await new Promise((r) => setImmediate(r));
  assert.ok(adjusts.length > before, 'credit renewed once the reader took the data');
  assert.ok(ch.incoming.window <= st.cap);
});

test('no credit after the far side sent EOF, and none once closed', () => {
  const { ch, adjusts } = channel();
  tuneChannel(ch);
  ch.on('data', () => {});
  ch.incoming.state = 'eof';
  for (let i = 0; i < 40; i++) deliver(ch, Buffer.alloc(PACKET), () => {});
  assert.equal(adjusts.length, 0);
});

test('a stream that is not an ssh2 channel is left alone, with one warning', () => {
  const warnings: string[] = [];
  const plain = new Duplex({
    read() {},
    write(_c, _e, cb) {
      cb();
    },
  });
  assert.notEqual(channelShapeProblem(plain), null);
  assert.equal(tuneChannel(plain, { warn: (m) => warnings.push(m) }), false);
  assert.equal(windowStats(plain), undefined);
  assert.ok(warnings.length <= 1);
});
