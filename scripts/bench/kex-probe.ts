// Which cipher and MAC does each endpoint end up with? A TCP relay in front of the gateway reads the
// two cleartext KEXINIT packets and applies the SSH rule (RFC 4253 §7.1: the client's first
// algorithm that the server also offers). Used once per run, never on the measured path.

import net from 'node:net';

interface KexInit {
  kex: string[];
  hostKey: string[];
  cipherC2S: string[];
  cipherS2C: string[];
  macC2S: string[];
  macS2C: string[];
  compC2S: string[];
}

export interface Negotiated {
  kex: string;
  cipher: string;
  /** 'implicit' for AEAD ciphers (chacha20-poly1305, AES-GCM). */
  mac: string;
  compression: string;
}

/** Parses the SSH_MSG_KEXINIT payload (message byte first). */
function parseKexInit(payload: Buffer): KexInit {
  if (payload[0] !== 20) throw new Error(`not a KEXINIT (message ${payload[0]})`);
  let off = 17; // message byte + 16-byte cookie
  const list = () => {
    const len = payload.readUInt32BE(off);
    const s = payload.subarray(off + 4, off + 4 + len).toString('ascii');
    off += 4 + len;
    return s ? s.split(',') : [];
  };
  const kex = list();
  const hostKey = list();
  const cipherC2S = list();
  const cipherS2C = list();
  const macC2S = list();
  const macS2C = list();
  const compC2S = list();
  return { kex, hostKey, cipherC2S, cipherS2C, macC2S, macS2C, compC2S };
}

const AEAD = /poly1305|gcm/;

function negotiate(client: KexInit, server: KexInit): Negotiated {
  const pick = (c: string[], s: string[]) => c.find((a) => s.includes(a)) ?? 'none';
  const cipher = pick(client.cipherC2S, server.cipherC2S);
  return {
    kex: pick(client.kex, server.kex),
    cipher,
    mac: AEAD.test(cipher) ? 'implicit' : pick(client.macC2S, server.macC2S),
    compression: pick(client.compC2S, server.compC2S),
  };
}

/** Finds the first binary packet after the version line; null until it is complete. */
function firstPacketPayload(stream: Buffer): Buffer | null {
  // servers may send other lines before the version line; the banner ends at the SSH- line
  let start = 0;
  while (!stream.subarray(start).toString('latin1').startsWith('SSH-')) {
    const next = stream.indexOf('\n', start);
    if (next < 0) return null;
    start = next + 1;
  }
  const end = stream.indexOf('\n', start);
  if (end < 0) return null;
  const p = end + 1;
  if (stream.length < p + 5) return null;
  const len = stream.readUInt32BE(p);
  const pad = stream[p + 4]!;
  if (stream.length < p + 4 + len) return null;
  return stream.subarray(p + 5, p + 4 + len - pad);
}

interface Relay {
  port: number;
  /** Resolves with the negotiated algorithms of the next connection through the relay. */
  next(): Promise<Negotiated>;
  close(): Promise<void>;
}

export async function startRelay(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<Relay> {
  const waiters: ((n: Negotiated) => void)[] = [];
  const failures: ((e: Error) => void)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(upstreamPort, upstreamHost);
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        down.destroy();
        up.destroy();
      });
    }
    let fromClient = Buffer.alloc(0);
    let fromServer = Buffer.alloc(0);
    let c: KexInit | null = null;
    let s: KexInit | null = null;
    let reported = false;
    const check = () => {
      if (reported) return;
      try {
        if (!c) {
          const p = firstPacketPayload(fromClient);
          if (p) c = parseKexInit(p);
        }
        if (!s) {
          const p = firstPacketPayload(fromServer);
          if (p) s = parseKexInit(p);
        }
      } catch (e) {
        reported = true;
        failures.shift()?.(e as Error);
        waiters.shift();
        return;
      }
      if (c && s) {
        reported = true;
        failures.shift();
        waiters.shift()?.(negotiate(c, s));
      }
    };
    down.on('data', (d: Buffer) => {
      if (!reported && fromClient.length < 65536) fromClient = Buffer.concat([fromClient, d]);
      check();
    });
    up.on('data', (d: Buffer) => {
      if (!reported && fromServer.length < 65536) fromServer = Buffer.concat([fromServer, d]);
      check();
    });
    down.pipe(up);
    up.pipe(down);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    next: () =>
      new Promise<Negotiated>((resolve, reject) => {
        waiters.push(resolve);
        failures.push(reject);
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
