// The toolbar popup: mode switch, tunnel state and figures, questions from the host, problems.

import browser from 'webextension-polyfill';
import type { Prompt, TunnelStatus } from '../../shared/protocol.js';
import type { HostProblem } from '../lib/host-problem.js';
import type { View } from '../lib/messages.js';
import {
  currentError,
  describeError,
  formatBytes,
  formatDuration,
  pill,
  retryLabel,
  stageLabel,
} from '../lib/status-view.js';
import { proxyWarnings } from '../lib/proxy-control.js';
import { ALL_SITES } from '../background/proxy.js';
import { t } from '../i18n/t.js';
import { $, send, setWords, show, watchView } from '../ui/page.js';
import { firstRun } from './first-run.js';

let current: View | null = null;
let shownPromptId = '';

function render(v: View): void {
  current = v;
  const s = v.status;
  showPill(pill(v));

  for (const m of ['off', 'auto', 'on'] as const) $(`mode-${m}`).setAttribute('aria-pressed', String(v.mode === m));
  $('mode-help').textContent = t(`mode_${v.mode}_help`);

  renderHostProblem(v.hostProblem);
  show($('site-access'), v.siteAccessMissing);
  const proxy = proxyWarnings(v);
  show($('proxy-conflict'), proxy.conflict);
  show($('proxy-policy'), proxy.policy);
  show($('private-note'), v.privateWindowsExcluded);
  renderPrompt(v.prompt);
  renderError(v);
  renderDetails(v, s);
}

function renderHostProblem(p: HostProblem | null): void {
  show($('host-problem'), p !== null);
  if (!p) return;
  $('host-problem').dataset.code = p.code;
  const words = describeError(p);
  $('host-problem-title').textContent = words.title;
  $('host-problem-message').textContent = words.message;
  $('install-command').textContent = p.install[0] ?? '';
  $('install-alternative').textContent = p.install[1] ?? '';
  const installs = p.code !== 'HOST_CRASHED' && p.code !== 'PROTOCOL_MISMATCH';
  show($('host-problem-install'), installs);
  // the hint names the install command, which the box shows already
  setWords($('host-problem-hint'), installs ? '' : words.hint);
  show($('host-problem-hint'), !installs);
}

function renderPrompt(p: Prompt | null): void {
  show($('prompt-passphrase'), p?.kind === 'passphrase');
  show($('prompt-hostkey'), p?.kind === 'confirm-host-key');
  // whatever was typed never outlives its question
  if (p?.kind !== 'passphrase') clearPassphrase();
  if (!p || p.id === shownPromptId) return;
  shownPromptId = p.id;
  if (p.kind === 'passphrase') {
    $('passphrase-key').textContent = p.keyFile;
    show($('passphrase-again'), p.attempt > 1);
    clearPassphrase();
    $('passphrase').focus();
  } else {
    $('hostkey-host').textContent = p.port === 22 ? p.host : `[${p.host}]:${p.port}`;
    $('hostkey-type').textContent = p.keyType;
    $('fingerprint').textContent = p.fingerprint;
    $('hostkey-file').textContent = p.knownHostsFile;
  }
}

function renderError(v: View): void {
  const err = currentError(v);
  show($('error'), err !== null);
  if (!err) return;
  const words = describeError(err);
  $('error').dataset.code = err.code;
  $('error-title').textContent = words.title;
  setWords($('error-message'), words.message);
  setWords($('error-hint'), words.hint);
}

function showPill(p: { state: string; text: string; title: string }): void {
  const el = $('state');
  el.dataset.state = p.state;
  el.textContent = p.text;
  el.title = p.title;
}

function clearPassphrase(): void {
  $<HTMLInputElement>('passphrase').value = '';
}

function renderDetails(v: View, s: TunnelStatus | null): void {
  const busy = s?.state === 'connecting' || s?.state === 'reconnecting';
  show($('row-stage'), busy);
  if (s?.state === 'reconnecting') $('stage').textContent = retryLabel(s, Date.now());
  else if (s?.state === 'connecting') {
    // a question names its stage before the next status does (status pushes are spaced out)
    const stage = v.prompt ? (v.prompt.kind === 'passphrase' ? 'auth' : 'hostkey') : s.stage;
    $('stage').textContent = stage ? stageLabel(stage) : t('stage_starting');
  }
  const gateway = s?.gateway || v.gateway;
  const jumps = s ? s.jumps : v.jumps;
  $('gateway').textContent = jumps.length ? t('popup_gateway_via', gateway, jumps.join(', ')) : gateway;
  $('uptime').textContent =
    s?.state === 'connected' && s.connectedAt ? formatDuration(Date.now() - s.connectedAt) : '–';
  $('channels').textContent = s ? String(s.channels) : '–';
  $('bytes').textContent = s ? `↑ ${formatBytes(s.bytesUp)}  ↓ ${formatBytes(s.bytesDown)}` : '–';
}

async function act(req: Parameters<typeof send>[0]): Promise<void> {
  const reply = await send(req);
  if (!reply.ok && current) render({ ...current, requestError: reply.error });
}

for (const m of ['off', 'auto', 'on'] as const)
  $(`mode-${m}`).addEventListener('click', () => void act({ type: 'set-mode', mode: m }));

$('prompt-passphrase').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $<HTMLInputElement>('passphrase').value;
  clearPassphrase(); // the passphrase lives only in the message to the host
  if (current?.prompt) void act({ type: 'answer', promptId: current.prompt.id, value });
});
$('passphrase-cancel').addEventListener('click', () => {
  clearPassphrase();
  if (current?.prompt) void act({ type: 'answer', promptId: current.prompt.id, value: null });
});
$('hostkey-accept').addEventListener('click', () => {
  if (current?.prompt) void act({ type: 'answer', promptId: current.prompt.id, value: true });
});
$('hostkey-reject').addEventListener('click', () => {
  if (current?.prompt) void act({ type: 'answer', promptId: current.prompt.id, value: false });
});
$('retry').addEventListener('click', () => void act({ type: 'retry' }));
$('host-retry').addEventListener('click', () => void act({ type: 'retry' }));
// a permission request must come from the click itself, in the page (the background then notices)
$('site-access-grant').addEventListener('click', () => void browser.permissions.request(ALL_SITES));
$('open-options').addEventListener('click', (e) => {
  e.preventDefault();
  void browser.runtime.openOptionsPage();
});

// uptime moves on its own between status pushes
setInterval(() => current && renderDetails(current, current.status), 1000);
// the background restarts (a worker stopped while idle): show nothing stale meanwhile
watchView(render, () => showPill(pill({ status: null, prompt: null, hostProblem: null })));
// nothing saved yet: propose a profile from ~/.ssh/config, or ask for the login
void firstRun();
