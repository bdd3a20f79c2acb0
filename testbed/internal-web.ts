// An "internal" web server on 127.0.0.2, reachable by names that only the test gateway resolves.
// It records, for each request, whether the TCP peer was the sshd session user: proof that the
// request came through the tunnel and not directly from the test process.

import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { execFileSync } from 'node:child_process';
import { INTERNAL_IP, TEST_USER } from './sshd.js';

export interface InternalWeb {
  port: number;
  /** One entry per request: the path and the uid of the process that opened the connection. */
  hits: { path: string; host: string; viaGateway: boolean }[];
  close(): Promise<void>;
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function hexPort(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** The uid owning the client end of a loopback connection, from /proc/net/tcp{,6}. */
export function peerUid(socket: net.Socket): number | null {
  const port = hexPort(socket.remotePort ?? 0);
  const ourPort = hexPort(socket.localPort ?? 0);
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8) continue;
      const [, local, remote] = f;
      if (local?.endsWith(`:${port}`) && remote?.endsWith(`:${ourPort}`)) return Number(f[7]);
    }
  }
  return null;
}

export function startInternalWeb(port = 0): Promise<InternalWeb> {
  const gatewayUid = uidOf(TEST_USER);
  const hits: InternalWeb['hits'] = [];
  const server = http.createServer((req, res) => {
    const viaGateway = peerUid(req.socket) === gatewayUid;
    hits.push({ path: req.url ?? '', host: req.headers.host ?? '', viaGateway });
    const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (m) {
      const n = Number(m[1]);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let left = n;
      const pump = () => {
        while (left > 0) {
          const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= part.length;
          if (!res.write(part)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><title>Internal ${req.headers.host}</title><h1 id="internal">Internal page</h1>` +
        `<p id="host">${req.headers.host}</p><p id="via">${viaGateway ? 'via-gateway' : 'direct'}</p>`,
    );
  });
  return new Promise((resolve) => {
    server.listen(port, INTERNAL_IP, () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        hits,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
