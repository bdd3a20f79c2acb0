// The demo's SSH gateway: an ssh2 server on 127.0.0.1 standing in for access.grid5000.fr. It accepts
// one user with one key, and only direct-tcpip channels (what `ssh -N -D` and `ssh -W` use). Like
// the real gateway it resolves names itself, from its own map: names the machine running the
// browser cannot resolve. It answers an unknown name or a closed port as OpenSSH does (reason 2,
// "connect failed", with the resolver's or the socket's words), and counts the channels it opens.

import net from 'node:net';
import ssh2 from 'ssh2';

interface Target {
  host: string;
  port: number;
}

interface DemoGatewayOptions {
  /** Private host key (OpenSSH or PEM text). */
  hostKey: string | Buffer;
  /** The only public key accepted (`ssh-ed25519 AAAA…`). */
  authorizedKey: string;
  user: string;
  /** name → (port asked for → where it really is). */
  names: Record<string, Record<number, Target>>;
  /** Port to listen on (default: a free one). */
  port?: number;
}

export interface DemoGateway {
  host: '127.0.0.1';
  port: number;
  /** Channels opened to `name` so far (any port). */
  channels(name: string): number;
  /** Channel opens refused, by `name:port`. */
  refused: Map<string, number>;
  /** SSH connections that completed authentication. */
  logins(): number;
  close(): Promise<void>;
}

const CONNECT_FAILED = 2; // SSH_OPEN_CONNECT_FAILED (RFC 4254 §5.1)

/**
 * ssh2's tcpip `reject()` sends no description; OpenSSH sends the cause, which the tunnel turns into
 * the right SOCKS reply. Wrap the connection's channelOpenFail so one rejection carries a text.
 */
function rejectWith(conn: ssh2.Connection, reject: () => void, text: string): void {
  const proto = (conn as unknown as { _protocol?: { channelOpenFail?: (...a: unknown[]) => void } })._protocol;
  const orig = proto?.channelOpenFail;
  if (!proto || typeof orig !== 'function') return reject();
  proto.channelOpenFail = (recipient: unknown) => orig.call(proto, recipient, CONNECT_FAILED, text);
  try {
    reject();
  } finally {
    proto.channelOpenFail = orig;
  }
}

export async function startDemoGateway(o: DemoGatewayOptions): Promise<DemoGateway> {
  const allowed = ssh2.utils.parseKey(o.authorizedKey);
  if (allowed instanceof Error) throw new Error(`demo gateway: bad authorized key: ${allowed.message}`);
  const allowedBlob = allowed.getPublicSSH();
  const names = new Map(Object.entries(o.names).map(([n, ports]) => [n.toLowerCase(), ports]));
  const opened = new Map<string, number>();
  const refused = new Map<string, number>();
  const conns = new Set<ssh2.Connection>();
  const sockets = new Set<net.Socket>();
  let logins = 0;

  const server = new ssh2.Server({ hostKeys: [o.hostKey], ident: 'g5k-tunnel-demo-gateway' }, (conn) => {
    conns.add(conn);
    conn.on('close', () => conns.delete(conn));
    conn.on('error', () => {}); // a client that goes away mid-handshake must not stop the demo
    conn.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.username !== o.user || !ctx.key.data.equals(allowedBlob))
        return ctx.reject(['publickey']);
      // without a signature the client only asks whether the key would do; with one, check it
      if (ctx.signature && allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true)
        return ctx.reject(['publickey']);
      ctx.accept();
    });
    conn.on('ready', () => {
      logins++;
      conn.on('tcpip', (accept, reject, info) => {
        const name = info.destIP.toLowerCase();
        const key = `${name}:${info.destPort}`;
        const refuse = (why: string) => {
          refused.set(key, (refused.get(key) ?? 0) + 1);
          rejectWith(conn, reject, why);
        };
        const ports = names.get(name);
        if (!ports) return refuse('Name or service not known');
        const target = ports[info.destPort];
        if (!target) return refuse('Connection refused');
        const sock = net.connect(target.port, target.host);
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.once('error', () => refuse('Connection refused'));
        sock.once('connect', () => {
          sock.removeAllListeners('error');
          const ch = accept();
          if (!ch) return sock.destroy();
          opened.set(name, (opened.get(name) ?? 0) + 1);
          sock.setNoDelay(true);
          sock.on('error', () => ch.close());
          ch.on('error', () => sock.destroy());
          ch.on('close', () => sock.destroy());
          sock.pipe(ch).pipe(sock);
        });
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    channels: (name) => opened.get(name.toLowerCase()) ?? 0,
    refused,
    logins: () => logins,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        for (const c of conns) c.end();
        server.close(() => resolve());
      }),
  };
}
