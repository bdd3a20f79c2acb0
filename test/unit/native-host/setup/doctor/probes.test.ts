// Reading the SSH identification line from any stream (a TCP socket or a ProxyCommand's output):
// lines before it skipped, its CR dropped, bounded in time and size, and the stream ended after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { bannerFrom } from '../../../../../native-host/setup/doctor/probes.js';

/** A duplex whose readable side the test writes into. */
function fake(): { s: Duplex; feed: PassThrough } {
  const feed = new PassThrough();
  const s = Duplex.from({ readable: feed, writable: new PassThrough() });
  return { s, feed };
}

test('the identification line, after the lines a server may send first, without its CR', async () => {
  const { s, feed } = fake();
  const p = bannerFrom(s, 1000);
  feed.write('a greeting\r\nSSH-2.0-Open');
  feed.write('SSH_9.2\r\n');
  const { banner, ms } = await p;
  assert.equal(banner, 'SSH-2.0-OpenSSH_9.2');
  assert.ok(ms >= 0);
  assert.equal(s.destroyed, true, 'the stream is ended once read');
});

test('an end before the line, an error, too much else, or silence: each rejects', async () => {
  let f = fake();
  let p = bannerFrom(f.s, 1000);
  f.feed.end('HTTP/1.1 400 Bad Request\r\n');
  await assert.rejects(p, /without an SSH identification line/);

  f = fake();
  p = bannerFrom(f.s, 1000);
  f.s.destroy(new Error('ProxyCommand exited with status 255: ssh: Could not resolve hostname g5k'));
  await assert.rejects(p, /status 255: ssh: Could not resolve hostname g5k/);

  f = fake();
  p = bannerFrom(f.s, 1000);
  f.feed.write('x'.repeat(9000));
  await assert.rejects(p, /not an SSH server/);

  f = fake();
  p = bannerFrom(f.s, 50);
  await assert.rejects(p, /no answer within 50 ms/);
  assert.equal(f.s.destroyed, true);
});
