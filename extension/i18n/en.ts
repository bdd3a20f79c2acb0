// The extension's words in English, the default locale: the source of _locales/en/messages.json.
// The error table's entries come from shared/errors.ts (the command line's words), never copied.
// To add a string: add it here, then to every other language (a missing key fails the type check).

import { describe, ERROR_CODES, type ErrorCode } from '../../shared/errors.js';
import { type Message, ph } from './message.js';

/** Short titles of the error table's codes, as the popup, the error page and the badge show them. */
const ERROR_TITLES: Record<ErrorCode, string> = {
  BAD_FRAME: 'Garbled message',
  BAD_MESSAGE: 'Invalid request',
  PROTOCOL_MISMATCH: 'Versions do not match',
  NOT_CONFIGURED: 'Not set up yet',
  GATEWAY_UNREACHABLE: 'Gateway unreachable',
  TIMEOUT: 'Gateway not answering',
  HOSTKEY_CHANGED: 'Host key changed: possible attack',
  HOSTKEY_UNKNOWN: 'Unknown host key',
  HOSTKEY_REVOKED: 'Revoked host key',
  AUTH_FAILED: 'SSH key refused',
  NO_IDENTITY: 'No SSH key',
  PASSPHRASE_NEEDED: 'Passphrase needed',
  KEY_UNREADABLE: 'Identity file unreadable',
  KEY_PERMISSIONS: 'Private key readable by others',
  CONNECTION_LOST: 'Connection lost',
  SOCKS_PORT_IN_USE: 'SOCKS port in use',
  PROMPT_UNKNOWN: 'Question expired',
  HOST_MISSING: 'Native host not installed',
  HOST_FORBIDDEN: 'Native host refuses this extension',
  HOST_CRASHED: 'Native host stopped',
  HOST_OUTDATED: 'Native host out of date',
  INTERNAL: 'Internal error',
};

const m = (message: string, description?: string): Message => ({
  message,
  ...(description ? { description } : {}),
});
const p = (message: string, ...names: string[]): Message => ({ message, placeholders: ph(...names) });

