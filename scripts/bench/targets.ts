// The servers the benchmark fetches from, in their own process so that they never share an event
// loop with the client being timed: HTTP `GET /bytes/N` (N bytes) and `GET /` (a small page), and a
// TCP echo server for round trips. Loopback only. Run as a program it prints one JSON line
// `{"http":PORT,"echo":PORT}` once both listen, and exits on SIGTERM, SIGINT or stdin EOF.

import http from 'node:http';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

const CHUNK = Buffer.alloc(1 << 20, 0x61); // reused for every write: the server costs almost nothing
const MAX_BYTES = 16 * 1024 ** 3;
const PAGE = Buffer.from('<!doctype html><title>bench</title><p>ok</p>\n');

interface Targets {
  http: number;
  echo: number;
  close(): Promise<void>;
}

function onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html', 'content-length': PAGE.length });
    res.end(PAGE);
    return;
  }
  const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
  const total = m ? Number(m[1]) : -1;
  if (!Number.isSafeInteger(total) || total < 0 || total > MAX_BYTES) {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  let left = total;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    left = 0;
  });
  pump();
}

async function startTargets(host = '127.0.0.1'): Promise<Targets> {
  const web = http.createServer(onRequest);
  web.keepAliveTimeout = 1000;
  const sockets = new Set<net.Socket>();
  const echo = net.createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  const listen = (srv: net.Server) =>
    new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, host, 1024, () => resolve((srv.address() as net.AddressInfo).port));
    });
  const [httpPort, echoPort] = await Promise.all([listen(web), listen(echo)]);
  return {
    http: httpPort,
    echo: echoPort,
    close: async () => {
      web.closeAllConnections();
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise((r) => web.close(r)), new Promise((r) => echo.close(r))]);
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t = await startTargets();
  process.stdout.write(`${JSON.stringify({ http: t.http, echo: t.echo })}\n`);
  const stop = () => void t.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // the parent's death closes our stdin: never outlive it
  process.stdin.on('end', stop).resume();
}
