// A TCP relay in front of a server that can cut the network silently, the way a sleeping laptop or
// a lost Wi-Fi does: after cut() nothing passes either way and nothing is closed (both ends just
// hear nothing), and new connections are refused (like a down interface: the tries fail at once).
// restore() lets the held bytes through, as TCP's retransmissions would, and accepts connections again.

import net from 'node:net';

export interface CutRelay {
  host: string;
  port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Connections refused while cut. */
  refused(): number;
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  server: net.Socket;
}

export async function startCutRelay(target: { host: string; port: number }): Promise<CutRelay> {
  const pairs = new Set<Pair>();
  let isCut = false;
  let accepted = 0;
  let refused = 0;

  // unpiped and paused sockets read nothing: the bytes wait in the kernel's buffers, then the sender's
  const setFlowing = (on: boolean) => {
    for (const { client, server } of pairs) {
      if (on) {
        client.pipe(server);
        server.pipe(client);
      } else {
        client.unpipe(server);
        server.unpipe(client);
        client.pause();
        server.pause();
      }
    }
  };

  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (isCut) {
      refused++;
      client.resetAndDestroy();
      return;
    }
    accepted++;
    const server = net.connect(target.port, target.host);
    const p: Pair = { client, server };
    pairs.add(p);
    client.pipe(server);
    server.pipe(client);
    const end = () => {
      client.destroy();
      server.destroy();
      pairs.delete(p);
    };
    server.on('error', end);
    server.on('close', end);
    client.on('close', end);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });

  return {
    host: '127.0.0.1',
    port,
    connections: () => accepted,
    refused: () => refused,
    get isCut() {
      return isCut;
    },
    cut() {
      if (isCut) return;
      isCut = true;
      setFlowing(false);
    },
    restore() {
      if (!isCut) return;
      isCut = false;
      setFlowing(true);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of pairs) {
          p.client.destroy();
          p.server.destroy();
        }
        pairs.clear();
        server.close(() => resolve());
      }),
  };
}
