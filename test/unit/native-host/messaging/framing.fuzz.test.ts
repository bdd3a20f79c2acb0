// Properties of native-messaging framing: messages survive any chunking, any bytes give frames or
// a wait (never an exception), and an oversized length is refused before its body is held.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder, type Endian, type Frame } from '../../../../native-host/messaging/framing.js';
import { check, chunked, fc, splitBytes, splitPoints } from '../../../support/fuzz.js';

const endian = fc.constantFrom<Endian>('LE', 'BE');
/** JSON values with any UTF-16 text (lone surrogates included) and deep nesting. */
const message = fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: 'binary', maxDepth: 6 }));

/** Feeds chunks in turn; checks the decoder's bound after each. */
function decodeAll(dec: FrameDecoder, chunks: Buffer[], maxBytes: number): Frame[] {
  const out: Frame[] = [];
  for (const c of chunks) {
    out.push(...dec.push(c));
    assert.ok(dec.buffered <= 4 + maxBytes, `holds ${dec.buffered} bytes`);
  }
  return out;
}

test('messages encoded then decoded from any chunks come back the same, in order', () => {
  check(
    fc.property(
      endian,
      fc.array(message, { maxLength: 8 }).chain((msgs) => {
        const wire = Buffer.concat(msgs.map((m) => encodeFrame(m, { endian: 'LE' })));
        return splitPoints(wire.length).map((cuts) => ({ msgs, cuts }));
      }),
      (end, { msgs, cuts }) => {
        const wire = Buffer.concat(msgs.map((m) => encodeFrame(m, { endian: end })));
        const dec = new FrameDecoder({ endian: end });
        const frames = decodeAll(dec, chunked(wire, cuts), 1024 * 1024);
        // what JSON carries: -0 becomes 0, lone surrogates are escaped and come back as they were
        const expected = msgs.map((m) => ({ kind: 'message', value: JSON.parse(JSON.stringify(m)) }));
        assert.deepEqual(frames, expected);
        assert.equal(dec.midFrame, false);
        assert.equal(dec.buffered, 0);
      },
    ),
  );
});

/** Bytes shaped like frames often: plausible small lengths in either order, then noise. */
const frameish = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.nat(80), fc.nat(0xffffffff)),
        endian,
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }),
          fc.jsonValue({ stringUnit: 'binary' }).map((v) => new Uint8Array(Buffer.from(JSON.stringify(v)))),
        ),
      ),
      { maxLength: 6 },
    )
    .map((parts) =>
      Uint8Array.from(
        parts.flatMap(([len, end, body]) => {
          const h = Buffer.alloc(4);
          if (end === 'LE') h.writeUInt32LE(len);
          else h.writeUInt32BE(len);
          return [...h, ...body];
        }),
      ),
    ),
);

test('any bytes give well-formed frames or a wait, the same whatever the chunking', () => {
  check(
    fc.property(splitBytes(frameish), endian, fc.integer({ min: 1, max: 64 }), ({ bytes, cuts }, end, maxBytes) => {
      const whole = new FrameDecoder({ endian: end, maxBytes });
      const oneChunk = decodeAll(whole, [Buffer.from(bytes)], maxBytes);
      const split = new FrameDecoder({ endian: end, maxBytes });
      const frames = decodeAll(split, chunked(bytes, cuts), maxBytes);
      assert.deepEqual(frames, oneChunk);
      assert.equal(split.midFrame, whole.midFrame);
      for (const f of frames) {
        if (f.kind === 'message') assert.ok(f.value !== undefined);
        else if (f.kind === 'bad') assert.ok(f.error.length > 0 && f.error.length < 100, f.error);
        else {
          assert.equal(f.kind, 'oversized');
          assert.ok(f.bytes > maxBytes);
        }
      }
    }),
  );
});

test('a length over the limit is reported at its header and its body is never held', () => {
  check(
    fc.property(
      endian,
      fc.integer({ min: 1, max: 4096 }),
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 6 }),
      message,
      (end, maxBytes, over, bodyChunks, after) => {
        const len = Math.min(0xffffffff, maxBytes + over);
        const header = Buffer.alloc(4);
        if (end === 'LE') header.writeUInt32LE(len);
        else header.writeUInt32BE(len);
        const dec = new FrameDecoder({ endian: end, maxBytes });
        assert.deepEqual(dec.push(header), [{ kind: 'oversized', bytes: len }]);
        // the body streams past without being kept, whatever its size
        let fed = 0;
        for (const n of bodyChunks) {
          const take = Math.min(n, len - fed);
          if (take === 0) break;
          assert.deepEqual(dec.push(Buffer.alloc(take, 0x7b)), []);
          fed += take;
          assert.equal(dec.buffered, 0);
        }
        assert.equal(dec.midFrame, fed < len);
        if (fed < len && len - fed <= 64 * 1024) {
          // once the whole body has gone by, the next frame decodes as usual
          dec.push(Buffer.alloc(len - fed));
          fed = len;
        }
        if (fed === len) {
          const next = encodeFrame(after, { endian: end, maxBytes: 1024 * 1024 });
          if (next.length - 4 <= maxBytes)
            assert.deepEqual(dec.push(next), [{ kind: 'message', value: JSON.parse(JSON.stringify(after)) }]);
        }
      },
    ),
  );
});

test('the encoder refuses what the decoder would refuse, and nothing else', () => {
  check(
    fc.property(message, fc.integer({ min: 1, max: 200 }), (m, maxBytes) => {
      const size = Buffer.byteLength(JSON.stringify(m));
      if (size > maxBytes) assert.throws(() => encodeFrame(m, { maxBytes }), /exceeds the \d+-byte limit/);
      else assert.equal(encodeFrame(m, { maxBytes }).length, 4 + size);
    }),
  );
});
