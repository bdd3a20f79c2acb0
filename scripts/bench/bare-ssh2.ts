// The floor ssh2 sets: the smallest forward that does what `ssh -D` does with ssh2 and nothing of
// g5k-tunnel (one ssh2 connection with Nagle off, a SOCKS5 CONNECT read in one piece, forwardOut,
// pipe()). No reply codes, no checks, no state: a measuring stick, never a proxy for use.
//
//   node dist/scripts/bench/bare-ssh2.js HOST PORT USER KEY KNOWN_HOSTS SOCKS_PORT

import fs from 'node:fs';
import net from 'node:net';
import ssh2 from 'ssh2';

const [host, port, username, key, knownHosts, socksPort] = process.argv.slice(2);
if (!socksPort) {
  process.stderr.write('usage: bare-ssh2 HOST PORT USER KEY KNOWN_HOSTS SOCKS_PORT\n');
  process.exit(2);
}

/** The destination of a CONNECT request (IPv4 or domain), or null. */
function destination(req: Buffer): { host: string; port: number } | null {
  if (req[1] !== 1) return null;
  if (req[3] === 1 && req.length >= 10) return { host: [...req.subarray(4, 8)].join('.'), port: req.readUInt16BE(8) };
  if (req[3] === 3 && req.length >= 7 + req[4]!)
    return { host: req.toString('latin1', 5, 5 + req[4]!), port: req.readUInt16BE(5 + req[4]!) };
  return null;
}

const client = new ssh2.Client();
const sock = net.connect({ host, port: Number(port) });
sock.setNoDelay(true);
client.on('error', (e) => {
  process.stderr.write(`bare-ssh2: ${e.message}\n`);
  process.exit(255);
});
client.on('close', () => process.exit(0));
client.on('ready', () => {
  net
    .createServer((s) => {
      s.setNoDelay(true);
      s.on('error', () => {});
      s.once('data', () => {
        s.write(Buffer.from([5, 0]));
        s.once('data', (req: Buffer) => {
          const d = destination(req);
          if (!d) return void s.destroy();
          s.pause();
          client.forwardOut('127.0.0.1', 0, d.host, d.port, (err, ch) => {
            if (err) return void s.destroy();
            s.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
            ch.on('error', () => s.destroy());
            s.on('close', () => ch.destroy());
            s.pipe(ch).pipe(s);
            s.resume();
          });
        });
      });
    })
    .listen(Number(socksPort), '127.0.0.1');
});
client.connect({
  sock,
  username,
  privateKey: fs.readFileSync(key!),
  // the test gateway's key, as a plain line of the benchmark's known_hosts
  hostVerifier: (k: Buffer) => fs.readFileSync(knownHosts!, 'utf8').includes(k.toString('base64')),
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
