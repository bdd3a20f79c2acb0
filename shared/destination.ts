// SSH destinations as typed on a command line or in settings: `host`, `user@host`, `host:port`,
// `user@[::1]:2222`, `ssh://user@host:port`, and `-J` lists of them. The one grammar: the command,
// the settings checks, the options page, route building and doctor all read destinations here. Pure.

import type { Parsed } from './parsed.js';

export interface Destination {
  user?: string;
  host: string;
  port?: number;
}

/** Characters that never belong in a host name or login and would be dangerous in a ProxyCommand. */
const FORBIDDEN = /[\s'"`\\;&<>|(){}[\]$*?!,\x00-\x1f\x7f]/;

const PREFIX = /^invalid SSH destination "[^"]*": /;

function refuse(input: string, why: string): { ok: false; error: string } {
  return { ok: false, error: `invalid SSH destination "${input}": ${why}` };
}

function parsePort(input: string, s: string): Parsed<number> {
  if (!/^\d{1,5}$/.test(s)) return refuse(input, `port "${s}" is not a number from 1 to 65535`);
  const n = Number(s);
  if (n < 1 || n > 65535) return refuse(input, `port ${n} is out of range (1 to 65535)`);
  return { ok: true, value: n };
}

/** What is wrong with a host name or address (without brackets or port), or null. */
export function hostProblem(host: string): string | null {
  if (host === '') return 'the host name is empty';
  if (host.length > 253) return 'a host name has at most 253 characters';
  if (host.startsWith('-')) return 'a host name cannot start with "-"';
  if (FORBIDDEN.test(host) || host.includes('/') || host.includes('@'))
    return `"${host}" is not a host name or address`;
  return null;
}

/** What is wrong with a login (it may hold "@", as first.last@example.org does), or null. */
export function loginProblem(user: string): string | null {
  if (user === '') return 'the user name before "@" is empty (an empty user name is not allowed)';
  if (user.length > 255) return 'a user name has at most 255 characters';
  if (user.startsWith('-')) return 'a user name cannot start with "-"';
  if (FORBIDDEN.test(user)) return `"${user}" is not a valid user name`;
  return null;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address (several colons, no port). */
function parseHostPort(input: string, s: string): Parsed<{ host: string; port?: number }> {
  let host = s;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return refuse(input, 'missing "]" after an IPv6 address');
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return refuse(input, `unexpected "${rest}" after "]"`);
      portText = rest.slice(1);
    }
  } else if (s.split(':').length - 1 === 1) {
    [host, portText] = s.split(':') as [string, string];
  } // else no colon, or an IPv6 address written without brackets
  const problem = hostProblem(host);
  if (problem) return refuse(input, problem);
  if (portText === undefined) return { ok: true, value: { host } };
  const port = parsePort(input, portText);
  return port.ok ? { ok: true, value: { host, port: port.value } } : port;
}

/** The login before the last "@" (logins may hold "@", as first.last@example.org@host does). */
function withUser(input: string, user: string | undefined, hp: { host: string; port?: number }): Parsed<Destination> {
  if (user === undefined) return { ok: true, value: hp };
  const problem = loginProblem(user);
  return problem ? refuse(input, problem) : { ok: true, value: { user, ...hp } };
}

function parseUri(input: string): Parsed<Destination> {
  let rest = input.slice('ssh://'.length);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (rest.includes('/')) return refuse(input, 'an ssh:// address cannot have a path');
  const at = rest.lastIndexOf('@');
  let user: string | undefined;
  if (at >= 0) {
    const raw = rest.slice(0, at);
    if (raw.includes(';')) return refuse(input, 'ssh:// connection parameters (";...") are not supported');
    try {
      user = decodeURIComponent(raw);
    } catch {
      return refuse(input, 'bad %-escape in the user name');
    }
    rest = rest.slice(at + 1);
  }
  const hp = parseHostPort(input, rest);
  return hp.ok ? withUser(input, user, hp.value) : hp;
}

/** Parses one destination; a refusal names the input and the problem. */
export function parseDestination(s: string): Parsed<Destination> {
  const input = s.trim();
  if (input === '') return refuse(s, 'it is empty; write host, user@host or user@host:port');
  if (/^ssh:\/\//i.test(input)) return parseUri(input);
  const at = input.lastIndexOf('@');
  const user = at >= 0 ? input.slice(0, at) : undefined;
  // the login is judged first: its problem is the one to report
  const userProblem = user !== undefined ? loginProblem(user) : null;
  if (userProblem) return refuse(input, userProblem);
  const hp = parseHostPort(input, input.slice(at + 1));
  return hp.ok ? withUser(input, user, hp.value) : hp;
}

/**
 * The destination argument of the command, read as ssh reads its own: `[user@]host` (split at the
 * last "@"; no port here, so `host:2222` names a host) or `ssh://[user@]host[:port]`.
 */
export function parseCommandDestination(s: string): Parsed<Destination> {
  const input = s.trim();
  if (input === '') return refuse(s, 'it is empty; write host or user@host');
  if (/^ssh:\/\//i.test(input)) return parseUri(input);
  const at = input.lastIndexOf('@');
  const user = at >= 0 ? input.slice(0, at) : undefined;
  const userProblem = user !== undefined ? loginProblem(user) : null;
  if (userProblem) return refuse(input, userProblem);
  const host = input.slice(at + 1);
  const problem = hostProblem(host);
  return problem ? refuse(input, problem) : withUser(input, user, { host });
}

/** The reason alone, from a refusal here (for messages that already name the input). */
export function destinationReason(error: string): string {
  return error.replace(PREFIX, '');
}

/** A `-J`/ProxyJump list: comma-separated destinations; `none` means no jump host. */
export function parseJumpList(s: string): Parsed<Destination[]> {
  const input = s.trim();
  if (input.toLowerCase() === 'none') return { ok: true, value: [] };
  if (input === '') return { ok: false, error: 'empty jump host list: write host1,user@host2:port or none' };
  const out: Destination[] = [];
  for (const [i, part] of input.split(',').entries()) {
    if (part.trim() === '') return { ok: false, error: `jump host list "${input}": entry ${i + 1} is empty` };
    const d = parseDestination(part);
    if (!d.ok) return d;
    out.push(d.value);
  }
  return { ok: true, value: out };
}

/** Each destination of a list, or the first refusal. */
export function parseDestinations(list: readonly string[]): Parsed<Destination[]> {
  const out: Destination[] = [];
  for (const item of list) {
    const d = parseDestination(item);
    if (!d.ok) return d;
    out.push(d.value);
  }
  return { ok: true, value: out };
}

/** The canonical text form (`user@[::1]:2222`), which parseDestination reads back. */
export function formatDestination(d: Destination): string {
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  return `${d.user !== undefined ? `${d.user}@` : ''}${host}${d.port !== undefined ? `:${d.port}` : ''}`;
}
