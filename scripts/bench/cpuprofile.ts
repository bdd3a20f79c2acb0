// Reads a V8 .cpuprofile (node --cpu-prof) into self time per function and per part of the stack
// (ssh2's crypto, ssh2's protocol, Node's streams and sockets, our code, GC, idle). Pure.

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Row {
  name: string;
  where: string;
  category: string;
  selfMs: number;
}

interface ProfileSummary {
  totalMs: number;
  /** Everything but (idle): the time the process actually used the CPU. */
  busyMs: number;
  byCategory: { category: string; ms: number }[];
  top: Row[];
}

/** Which part of the stack a script belongs to. */
function categoryOf(url: string, functionName: string): string | null {
  if (!url) {
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8/native (program)';
    return null; // a native function: counted where it was called from
  }
  if (/node_modules\/ssh2\/lib\/protocol\/(crypto|zlib)/.test(url)) return 'ssh2 crypto (JS side)';
  if (/node_modules\/ssh2\//.test(url)) return 'ssh2 protocol';
  if (/node_modules\/socksv5\//.test(url)) return 'socksv5';
  if (/node_modules\//.test(url)) return 'other packages';
  if (/\/native-host\/|\/shared\//.test(url)) return 'g5k-tunnel';
  if (/^node:internal\/(streams|webstreams)/.test(url) || url === 'node:stream') return 'Node streams';
  if (/^node:(net|internal\/(stream_base_commons|net|dns))/.test(url)) return 'Node sockets';
  if (/^node:internal\/(modules|main|process\/pre_execution|bootstrap)/.test(url) || url === 'node:module')
    return 'module loading';
  if (url.startsWith('node:')) return 'Node other';
  return 'other';
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const d = url.indexOf('/dist/');
  if (d >= 0) return url.slice(d + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

export function summarizeProfile(p: CpuProfile, topN = 20): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const catCache = new Map<number, string>();
  const category = (id: number): string => {
    const hit = catCache.get(id);
    if (hit) return hit;
    const n = byId.get(id)!;
    const own = categoryOf(n.callFrame.url, n.callFrame.functionName);
    const up = parent.get(id);
    const c = own ?? (up !== undefined ? category(up) : 'V8/native (program)');
    catCache.set(id, c);
    return c;
  };
  const self = new Map<number, number>();
  // sample i lasts until sample i+1 (the last one gets the profile's end)
  let t = p.startTime;
  const stamps = p.timeDeltas.map((d) => (t += d));
  for (let i = 0; i < p.samples.length; i++) {
    const dur = ((i + 1 < stamps.length ? stamps[i + 1]! : p.endTime) - stamps[i]!) / 1000;
    if (dur > 0) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dur);
  }
  const rows = new Map<string, Row>();
  const cats = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const cat = category(id);
    total += ms;
    cats.set(cat, (cats.get(cat) ?? 0) + ms);
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '(native)';
    const key = `${f.functionName}@${where}`;
    const row = rows.get(key) ?? { name: f.functionName || '(anonymous)', where, category: cat, selfMs: 0 };
    row.selfMs += ms;
    rows.set(key, row);
  }
  const idle = cats.get('idle') ?? 0;
  return {
    totalMs: total,
    busyMs: total - idle,
    byCategory: [...cats].map(([category, ms]) => ({ category, ms })).sort((a, b) => b.ms - a.ms),
    top: [...rows.values()]
      .filter((r) => r.category !== 'idle')
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, topN),
  };
}

export function profileMarkdown(title: string, s: ProfileSummary): string {
  const pct = (ms: number) => (s.busyMs ? ((100 * ms) / s.busyMs).toFixed(1) : '0');
  return [
    `#### ${title}`,
    '',
    `${s.busyMs.toFixed(0)} ms on the CPU (of ${s.totalMs.toFixed(0)} ms profiled).`,
    '',
    '| part | ms | % of CPU |',
    '|---|---|---|',
    ...s.byCategory
      .filter((c) => c.category !== 'idle')
      .map((c) => `| ${c.category} | ${c.ms.toFixed(0)} | ${pct(c.ms)} |`),
    '',
    '| function | where | part | self ms | % |',
    '|---|---|---|---|---|',
    ...s.top.map((r) => `| \`${r.name}\` | ${r.where} | ${r.category} | ${r.selfMs.toFixed(1)} | ${pct(r.selfMs)} |`),
    '',
  ].join('\n');
}

// ---------- sampling heap profiles (HeapProfiler.stopSampling) ----------

export interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children?: HeapNode[];
}

interface HeapRow {
  name: string;
  where: string;
  category: string;
  bytes: number;
}

/** Sampled allocation bytes per function; native frames count under their JS caller's part. */
export function summarizeHeap(
  head: HeapNode,
  topN = 12,
): { totalBytes: number; byCategory: { category: string; bytes: number }[]; top: HeapRow[] } {
  const rows = new Map<string, HeapRow>();
  const cats = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode, inherited: string) => {
    const f = n.callFrame;
    const cat = categoryOf(f.url, f.functionName) ?? inherited;
    if (n.selfSize > 0) {
      total += n.selfSize;
      cats.set(cat, (cats.get(cat) ?? 0) + n.selfSize);
      const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '(native)';
      const key = `${f.functionName}@${where}`;
      const row = rows.get(key) ?? { name: f.functionName || '(anonymous)', where, category: cat, bytes: 0 };
      row.bytes += n.selfSize;
      rows.set(key, row);
    }
    for (const c of n.children ?? []) walk(c, cat);
  };
  walk(head, 'V8/native (program)');
  return {
    totalBytes: total,
    byCategory: [...cats].map(([category, bytes]) => ({ category, bytes })).sort((a, b) => b.bytes - a.bytes),
    top: [...rows.values()].sort((a, b) => b.bytes - a.bytes).slice(0, topN),
  };
}

export function heapMarkdown(title: string, h: ReturnType<typeof summarizeHeap>): string {
  const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
  return [
    `#### ${title}`,
    '',
    `${mib(h.totalBytes)} MiB allocated on the JS heap (sampled, collected objects included).`,
    '',
    '| function | where | part | MiB |',
    '|---|---|---|---|',
    ...h.top.map((r) => `| \`${r.name}\` | ${r.where} | ${r.category} | ${mib(r.bytes)} |`),
    '',
  ].join('\n');
}
