// Which ssh-agent to talk to, and how: SSH_AUTH_SOCK (or IdentityAgent) when set, else on Windows
// the pipe of OpenSSH for Windows' agent service; a pipe or a Unix socket speaks the agent protocol
// directly, while on Windows `pageant` and Cygwin socket files need ssh2's other clients.

import { createRequire } from 'node:module';
import type { OpenSSHAgent } from 'ssh2';

// ssh2 is loaded by the connection code when a connection starts (see connect.ts), not by the route
const require = createRequire(import.meta.url);

/** OpenSSH for Windows' agent (the "OpenSSH Authentication Agent" service) listens on this pipe. */
export const WINDOWS_AGENT_PIPE = '\\\\.\\pipe\\openssh-ssh-agent';

/** The agent to use when SSH_AUTH_SOCK is unset: Windows' built-in agent pipe; elsewhere none. */
export function defaultAgentSocket(platform: NodeJS.Platform): string | null {
  return platform === 'win32' ? WINDOWS_AGENT_PIPE : null;
}

type AgentKind = 'openssh' | 'pageant' | 'cygwin';

/**
 * How to talk to the agent at `socket`, as ssh2's createAgent decides: a socket path or a Windows
 * pipe (`\\.\pipe\…`, forward or back slashes) speaks the agent protocol directly; on Windows,
 * `pageant` is PuTTY's agent and any other path a Cygwin/MSYS socket file (Git Bash's ssh-agent).
 */
export function agentKind(socket: string, platform: NodeJS.Platform): AgentKind {
  if (platform !== 'win32' || /^[/\\][/\\]\.[/\\]pipe[/\\].+/.test(socket)) return 'openssh';
  return socket === 'pageant' ? 'pageant' : 'cygwin';
}

/** An ssh2 agent client for `socket` (see agentKind). */
export function agentFor(
  socket: string,
  platform: NodeJS.Platform = process.platform,
): InstanceType<typeof OpenSSHAgent> {
  const ssh2 = require('ssh2') as typeof import('ssh2');
  const kind = agentKind(socket, platform);
  if (kind === 'pageant') return new ssh2.PageantAgent(socket); // the path is unused: Pageant is found by its window
  if (kind === 'cygwin') return new ssh2.CygwinAgent(socket);
  return new ssh2.OpenSSHAgent(socket);
}
