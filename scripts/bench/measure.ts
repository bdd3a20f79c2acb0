// One endpoint, one round: start it, warm it up, run the phases, read memory and CPU, stop it.

import type { Gateway } from '../../testbed/sshd.js';
import { startEndpoint, type Context, type EndpointId, type Running } from './endpoints.js';
import * as phases from './phases.js';
import { cpuBetween, cpuByPid, kibToMiB, sample, sampleAll } from '../../testbed/proc.js';
import { openTunnel } from '../../testbed/socks-client.js';

export interface Params {
  bulkMiB: number;
  setupCount: number;
  rttCount: number;
  rttSize: number;
  conc: number;
  concMiB: number;
  /** Upper bound of every phase. */
  phaseTimeoutMs: number;
}

interface Memory {
  /** RSS once connected, before any traffic. */
  proxyIdleMiB: number | null;
  /** VmHWM at the end: the highest RSS the process ever had. */
  proxyPeakMiB: number | null;
  /** The private (anonymous) part of RSS, idle and the highest seen (sampled every 100 ms). */
  proxyIdleAnonMiB: number | null;
  proxyPeakAnonMiB: number | null;
  /** The sshd session processes (monitor and user process) of this endpoint's connection. */
  sshdIdleMiB: number | null;
  sshdPeakMiB: number | null;
}

export interface EndpointResult {
  round: number;
  id: EndpointId;
  ok: boolean;
  error?: string;
  pid: number | null;
  sshdPids: number[];
  /** Spawn → SOCKS served over an established SSH connection. */
  startMs: number | null;
  /** Sum of the stages the native host reports (tcp, hostkey, auth, forwarding). */
  handshakeMs?: number;
  bulk?: phases.BulkResult & { proxyCpuSPerGiB: number | null; sshdCpuSPerGiB: number | null };
  setup?: phases.SetupResult & { proxyCpuMsPerConn: number | null; sshdCpuMsPerConn: number | null };
  rtt?: phases.RttResult;
  concurrency?: phases.ConcurrencyResult;
  mem?: Memory;
}

const GiB = 1024 ** 3;

function perGiB(cpuS: number | null, bytes: number): number | null {
  return cpuS === null ? null : cpuS / (bytes / GiB);
}

export async function measureEndpoint(
  id: EndpointId,
  round: number,
  ctx: Context,
  target: phases.Target,
  p: Params,
  log: (msg: string) => void = () => {},
): Promise<EndpointResult> {
  const r: EndpointResult = { round, id, ok: false, pid: null, sshdPids: [], startMs: null };
  let ep: Running | null = null;
  let sampler: NodeJS.Timeout | undefined;
  try {
    ep = await startEndpoint(id, ctx);
    r.pid = ep.pid;
    r.startMs = ep.startMs;
    if (ep.status) r.handshakeMs = ep.status.timings.reduce((a, t) => a + t.ms, 0);
    const proxy = ep.proxy;
    const dial: phases.Dial = (host, port) => openTunnel(proxy, host, port, 30_000);
    const gw: Gateway = ctx.gw;
    // the monitor and the user's process of this endpoint's SSH connection(s), read afresh each time
    const sshd = () => (proxy ? gw.sessionPids() : []);
    const proxyNow = () => (ep?.pid ? sample(ep.pid) : null);
    const sshdNow = () => {
      const pids = sshd();
      for (const p of pids) if (!r.sshdPids.includes(p)) r.sshdPids.push(p);
      return pids.length ? sampleAll(pids) : null;
    };

    const idle = proxyNow();
    const sshdIdle = sshdNow();
    // RssAnon has no high-water mark in /proc: sample it
    let peakAnon = idle?.anonKiB ?? 0;
    sampler = setInterval(() => {
      const s = proxyNow();
      if (s && s.anonKiB > peakAnon) peakAnon = s.anonKiB;
    }, 100);

    // warm-up, the same for all: the JIT, the first channel, the TCP windows
    await phases.setup(dial, target, 20, p.phaseTimeoutMs);
    await phases.bulk(dial, target, Math.min(16, p.bulkMiB), p.phaseTimeoutMs);

    log(`${id}: bulk`);
    const [pb, sb] = [proxyNow(), cpuByPid(sshd())];
    const bulk = await phases.bulk(dial, target, p.bulkMiB, p.phaseTimeoutMs);
    const [pa, sa] = [proxyNow(), cpuByPid(sshd())];
    r.bulk = {
      ...bulk,
      proxyCpuSPerGiB: pb && pa ? perGiB(pa.cpuS - pb.cpuS, bulk.bytes) : null,
      sshdCpuSPerGiB: proxy ? perGiB(cpuBetween(sb, sa), bulk.bytes) : null,
    };
    log(`${id}: set-up`);
    const [ps, ss] = [proxyNow(), cpuByPid(sshd())];
    const setup = await phases.setup(dial, target, p.setupCount, p.phaseTimeoutMs);
    const [pe, se] = [proxyNow(), cpuByPid(sshd())];
    const n = setup.attempted || 1;
    r.setup = {
      ...setup,
      proxyCpuMsPerConn: ps && pe ? ((pe.cpuS - ps.cpuS) * 1000) / n : null,
      sshdCpuMsPerConn: proxy ? (cpuBetween(ss, se) * 1000) / n : null,
    };
    log(`${id}: round trips`);
    r.rtt = await phases.rtt(dial, target, p.rttCount, p.rttSize, p.phaseTimeoutMs);
    log(`${id}: ${p.conc} parallel`);
    r.concurrency = await phases.concurrency(dial, target, p.conc, p.concMiB, p.phaseTimeoutMs);

    const end = proxyNow();
    const sshdEnd = sshdNow();
    r.mem = {
      proxyIdleMiB: idle ? kibToMiB(idle.rssKiB) : null,
      proxyPeakMiB: end ? kibToMiB(end.hwmKiB) : null,
      proxyIdleAnonMiB: idle ? kibToMiB(idle.anonKiB) : null,
      proxyPeakAnonMiB: end ? kibToMiB(Math.max(peakAnon, end.anonKiB)) : null,
      sshdIdleMiB: sshdIdle ? kibToMiB(sshdIdle.rssKiB) : null,
      sshdPeakMiB: sshdEnd ? kibToMiB(sshdEnd.hwmKiB) : null,
    };
    if (proxy && ep.pid && !end) throw new Error('the proxy process died during the run');
    r.ok = r.setup.failures === 0 && r.concurrency.failures === 0;
    if (!r.ok) r.error = 'some connections failed';
  } catch (e) {
    r.ok = false;
    r.error = e instanceof Error ? e.message : String(e);
  } finally {
    clearInterval(sampler);
    await ep?.stop();
  }
  return r;
}
