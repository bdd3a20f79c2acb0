// Connects each endpoint once through the KEXINIT relay and reports what it negotiated.

import fs from 'node:fs';
import path from 'node:path';
import type { Gateway } from '../../testbed/sshd.js';
import { startEndpoint, type Context, type EndpointId } from './endpoints.js';
import { startRelay, type Negotiated } from './kex-probe.js';

export async function probeCiphers(
  ids: readonly EndpointId[],
  ctx: Context,
): Promise<Partial<Record<EndpointId, Negotiated | string>>> {
  const relay = await startRelay(ctx.gw.port);
  const knownHosts = path.join(ctx.scratch, 'known_hosts.relay');
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${relay.port} ${ctx.gw.hostKeyPublic}\n`);
  // the same gateway, seen through the relay's port
  const gw: Gateway = Object.create(ctx.gw, { port: { value: relay.port }, knownHosts: { value: knownHosts } });
  const out: Partial<Record<EndpointId, Negotiated | string>> = {};
  try {
    for (const id of ids) {
      if (id === 'direct') continue;
      const seen = relay.next();
      seen.catch(() => {});
      try {
        const ep = await startEndpoint(id, { ...ctx, gw, nodeArgs: [] });
        try {
          let timer: NodeJS.Timeout | undefined;
          out[id] = await Promise.race([
            seen,
            new Promise<never>((_, rej) => {
              timer = setTimeout(() => rej(new Error('no key exchange seen')), 5000);
            }),
          ]).finally(() => clearTimeout(timer));
        } finally {
          await ep.stop();
        }
      } catch (e) {
        out[id] = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      }
    }
  } finally {
    await relay.close();
  }
  return out;
}