const PLAIN = {
  extension_description: m(
    "Opens Grid'5000 internal web services through an SSH tunnel, started on demand.",
    'The add-on managers show it under the name',
  ),

  // the tunnel's states: the popup's pill (short) and its tooltip
  state_off: m('Off'),
  state_idle: m('Idle: connects on first use'),
  state_connecting: m('Connecting…'),
  state_connected: m('Connected'),
  state_reconnecting: m('Reconnecting…'),
  state_error: m('Error'),
  pill_idle: m('Ready', 'The pill of the idle state: the tunnel opens on first use'),
  pill_unavailable: m('Unavailable', 'The pill when the native host cannot be used'),
  pill_starting: m('Starting…'),
  state_waiting_host: m('Waiting for the native host…'),

  // what the connection is doing
  stage_starting: m('Starting'),
  stage_tcp: m('Connecting to the gateway…'),
  stage_tcp_hop: p('Connecting to $hop$…', 'hop'),
  stage_hostkey: m('Checking host key…'),
  stage_hostkey_hop: p('Checking the host key of $hop$…', 'hop'),
  stage_auth: m('Logging in…'),
  stage_auth_hop: p('Logging in to $hop$…', 'hop'),
  stage_forwarding: m('Starting the SOCKS proxy…'),
  retry_reconnecting: m('Reconnecting'),
  retry_now: m('Retrying now'),
  retry_in: p('Retrying in $wait$', 'wait'),
  retry_attempt: p('(attempt $n$)', 'n'),

  // uptime and traffic
  duration_s: p('$s$ s', 's'),
  duration_min_s: p('$min$ min $s$ s', 'min', 's'),
  duration_h_min: p('$h$ h $min$ min', 'h', 'min'),
  duration_d_h: p('$d$ d $h$ h', 'd', 'h'),
  byte_units: m('B KiB MiB GiB TiB PiB', 'Units of bytes, space-separated, 1024 apart'),

  // the toolbar button's tooltip
  badge_title: p('g5k-tunnel: $text$', 'text'),
  badge_problem: p('$title$. $hint$', 'title', 'hint'),
  badge_prompt_passphrase: m('waiting for your key passphrase; click to answer'),
  badge_prompt_hostkey: m('waiting for confirmation of the gateway host key; click to answer'),
  badge_starting: m('starting…'),
  badge_off: m('off'),
  badge_idle: m('ready; connects to the gateway on first use'),
  badge_idle_at: p('ready; connects to $gateway$ on first use', 'gateway'),
  badge_connected: p('connected ($channels$ open)', 'channels'),
  badge_connected_at: p('connected to $gateway$ ($channels$ open)', 'gateway', 'channels'),
  badge_reconnecting: m('connection lost, reconnecting to the gateway'),
  badge_reconnecting_at: p('connection lost, reconnecting to $gateway$', 'gateway'),
  badge_error: m('error'),
  channels_one: m('1 channel'),
  channels_many: p('$n$ channels', 'n'),

  // a problem without an error code of its own
  error_title: m('Error'),
  error_host_no_answer: m('The native host did not answer in time.'),

  // why a Grid'5000 page failed to load (the error page)
  reason_OFF_title: m('Tunnel off'),
  reason_OFF_message: m('The tunnel is off.'),
  reason_OFF_hint: m('Retry turns it back on (Auto).'),
  reason_SITE_ACCESS_title: m('No access to websites'),
  reason_SITE_ACCESS_message: m(
    'Firefox does not let g5k-tunnel see which sites you open, so this page did not go through the tunnel.',
  ),
  reason_SITE_ACCESS_hint: m('Press “Allow access” in the g5k-tunnel toolbar popup, then Retry.'),
  reason_PROXY_CONFLICT_title: m('Another extension controls the proxy'),
  reason_PROXY_CONFLICT_message: m(
    'The browser sent this page through another extension’s proxy, not through the tunnel.',
  ),
  reason_PROXY_CONFLICT_hint: m('Disable the other proxy extension, or remove its proxy settings, then Retry.'),
  reason_PROXY_POLICY_title: m('The proxy is set by a policy'),
  reason_PROXY_POLICY_message: m(
    "Your browser's proxy is set by a policy (administrator): g5k-tunnel cannot route pages, so this page did not go through the tunnel.",
  ),
  reason_PROXY_POLICY_hint: m(
    'Ask your administrator, or use the command line `g5k-tunnel -N -D` with another program.',
  ),
  reason_TARGET_title: m('Address unreachable from the gateway'),
  reason_TARGET_message: m('The tunnel is up, but the gateway could not reach this address.'),
  reason_TARGET_hint: m(
    'Check the host name and port, and that the service runs (a node must be reserved and deployed).',
  ),
  reason_NO_TUNNEL_title: m('No tunnel'),
  reason_NO_TUNNEL_message: m('The tunnel was not up when the page was loaded.'),
  reason_NO_TUNNEL_hint: m('Retry starts it and loads the page again.'),

  // the popup
  popup_modes_label: m('Tunnel mode'),
  mode_off: m('Off'),
  mode_auto: m('Auto'),
  mode_on: m('On'),
  mode_off_title: m('Nothing goes through the tunnel'),
  mode_auto_title: m("The tunnel opens when a Grid'5000 page is loaded, and closes when idle"),
  mode_on_title: m('The tunnel stays open'),
  mode_off_help: m('Nothing goes through the tunnel.'),
  mode_auto_help: m("Grid'5000 pages open the tunnel when needed; it closes when idle."),
  mode_on_help: m("The tunnel stays open; Grid'5000 pages go through it."),
  popup_host_problem_title: m('Native host unavailable'),
  popup_install_run: m('In the g5k-tunnel folder, run:'),
  popup_install_or: m('(or', 'Before a command: “(or g5k-tunnel install where the command is on your PATH), then:”'),
  popup_install_path: m('where the command is on your PATH), then:'),
  popup_host_retry: m('Try again'),
  popup_site_access_title: m('No access to websites'),
  popup_site_access_text: m(
    "Firefox does not let g5k-tunnel see which sites you open, so Grid'5000 pages do not go through the tunnel.",
  ),
  popup_site_access_grant: m('Allow access'),
  popup_proxy_conflict_title: m('Another extension controls the proxy'),
  popup_proxy_conflict_text: m(
    "The browser's proxy settings are held by another extension, so Grid'5000 pages may not go through the tunnel. Disable the other proxy extension, or remove its proxy settings.",
  ),
  popup_proxy_policy_title: m('The proxy is set by a policy'),
  popup_proxy_policy_text: m(
    "Your browser's proxy is set by a policy (administrator): g5k-tunnel cannot route pages. Ask your administrator, or use the command line `g5k-tunnel -N -D` with another program.",
  ),
  popup_passphrase_title: m('Passphrase needed'),
  popup_passphrase_key: m(
    'Your SSH key',
    'Before the key file: “Your SSH key ~/.ssh/id is protected by a passphrase.”',
  ),
  popup_passphrase_protected: m('is protected by a passphrase.'),
  popup_passphrase_again: m('That passphrase was not right: try again.'),
  popup_passphrase_label: m('Passphrase'),
  popup_passphrase_unlock: m('Unlock'),
  popup_cancel: m('Cancel'),
  popup_passphrase_never_stored: m('Used for this connection only, never stored.'),
  popup_hostkey_title: m('Unknown host key'),
  popup_hostkey_presents: m(
    'presents this',
    'Between the host and the key type: “host presents this ssh-ed25519 key:”',
  ),
  popup_hostkey_key: m('key:', 'After the key type'),
  popup_hostkey_trust_only: m(
    "Trust it only if it equals the fingerprint Grid'5000 publishes. It will be added to",
    'Before the known_hosts file name',
  ),
  popup_hostkey_accept: m('Trust and connect'),
  popup_hostkey_reject: m('Reject'),
  popup_retry_now: m('Retry now'),
  popup_stage: m('Stage'),
  popup_gateway: m('Gateway'),
  popup_uptime: m('Uptime'),
  popup_connections: m('Connections'),
  popup_traffic: m('Traffic'),
  popup_gateway_via: p('$gateway$ via $jumps$', 'gateway', 'jumps'),
  popup_private_note: m(
    'Private windows go direct: to route them too, allow g5k-tunnel in private windows (about:addons → g5k-tunnel → Run in Private Windows).',
  ),
  popup_settings: m('Settings…'),

  // the popup's first run (nothing saved yet): what ~/.ssh/config says, or the login alone
  first_run_title: m('Set up g5k-tunnel'),
  first_run_looking: m('Looking in ~/.ssh/config…'),
  first_run_found_login_via: p('Found in ~/.ssh/config: login $login$, through $alias$', 'login', 'alias'),
  first_run_found_via: p('Found in ~/.ssh/config: Host $alias$', 'alias'),
  first_run_found_login: p('Found in ~/.ssh/config: login $login$', 'login'),
  first_run_found: m("Found in ~/.ssh/config: the way to a Grid'5000 access machine"),
  first_run_gateway: p('Gateway: $gateway$', 'gateway'),
  first_run_gateway_via: p('Gateway: $gateway$ via $jumps$', 'gateway', 'jumps'),
  first_run_other: m('Its login, key and gateway come from ~/.ssh/config.'),
  first_run_key_agent: m('ssh-agent has a key ✓'),
  first_run_key_file: p('Key file $file$ (you may be asked its passphrase)', 'file'),
  first_run_key_none: m('No key found: add one to ssh-agent (`ssh-add`) or pick a key file in the settings.'),
  first_run_hostkey_known: m('Gateway already known ✓'),
  first_run_hostkey_unknown: m('First connection: you will be asked to confirm the gateway’s fingerprint.'),
  first_run_choice: m('Host to use'),
  first_run_use: m('Use this'),
  first_run_edit: m('Edit in the settings'),
  first_run_not_found: m("Nothing in ~/.ssh/config reaches Grid'5000: type your login."),
  first_run_ask: m("Type your Grid'5000 login to start."),
  first_run_login_label: m("Grid'5000 login"),
  first_run_login_gateway: p('Through $gateway$ (you can change it in the settings).', 'gateway'),
  first_run_save: m('Save'),
  first_run_login_required: m("Type your Grid'5000 login first."),

  // the error page
  errorpage_title: m("Grid'5000 page unreachable"),
  errorpage_heading: m("This page could not be reached through the Grid'5000 tunnel"),
  errorpage_looking: m('Looking for the reason…'),
  errorpage_tunnel: m('Tunnel:'),
  errorpage_retry: m('Retry'),
  errorpage_retry_help: m('Retry reconnects the tunnel, then loads the page again.'),
  errorpage_unknown_address: m('(unknown address)'),
  errorpage_browser_said: p('(browser: $error$)', 'error'),

  // the options page
  options_title: m('g5k-tunnel settings'),
  options_lead: m(
    "Pages whose host matches the patterns go through an SSH tunnel into Grid'5000; all others go direct.",
  ),
  options_warnings_title: m('Some stored settings could not be used'),
  options_warnings_check: m('The fields below show what is used instead: check them, then Save.'),
  options_private_note: m(
    "Private windows are not routed: allow g5k-tunnel in private windows (about:addons → g5k-tunnel → Run in Private Windows) to reach Grid'5000 from them.",
  ),
  options_ssh: m('SSH'),
  options_user: m('Login'),
  options_user_placeholder: m('from ~/.ssh/config'),
  options_user_help: m("Your Grid'5000 login. Empty: the one ~/.ssh/config gives, else your local user name."),
  options_gateway: m('Gateway'),
  options_gateway_help: m('Host name, or a Host alias from ~/.ssh/config.'),
  options_port: m('Port'),
  options_port_help: m('0: from ~/.ssh/config'),
  options_jumps: m('Jump hosts'),
  options_jumps_placeholder: m('none'),
  options_jumps_help: m('Like `ssh -J`: `[login@]host[:port]`, comma-separated, outermost first.'),
  options_use_agent: m('Use ssh-agent'),
  options_identity: m('Identity file'),
  options_identity_placeholder: m('~/.ssh/id_ed25519 (default keys)'),
  options_identity_help: m('Private key to log in with. A passphrase is asked in the toolbar popup, never stored.'),
  options_known_hosts: m('Known hosts file'),
  options_routing: m('Routing'),
  options_patterns: m('Hosts that go through the tunnel'),
  options_patterns_help: m(
    'One per line: `*.grid5000.fr`, `host.example`, `172.16.0.0/16`; `!host` excludes; `#` starts a comment.',
  ),
  options_new_defaults: m(
    "This version routes more Grid'5000 hosts by default. Your list, which you changed, was left as it is; it lacks:",
  ),
  options_new_defaults_add: m('Add them'),
  options_new_defaults_dismiss: m('Dismiss'),
  options_tester: m('Would this go through the tunnel?'),
  options_tester_empty: m('Type a URL or a host name to see where it would go.'),
  options_presets: m("Add Grid'5000 ranges"),
  options_preset_kavlan: m('KaVLAN routed VLANs: one range per site, `10.4.0.0/14` to `10.48.0.0/14`'),
  options_preset_ipv6: m("Grid'5000 IPv6: `2001:660:4406::/48`"),
  options_presets_help: m(
    'Node addresses (`172.16.0.0/16`) are already in the default list. Ticking a box adds its lines to the list; Save keeps them.',
  ),
  options_presets_warning: m(
    "Only the KaVLAN ranges themselves are offered: all of `10.0.0.0/8` would also catch many home and lab networks, which would then be sent to Grid'5000.",
  ),
  options_socks_port: m('Local SOCKS port'),
  options_socks_port_help: m(
    '0 = automatic (the default): the host picks a free port when it starts. A fixed port is for a program of your own.',
  ),
  options_socks_port_in_use: p('In use now: port $port$.', 'port'),
  options_restrict: m('Only allow pattern hosts'),
  options_restrict_help: m(
    'The browser’s port then serves only the hosts the patterns match; the browser never needs any other.',
  ),
  options_catch_all: p("“$pattern$” matches every host: every site would go through Grid'5000.", 'pattern'),
  options_idle: m('Idle timeout (seconds)'),
  options_idle_help: m('Auto mode closes SSH after this long unused; 0 = never.'),
  options_connections: m('SSH connections'),
  options_connections_help: m('Up to this many (1–16), opened only under load: many parallel downloads go faster.'),
  options_startup: m('Start-up mode'),
  options_startup_help: m('The mode when the browser starts.'),
  options_save: m('Save'),
  options_test: m('Test connection'),
  options_file: m('Settings file'),
  options_export: m('Export settings'),
  options_import: m('Import settings…'),
  options_not_saved: m('Not saved: fix the fields in red.'),
  options_saved: m('Saved.'),
  options_fix_first: m('Fix the fields in red first.'),
  options_connecting: m('Connecting…'),
  options_accepted: m('The gateway accepted the connection.'),
  options_timing: p('$hop$: $stage$, $ms$ ms', 'hop', 'stage', 'ms'),
  options_stage_tcp: m('TCP connection'),
  options_stage_hostkey: m('host key check'),
  options_stage_auth: m('login'),
  options_stage_forwarding: m('forwarding'),
  options_imported: m('Imported and saved.'),
  options_imported_changes: m('Imported and saved, with changes:'),
  options_proposed: m('Proposed from ~/.ssh/config — check and Save.'),
  form_gateway_login_conflict: p(
    'Gateway names the login “$named$” but Login says “$login$”: keep one',
    'named',
    'login',
  ),
  form_gateway_port_conflict: p('Gateway names port $named$ but Port says $port$: keep one', 'named', 'port'),
  form_startup_mode: p('Startup mode must be one of $modes$', 'modes'),
} satisfies Record<string, Message>;

export type ErrorPart = 'title' | 'message' | 'hint';
type ErrorKey = `err_${ErrorCode}_${ErrorPart}`;
export type MessageKey = keyof typeof PLAIN | ErrorKey;
/** A whole language: every key, no other. */
export type Messages = Record<MessageKey, Message>;

function errorMessages(): Record<ErrorKey, Message> {
  const out: Partial<Record<ErrorKey, Message>> = {};
  for (const code of ERROR_CODES) {
    const { message, hint } = describe(code);
    out[`err_${code}_title`] = { message: ERROR_TITLES[code] };
    out[`err_${code}_message`] = { message };
    out[`err_${code}_hint`] = { message: hint };
  }
  return out as Record<ErrorKey, Message>;
}

export const en: Messages = { ...PLAIN, ...errorMessages() };
