// The demo's "internal" web sites, on loopback, reachable by name only through the demo gateway:
// a Monika-like node status page for Nancy, a Jupyter-like page whose WebSocket echoes, and a
// plain intranet page. Each page says which site served it, so a check can tell them apart.

import http from 'node:http';
import type net from 'node:net';
import { WebSocketServer } from 'ws';

export const DASHBOARD = 'dashboard.nancy.grid5000.fr';
export const JUPYTER = 'jupyter.nancy.grid5000.fr';
export const INTRANET = 'intranet.grid5000.fr';

interface Site {
  name: string;
  port: number;
  /** Requests served, by path. */
  hits: string[];
}

export interface Sites {
  dashboard: Site;
  jupyter: Site;
  intranet: Site;
  /** WebSocket messages echoed by the Jupyter-like site. */
  echoes(): number;
  close(): Promise<void>;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px;margin:0 0 4px}
.sub{color:#666;margin:0 0 16px}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:4px 10px;text-align:left}
th{background:#f2f2f2}.free{background:#d8f5d0}.job{background:#fde9b8}.dead{background:#f5c6c6}.abs{background:#ddd}
code{background:#f4f4f4;padding:1px 4px}`;

const page = (title: string, site: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><meta name="g5k-demo-site" content="${site}">` +
  `<style>${STYLE}</style></head><body data-site="${site}">${body}</body></html>`;

// A fixed, plausible cluster: graphite (Nancy), 4 nodes, a couple of jobs.
const NODES: [string, string, string, string][] = [
  ['graphite-1.nancy.grid5000.fr', 'job', '2071833 (ada)', '1:12:40 / 2:00:00'],
  ['graphite-2.nancy.grid5000.fr', 'job', '2071833 (ada)', '1:12:40 / 2:00:00'],
  ['graphite-3.nancy.grid5000.fr', 'free', '', ''],
  ['graphite-4.nancy.grid5000.fr', 'dead', '', ''],
];

function dashboardHtml(host: string): string {
  const rows = NODES.map(
    ([node, state, job, wall]) =>
      `<tr class="${state}"><td>${node}</td><td>${state === 'job' ? 'busy' : state}</td><td>${job}</td><td>${wall}</td></tr>`,
  ).join('');
  return page(
    'Monika — Nancy (demo)',
    'dashboard',
    `<h1 id="title">Nancy — node status</h1><p class="sub">Cluster <b>graphite</b>, served by <code id="host">${host}</code> inside the demo gateway</p>` +
      `<table id="nodes"><tr><th>node</th><th>state</th><th>job (user)</th><th>walltime</th></tr>${rows}</table>` +
      `<p class="sub">2 busy, 1 free, 1 dead</p>`,
  );
}

function jupyterHtml(host: string): string {
  // The page opens a WebSocket back to its own host: through the SOCKS tunnel like the page itself.
  const script = `
    const out = document.getElementById('output');
    const ws = new WebSocket('ws://' + location.host + '/api/kernels/demo/channels');
    ws.onopen = () => ws.send('print("hello from the browser")');
    ws.onmessage = (e) => { out.textContent = e.data; document.body.dataset.ws = 'ok'; ws.close(); };
    ws.onerror = () => { out.textContent = 'WebSocket error'; document.body.dataset.ws = 'error'; };`;
  return page(
    'Jupyter (demo)',
    'jupyter',
    `<h1 id="title">Jupyter — notebook.ipynb</h1><p class="sub">kernel on <code id="host">${host}</code>, talking over a WebSocket</p>` +
      `<pre>In [1]: print("hello from the browser")</pre><pre id="output">waiting for the kernel…</pre><script>${script}</script>`,
  );
}

function intranetHtml(host: string): string {
  return page(
    'Intranet (demo)',
    'intranet',
    `<h1 id="title">Grid'5000 intranet</h1><p class="sub">served by <code id="host">${host}</code></p>`,
  );
}

function serve(name: string, html: (host: string) => string): Promise<{ site: Site; server: http.Server }> {
  const site: Site = { name, port: 0, hits: [] };
  const server = http.createServer((req, res) => {
    site.hits.push(req.url ?? '/');
    if (req.url === '/favicon.ico') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html(req.headers.host ?? name));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      site.port = (server.address() as net.AddressInfo).port;
      resolve({ site, server });
    }),
  );
}

export async function startSites(): Promise<Sites> {
  const dash = await serve(DASHBOARD, dashboardHtml);
  const jup = await serve(JUPYTER, jupyterHtml);
  const intra = await serve(INTRANET, intranetHtml);
  let echoes = 0;
  const wss = new WebSocketServer({ server: jup.server, path: '/api/kernels/demo/channels' });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      echoes++;
      const code = String(data);
      const m = /^print\("(.*)"\)$/.exec(code);
      ws.send(`Out[1]: ${m ? m[1] : code}`);
    });
    ws.on('error', () => {});
  });
  const servers = [dash.server, jup.server, intra.server];
  return {
    dashboard: dash.site,
    jupyter: jup.site,
    intranet: intra.site,
    echoes: () => echoes,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      );
    },
  };
}

/** The gateway's name map for these sites: port 80 of each name. */
export function siteNames(s: Sites): Record<string, Record<number, { host: string; port: number }>> {
  const at = (site: Site) => ({ 80: { host: '127.0.0.1', port: site.port } });
  return { [DASHBOARD]: at(s.dashboard), [JUPYTER]: at(s.jupyter), [INTRANET]: at(s.intranet) };
}
