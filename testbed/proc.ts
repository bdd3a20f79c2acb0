// Memory and CPU time of processes, read from /proc (Linux): VmRSS, VmHWM (the peak RSS the kernel
// kept for us, so no sampling can miss it) and utime+stime.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

interface ProcSample {
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
function parseProc(statText: string, statusText: string, clk = 100): ProcSample {
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

// ---------- the process table ----------

/** Pids of every process visible in /proc. */
function pids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Fields of /proc/PID/stat after the command name (state first, then ppid), or null when gone. */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces and parentheses: the fields follow the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The parent's pid, or -1 when the process is gone. */
function parentOf(pid: number): number {
  const f = statFields(pid);
  return f ? Number(f[1]) : -1;
}

/** True for a zombie, and for a process already gone. */
function isZombie(pid: number): boolean {
  const f = statFields(pid);
  return f ? f[0] === 'Z' : true;
}

/** Every process below `root` (children, grandchildren…), at the moment of the call. */
export function descendants(root: number): number[] {
  const all = pids();
  const parent = new Map(all.map((p) => [p, parentOf(p)]));
  const out: number[] = [];
  let frontier = [root];
  while (frontier.length) {
    const next = all.filter((p) => frontier.includes(parent.get(p)!));
    out.push(...next);
    frontier = next;
  }
  return out;
}

/** The command line, arguments joined by NUL as the kernel keeps them; '' when gone or unreadable. */
export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** True when the environment holds `entry` (`NAME=value`) exactly. */
export function environHas(pid: number, entry: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`).includes(Buffer.from(`${entry}\0`));
  } catch {
    return false; // gone, or not ours to read
  }
}

/** The real uid, or -1 when the process is gone. */
export function uidOf(pid: number): number {
  try {
    const m = /^Uid:\s+(\d+)\s/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

/** Live (not zombie) processes other than this one that satisfy `pred`. */
export function livePids(pred: (pid: number) => boolean): number[] {
  return pids().filter((p) => p !== process.pid && !isZombie(p) && pred(p));
}

/** VmRSS in KiB; NaN when the process is gone. */
export function rssKiB(pid: number): number {
  return sample(pid)?.rssKiB ?? Number.NaN;
}
