// SSH destinations as typed on a command line or in settings: `host`, `user@host`, `host:port`,
// `user@[::1]:2222`, `ssh://user@host:port`, and `-J` lists of them. The one grammar: the command,
// the settings checks, the options page, route building and doctor all read destinations here. Pure.

export interface Destination {
  user?: string;
  host: string;
  port?: number;
}

/** Characters that never belong in a host name or login and would be dangerous in a ProxyCommand. */
const FORBIDDEN = /[\s'"`\\;&<>|(){}[\]$*?!,\x00-\x1f\x7f]/;

function fail(input: string, why: string): never {
  throw new Error(`invalid SSH destination "${input}": ${why}`);
}

function parsePort(input: string, s: string): number {
  if (!/^\d{1,5}$/.test(s)) fail(input, `port "${s}" is not a number from 1 to 65535`);
  const n = Number(s);
  if (n < 1 || n > 65535) fail(input, `port ${n} is out of range (1 to 65535)`);
  return n;
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

function checkHost(input: string, host: string): string {
  const problem = hostProblem(host);
  if (problem) fail(input, problem);
  return host;
}

function checkUser(input: string, user: string): string {
  const problem = loginProblem(user);
  if (problem) fail(input, problem);
  return user;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address (several colons, no port). */
function parseHostPort(input: string, s: string): { host: string; port?: number } {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) fail(input, 'missing "]" after an IPv6 address');
    const host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest === '') return { host: checkHost(input, host) };
    if (!rest.startsWith(':')) fail(input, `unexpected "${rest}" after "]"`);
    return { host: checkHost(input, host), port: parsePort(input, rest.slice(1)) };
  }
  const colons = s.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = s.split(':') as [string, string];
    return { host: checkHost(input, host), port: parsePort(input, port) };
  }
  return { host: checkHost(input, s) }; // no colon, or an IPv6 address written without brackets
}

function parseUri(input: string): Destination {
  let rest = input.slice('ssh://'.length);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (rest.includes('/')) fail(input, 'an ssh:// address cannot have a path');
  const at = rest.lastIndexOf('@');
  let user: string | undefined;
  if (at >= 0) {
    const raw = rest.slice(0, at);
    if (raw.includes(';')) fail(input, 'ssh:// connection parameters (";...") are not supported');
    try {
      user = decodeURIComponent(raw);
    } catch {
      fail(input, 'bad %-escape in the user name');
    }
    rest = rest.slice(at + 1);
  }
  const hp = parseHostPort(input, rest);
  return { ...(user !== undefined ? { user: checkUser(input, user) } : {}), ...hp };
}

/** Parses one destination; throws an Error that names the input and the problem. */
export function parseDestination(s: string): Destination {
  const input = s.trim();
  if (input === '') fail(s, 'it is empty; write host, user@host or user@host:port');
  if (/^ssh:\/\//i.test(input)) return parseUri(input);
  const at = input.lastIndexOf('@'); // logins may hold "@" (first.last@example.org@host)
  const user = at >= 0 ? checkUser(input, input.slice(0, at)) : undefined;
  const hp = parseHostPort(input, input.slice(at + 1));
  return { ...(user !== undefined ? { user } : {}), ...hp };
}

/**
 * The destination argument of the command, read as ssh reads its own: `[user@]host` (split at the
 * last "@"; no port here, so `host:2222` names a host) or `ssh://[user@]host[:port]`.
 */
export function parseCommandDestination(s: string): Destination {
  const input = s.trim();
  if (input === '') fail(s, 'it is empty; write host or user@host');
  if (/^ssh:\/\//i.test(input)) return parseUri(input);
  const at = input.lastIndexOf('@');
  const user = at >= 0 ? checkUser(input, input.slice(0, at)) : undefined;
  return { ...(user !== undefined ? { user } : {}), host: checkHost(input, input.slice(at + 1)) };
}

/** The reason alone, from an error thrown here (for messages that already name the input). */
export function destinationReason(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).replace(/^invalid SSH destination "[^"]*": /, '');
}

/** A `-J`/ProxyJump list: comma-separated destinations; `none` means no jump host. */
export function parseJumpList(s: string): Destination[] {
  const input = s.trim();
  if (input.toLowerCase() === 'none') return [];
  if (input === '') throw new Error('empty jump host list: write host1,user@host2:port or none');
  return input.split(',').map((part, i) => {
    if (part.trim() === '') throw new Error(`jump host list "${input}": entry ${i + 1} is empty`);
    return parseDestination(part);
  });
}

/** The canonical text form (`user@[::1]:2222`), which parseDestination reads back. */
export function formatDestination(d: Destination): string {
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  return `${d.user !== undefined ? `${d.user}@` : ''}${host}${d.port !== undefined ? `:${d.port}` : ''}`;
}
