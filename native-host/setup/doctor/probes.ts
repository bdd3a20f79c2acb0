// Doctor's network probes, each bounded in time: the SSH banner and host key of the first hop
// (a key exchange that stops before authentication), over TCP or through the hop's ProxyCommand as
// the tunnel reaches it, and whether the SOCKS port is free.

import net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Hop } from '../../ssh/connect.js';
import { startProxyCommand } from '../../ssh/proxy-command.js';
import type { Logger } from '../../log.js';
import { fail, ok, warn, type Check, type DoctorOptions } from './check.js';

// ---------- network ----------

/** Reads the SSH identification line (RFC 4253 §4.2) from `s`, bounded; `s` is destroyed after. */
export function bannerFrom(s: Duplex, timeoutMs: number, t0 = Date.now()): Promise<{ banner: string; ms: number }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (err: Error | null, banner?: string) => {
      clearTimeout(timer);
      s.removeAllListeners('data');
      s.on('error', () => {});
      s.destroy();
      if (err) reject(err);
      else resolve({ banner: banner!, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    s.on('error', (e) => done(e));
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      // servers may send other lines before the identification line
      for (const line of buf.split('\n')) if (line.startsWith('SSH-')) return done(null, line.replace(/\r$/, ''));
      if (buf.length > 8192) done(new Error('no SSH identification line: not an SSH server'));
    });
    s.on('end', () => done(new Error('closed the connection without an SSH identification line')));
  });
}

/** TCP connect and read the SSH identification line, bounded. */
function readBanner(host: string, port: number, timeoutMs: number): Promise<{ banner: string; ms: number }> {
  return bannerFrom(net.connect({ host, port }), timeoutMs);
}

/** Nothing the doctor prints comes from the ProxyCommand's log: its last stderr line is in its error. */
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Starts `hop`'s ProxyCommand as the tunnel does; its stdout/stdin are the hop's transport. */
function proxyStream(o: DoctorOptions, hop: Hop): Promise<Duplex> {
  return startProxyCommand(hop.proxyCommand!, { log: quiet, label: hop.label, env: o.env as NodeJS.ProcessEnv });
}

/** The banner read from the ProxyCommand's stdout, bounded (the start included); the child ended after. */
async function readBannerThrough(o: DoctorOptions, hop: Hop): Promise<{ banner: string; ms: number }> {
  const t0 = Date.now();
  return bannerFrom(await proxyStream(o, hop), o.timeoutMs, t0);
}

/** The gateway's host key, from a key exchange that stops before authentication; over TCP, or over
 *  `sock` (a ProxyCommand's stream, destroyed after). */
function fetchHostKey(target: { host: string; port: number } | { sock: Duplex }, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    let key: Buffer | null = null;
    const timer = setTimeout(() => finish(), timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      c.removeAllListeners();
      c.on('error', () => {});
      c.end();
      if ('sock' in target) target.sock.destroy();
      if (key) resolve(key);
      else reject(new Error('no host key received'));
    };
    c.on('error', finish);
    c.on('close', finish);
    c.connect({
      ...target,
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

/** The first machine of the route (the gateway, or the first jump host) answers SSH: over TCP, or
 *  through its ProxyCommand when the ssh config gives it one (as the tunnel reaches it). */
export async function checkFirstHop(
  o: DoctorOptions,
  hop: Hop,
  what: 'gateway' | 'jump host',
): Promise<{ checks: Check[]; key: Buffer | null }> {
  const target = `${hop.host}:${hop.port}`;
  const proxied = hop.proxyCommand !== undefined;
  const through = proxied ? ' through its ProxyCommand' : '';
  try {
    const { banner, ms } = proxied
      ? await readBannerThrough(o, hop)
      : await readBanner(hop.host, hop.port, o.timeoutMs);
    const checks = [ok(`${what} ${target} answers${through}: ${banner} (${ms} ms)`)];
    let key: Buffer | null = null;
    try {
      key = proxied
        ? await fetchHostKey({ sock: await proxyStream(o, hop) }, o.timeoutMs)
        : await fetchHostKey({ host: hop.host, port: hop.port }, o.timeoutMs);
    } catch (e) {
      checks.push(warn(`${what} ${target} did not complete a key exchange${through} (${(e as Error).message})`));
    }
    return { checks, key };
  } catch (e) {
    if (proxied)
      return {
        checks: [
          fail(
            `${what} ${target} unreachable through its ProxyCommand: ${(e as Error).message}`,
            `run the ProxyCommand of your ssh config by hand to see why: ${hop.proxyCommand}`,
          ),
        ],
        key: null,
      };
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

/** Is the SOCKS port free on loopback? If not, is it a SOCKS5 server (a running tunnel)? 0 = automatic. */
export async function checkSocksPort(port: number, timeoutMs: number): Promise<Check> {
  // 0 is the browser's default: its host takes whatever port is free when it starts
  if (port === 0)
    return ok('SOCKS port automatic (0): the host picks a free loopback port when it starts; nothing to check');
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
