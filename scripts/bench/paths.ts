// The network path between the endpoints and the gateway: loopback as it is, or the WAN stand-in
// (testbed/wan-relay.ts, in its own process) in front of sshd, so that every endpoint's SSH
// connection crosses it. The ceiling (no proxy) then reaches its targets through stand-ins of the
// same path. The stand-in in front of sshd also counts each connection's round trips.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import * as children from '../../testbed/children.js';
import type { Context } from './endpoints.js';
import type { Target } from './phases.js';

export interface NetPath {
  rttMs: number;
  rateMbit: number | null;
  /** The endpoints' context: its gateway is the stand-in's address, with sshd's key for it. */
  ctx: Context;
  /** The targets as the endpoints ask for them (sshd connects to them on loopback). */
  target: Target;
  /** The targets as the no-proxy ceiling reaches them: through the same path. */
  directTarget: Target;
  /**
   * The most round trips any SSH connection accepted at or after `sinceMs` had made for its client by
   * `atMs` (epoch ms, performance.timeOrigin + now()); null on loopback, where nothing counts them.
   */
  tripsSince(sinceMs: number, atMs: number): Promise<number | null>;
  stop(): Promise<void>;
}

interface RelayProcess {
  port: number;
  ask(line: string): Promise<string>;
  stop(): Promise<void>;
}

async function startRelay(root: string, to: string, rttMs: number, rateMbit: number | null): Promise<RelayProcess> {
  const child = children.start(
    process.execPath,
    [path.join(root, 'dist/testbed/wan-relay.js'), to, String(rttMs), ...(rateMbit ? [String(rateMbit)] : [])],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = readline.createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  const first = new Promise<string>((resolve, reject) => {
    waiting.push(resolve);
    child.once('exit', (code) => reject(new Error(`the WAN stand-in exited (${code})`)));
  });
  lines.on('line', (line) => waiting.shift()?.(line));
  const { port } = JSON.parse(await first) as { port: number };
  return {
    port,
    ask: (line) =>
      new Promise<string>((resolve) => {
        waiting.push(resolve);
        child.stdin!.write(`${line}\n`);
      }),
    stop: () => children.stop(child),
  };
}

export async function openPath(
  base: Context,
  target: Target,
  rttMs: number,
  rateMbit: number | null,
): Promise<NetPath> {
  if (rttMs === 0)
    return {
      rttMs,
      rateMbit: null,
      ctx: base,
      target,
      directTarget: target,
      tripsSince: async () => null,
      stop: async () => {},
    };
  const relays: RelayProcess[] = [];
  const stop = async () => {
    await Promise.all(relays.map((r) => r.stop()));
  };
  try {
    const gw = base.gw;
    const start = async (to: string) => {
      const r = await startRelay(base.root, to, rttMs, rateMbit);
      relays.push(r);
      return r;
    };
    const ssh = await start(`${gw.host}:${gw.port}`);
    const web = await start(`${target.host}:${target.http}`);
    const echo = await start(`${target.host}:${target.echo}`);
    // the clients reach sshd through the stand-in: its key under the stand-in's address
    const knownHosts = path.join(base.scratch, `known_hosts.rtt${rttMs}`);
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${ssh.port} ${gw.hostKeyPublic}\n`);
    return {
      rttMs,
      rateMbit,
      ctx: { ...base, gw: { ...gw, host: '127.0.0.1', port: ssh.port, knownHosts } },
      target,
      directTarget: { host: '127.0.0.1', http: web.port, echo: echo.port },
      async tripsSince(sinceMs, atMs) {
        const conns = JSON.parse(await ssh.ask(`trips ${atMs}`)) as { acceptedAt: number; roundTrips: number }[];
        const mine = conns.filter((c) => c.acceptedAt >= sinceMs);
        return mine.length ? Math.max(...mine.map((c) => c.roundTrips)) : null;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
