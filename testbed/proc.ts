// Memory and CPU time of processes, read from /proc (Linux): VmRSS, VmHWM (the peak RSS the kernel
// kept for us, so no sampling can miss it) and utime+stime.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export interface ProcSample {
  rssKiB: number;
  hwmKiB: number;
  /** The private part of RSS; the rest is mostly the executable's pages, shared with its siblings. */
  anonKiB: number;
  /** User + system CPU seconds since the process started. */
  cpuS: number;
}

let ticks = 0;
function clockTicks(): number {
  if (!ticks) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** Parses /proc/PID/stat and /proc/PID/status texts (pure, for tests). */
export function parseProc(statText: string, statusText: string, clk = 100): ProcSample {
  // the command name may hold spaces and parentheses: fields start after the last ')'
  const f = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(statusText);
    return m ? Number(m[1]) : 0;
  };
  // fields 14 and 15 of stat (utime, stime) are at 11 and 12 once pid and comm are dropped
  return {
    rssKiB: kib('VmRSS'),
    hwmKiB: kib('VmHWM'),
    anonKiB: kib('RssAnon'),
    cpuS: (Number(f[11]) + Number(f[12])) / clk,
  };
}

export function sample(pid: number): ProcSample | null {
  try {
    return parseProc(
      fs.readFileSync(`/proc/${pid}/stat`, 'utf8'),
      fs.readFileSync(`/proc/${pid}/status`, 'utf8'),
      clockTicks(),
    );
  } catch {
    return null; // gone
  }
}

/** Sum over a set of processes (the sshd session is two of them); missing ones count as zero. */
export function sampleAll(pids: readonly number[]): ProcSample {
  const out = { rssKiB: 0, hwmKiB: 0, anonKiB: 0, cpuS: 0 };
  for (const p of pids) {
    const s = sample(p);
    if (!s) continue;
    out.rssKiB += s.rssKiB;
    out.hwmKiB += s.hwmKiB;
    out.anonKiB += s.anonKiB;
    out.cpuS += s.cpuS;
  }
  return out;
}

/** CPU seconds per process, to difference across a phase even if the set of processes changes. */
export function cpuByPid(pids: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const p of pids) {
    const s = sample(p);
    if (s) m.set(p, s.cpuS);
  }
  return m;
}

/** CPU used between two readings; a process born in between counts from zero. */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [p, cpu] of after) total += cpu - (before.get(p) ?? 0);
  return total;
}

export const MiB = 1024 * 1024;
export const kibToMiB = (k: number) => k / 1024;
