import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import {
  encodeFrame,
  FrameDecoder,
  FrameTooLargeError,
  type Frame,
} from '../../../../native-host/messaging/framing.js';
import { MAX_MESSAGE_BYTES } from '../../../../shared/protocol.js';

const header = (n: number, endian: 'LE' | 'BE' = os.endianness()) => {
  const h = Buffer.alloc(4);
  if (endian === 'LE') h.writeUInt32LE(n);
  else h.writeUInt32BE(n);
  return h;
};
const raw = (body: string | Buffer) => {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([header(b.length), b]);
};

test('encodes a 32-bit native-endian length then UTF-8 JSON', () => {
  const f = encodeFrame({ type: 'status', text: 'é' });
  const body = Buffer.from('{"type":"status","text":"é"}', 'utf8');
  assert.equal(f.length, 4 + body.length);
  assert.deepEqual(f.subarray(0, 4), header(body.length));
  assert.deepEqual(f.subarray(4), body);
  assert.deepEqual(encodeFrame(1, { endian: 'BE' }).subarray(0, 4), Buffer.from([0, 0, 0, 1]));
  assert.deepEqual(encodeFrame(1, { endian: 'LE' }).subarray(0, 4), Buffer.from([1, 0, 0, 0]));
});

test('refuses to encode a message over the limit', () => {
  assert.throws(() => encodeFrame('x'.repeat(MAX_MESSAGE_BYTES)), FrameTooLargeError);
  assert.doesNotThrow(() => encodeFrame('x'.repeat(MAX_MESSAGE_BYTES - 2)));
  assert.throws(() => encodeFrame(undefined), TypeError);
});

test('decodes frames split at every byte and several frames in one chunk', () => {
  const msgs = [{ a: 1 }, [1, 2], 'text', { nested: { é: '✓' } }];
  const all = Buffer.concat(msgs.map((m) => encodeFrame(m)));
  const d = new FrameDecoder();
  const out: Frame[] = [];
  for (let i = 0; i < all.length; i++) out.push(...d.push(all.subarray(i, i + 1)));
  assert.deepEqual(
    out,
    msgs.map((value) => ({ kind: 'message', value })),
  );
  assert.equal(d.midFrame, false);
  assert.deepEqual(new FrameDecoder().push(all), out);
});

test('honours the byte order it is given', () => {
  const body = Buffer.from('{"x":1}');
  const be = Buffer.concat([header(body.length, 'BE'), body]);
  assert.deepEqual(new FrameDecoder({ endian: 'BE' }).push(be), [{ kind: 'message', value: { x: 1 } }]);
});

test('reports bad JSON, bad UTF-8 and empty frames, then goes on decoding', () => {
  const d = new FrameDecoder();
  const out = d.push(
    Buffer.concat([raw('{not json'), raw(Buffer.from([0xff, 0xfe, 0x22])), header(0), raw('{"ok":true}')]),
  );
  assert.equal(out.length, 4);
  assert.equal(out[0]!.kind, 'bad');
  assert.match((out[0] as { error: string }).error, /not valid JSON/);
  assert.deepEqual(out[1], { kind: 'bad', error: 'frame is not valid UTF-8' });
  assert.deepEqual(out[2], { kind: 'bad', error: 'empty frame' });
  assert.deepEqual(out[3], { kind: 'message', value: { ok: true } });
});

test('an oversized frame is reported at its header and skipped without being buffered', () => {
  const max = 1000;
  const d = new FrameDecoder({ maxBytes: max });
  const big = 50_000;
  assert.deepEqual(d.push(header(big)), [{ kind: 'oversized', bytes: big }]);
  let seen: Frame[] = [];
  const chunk = Buffer.alloc(999, 0x7b);
  for (let sent = 0; sent < big; sent += chunk.length) {
    seen = seen.concat(d.push(chunk.subarray(0, Math.min(chunk.length, big - sent))));
    assert.equal(d.buffered, 0, 'nothing of the oversized body is kept');
  }
  assert.deepEqual(seen, []);
  assert.equal(d.midFrame, false);
  assert.deepEqual(d.push(raw('{"after":1}')), [{ kind: 'message', value: { after: 1 } }]);
});

test('a frame of exactly the limit is accepted, one byte more is not', () => {
  const max = 16;
  const exact = JSON.stringify('x'.repeat(max - 2));
  assert.deepEqual(new FrameDecoder({ maxBytes: max }).push(raw(exact)), [
    { kind: 'message', value: 'x'.repeat(max - 2) },
  ]);
  assert.deepEqual(new FrameDecoder({ maxBytes: max }).push(header(max + 1)), [{ kind: 'oversized', bytes: max + 1 }]);
});

test('garbage bytes become an oversized or bad frame, never an exception', () => {
  const d = new FrameDecoder();
  const out = d.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.kind, 'oversized');
  const d2 = new FrameDecoder();
  const junk = Buffer.from([5, 0, 0, 0, 5, 0, 0, 0, 1, 2, 3]);
  const le = os.endianness() === 'LE';
  const r = d2.push(le ? junk : Buffer.from([0, 0, 0, 5, 0, 0, 0, 5, 1, 2, 3]));
  assert.equal(r.length, 1);
  assert.equal(r[0]!.kind, 'bad');
  assert.equal(d2.midFrame, true, 'the second, truncated frame waits for more bytes');
});

test('a frame that is not JSON is reported without quoting its text (it may hold a passphrase)', () => {
  const d = new FrameDecoder();
  for (const text of [
    'correct-horse-battery',
    '{"type":"answer","id":3,"promptId":"p","value":"correct-horse-battery" x}',
  ]) {
    const [f] = d.push(raw(text));
    assert.equal(f!.kind, 'bad');
    const error = (f as { error: string }).error;
    assert.match(error, /^frame is not valid JSON/);
    assert.doesNotMatch(error, /horse/);
  }
});
