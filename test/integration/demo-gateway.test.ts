// The demo's embedded SSH gateway, checked with a plain ssh2 client and with OpenSSH (`ssh -W`) as
// the oracle: key-only login, its own name map, OpenSSH-like open failures, WebSockets through it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import WebSocket from 'ws';
import { startDemoGateway, type DemoGateway } from '../../testbed/demo-gateway.js';
import { ensureDemoKeys, generateEd25519Pair, writeKnownHosts, type DemoKeys } from '../../testbed/keys.js';
import { DASHBOARD, INTRANET, JUPYTER, siteNames, startSites, type Sites } from '../../testbed/demo-sites.js';

let dir: string;
let keys: DemoKeys;
let sites: Sites;
let gw: DemoGateway;
let knownHosts: string;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-demo-gw-'));
  keys = ensureDemoKeys(path.join(dir, 'keys'));
  sites = await startSites();
  gw = await startDemoGateway({
    hostKey: fs.readFileSync(keys.hostKey),
    authorizedKey: keys.clientKeyPublic,
    user: 'demo',
    names: siteNames(sites),
  });
  knownHosts = path.join(dir, 'known_hosts');
  writeKnownHosts(knownHosts, gw.port, keys.hostKeyPublic);
});

after(async () => {
  await gw?.close();
  await sites?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Logs in with ssh2, checking the host key against the demo's. */
function login(opts: { user?: string; key?: string | Buffer } = {}): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    const hostBlob = Buffer.from(keys.hostKeyPublic.split(' ')[1]!, 'base64');
    c.once('ready', () => resolve(c));
    c.once('error', reject);
    c.connect({
      host: gw.host,
      port: gw.port,
      username: opts.user ?? 'demo',
      privateKey: opts.key ?? fs.readFileSync(keys.clientKey),
      hostVerifier: (k: Buffer) => k.equals(hostBlob),
      readyTimeout: 10_000,
    });
  });
}

function forward(c: ssh2.Client, host: string, port: number): Promise<ssh2.ClientChannel> {
  return new Promise((resolve, reject) =>
    c.forwardOut('127.0.0.1', 0, host, port, (err, ch) => (err ? reject(err) : resolve(ch))),
  );
}

function httpGet(stream: NodeJS.ReadWriteStream, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    stream.on('data', (d: Buffer) => (body += d));
    stream.on('end', () => resolve(body));
    stream.on('error', reject);
    stream.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`);
  });
}

test('keys are made once and kept: a second call reuses them, the private key is 0600', () => {
  const again = ensureDemoKeys(keys.dir);
  assert.equal(again.clientKeyPublic, keys.clientKeyPublic);
  assert.equal(again.hostKeyPublic, keys.hostKeyPublic);
  assert.equal(fs.statSync(keys.clientKey).mode & 0o777, 0o600);
  assert.match(fs.readFileSync(knownHosts, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${gw.port} ssh-ed25519 `));
});

test('ssh2 client: the gateway resolves its own names and counts the channels it opens', async () => {
  const c = await login();
  try {
    const before = gw.channels(DASHBOARD);
    const page = await httpGet(await forward(c, DASHBOARD, 80), DASHBOARD);
    assert.match(page, /^HTTP\/1\.1 200/);
    assert.match(page, /data-site="dashboard"/);
    assert.match(page, /graphite-3\.nancy\.grid5000\.fr/);
    assert.equal(gw.channels(DASHBOARD), before + 1);
    assert.match(await httpGet(await forward(c, INTRANET, 80), INTRANET), /data-site="intranet"/);
  } finally {
    c.end();
  }
});

test('unknown name and closed port: an OpenSSH-like open failure, and the connection keeps serving', async () => {
  const c = await login();
  try {
    await assert.rejects(forward(c, 'nope.grid5000.fr', 80), (e: Error & { reason?: number }) => {
      assert.equal(e.reason, 2);
      assert.match(e.message, /Name or service not known/);
      return true;
    });
    await assert.rejects(forward(c, DASHBOARD, 8080), /Connection refused/);
    assert.equal(gw.refused.get('nope.grid5000.fr:80'), 1);
    assert.match(await httpGet(await forward(c, DASHBOARD, 80), DASHBOARD), /data-site="dashboard"/);
  } finally {
    c.end();
  }
});

test('only the demo key and the demo user get in', async () => {
  const other = generateEd25519Pair();
  await assert.rejects(login({ key: other.private }), /authentication/i);
  await assert.rejects(login({ user: 'root' }), /authentication/i);
});

test('a WebSocket to the Jupyter-like site works through a forwarded channel', async () => {
  const c = await login();
  // a local listener that forwards to jupyter:80 through the gateway, as ssh -L would
  const local = net.createServer((sock) => {
    forward(c, JUPYTER, 80).then(
      (ch) => sock.pipe(ch).pipe(sock),
      () => sock.destroy(),
    );
  });
  await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
  try {
    const port = (local.address() as net.AddressInfo).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/kernels/demo/channels`, { headers: { host: JUPYTER } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('print("over ssh")'));
      ws.on('message', (d) => resolve(String(d)));
      ws.on('error', reject);
    });
    ws.close();
    assert.equal(reply, 'Out[1]: over ssh');
    assert.ok(sites.echoes() >= 1);
  } finally {
    local.close();
    c.end();
  }
});

function runSsh(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(input);
  });
}

const sshArgs = (knownHostsFile = knownHosts) => [
  '-F',
  '/dev/null',
  '-o',
  'BatchMode=yes',
  '-o',
  'IdentitiesOnly=yes',
  '-o',
  `UserKnownHostsFile=${knownHostsFile}`,
  '-o',
  'StrictHostKeyChecking=yes',
  '-i',
  keys.clientKey,
  '-p',
  String(gw.port),
];

test('OpenSSH `ssh -W` through the gateway: host key checked, page served; unknown name refused with the cause', {
  skip: fs.existsSync('/usr/bin/ssh') ? false : 'no ssh client',
}, async () => {
  const ok = await runSsh(
    [...sshArgs(), '-W', `${DASHBOARD}:80`, 'demo@127.0.0.1'],
    `GET / HTTP/1.0\r\nHost: ${DASHBOARD}\r\n\r\n`,
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /data-site="dashboard"/);

  const bad = await runSsh([...sshArgs(), '-W', 'nope.grid5000.fr:80', 'demo@127.0.0.1'], '');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /open failed: connect failed: Name or service not known/);

  const wrongHostKey = path.join(dir, 'wrong_known_hosts');
  writeKnownHosts(wrongHostKey, gw.port, keys.clientKeyPublic); // some other ed25519 key
  const refused = await runSsh([...sshArgs(wrongHostKey), '-W', `${DASHBOARD}:80`, 'demo@127.0.0.1'], '');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
});
