// In-process SSH servers for faults a real sshd cannot be made to show on demand: one that stalls
// after its identification line, one that logs anybody in and then closes every channel at once.
// Each comes with a known_hosts file for its host key, so the client's checks run as usual.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { Connection } from 'ssh2';
import { generateEd25519Pair } from './keys.js';

const { Server, utils } = ssh2;

interface FaultServer {
  host: string;
  port: number;
  /** known_hosts holding this server's key under [127.0.0.1]:port. */
  knownHosts: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Direct-tcpip channels requested so far. */
  channelRequests(): number;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function knownHostsFor(port: number, publicLine: string): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-fault-'));
  const file = path.join(dir, 'known_hosts');
  fs.writeFileSync(file, `[127.0.0.1]:${port} ${publicLine.trim().split(/\s+/).slice(0, 2).join(' ')}\n`);
  return { dir, file };
}

/** Sends an SSH identification line, then never says anything again (a wedged server). */
export async function startStallingServer(): Promise<FaultServer> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((s) => {
    count++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.write('SSH-2.0-Stalling_1.0\r\n');
    s.resume(); // read and ignore the client's key exchange
  });
  const port = await listen(server);
  const kh = knownHostsFor(port, generateEd25519Pair().public);
  return {
    host: '127.0.0.1',
    port,
    knownHosts: kh.file,
    connections: () => count,
    channelRequests: () => 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      fs.rmSync(kh.dir, { recursive: true, force: true });
    },
  };
}

/** Logs in any client that proves it holds a key, then accepts and immediately closes every channel. */
export async function startChannelDropServer(): Promise<FaultServer> {
  const keys = generateEd25519Pair();
  const clients = new Set<Connection>();
  let count = 0;
  let channels = 0;
  const server = new Server({ hostKeys: [keys.private] }, (client) => {
    count++;
    clients.add(client);
    client.on('error', () => {});
    client.on('close', () => clients.delete(client));
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      if (!ctx.signature) return ctx.accept(); // "would you take this key?" — yes
      const key = utils.parseKey(ctx.key.data);
      const ok = !(key instanceof Error) && !Array.isArray(key) && key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo);
      return ok ? ctx.accept() : ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('tcpip', (accept) => {
        channels++;
        const ch = accept();
        ch.on('error', () => {});
        ch.close();
      });
    });
  });
  const port = await listen(server);
  const kh = knownHostsFor(port, keys.public);
  return {
    host: '127.0.0.1',
    port,
    knownHosts: kh.file,
    connections: () => count,
    channelRequests: () => channels,
    close: async () => {
      for (const c of clients) c.end();
      await new Promise<void>((r) => server.close(() => r()));
      fs.rmSync(kh.dir, { recursive: true, force: true });
    },
  };
}
