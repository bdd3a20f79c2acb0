// The SSH handshake of one hop on an open stream: key exchange with the host key checked against
// known_hosts (host-key.ts) BEFORE any authentication, then the login (login.ts); each stage bounded
// by ConnectTimeout, not counting the user's answers. Then, on the last hop, the forwarding stage.

import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as SshClient, ConnectConfig } from 'ssh2';
import type { Stage, StageTiming } from '../../shared/protocol.js';
import { Identities } from './auth.js';
import { hostKeyAlgorithms, verifyHostKey } from './host-key.js';
import { abortError, type ConnectContext, type ConnectError, fail, type Hop, now } from './hop.js';
import { loginHandler, loginTarget } from './login.js';
import { ProxyCommandError } from './proxy-command.js';
import { StageTimer } from './stage-timer.js';

const { Client } = ssh2;

/** SSH handshake on an open stream: host key check, then login. Resolves once authenticated. */
export function handshake(
  hop: Hop,
  sock: Duplex,
  ctx: ConnectContext,
  timings: StageTiming[],
): Promise<{ client: SshClient; banner?: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let stage: Stage = 'hostkey';
    let stageStart = now();
    let settled = false;
    let failure: ConnectError | null = null;
    let banner: string | undefined;
    const timer = new StageTimer(hop.connectTimeoutMs, () =>
      finish(
        failure ??
          fail(
            'TIMEOUT',
            `${hop.label}: no answer during the ${stage === 'hostkey' ? 'SSH key exchange' : 'login'} after ${hop.connectTimeoutMs / 1000} s`,
          ),
      ),
    );
    const identities = new Identities(hop.auth, ctx.keys, {
      ask: ctx.interaction.askPassphrase.bind(ctx.interaction),
      promptStarted: () => timer.pause(),
      promptEnded: () => timer.resume(),
      log: ctx.log,
      target: loginTarget(hop),
    });
    // the key files and the agent are read while the key exchange goes on
    identities.prefetch();

    const onAbort = () => finish(abortError());
    const finish = (err: ConnectError | null) => {
      if (settled) return;
      settled = true;
      timer.clear();
      ctx.signal?.removeEventListener('abort', onAbort);
      sock.removeListener('data', peek);
      if (err) {
        client.removeAllListeners('ready');
        client.on('error', () => {});
        client.end();
        sock.destroy();
        reject(err);
      } else resolve({ client, ...(banner ? { banner } : {}) });
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });

    // The server's identification line, for the connection test; read only until it is seen.
    let head = '';
    const peek = (chunk: Buffer) => {
      head += chunk.toString('latin1', 0, Math.min(chunk.length, 512));
      const line = head.split(/\r?\n/).find((l) => l.startsWith('SSH-'));
      if (line !== undefined || head.length > 8192) {
        banner = line?.slice(0, 255);
        sock.removeListener('data', peek);
      }
    };

    const hostVerifier = (blob: Buffer, verify: (ok: boolean) => void) => {
      verifyHostKey(hop, blob, ctx, timer).then(
        (problem) => {
          if (problem) {
            failure = problem;
            return verify(false);
          }
          timings.push({ stage: 'hostkey', hop: hop.label, ms: Math.round(now() - stageStart) });
          stage = 'auth';
          stageStart = now();
          ctx.onStage?.('auth', hop.label);
          timer.reset();
          verify(true);
        },
        (err: Error) => {
          failure = fail('INTERNAL', `${hop.label}: host key check failed: ${err.message}`);
          verify(false);
        },
      );
    };

    const authHandler = loginHandler(
      client,
      hop,
      identities,
      (e) => {
        failure = e;
      },
      (m) => ctx.log.debug(m),
    );

    client.on('ready', () => {
      identities.loggedIn();
      timings.push({ stage: 'auth', hop: hop.label, ms: Math.round(now() - stageStart) });
      finish(null);
    });
    client.on('error', (err: Error & { level?: string }) => {
      // our signer declining a key, or no agent running: ssh2 goes on with the next key
      if (err.level === 'agent') return ctx.log.debug(`${hop.label}: ${err.message}`);
      finish(failure ?? classifyHandshakeError(err, hop, stage));
    });
    client.on('close', () =>
      finish(
        failure ??
          fail(
            'CONNECTION_LOST',
            `${hop.label}: the server closed the connection during the ${stage === 'hostkey' ? 'key exchange' : 'login'}`,
          ),
      ),
    );

    ctx.onStage?.('hostkey', hop.label);
    const config: ConnectConfig = {
      sock: sock as ConnectConfig['sock'],
      username: hop.user,
      hostVerifier: hostVerifier as ConnectConfig['hostVerifier'],
      authHandler,
      // our StageTimer bounds each stage instead: ssh2's would also count the user's typing
      readyTimeout: 0,
      keepaliveInterval: hop.keepaliveIntervalMs,
      keepaliveCountMax: hop.keepaliveCountMax,
      algorithms: {
        serverHostKey: hostKeyAlgorithms(hop) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'],
      },
    };
    try {
      client.connect(config);
      sock.on('data', peek);
    } catch (err) {
      finish(fail('INTERNAL', `${hop.label}: ${(err as Error).message}`));
    }
  });
}

export function classifyHandshakeError(
  err: Error & { level?: string; code?: unknown },
  hop: Hop,
  stage: Stage,
): ConnectError {
  if (err instanceof ProxyCommandError) return fail('GATEWAY_UNREACHABLE', `${hop.label}: ${err.message}`);
  if (err.level === 'client-timeout') return fail('TIMEOUT', `${hop.label}: ${err.message}`);
  if (err.level === 'client-socket') return fail('CONNECTION_LOST', `${hop.label}: ${err.message}`);
  return fail(
    'CONNECTION_LOST',
    `${hop.label}: ${stage === 'hostkey' ? 'key exchange' : 'login'} failed: ${err.message}`,
  );
}

/**
 * After login: tell the server this connection carries no sessions, only forwarded channels (as
 * ssh -N). No reply is asked, as by ssh: a server that does not know the request ignores it, and
 * the first channel need not wait a round trip for the answer.
 */
export function stageForwarding(hop: Hop, client: SshClient, ctx: ConnectContext, timings: StageTiming[]): void {
  ctx.onStage?.('forwarding', hop.label);
  const t0 = now();
  try {
    // ssh2 asks no reply when given no callback (its types require one)
    (client.openssh_noMoreSessions as unknown as (this: SshClient) => SshClient).call(client);
  } catch (err) {
    throw fail(
      'CONNECTION_LOST',
      `${hop.label}: the server closed the connection right after login: ${(err as Error).message}`,
    );
  }
  timings.push({ stage: 'forwarding', hop: hop.label, ms: Math.round(now() - t0) });
}
