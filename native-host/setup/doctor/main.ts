// `g5k-tunnel doctor`: runs every check in order (local files, the SSH route, keys, the first hop,
// the SOCKS port, the host log), parses its command line and prints one line per check.

import path from 'node:path';
import { currentOs, type Env } from '../browser-paths.js';
import { destinationReason, formatDestination, parseDestination, parseJumpList } from '../../../shared/destination.js';
import type { Parsed } from '../../../shared/parsed.js';
import type { Route } from '../../ssh/route.js';
import type { Hop } from '../../ssh/connect.js';
import { DEFAULT_SOCKS_PORT } from '../../../shared/settings.js';
import { defaultAgentSocket } from '../../ssh/agent.js';
import type { Check, DoctorOptions, Mark } from './check.js';
import { checkBrowsers, checkLauncher, checkLog, checkNode } from './local.js';
import { checkFirstHop, checkSocksPort } from './probes.js';
import { checkAgent, checkIdentities, checkKnownHosts, routeFor } from './ssh.js';

export type { Check, DoctorOptions } from './check.js';

const SYMBOL: Record<Mark, string> = { ok: '✓', warn: '!', fail: '✗' };

// ---------- all together ----------

export async function runDoctor(o: DoctorOptions): Promise<Check[]> {
  const osName = currentOs(o.platform);
  const checks: Check[] = [checkNode(process.version, 'node')];
  const { checks: browserChecks, launchers } = checkBrowsers(o, osName);
  checks.push(...browserChecks);
  for (const l of launchers) checks.push(...checkLauncher(l, o.env));
  const { route, checks: routeChecks } = routeFor(o);
  checks.push(...routeChecks);
  const gateway = route?.hops.at(-1) ?? null;
  const agentSocket = gateway
    ? gateway.auth.agentSocket
    : o.env.SSH_AUTH_SOCK || defaultAgentSocket(o.platform as NodeJS.Platform);
  const agent = await checkAgent(o, agentSocket);
  checks.push(agent.check, ...checkIdentities(o, gateway, agent.keys));
  if (route) checks.push(...(await checkHops(o, route)));
  checks.push(await checkSocksPort(o.socksPort, o.timeoutMs), checkLog(o.env));
  return checks;
}

/** The first hop is reached and its key compared; hops behind it can only be looked up. */
async function checkHops(o: DoctorOptions, route: Route): Promise<Check[]> {
  const [first, ...behind] = route.hops;
  if (!first) return [];
  const last = route.hops.length - 1;
  // what to type once to add a key: ssh reads the same config, so the gateway keeps its alias
  const jumps = o.jumps?.length ? `-J ${o.jumps.join(',')} ` : '';
  const sshCommand = (hop: Hop, i: number) =>
    i === last
      ? `ssh ${o.port && o.port !== 22 ? `-p ${o.port} ` : ''}${jumps}${o.gateway}`
      : `ssh ${hop.port !== 22 ? `-p ${hop.port} ` : ''}${hop.user}@${hop.host}`;
  const reached = await checkFirstHop(o, first, behind.length ? 'jump host' : 'gateway');
  const out = [checkKnownHosts(o, first, reached.key, sshCommand(first, 0)), ...reached.checks];
  behind.forEach((hop, i) =>
    out.push(checkKnownHosts(o, hop, null, sshCommand(hop, i + 1), `reached only through ${first.label}`)),
  );
  return out;
}

export function formatCheck(c: Check): string {
  return `${SYMBOL[c.mark]} ${c.text}${c.fix ? ` → ${c.fix}` : ''}`;
}

const USAGE = `usage: g5k-tunnel doctor [--gateway [USER@]HOST[:PORT]] [--port N] [--jump HOSTS] [-F FILE]
                         [--socks-port N] [--identity FILE] [--known-hosts FILE] [--timeout SEC]
  Checks the browser manifests, the launcher, Node.js, the SSH route (from ~/.ssh/config), ssh-agent,
  keys, known_hosts, the gateway and the SOCKS port.`;

