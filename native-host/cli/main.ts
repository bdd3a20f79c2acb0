// The `g5k-tunnel` command: a drop-in for `ssh -N -D`, on the same engine as the browser's host.
// Quiet on success; -v prints each stage with its time; failures are worded as ssh words them,
// with ssh's exit status 255. Usage mistakes exit 2. Ctrl-C (SIGINT) or SIGTERM close everything
// and exit 0. Subcommands (install, uninstall, doctor), --version and --socks-auth-file's parser are
// loaded only when asked for: the tunnel's own modules are most of the command's start-up.

import fs from 'node:fs';
import type { ProtocolError, TunnelStatus } from '../../shared/protocol.js';
import type { ProxyCredentials } from '../socks/credentials.js';
import { commandTunnelConfig, parseCommandLine, sshOptionsFor, USAGE, type RunArgs } from './args.js';
import { silentLogger, type Logger } from '../log.js';
import * as terminal from './terminal.js';
import { unprotectedKeyFromLog, unprotectedKeyLines } from '../ssh/key-permissions.js';
import type { Interaction } from '../tunnel/tunnel.js';

const EXIT_CONNECTION = 255;
const EXIT_USAGE = 2;
/** Closing takes milliseconds; past this the command exits anyway. */
const HARD_EXIT_MS = 2000;

const HELP = `${USAGE}

Opens a SOCKS5 proxy on the local machine that sends every connection through one SSH connection
to the destination (e.g. access.grid5000.fr), where names are resolved: like \`ssh -N -D\`.

  -D [bind_address:]port  local SOCKS port (loopback only: 127.0.0.1, ::1 or localhost)
  -N                      accepted for compatibility (no remote command is ever run)
  -p port                 SSH port of the destination
  -l login_name           login on the destination (also user@host)
  -i identity_file        private key (repeatable); ssh-agent keys are tried first
  -J destination          jump hosts, comma separated: [user@]host[:port],...
  -F configfile           read this file instead of ~/.ssh/config
  -o Key=Value            an ssh_config option: Port, User, HostName, IdentityFile, IdentitiesOnly,
                          IdentityAgent, ProxyJump, ProxyCommand, StrictHostKeyChecking,
                          UserKnownHostsFile, GlobalKnownHostsFile, HostKeyAlias, HashKnownHosts,
                          ServerAliveInterval, ServerAliveCountMax, ConnectTimeout, BatchMode
  -v                      print each connection stage with its duration
  -q                      print only fatal errors
  --connections n         spread connections over up to n SSH connections (default 1); the extra
                          ones open only under load and close when idle
  --socks-auth-file file  require the credentials in file's first line, user:password (keep the file
                          private): SOCKS5 clients must log in (RFC 1929) and the port also serves an
                          HTTP proxy (CONNECT, http:// requests) with the same Basic credentials.
                          Without it, any local user or process may use the port, as with ssh -D

  install [--browser B] [--system]   register the browser extension's native host
  uninstall                          remove it
  doctor                             check every link from the browser to the gateway

Exit status: 0 after Ctrl-C or SIGTERM, 255 when the connection fails (as ssh), 2 on a usage error.`;

/** Where the error table's advice speaks of the extension's options or of retrying by itself,
 *  the command says what to change on its command line instead. */
const CLI_HINTS: Partial<Record<ProtocolError['code'], string>> = {
  GATEWAY_UNREACHABLE: 'Check the host name, the port and your network connection.',
  TIMEOUT: 'Check your network connection; a slow link may need -o ConnectTimeout=60.',
  NO_IDENTITY: 'Start ssh-agent and run `ssh-add`, or name your key with -i.',
  SOCKS_PORT_IN_USE: 'Stop the other program (maybe an `ssh -D`), or choose another port with -D.',
  NOT_CONFIGURED: 'Check the command line and your ssh config file.',
  CONNECTION_LOST: 'Check your network connection and try again.',
};

const say = (line: string) => process.stderr.write(`g5k-tunnel: ${line}\n`);

