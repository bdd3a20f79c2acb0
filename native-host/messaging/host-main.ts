// Entry point a browser starts as the native-messaging host (through the launcher that
// `g5k-tunnel install` writes). stdout carries frames and nothing else: console output and any
// stray write go to the log (stderr + file, since browsers hide stderr). The host ends when the
// browser closes the port (stdin EOF) or on SIGTERM, within a second whatever is still open.

import { Writable } from 'node:stream';
import util from 'node:util';
import { NativeHost, packageVersion } from './host.js';
import { createLogger, defaultLogFile, type Logger } from '../log.js';

/** Closing normally takes milliseconds; past this the process exits anyway. */
const HARD_EXIT_MS = 800;

/** Takes stdout for the frames alone; everything else that would print there goes to the log. */
function claimStdout(log: Logger): Writable {
  const stdout = process.stdout;
  const write = stdout.write.bind(stdout) as (chunk: Buffer, cb: (err?: Error | null) => void) => boolean;
  const methods: [keyof Console, keyof Logger][] = [
    ['log', 'info'],
    ['info', 'info'],
    ['debug', 'debug'],
    ['trace', 'debug'],
    ['dir', 'debug'],
    ['warn', 'warn'],
    ['error', 'error'],
  ];
  for (const [name, level] of methods)
    (console as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => log[level](util.format(...args));
  stdout.write = ((chunk: unknown) => {
    log.warn(`stray output kept off the message channel: ${String(chunk).slice(0, 200)}`);
    return true;
  }) as typeof stdout.write;
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      write(chunk, (err) => cb(err ?? null));
    },
  });
}

function main(): void {
  const log = createLogger({ file: defaultLogFile() });
  const output = claimStdout(log);
  const version = packageVersion();
  log.info(
    `g5k-tunnel host ${version} started (pid ${process.pid}, node ${process.version}) by ${process.argv.slice(2).join(' ') || 'hand'}`,
  );

  const host = new NativeHost({ input: process.stdin, output, log, version });

  let closing = false;
  const shutdown = (reason: string) => {
    if (closing) return;
    closing = true;
    log.info(`closing: ${reason}`);
    const backstop = setTimeout(() => {
      log.warn('closing took too long: exiting now');
      process.exit(0);
    }, HARD_EXIT_MS);
    host
      .close()
      .catch((e: unknown) => log.error(`while closing: ${(e as Error)?.message ?? String(e)}`))
      .finally(() => {
        clearTimeout(backstop);
        process.exit(0);
      });
  };

  host.on('end', () => shutdown('the browser closed the connection'));
  process.stdout.on('error', () => shutdown('stdout closed'));
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => shutdown(sig));
  const uncaught = (e: unknown) => {
    log.error(`uncaught: ${(e as Error)?.stack ?? String(e)}`);
    if (!closing) host.reportError(e);
  };
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', uncaught);
}

main();