/** Doctor's command line: the options of the run, or the mistake to report with the usage. */
export function parseDoctorArgs(args: string[], env: Env, platform: string): Parsed<DoctorOptions> {
  const refuse = (error: string) => ({ ok: false, error }) as const;
  const o: DoctorOptions = {
    env,
    platform,
    gateway: 'access.grid5000.fr',
    port: 0,
    socksPort: DEFAULT_SOCKS_PORT,
    identities: [],
    knownHosts: [],
    timeoutMs: 5000,
  };
  const int = (v: string | undefined, min: number, max: number) => {
    const n = Number(v);
    return Number.isInteger(n) && n >= min && n <= max ? n : null;
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] =
      args[i]!.startsWith('--') && args[i]!.includes('=') ? args[i]!.split(/=(.*)/s, 2) : [args[i]!, undefined];
    const value = () => inline ?? args[++i];
    switch (flag) {
      case '--gateway': {
        const v = value();
        if (!v) return refuse('--gateway needs a host name');
        // user@host:port and ssh:// too: the destination grammar of shared/destination
        const parsed = parseDestination(v);
        if (!parsed.ok) return refuse(`--gateway ${v}: ${destinationReason(parsed.error)}`);
        const d = parsed.value;
        if (d.user !== undefined) o.user = d.user;
        o.gateway = d.host;
        if (d.port !== undefined) o.port = d.port;
        break;
      }
      case '--jump':
      case '-J': {
        const v = value();
        if (!v) return refuse('--jump needs a host list: [user@]host[:port],...');
        const jumps = parseJumpList(v);
        if (!jumps.ok) return refuse(`--jump ${v}: ${jumps.error}`);
        o.jumps = jumps.value.map(formatDestination);
        break;
      }
      case '--ssh-config':
      case '-F': {
        const v = value();
        if (!v) return refuse('-F needs a file (or none)');
        o.sshConfigFile = v === 'none' ? v : path.resolve(v);
        break;
      }
      case '--port': {
        const n = int(value(), 0, 65535);
        if (n === null) return refuse('--port needs a number 1-65535 (0: from your ssh config, else 22)');
        o.port = n;
        break;
      }
      case '--socks-port': {
        const n = int(value(), 0, 65535);
        if (n === null) return refuse('--socks-port needs a number 1-65535 (0: automatic, as the options page)');
        o.socksPort = n;
        break;
      }
      case '--identity':
      case '-i': {
        const v = value();
        if (!v) return refuse('--identity needs a file');
        o.identities.push(path.resolve(v));
        break;
      }
      case '--known-hosts': {
        const v = value();
        if (!v) return refuse('--known-hosts needs a file');
        o.knownHosts.push(path.resolve(v));
        break;
      }
      case '--timeout': {
        const n = int(value(), 1, 120);
        if (n === null) return refuse('--timeout needs a number of seconds 1-120');
        o.timeoutMs = n * 1000;
        break;
      }
      default:
        return refuse(`unknown option ${args[i]}`);
    }
  }
  return { ok: true, value: o };
}

export async function main(
  args: string[],
  env: Env = process.env,
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    print(USAGE);
    return 0;
  }
  const parsed = parseDoctorArgs(args, env, process.platform);
  if (!parsed.ok) {
    process.stderr.write(`g5k-tunnel doctor: ${parsed.error}\n${USAGE}\n`);
    return 2;
  }
  const checks = await runDoctor(parsed.value);
  for (const c of checks) print(formatCheck(c));
  const failures = checks.filter((c) => c.mark === 'fail').length;
  const warnings = checks.filter((c) => c.mark === 'warn').length;
  print(
    failures
      ? `${failures} problem${failures > 1 ? 's' : ''} to fix (✗), ${warnings} to look at (!)`
      : `no problem found${warnings ? ` (${warnings} to look at: !)` : ''}`,
  );
  return failures ? 1 : 0;
}
