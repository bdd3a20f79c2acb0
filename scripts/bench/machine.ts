// What the numbers were measured on: they mean little without it.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  openssh: string;
  sshd: string;
  ssh2: string;
  /** Whether ssh2's optional native crypto addon loaded (without it, AES-GCM and Poly1305 run in JS). */
  ssh2NativeCrypto: boolean | null;
  /** 1-minute load average when the run started: a busy machine makes every figure noisier. */
  loadAtStart: number;
}

function run(cmd: string, args: string[]): string {
  // ssh -V answers on stderr
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
}

export function describeMachine(root: string): Machine {
  const req = createRequire(path.join(root, 'package.json'));
  let ssh2 = '?';
  let native: boolean | null = null;
  try {
    ssh2 = (JSON.parse(fs.readFileSync(req.resolve('ssh2/package.json'), 'utf8')) as { version: string }).version;
    native = Boolean((req('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: boolean }).bindingAvailable);
  } catch {
    /* reported as unknown */
  }
  let osName = `${os.type()} ${os.release()}`;
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (m) osName = m[1]!;
  } catch {
    /* keep the kernel name */
  }
  return {
    cores: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? '?',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: os.release(),
    os: osName,
    node: process.version,
    openssh: run('ssh', ['-V']).split('\n')[0] ?? '?',
    sshd: run('dpkg-query', ['-W', '-f=${Version}', 'openssh-server']) || '?',
    ssh2,
    ssh2NativeCrypto: native,
    loadAtStart: os.loadavg()[0] ?? 0,
  };
}
