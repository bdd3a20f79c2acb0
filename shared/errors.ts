// The error table: every failure the user can meet, with plain words and what to do.
// One table for the popup, the error page and the command line. See docs/PROTOCOL.md.

export const ERROR_CODES = [
  'BAD_FRAME',
  'BAD_MESSAGE',
  'PROTOCOL_MISMATCH',
  'NOT_CONFIGURED',
  'GATEWAY_UNREACHABLE',
  'TIMEOUT',
  'HOSTKEY_CHANGED',
  'HOSTKEY_UNKNOWN',
  'HOSTKEY_REVOKED',
  'AUTH_FAILED',
  'NO_IDENTITY',
  'PASSPHRASE_NEEDED',
  'KEY_UNREADABLE',
  'KEY_PERMISSIONS',
  'CONNECTION_LOST',
  'SOCKS_PORT_IN_USE',
  'PROMPT_UNKNOWN',
  'HOST_MISSING',
  'HOST_FORBIDDEN',
  'HOST_CRASHED',
  'HOST_OUTDATED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

interface Entry {
  message: string;
  hint: string;
  /** True when retrying cannot help (the user must act); false when the tunnel may retry by itself. */
  fatal: boolean;
}

const TABLE: Record<ErrorCode, Entry> = {
  BAD_FRAME: {
    message: 'The host received a message it could not read.',
    hint: 'Update the extension and the host to the same version.',
    fatal: false,
  },
  BAD_MESSAGE: {
    message: 'The host received an invalid request.',
    hint: 'Update the extension and the host to the same version.',
    fatal: false,
  },
  PROTOCOL_MISMATCH: {
    message: 'The extension and the native host speak different protocol versions.',
    hint: 'Update both: run `g5k-tunnel install` from the same release as the extension.',
    fatal: false,
  },
  NOT_CONFIGURED: {
    message: 'No tunnel settings yet.',
    hint: "Open the options page and set your Grid'5000 login.",
    fatal: false,
  },
  GATEWAY_UNREACHABLE: {
    message: 'The SSH gateway cannot be reached.',
    hint: 'Check your network connection and the gateway name; the tunnel retries by itself.',
    fatal: false,
  },
  TIMEOUT: {
    message: 'The SSH gateway did not answer in time.',
    hint: 'Check your network connection; the tunnel retries by itself.',
    fatal: false,
  },
  HOSTKEY_CHANGED: {
    message: "WARNING: the gateway's host key has changed. Someone could be eavesdropping, or the key was replaced.",
    hint: "Do not connect. Check the new key with the Grid'5000 staff; if it is legitimate, remove the old line from known_hosts (`ssh-keygen -R host`).",
    fatal: true,
  },
  HOSTKEY_UNKNOWN: {
    message: "The gateway's host key is not known and was not accepted.",
    hint: "Compare the fingerprint with the one published by Grid'5000, then accept it, or run `ssh` once to add it to known_hosts.",
    fatal: true,
  },
  HOSTKEY_REVOKED: {
    message: 'The gateway presented a host key that is marked @revoked in known_hosts.',
    hint: "Do not connect. Contact the Grid'5000 staff.",
    fatal: true,
  },
  AUTH_FAILED: {
    message: 'The gateway did not accept your SSH key.',
    hint: "Upload your public key on the Grid'5000 account page (api.grid5000.fr/ui/account), check your login, and load the key in ssh-agent (`ssh-add`).",
    fatal: true,
  },
  NO_IDENTITY: {
    message: 'No SSH key to log in with: no ssh-agent key and no identity file found.',
    hint: 'Start ssh-agent and run `ssh-add`, or set an identity file in the options.',
    fatal: true,
  },
  PASSPHRASE_NEEDED: {
    message: 'Your SSH key is protected by a passphrase that was not given.',
    hint: 'Enter the passphrase when asked, or load the key in ssh-agent (`ssh-add`).',
    fatal: true,
  },
  KEY_UNREADABLE: {
    message: 'The identity file cannot be read or is not a private key.',
    hint: 'Check the identity file path and its permissions (chmod 600).',
    fatal: true,
  },
  KEY_PERMISSIONS: {
    message: 'Your SSH private key file can be read by other users, so it was ignored, as OpenSSH does.',
    hint: 'Make it yours alone: run `chmod 600` on the key file.',
    fatal: true,
  },
  CONNECTION_LOST: {
    message: 'The connection to the gateway was lost.',
    hint: 'The tunnel reconnects by itself; check your network if it keeps failing.',
    fatal: false,
  },
  SOCKS_PORT_IN_USE: {
    message: 'The local SOCKS port is already in use by another program.',
    hint: 'Stop the other program (maybe an `ssh -D`), or choose another SOCKS port in the options.',
    fatal: false,
  },
  PROMPT_UNKNOWN: {
    message: 'That question is no longer pending.',
    hint: 'Retry the connection.',
    fatal: false,
  },
  HOST_MISSING: {
    message: 'The g5k-tunnel native host is not installed.',
    hint: 'Install it: run `npm run install-host` in the g5k-tunnel folder; the extension finds it by itself.',
    fatal: false,
  },
  HOST_FORBIDDEN: {
    message: 'The native host does not allow this extension.',
    hint: 'Reinstall the host so that its manifest lists this extension: `g5k-tunnel install`.',
    fatal: false,
  },
  HOST_CRASHED: {
    message: 'The native host stopped unexpectedly.',
    hint: 'See its log (`g5k-tunnel doctor` prints where it is) and retry.',
    fatal: false,
  },
  HOST_OUTDATED: {
    message: 'The native host is older than the extension.',
    hint: 'Update it: run `g5k-tunnel install` from the same release as the extension.',
    fatal: false,
  },
  INTERNAL: {
    message: 'An unexpected error happened in the native host.',
    hint: 'Retry; if it persists, report it with the host log.',
    fatal: false,
  },
};

/** The user-facing words for a code. */
export function describe(code: ErrorCode): Omit<Entry, 'fatal'> {
  const { message, hint } = TABLE[code];
  return { message, hint };
}

/** Whether a failure needs the user (retrying cannot fix it), from the table's `fatal` column. */
export function isFatalCode(code: ErrorCode): boolean {
  return TABLE[code].fatal;
}

/** Builds a ProtocolError from the table, with optional technical detail. */
export function makeError(code: ErrorCode, detail?: string, message?: string) {
  const e = TABLE[code];
  return { code, message: message ?? e.message, hint: e.hint, ...(detail ? { detail } : {}) };
}