export async function main(argv: string[]): Promise<void> {
  // `g5k-tunnel install --dry-run | head`: a closed pipe ends the output, not the program with a trace
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const parsed = parseCommandLine(argv);
  if (!parsed.ok) {
    say(parsed.error.message);
    if (parsed.error.showUsage) process.stderr.write(`${USAGE}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  const cmd = parsed.value;
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(`${HELP}\n`);
      return;
    case 'version':
      process.stdout.write(`g5k-tunnel ${(await import('../messaging/host.js')).packageVersion()}\n`);
      return;
    case 'subcommand':
      if (cmd.name === 'doctor') process.exitCode = await (await import('../setup/doctor/main.js')).main(cmd.args);
      else process.exitCode = await (await import('../setup/install.js')).main([cmd.name, ...cmd.args]);
      return;
    case 'run':
      process.exit(await runTunnel(cmd.args));
  }
}

/** Tunnel warnings worth showing without -v: about the user's files. Connection failures and
 *  losses are reported by this command itself, in ssh's words. */
const USER_FILE_WARNING = /^(ssh config:|could not add|restrictTo)/;

/** -v: the tunnel's own log as ssh's debug lines; otherwise only warnings about the user's files. */
function commandLogger(a: RunArgs): Logger {
  if (a.quiet) return silentLogger;
  const line = (prefix: string) => (m: string) => process.stderr.write(`${prefix}${m}\n`);
  const plainWarn = line('g5k-tunnel: warning: ');
  // an ignored private key is told in ssh's own words, as ssh tells it at any verbosity
  const warn = (m: string) => {
    const key = unprotectedKeyFromLog(m);
    if (!key) return plainWarn(m);
    for (const l of unprotectedKeyLines(key.file, key.mode)) process.stderr.write(`${l}\n`);
  };
  return a.verbosity > 0
    ? { debug: line('debug1: '), info: line('debug1: '), warn, error: line('g5k-tunnel: ') }
    : {
        debug() {},
        info() {},
        warn: (m) => (USER_FILE_WARNING.test(m) || unprotectedKeyFromLog(m)) && warn(m),
        error() {},
      };
}

/** Questions go to the terminal; without one (or with BatchMode) the answer is no, as with ssh. */
function terminalInteraction(a: RunArgs, signal: AbortSignal): Interaction {
  const ask = !a.batchMode && terminal.hasTerminal();
  return {
    askPassphrase: (keyFile) => (ask ? terminal.askPassphrase(keyFile, signal) : Promise.resolve(null)),
    async confirmHostKey(q) {
      if (!ask) return false;
      const yes = await terminal.confirmHostKey(q, signal);
      if (yes && !a.quiet)
        say(
          `Warning: Permanently added '${terminal.hostLabel(q.host, q.port)}' (${terminal.keyTypeLabel(q.keyType)}) to the list of known hosts.`,
        );
      return yes;
    },
  };
}

/** The credentials of --socks-auth-file, or an error line (never the file's text). */
async function readSocksAuth(file: string): Promise<ProxyCredentials | string> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    return `cannot read --socks-auth-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  const { parseCredentials } = await import('../socks/credentials.js');
  const c = parseCredentials(text);
  return c.ok ? c.value : `--socks-auth-file ${file}: the first line ${c.error}`;
}

async function runTunnel(a: RunArgs): Promise<number> {
  const { Tunnel } = await import('../tunnel/tunnel.js');
  let proxyCredentials: ProxyCredentials | undefined;
  if (a.socksAuthFile !== null) {
    const c = await readSocksAuth(a.socksAuthFile);
    if (typeof c === 'string') {
      say(c);
      return EXIT_USAGE;
    }
    proxyCredentials = c;
  }
  const abort = new AbortController();
  const tunnel = new Tunnel({
    ...(proxyCredentials ? { proxyCredentials } : {}),
    config: commandTunnelConfig(a),
    interaction: terminalInteraction(a, abort.signal),
    log: commandLogger(a),
    sshOptions: sshOptionsFor(a),
    socksHost: a.bindAddress,
    ...(a.configFile !== null ? { sshConfigFile: a.configFile } : {}),
  });

  return new Promise<number>((resolve) => {
    let ended = false;
    let everConnected = false;
    let lastState = '';
    let shownTimings = 0;
    let lastTimings: unknown = null;

    const end = (code: number) => {
      if (ended) return;
      ended = true;
      abort.abort();
      const backstop = setTimeout(() => resolve(code), HARD_EXIT_MS);
      tunnel
        .close()
        .catch(() => {})
        .finally(() => {
          clearTimeout(backstop);
          resolve(code);
        });
    };
    const failWith = (e: ProtocolError | undefined, s: TunnelStatus) => {
      for (const l of sshStyleError(e, s)) process.stderr.write(`${l}\n`);
      const hint = e && (CLI_HINTS[e.code] ?? e.hint);
      if (hint && !a.quiet) say(hint);
      end(EXIT_CONNECTION);
    };

    tunnel.on('status', (s: TunnelStatus) => {
      if (ended) return;
      if (a.verbosity > 0 && !a.quiet) {
        if (s.timings !== lastTimings && s.timings.length < shownTimings) shownTimings = 0;
        lastTimings = s.timings;
        for (const t of s.timings.slice(shownTimings))
          process.stderr.write(`debug1: ${stageLine(t.stage, t.hop)} (${t.ms} ms)\n`);
        shownTimings = s.timings.length;
      }
      if (s.state === 'connected' && lastState !== 'connected') {
        if (!everConnected && a.verbosity > 0 && !a.quiet && s.socks)
          process.stderr.write(`debug1: Local forwarding listening on ${s.socks.host} port ${s.socks.port}.\n`);
        else if (everConnected && !a.quiet) say(`reconnected to ${s.gateway}`);
        everConnected = true;
      } else if (s.state === 'reconnecting' || s.state === 'error') {
        // before the first connection, like ssh: a failure is final
        if (!everConnected || s.state === 'error') return failWith(s.lastError, s);
        if (lastState !== 'reconnecting' && !a.quiet)
          say(`connection to ${s.gateway} lost${s.lastError?.detail ? ` (${s.lastError.detail})` : ''}; reconnecting`);
      }
      lastState = s.state;
    });

    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => end(0));
    tunnel.setMode('on').catch((err: { protocolError?: ProtocolError; message?: string }) => {
      if (!ended)
        failWith(
          err.protocolError ?? { code: 'INTERNAL', message: String(err.message ?? err), hint: '' },
          tunnel.status(),
        );
    });
  });
}

function stageLine(stage: string, hop: string): string {
  switch (stage) {
    case 'tcp':
      return `Connection established to ${hop}`;
    case 'hostkey':
      return `Host key of ${hop} verified`;
    case 'auth':
      return `Authenticated to ${hop} using "publickey"`;
    default:
      return `Forwarding ready on ${hop}`;
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ECONNRESET: 'Connection reset by peer',
  EADDRNOTAVAIL: 'Cannot assign requested address',
};

/** `user@host:port` (a hop label) without the port, as ssh names the login in "Permission denied". */
function loginOf(detail: string | undefined, fallback: string): string {
  const label = /^(\S+?@\S+?)(?::\d+)?(?::| refused)/.exec(detail ?? '')?.[1];
  return label ?? fallback.replace(/:\d+$/, '');
}

/** The lines ssh would print for this failure (prefixed like ssh's own, but with our name). */
function sshStyleError(e: ProtocolError | undefined, s: Pick<TunnelStatus, 'gateway'>): string[] {
  const p = 'g5k-tunnel: ';
  if (!e) return [`${p}the connection to ${s.gateway} failed`];
  const d = e.detail ?? '';
  let m: RegExpExecArray | null;
  switch (e.code) {
    case 'GATEWAY_UNREACHABLE':
      if ((m = /cannot connect to (.+):(\d+): (\w+)/.exec(d)))
        return [`${p}connect to host ${m[1]} port ${m[2]}: ${ERRNO_TEXT[m[3]!] ?? m[3]}`];
      if ((m = /cannot resolve (\S+)/.exec(d)))
        return [`${p}Could not resolve hostname ${m[1]}: Name or service not known`];
      break;
    case 'TIMEOUT':
      if ((m = /no TCP connection to (.+):(\d+)/.exec(d)))
        return [`${p}connect to host ${m[1]} port ${m[2]}: Connection timed out`];
      break;
    case 'AUTH_FAILED':
    case 'NO_IDENTITY':
    case 'PASSPHRASE_NEEDED':
    case 'KEY_PERMISSIONS':
      return [`${p}${loginOf(d, s.gateway)}: Permission denied (publickey).`];
    case 'KEY_UNREADABLE': {
      const files = [...d.matchAll(/(\/[^:;]+): ([^;]+)/g)].map(
        (x) => `${p}Warning: Identity file ${x[1]} not accessible: ${x[2]}.`,
      );
      return [...files, `${p}${loginOf(d, s.gateway)}: Permission denied (publickey).`];
    }
    case 'HOSTKEY_CHANGED':
      return hostKeyChangedWarning(d).concat(`${p}Host key verification failed.`);
    case 'HOSTKEY_REVOKED':
      return hostKeyRevokedWarning(d).concat(`${p}Host key verification failed.`);
    case 'HOSTKEY_UNKNOWN':
      if ((m = /^(\S+) presented (\S+) .*StrictHostKeyChecking yes/.exec(d)))
        return [
          `${p}No ${terminal.keyTypeLabel(m[2]!)} host key is known for ${m[1]} and you have requested strict checking.`,
          `${p}Host key verification failed.`,
        ];
      return [`${p}Host key verification failed.`];
    case 'SOCKS_PORT_IN_USE':
      return [`${p}${e.message}${d ? ` (${d})` : ''}`, `${p}Could not request local forwarding.`];
  }
  return [`${p}${e.message}${d ? ` (${d})` : ''}`];
}

const BANNER = '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@';

/** OpenSSH's warning for a changed host key, from the tunnel's detail
 *  "NAME now presents TYPE FP; FILE:LINE holds TYPE FP". */
function hostKeyChangedWarning(detail: string): string[] {
  const m = /^(\S+) now presents (\S+) (\S+); (.+):(\d+) holds (\S+)/.exec(detail);
  const out = [
    BANNER,
    '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
    BANNER,
    'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
    'Someone could be eavesdropping on you right now (man-in-the-middle attack)!',
    'It is also possible that a host key has just been changed.',
  ];
  if (!m) return [...out, detail, 'Please contact your system administrator.'];
  const [, name, type, fp, file, line, knownType] = m;
  return [
    ...out,
    `The fingerprint for the ${terminal.keyTypeLabel(type!)} key sent by the remote host is`,
    `${fp}.`,
    'Please contact your system administrator.',
    `Add correct host key in ${file} to get rid of this message.`,
    `Offending ${terminal.keyTypeLabel(knownType!)} key in ${file}:${line}`,
    `  remove with:`,
    `  ssh-keygen -f '${file}' -R '${name}'`,
    `Host key for ${name} has changed and you have requested strict checking.`,
  ];
}

function hostKeyRevokedWarning(detail: string): string[] {
  const m = /^(\S+) presented (\S+) (\S+), revoked at (.+):(\d+)/.exec(detail);
  return [
    BANNER,
    '@       WARNING: REVOKED HOST KEY DETECTED!               @',
    BANNER,
    m ? `The ${terminal.keyTypeLabel(m[2]!)} host key for ${m[1]} is marked as revoked (${m[4]}:${m[5]}).` : detail,
    'This could mean that a stolen key is being used to',
    'impersonate this host.',
  ];
}
