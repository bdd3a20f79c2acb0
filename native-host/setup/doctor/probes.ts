// Doctor's network probes, each bounded in time: the SSH banner and host key of the first hop
// (a key exchange that stops before authentication), and whether the SOCKS port is free.

import net from 'node:net';
import ssh2 from 'ssh2';
import type { Hop } from '../../ssh/connect.js';
import { fail, ok, warn, type Check, type DoctorOptions } from './check.js';

// ---------- network ----------

/** TCP connect and read the SSH identification line (RFC 4253 §4.2), bounded. */
export function readBanner(host: string, port: number, timeoutMs: number): Promise<{ banner: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = net.connect({ host, port });
    let buf = '';
    const done = (err: Error | null, banner?: string) => {
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve({ banner: banner!, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    s.on('error', (e) => done(e));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      // servers may send other lines before the identification line
      for (const line of buf.split('\n')) if (line.startsWith('SSH-')) return done(null, line.replace(/\r$/, ''));
      if (buf.length > 8192) done(new Error('no SSH identification line: not an SSH server'));
    });
    s.on('end', () => done(new Error('closed the connection without an SSH identification line')));
  });
}

/** The gateway's host key, from a key exchange that stops before authentication. */
export function fetchHostKey(host: string, port: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    let key: Buffer | null = null;
    const timer = setTimeout(() => finish(), timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      c.removeAllListeners();
      c.on('error', () => {});
      c.end();
      if (key) resolve(key);
      else reject(new Error('no host key received'));
    };
    c.on('error', finish);
    c.on('close', finish);
    c.connect({
      host,
      port,
      username: 'g5k-tunnel-doctor',
      readyTimeout: timeoutMs,
      hostVerifier: (k: Buffer) => {
        key = Buffer.from(k);
        setImmediate(finish);
        return false; // never authenticate: the doctor only looks
      },
    });
  });
}

/** The first machine of the route (the gateway, or the first jump host) answers SSH. */
export async function checkFirstHop(
  o: DoctorOptions,
  hop: Hop,
  what: 'gateway' | 'jump host',
): Promise<{ checks: Check[]; key: Buffer | null }> {
  const target = `${hop.host}:${hop.port}`;
  try {
    const { banner, ms } = await readBanner(hop.host, hop.port, o.timeoutMs);
    const checks = [ok(`${what} ${target} answers: ${banner} (${ms} ms)`)];
    let key: Buffer | null = null;
    try {
      key = await fetchHostKey(hop.host, hop.port, o.timeoutMs);
    } catch (e) {
      checks.push(warn(`${what} ${target} did not complete a key exchange (${(e as Error).message})`));
    }
    return { checks, key };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
        ? `the name ${hop.host} does not resolve`
        : err.code === 'ECONNREFUSED'
          ? 'connection refused'
          : err.message;
    return {
      checks: [
        fail(
          `${what} ${target} unreachable: ${why}`,
          `check your network (outbound SSH allowed?) and the ${what} name and port in the options`,
        ),
      ],
      key: null,
    };
  }
}

/** Is the SOCKS port free on loopback? If not, is it a SOCKS5 server (a running tunnel)? */
export async function checkSocksPort(port: number, timeoutMs: number): Promise<Check> {
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e) => resolve(e));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(null)));
  });
  if (!err) return ok(`SOCKS port 127.0.0.1:${port} is free`);
  if (err.code !== 'EADDRINUSE')
    return fail(
      `SOCKS port ${port} cannot be used (${err.code ?? err.message})`,
      'choose a port above 1024 in the options',
    );
  const socks5 = await new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => end(false), timeoutMs);
    const end = (v: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    s.on('error', () => end(false));
    s.on('connect', () => s.write(Buffer.from([5, 1, 0])));
    s.on('data', (d) => end(d[0] === 5));
  });
  return socks5
    ? warn(
        `SOCKS port ${port} is taken by a SOCKS5 server (a running g5k-tunnel, or an ssh -D?)`,
        'fine if it is g5k-tunnel; else stop the other one or choose another port',
      )
    : fail(
        `SOCKS port ${port} is taken by another program`,
        `choose another SOCKS port in the options (and --socks-port here), or stop what listens on ${port}`,
      );
}
