// `g5k-tunnel --socks-auth-file`: the command's port then wants the credentials, over SOCKS5 and as
// an HTTP proxy, with curl as the client; without the option it stays open like `ssh -D`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { killAllNow } from '../../testbed/children.js';
import { exitOf, listening, startChild } from '../../testbed/child.js';
import { canRunSshd, commandArgs, startGateway, INTERNAL_NAMES, type Gateway } from '../../testbed/sshd.js';
import { startInternalWeb, type InternalWeb } from '../../testbed/internal-web.js';
import { freePort } from '../../testbed/ports.js';

const BIN = fileURLToPath(new URL('../../../bin/g5k-tunnel', import.meta.url));
const noSshd = canRunSshd();
const skip = noSshd ?? false;
const run = promisify(execFile);
const USER = 'alice';
const PASSWORD = 'correct-horse-battery';

let gw: Gateway;
let web: InternalWeb;
let home: string;
let authFile: string;
before(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'g5k-cli-auth-'));
  authFile = path.join(home, 'socks-auth');
  fs.writeFileSync(authFile, `${USER}:${PASSWORD}\n`, { mode: 0o600 });
  if (noSshd) return;
  gw = await startGateway();
  web = await startInternalWeb();
});
after(async () => {
  killAllNow();
  await web?.close();
  await gw?.stop();
  fs.rmSync(home, { recursive: true, force: true });
});

const start = (args: string[]) =>
  startChild(process.execPath, [BIN, ...args], { env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '' } });

/** curl's exit status and output (the HTTP status with -w). */
async function curl(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run('curl', ['-sS', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}', ...args]);
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: err.code ?? -1, out: err.stdout ?? '' };
  }
}

test('--socks-auth-file: SOCKS5 and HTTP proxy clients need the credentials; the password is not in ps', {
  skip,
}, async () => {
  const socks = await freePort();
  const c = start([...commandArgs(gw, socks), '--socks-auth-file', authFile]);
  await listening(c, socks);
  const url = `http://${INTERNAL_NAMES[0]}:${web.port}/cli-auth`;
  const hits = web.hits.length;

  assert.deepEqual(
    await curl(['--socks5-hostname', `127.0.0.1:${socks}`, '--proxy-user', `${USER}:${PASSWORD}`, url]),
    {
      code: 0,
      out: '200',
    },
  );
  assert.deepEqual(await curl(['-x', `http://127.0.0.1:${socks}`, '--proxy-user', `${USER}:${PASSWORD}`, url]), {
    code: 0,
    out: '200',
  });
  assert.equal(web.hits.length, hits + 2);

  const noAuth = await curl(['--socks5-hostname', `127.0.0.1:${socks}`, url]);
  assert.notEqual(noAuth.code, 0, 'SOCKS5 without credentials is refused');
  const wrong = await curl(['--socks5-hostname', `127.0.0.1:${socks}`, '--proxy-user', `${USER}:nope`, url]);
  assert.notEqual(wrong.code, 0, 'SOCKS5 with a wrong password is refused');
  assert.equal((await curl(['-x', `http://127.0.0.1:${socks}`, url])).out, '407');
  assert.equal(web.hits.length, hits + 2, 'nothing refused reached the server');

  const { stdout: ps } = await run('ps', ['-o', 'args=', '-p', String(c.proc.pid)]);
  assert.ok(!ps.includes(PASSWORD), ps);
  c.proc.kill('SIGINT');
  assert.equal(await exitOf(c), 0);
  assert.ok(!c.err().includes(PASSWORD));
});

test('--socks-auth-file that cannot be used: exit 2 and a message that does not repeat the file', async () => {
  const bad = path.join(home, 'bad-auth');
  fs.writeFileSync(bad, 'no-colon-secret\n');
  for (const [file, why] of [
    [path.join(home, 'missing'), /cannot read --socks-auth-file .*ENOENT/],
    [bad, /user:password/],
  ] as const) {
    const c = start(['-N', '-D', String(await freePort()), '--socks-auth-file', file, 'somehost']);
    assert.equal(await exitOf(c), 2);
    assert.match(c.err(), why);
    assert.ok(!c.err().includes('no-colon-secret'));
  }
});
