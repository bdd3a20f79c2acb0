// What a browser's proxy adapter does: route the hosts the rules match to the local SOCKS listener
// while the mode is Auto or On, and nothing otherwise. Each browser has its own adapter file.

import type { Rule } from '../../shared/patterns.js';
import type { Mode } from '../../shared/protocol.js';

export const SOCKS_HOST = '127.0.0.1';

export interface Routing {
  mode: Mode;
  rules: Rule[];
  socksPort: number;
}

export interface ProxyAdapter {
  /** Makes the browser route as `r` says (Chromium: sets or clears the PAC; Firefox: remembers it). */
  apply(r: Routing): Promise<void>;
  /** Firefox: true when the user has not let the extension run in private windows (they go direct). */
  privateWindowsExcluded(): Promise<boolean>;
}
