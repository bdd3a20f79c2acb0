// Which identities a login may use, as resolved from the settings and ~/.ssh/config (route.ts);
// apart from auth.ts so that resolving a route does not load ssh2.

/** OpenSSH's default identity files, in its order (security-key and XMSS types are not supported by ssh2). */
export const DEFAULT_IDENTITY_NAMES = ['id_rsa', 'id_ecdsa', 'id_ed25519', 'id_dsa'];

export interface AuthPlan {
  /** ssh-agent socket path, or null for no agent. */
  agentSocket: string | null;
  /** Identity files in order. `explicit` ones were named by the user: failing to read them is an error. */
  files: { path: string; explicit: boolean }[];
  /** IdentitiesOnly: offer only agent keys that match one of the files. */
  identitiesOnly: boolean;
}
