// The toolbar popup: mode switch, tunnel state and figures, questions from the host, problems.

import browser from 'webextension-polyfill';
import type { Mode, Prompt, TunnelState, TunnelStatus } from '../../shared/protocol.js';
import type { HostProblem } from '../lib/host-problem.js';
import type { View } from '../lib/messages.js';
import { describeError, formatBytes, formatDuration, retryLabel, stageLabel, stateLabel } from '../lib/status-view.js';
import { $, send, show, watchView } from './page.js';

const MODE_HELP: Record<Mode, string> = {
  off: 'Nothing goes through the tunnel.',
  auto: "Grid'5000 pages open the tunnel when needed; it closes when idle.",
  on: "The tunnel stays open; Grid'5000 pages go through it.",
};

const HOST_PROBLEM_TITLE: Record<HostProblem['code'], string> = {
  HOST_MISSING: 'Native host not installed',
  HOST_FORBIDDEN: 'Native host refuses this extension',
  HOST_CRASHED: 'Native host stopped',
  HOST_OUTDATED: 'Native host out of date',
  PROTOCOL_MISMATCH: 'Extension out of date',
};

// the pill is short; the longer words of stateLabel go in its tooltip
const PILL: Record<TunnelState, string> = {
  off: 'Off',
  idle: 'Ready',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  error: 'Error',
};

let current: View | null = null;
let shownPromptId = '';

function render(v: View): void {
  current = v;
  const s = v.status;
  const state = v.hostProblem ? 'host-problem' : (s?.state ?? 'off');
  const stateEl = $('state');
  stateEl.dataset.state = state;
  stateEl.textContent = v.hostProblem ? 'Unavailable' : s ? PILL[s.state] : 'Starting…';
  stateEl.title = v.hostProblem ? v.hostProblem.message : stateLabel(s);

  for (const m of ['off', 'auto', 'on'] as const) $(`mode-${m}`).setAttribute('aria-pressed', String(v.mode === m));
  $('mode-help').textContent = MODE_HELP[v.mode];

  renderHostProblem(v.hostProblem);
  show($('proxy-conflict'), v.proxyConflict);
  show($('private-note'), v.privateWindowsExcluded);
  renderPrompt(v.prompt);
  renderError(v);
  renderDetails(v, s);
}

function renderHostProblem(p: HostProblem | null): void {
  show($('host-problem'), p !== null);
  if (!p) return;
  $('host-problem').dataset.code = p.code;
  $('host-problem-title').textContent = HOST_PROBLEM_TITLE[p.code];
  $('host-problem-message').textContent = p.message;
  $('install-command').textContent = p.install[0] ?? '';
  $('install-alternative').textContent = p.install[1] ?? '';
  const installs = p.code !== 'HOST_CRASHED' && p.code !== 'PROTOCOL_MISMATCH';
  show($('host-problem-install'), installs);
  // the hint names the install command, which the box shows already
  $('host-problem-hint').textContent = installs ? '' : p.hint;
  show($('host-problem-hint'), !installs);
}

function renderPrompt(p: Prompt | null): void {
  show($('prompt-passphrase'), p?.kind === 'passphrase');
  show($('prompt-hostkey'), p?.kind === 'confirm-host-key');
  if (!p || p.id === shownPromptId) return;
  shownPromptId = p.id;
  if (p.kind === 'passphrase') {
    $('passphrase-key').textContent = p.keyFile;
    show($('passphrase-again'), p.attempt > 1);
    const input = $<HTMLInputElement>('passphrase');
    input.value = '';
    input.focus();
  } else {
    $('hostkey-host').textContent = p.port === 22 ? p.host : `[${p.host}]:${p.port}`;
    $('hostkey-type').textContent = p.keyType;
    $('fingerprint').textContent = p.fingerprint;
    $('hostkey-file').textContent = p.knownHostsFile;
  }
}

function renderError(v: View): void {
  const s = v.status;
  // a past error stays in lastError: show it only while it explains the current state
  const err = (s && (s.state === 'error' || s.state === 'reconnecting') ? s.lastError : undefined) ?? v.requestError ?? undefined;
  show($('error'), !!err && !v.hostProblem);
  if (!err) return;
  const words = describeError(err);
  $('error').dataset.code = err.code;
  $('error-title').textContent = words.title;
  $('error-message').textContent = words.message;
  $('error-hint').textContent = words.hint;
}

function renderDetails(v: View, s: TunnelStatus | null): void {
  const busy = s?.state === 'connecting' || s?.state === 'reconnecting';
  show($('row-stage'), busy);
  if (s?.state === 'reconnecting') $('stage').textContent = retryLabel(s, Date.now());
  else if (s?.state === 'connecting') {
    // a question names its stage before the next status does (status pushes are spaced out)
    const stage = v.prompt ? (v.prompt.kind === 'passphrase' ? 'auth' : 'hostkey') : s.stage;
    $('stage').textContent = stage ? stageLabel(stage) : 'Starting';
  }
  const gateway = s?.gateway || v.gateway;
  const jumps = s ? s.jumps : v.jumps;
  $('gateway').textContent = jumps.length ? `${gateway} via ${jumps.join(', ')}` : gateway;
  $('uptime').textContent = s?.state === 'connected' && s.connectedAt ? formatDuration(Date.now() - s.connectedAt) : '–';
  $('channels').textContent = s ? String(s.channels) : '–';
  $('bytes').textContent = s ? `↑ ${formatBytes(s.bytesUp)}  ↓ ${formatBytes(s.bytesDown)}` : '–';
}

async function act(req: Parameters<typeof send>[0]): Promise<void> {
  const reply = await send(req);
  if (!reply.ok && current) render({ ...current, requestError: reply.error });
}

for (const m of ['off', 'auto', 'on'] as const) $(`mode-${m}`).addEventListener('click', () => void act({ type: 'set-mode', mode: m }));

$('prompt-passphrase').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('passphrase');
  const value = input.value;
  input.value = ''; // the passphrase lives only in the message to the host
  if (current?.prompt) void act({ type: 'answer', promptId: current.prompt.id, value });
});
$('passphrase-cancel').addEventListener('click', () => {
  if (current?.prompt) void act({ type: 'answer', promptId: current.prompt.id, value: null });
});
$('hostkey-accept').addEventListener('click', () => {
  if (current?.prompt) void act({ type: 'answer', promptId: current.prompt.id, value: true });
});
$('hostkey-reject').addEventListener('click', () => {
  if (current?.prompt) void act({ type: 'answer', promptId: current.prompt.id, value: false });
});
$('retry').addEventListener('click', () => void act({ type: 'retry' }));
$('host-retry').addEventListener('click', () => void act({ type: 'reconnect-host' }));
$('open-options').addEventListener('click', (e) => {
  e.preventDefault();
  void browser.runtime.openOptionsPage();
});

// uptime moves on its own between status pushes
setInterval(() => current && renderDetails(current, current.status), 1000);
watchView(render, () => {
  // the background restarts (a worker stopped while idle): show nothing stale meanwhile
  const stateEl = $('state');
  stateEl.dataset.state = 'starting';
  stateEl.textContent = 'Starting…';
});
