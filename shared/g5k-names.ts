// `.g5k` names, as Grid'5000's SSH guide defines them (`ProxyCommand ssh g5k -W "$(basename %h .g5k):%p"`):
// `graphite-3.nancy.g5k` stands for `graphite-3.nancy` as the access machine resolves it. Pure.

const SUFFIX = '.g5k';

/** The name the gateway resolves for `host`: without a final `.g5k` (any case); any other name unchanged. */
export function gatewayName(host: string): string {
  const h = host.endsWith('.') ? host.slice(0, -1) : host;
  if (h.length <= SUFFIX.length || h.slice(-SUFFIX.length).toLowerCase() !== SUFFIX) return host;
  return h.slice(0, -SUFFIX.length);
}
