// Shown in place of a Grid'5000 page that failed to load: why (the tunnel's own error, live), and a
// Retry that restarts the tunnel and loads the page again.

import { t } from '../i18n/t.js';
import { parseErrorPageQuery } from '../lib/error-route.js';
import type { View } from '../lib/messages.js';
import { failureReason, pill } from '../lib/status-view.js';
import { $, send, setWords, watchView } from '../ui/page.js';

const { url, error: netError } = parseErrorPageQuery(location.search);
$('error-url').textContent = url ?? t('errorpage_unknown_address');
$('error-detail').textContent = netError ? t('errorpage_browser_said', netError) : '';

let view: View | null = null;

watchView((v) => {
  view = v;
  const r = failureReason(v);
  $('error-box').dataset.code = r.code;
  $('error-title').textContent = r.title;
  setWords($('error-message'), r.message);
  setWords($('error-hint'), r.hint);
  const p = pill(v);
  Object.assign($('state'), { textContent: p.text, title: p.title });
  $('state').dataset.state = p.state;
});

$('retry').addEventListener('click', () => {
  void (async () => {
    const button = $<HTMLButtonElement>('retry');
    button.disabled = true;
    if (view?.mode === 'off') await send({ type: 'set-mode', mode: 'auto' });
    // also tells the background that this tab's next failure is a new one, not Back
    await send({ type: 'retry' });
    // the SOCKS listener holds the request while the tunnel connects
    if (url) location.replace(url);
    else button.disabled = false;
  })();
});
