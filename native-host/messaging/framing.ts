// Native-messaging framing: each message is a 32-bit length in the machine's byte order followed by
// that many bytes of UTF-8 JSON (the format Chromium and Firefox both use on the host's stdio).
// Pure codec, no I/O. The decoder never holds more than one header plus one frame within the limit:
// an oversized frame is reported as soon as its header arrives and its body is dropped as it
// streams in, so a huge or hostile length cannot make the host buffer it.

import os from 'node:os';
import { MAX_MESSAGE_BYTES } from '../../shared/protocol.js';

export type Endian = 'LE' | 'BE';

interface FramingOptions {
  /** Largest body accepted or produced, in bytes (default MAX_MESSAGE_BYTES). */
  maxBytes?: number;
  /** Byte order of the length prefix (default: this machine's, as the browsers write it). */
  endian?: Endian;
}

export type Frame =
  /** A complete frame whose body parsed as JSON (any JSON value: the protocol layer checks it). */
  | { kind: 'message'; value: unknown }
  /** A complete frame within the limit that is not UTF-8 JSON; it has been dropped. */
  | { kind: 'bad'; error: string }
  /** A header announcing more than maxBytes; the body that follows is being skipped. */
  | { kind: 'oversized'; bytes: number };

export class FrameTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`message of ${bytes} bytes exceeds the ${maxBytes}-byte limit`);
  }
}

const HEADER = 4;

export function encodeFrame(message: unknown, opts: FramingOptions = {}): Buffer {
  const maxBytes = opts.maxBytes ?? MAX_MESSAGE_BYTES;
  const json = JSON.stringify(message);
  if (json === undefined) throw new TypeError('a frame must hold a JSON value');
  const body = Buffer.from(json, 'utf8');
  if (body.length > maxBytes) throw new FrameTooLargeError(body.length, maxBytes);
  const frame = Buffer.allocUnsafe(HEADER + body.length);
  if ((opts.endian ?? os.endianness()) === 'LE') frame.writeUInt32LE(body.length, 0);
  else frame.writeUInt32BE(body.length, 0);
  body.copy(frame, HEADER);
  return frame;
}

export class FrameDecoder {
  private readonly maxBytes: number;
  private readonly endian: Endian;
  /** Pieces of the header or body being gathered, and their total length. */
  private parts: Buffer[] = [];
  private partLen = 0;
  /** Length of the body being gathered; null while reading a header. */
  private bodyLen: number | null = null;
  /** Bytes of an oversized body still to drop. */
  private skip = 0;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(opts: FramingOptions = {}) {
    this.maxBytes = opts.maxBytes ?? MAX_MESSAGE_BYTES;
    this.endian = opts.endian ?? os.endianness();
  }

  /** Bytes currently held (at most 4 + maxBytes, whatever arrives). */
  get buffered(): number {
    return this.partLen;
  }

  /** True when input stopped in the middle of a frame (at end of input: a truncated frame). */
  get midFrame(): boolean {
    return this.partLen > 0 || this.bodyLen !== null || this.skip > 0;
  }

  /** Feeds bytes in; returns the frames they complete, in order. */
  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - off);
        this.skip -= n;
        off += n;
        continue;
      }
      const need = (this.bodyLen ?? HEADER) - this.partLen;
      const n = Math.min(need, chunk.length - off);
      this.parts.push(chunk.subarray(off, off + n));
      this.partLen += n;
      off += n;
      if (n < need) break;
      const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partLen);
      this.parts = [];
      this.partLen = 0;
      if (this.bodyLen === null) this.header(whole, out);
      else {
        this.bodyLen = null;
        out.push(this.body(whole));
      }
    }
    return out;
  }

  private header(h: Buffer, out: Frame[]): void {
    const len = this.endian === 'LE' ? h.readUInt32LE(0) : h.readUInt32BE(0);
    if (len > this.maxBytes) {
      out.push({ kind: 'oversized', bytes: len });
      this.skip = len;
    } else if (len === 0) out.push({ kind: 'bad', error: 'empty frame' });
    else this.bodyLen = len;
  }

  private body(b: Buffer): Frame {
    let text: string;
    try {
      text = this.utf8.decode(b);
    } catch {
      return { kind: 'bad', error: 'frame is not valid UTF-8' };
    }
    try {
      return { kind: 'message', value: JSON.parse(text) };
    } catch (e) {
      // V8 quotes the text itself in some messages: keep only the position, since a mangled
      // `answer` may hold a passphrase and this error is logged and sent back.
      const at = /at position (\d+)/.exec((e as Error).message);
      return { kind: 'bad', error: `frame is not valid JSON${at ? ` (at position ${at[1]})` : ''}` };
    }
  }
}
