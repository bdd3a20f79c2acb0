// Write batching on the SSH socket: ssh2 writes every SSH packet on its own, and without Nagle each
// write is a system call and a TCP segment; coalesceWrites sends the writes of one tick together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { coalesceWrites } from '../../native-host/ssh/connect.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

test('coalesceWrites: the writes of one tick leave in one writev, in order; a lone write is a plain write', async () => {
  let received = '';
  let peer: net.Socket | null = null;
  const server = net.createServer((s) => {
    peer = s;
    s.on('data', (d: Buffer) => (received += d.toString()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sock = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    coalesceWrites(sock);
    const seen = { write: 0, writev: [] as number[] };
    const write = sock._write.bind(sock);
    const writev = sock._writev!.bind(sock);
    sock._write = (chunk, encoding, cb) => {
      seen.write++;
      write(chunk, encoding, cb);
    };
    sock._writev = (chunks, cb) => {
      seen.writev.push(chunks.length);
      writev(chunks, cb);
    };
    sock.write('a');
    sock.write('b');
    assert.equal(sock.write('c'), true);
    await tick();
    assert.deepEqual(seen, { write: 0, writev: [3] });
    sock.write('d');
    await tick();
    assert.deepEqual(seen, { write: 1, writev: [3] });
    const deadline = Date.now() + 10_000;
    while (received.length < 4 && Date.now() < deadline) await tick();
    assert.equal(received, 'abcd');
  } finally {
    sock.destroy();
    (peer as net.Socket | null)?.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
