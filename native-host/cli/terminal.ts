// Questions on the controlling terminal (/dev/tty), worded as OpenSSH words them. Like ssh, the
// terminal is used even when stdin/stdout are redirected; without one nothing is asked and the
// answer is "no" (ssh's BatchMode behaviour). Secrets are read with echo off and never kept.

import fs from 'node:fs';
import tty from 'node:tty';

/** True when this process has a controlling terminal it can ask questions on. */
export function hasTerminal(): boolean {
  try {
    fs.closeSync(openTty());
    return true;
  } catch {
    return false;
  }
}

function openTty(): number {
  return fs.openSync('/dev/tty', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
}

/**
 * Prints `prompt` on the terminal and reads one line. Returns null without a terminal, at end of
 * input (Ctrl-D), or when `signal` aborts. With `secret`, input is not echoed; Ctrl-C then raises
 * SIGINT on this process, as the terminal itself would.
 */
function askLine(prompt: string, opts: { secret?: boolean; signal?: AbortSignal } = {}): Promise<string | null> {
  let fd: number;
  try {
    fd = openTty();
  } catch {
    return Promise.resolve(null);
  }
  if (opts.signal?.aborted) {
    fs.closeSync(fd);
    return Promise.resolve(null);
  }
  const input = new tty.ReadStream(fd);
  input.setEncoding('utf8');
  const secret = opts.secret === true;
  // Raw mode turns the echo off; it must never outlive the question, even on a sudden exit.
  const restore = () => {
    if (secret && input.isRaw) input.setRawMode(false);
  };
  if (secret) input.setRawMode(true);
  process.once('exit', restore);
  fs.writeSync(fd, prompt);

  return new Promise((resolve) => {
    let line = '';
    let done = false;
    const finish = (value: string | null, interrupted = false) => {
      if (done) return;
      done = true;
      restore();
      process.removeListener('exit', restore);
      opts.signal?.removeEventListener('abort', onAbort);
      if (secret || value === null) {
        try {
          fs.writeSync(fd, '\n');
        } catch {
          /* terminal gone */
        }
      }
      input.destroy(); // closes the fd
      // Ctrl-C is not an answer: the question stays open while the process handles its SIGINT
      if (interrupted) process.kill(process.pid, 'SIGINT');
      else resolve(value);
    };
    const onAbort = () => finish(null);
    opts.signal?.addEventListener('abort', onAbort);
    input.on('error', () => finish(null));
    input.on('end', () => finish(null));
    input.on('data', (chunk: string) => {
      if (!secret) {
        line += chunk;
        const nl = line.indexOf('\n');
        if (nl >= 0) finish(line.slice(0, nl).replace(/\r$/, ''));
        return;
      }
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(line);
        if (ch === '\x03') return finish(null, true);
        if (ch === '\x04') {
          if (line === '') return finish(null);
        } else if (ch === '\x7f' || ch === '\b') line = Array.from(line).slice(0, -1).join('');
        else if (ch === '\x15') line = '';
        else if (ch >= ' ') line += ch;
      }
    });
  });
}

/** OpenSSH's passphrase prompt. An empty answer skips the key, as in ssh. */
export async function askPassphrase(keyFile: string, signal?: AbortSignal): Promise<string | null> {
  const p = await askLine(`Enter passphrase for key '${keyFile}': `, { secret: true, ...(signal ? { signal } : {}) });
  return p === '' ? null : p;
}

/** `ssh-ed25519` → `ED25519`, as OpenSSH names key types in its messages. */
export function keyTypeLabel(keyType: string): string {
  const t = keyType.toLowerCase();
  if (t.startsWith('sk-ssh-ed25519')) return 'ED25519-SK';
  if (t.startsWith('sk-ecdsa')) return 'ECDSA-SK';
  if (t.includes('ed25519')) return 'ED25519';
  if (t.includes('ed448')) return 'ED448';
  if (t.startsWith('ecdsa')) return 'ECDSA';
  if (t.startsWith('ssh-rsa') || t.startsWith('rsa-')) return 'RSA';
  if (t.startsWith('ssh-dss')) return 'DSA';
  return keyType.toUpperCase();
}

/** How OpenSSH names a host in known_hosts and messages: `host`, or `[host]:port` off port 22. */
export function hostLabel(host: string, port: number): string {
  return port === 22 || port === 0 ? host : `[${host}]:${port}`;
}

interface HostKeyQuestion {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
}

/** Asked only when no key at all is on file for the host (another key, of any type, is refused). */
function hostKeyQuestionText(q: HostKeyQuestion): string {
  return (
    `The authenticity of host '${hostLabel(q.host, q.port)}' can't be established.\n` +
    `${keyTypeLabel(q.keyType)} key fingerprint is ${q.fingerprint}.\n` +
    'This key is not known by any other names.\n' +
    'Are you sure you want to continue connecting (yes/no/[fingerprint])? '
  );
}

/** true / false for a final answer, null to ask again (OpenSSH's rules: empty means no). */
function hostKeyAnswer(answer: string | null, fingerprint: string): boolean | null {
  if (answer === null) return false;
  const a = answer.trim();
  if (a === '' || a.toLowerCase() === 'no') return false;
  if (a.toLowerCase() === 'yes' || a === fingerprint) return true;
  return null;
}

/** Asks whether to trust an unknown host key; false without a terminal. */
export async function confirmHostKey(q: HostKeyQuestion, signal?: AbortSignal): Promise<boolean> {
  let prompt = hostKeyQuestionText(q);
  for (;;) {
    const verdict = hostKeyAnswer(await askLine(prompt, signal ? { signal } : {}), q.fingerprint);
    if (verdict !== null) return verdict;
    prompt = "Please type 'yes', 'no' or the fingerprint: ";
  }
}
