// Which destinations the tunnel serves: all of them, unless restrictTo holds lines; then only the
// hosts its rules match (a list whose lines all are comments or mistakes allows nothing, not everything).

import { matchHost } from '../../shared/patterns.js';
import type { TunnelConfig } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { restrictRules } from './config.js';

/** The settings' restrictTo as a test on a host name; the lines it cannot read are logged. */
export function accessOf(config: TunnelConfig, log: Logger): (host: string) => boolean {
  if (config.restrictTo.length === 0) return () => true;
  const rules = restrictRules(config, log);
  return (host) => matchHost(rules, host);
}
