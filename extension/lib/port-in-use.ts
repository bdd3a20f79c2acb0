// The options page's note under the SOCKS port: the port the host actually listens on, which with
// the automatic port (0) is known only once the host reports it. Pure, unit-tested.

import type { TunnelStatus } from '../../shared/protocol.js';
import { t } from '../i18n/t.js';

/** The port the host's status reports its listener on, or null (no host yet, or no listener). */
export function portInUse(status: TunnelStatus | null): number | null {
  const port = status?.socks?.port;
  return typeof port === 'number' && port > 0 ? port : null;
}

/** The words under the SOCKS port field: '' while the host reports no port. */
export function portInUseNote(status: TunnelStatus | null): string {
  const port = portInUse(status);
  return port === null ? '' : t('options_socks_port_in_use', port);
}
