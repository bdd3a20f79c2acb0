// Logging for the host and the command. Never to stdout (stdout is the native-messaging channel):
// to stderr and, for the host, to a file as well, since a browser hides the host's stderr.
// Secrets are never passed here: callers log names, files and codes, never a passphrase or a key.

import fs from 'node:fs';
import path from 'node:path';
import { homeDir } from './home.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

interface LoggerOptions {
  level?: Level;
  /** Also append to this file (created 0600). */
  file?: string;
  /** Write to stderr as well (default true). */
  stderr?: boolean;
  /** Prefix for stderr lines, e.g. 'g5k-tunnel: '. */
  prefix?: string;
}

/** Default log file of the native host: $XDG_STATE_HOME/g5k-tunnel/host.log. */
export function defaultLogFile(env = process.env): string {
  const base = env.XDG_STATE_HOME || path.join(homeDir(env), '.local', 'state');
  return path.join(base, 'g5k-tunnel', 'host.log');
}

const MAX_LOG_BYTES = 5 * 1024 * 1024;

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  let fd: number | null = null;
  if (opts.file) {
    try {
      fs.mkdirSync(path.dirname(opts.file), { recursive: true, mode: 0o700 });
      // keep one previous generation so the file never grows without bound
      if (fs.existsSync(opts.file) && fs.statSync(opts.file).size > MAX_LOG_BYTES)
        fs.renameSync(opts.file, `${opts.file}.1`);
      fd = fs.openSync(opts.file, 'a', 0o600);
    } catch {
      fd = null; // logging must never stop the host
    }
  }
  const write = (level: Level, msg: string) => {
    if (RANK[level] < min) return;
    const line = `${new Date().toISOString()} ${level} ${msg}\n`;
    if (opts.stderr !== false)
      process.stderr.write(`${opts.prefix ?? ''}${level === 'info' ? '' : `${level}: `}${msg}\n`);
    if (fd !== null) {
      try {
        fs.writeSync(fd, line);
      } catch {
        /* disk full: keep serving */
      }
    }
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}

/** A logger that drops everything (tests, quiet mode). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
