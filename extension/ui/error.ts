// Shown in place of a Grid'5000 page that failed to load: why (the tunnel's own error, live), and a
// Retry that restarts the tunnel and loads the page again.

import { describe } from '../../shared/errors.js';
import type { ProtocolError } from '../../shared/protocol.js';
import { parseErrorPageQuery } from '../lib/error-route.js';
import type { View } from '../lib/messages.js';
import { describeError, stateLabel } from '../lib/status-view.js';
import { $, send, watchView } from './page.js';

const { url, error: netError } = parseErrorPageQuery(location.search);
$('error-url').textContent = url ?? '(unknown address)';
$('error-detail').textContent = netError ? `(browser: ${netError})` : '';

interface Reason {
  code: string;
  title: string;
  message: string;
  hint: string;
}

function reason(v: View): Reason {
  if (v.hostProblem) return { ...v.hostProblem, title: 'Native host unavailable' };
  if (v.mode === 'off') return { code: 'OFF', title: 'Tunnel off', message: 'The tunnel is off.', hint: 'Retry turns it back on.' };
  const err: ProtocolError | undefined = v.status?.lastError ?? v.requestError ?? undefined;
  if (err) return { code: err.code, ...describeError(err) };
  if (v.status?.state === 'connected')
    return {
      code: 'TARGET',
      title: 'Address unreachable from the gateway',
      message: 'The tunnel is up, but the gateway could not reach this address.',
      hint: 'Check the host name and port, and that the service runs (a node must be reserved and deployed).',
    };
  return { code: 'CONNECTION_LOST', title: 'No tunnel', ...describe('CONNECTION_LOST') };
}

let view: View | null = null;

watchView((v) => {
  view = v;
  const r = reason(v);
  $('error-box').dataset.code = r.code;
  $('error-title').textContent = r.title;
  $('error-message').textContent = r.message;
  $('error-hint').textContent = r.hint;
  const state = v.hostProblem ? 'host-problem' : (v.status?.state ?? 'off');
  $('state').dataset.state = state;
  $('state').textContent = v.hostProblem ? 'Unavailable' : v.status ? stateLabel(v.status.state) : '…';
});

$('retry').addEventListener('click', () => {
  void (async () => {
    const button = $<HTMLButtonElement>('retry');
    button.disabled = true;
    if (view?.mode === 'off') await send({ type: 'set-mode', mode: 'auto' });
    else if (view?.hostProblem) await send({ type: 'reconnect-host' });
    else await send({ type: 'retry' });
    // the SOCKS listener holds the request while the tunnel connects
    if (url) location.replace(url);
    else button.disabled = false;
  })();
});
