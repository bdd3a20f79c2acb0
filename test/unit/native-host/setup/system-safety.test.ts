// The system-wide install check, on a fake file system: which path in the chain is refused, and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chainOf,
  findUnsafePath,
  hostPackageRoot,
  systemInstallRefusal,
  unsafeReason,
  type FsView,
  type PathInfo,
} from '../../../../native-host/setup/system-safety.js';

type Entry = PathInfo & { target?: string };

/** A file system from a table of paths; folders list the paths directly under them. */
function fakeFs(table: Record<string, Partial<Entry> & { kind: PathInfo['kind'] }>): FsView {
  const get = (p: string): Entry | null => {
    const e = table[p];
    return e ? { uid: 0, mode: e.kind === 'dir' ? 0o40755 : 0o100644, ...e } : null;
  };
  return {
    lstat: (p) => get(p),
    readdir: (p) =>
      Object.keys(table)
        .filter((k) => k !== p && k.startsWith(p === '/' ? '/' : `${p}/`) && !k.slice(p.length + 1).includes('/'))
        .map((k) => k.slice(p === '/' ? 1 : p.length + 1)),
    realpath: (p) => {
      const e = get(p);
      if (!e || (e.kind === 'symlink' && !e.target)) throw new Error('ENOENT');
      if (e.kind === 'symlink') return e.target!;
      return p;
    },
  };
}

const SAFE = {
  '/': { kind: 'dir' },
  '/usr': { kind: 'dir' },
  '/usr/bin': { kind: 'dir' },
  '/usr/bin/node': { kind: 'file', mode: 0o100755 },
  '/usr/lib': { kind: 'dir' },
  '/usr/lib/node_modules': { kind: 'dir' },
  '/usr/lib/node_modules/g5k-tunnel': { kind: 'dir' },
  '/usr/lib/node_modules/g5k-tunnel/package.json': { kind: 'file' },
  '/usr/lib/node_modules/g5k-tunnel/dist': { kind: 'dir' },
  '/usr/lib/node_modules/g5k-tunnel/dist/native-host': { kind: 'dir' },
  '/usr/lib/node_modules/g5k-tunnel/dist/native-host/messaging': { kind: 'dir' },
  '/usr/lib/node_modules/g5k-tunnel/dist/native-host/messaging/host-main.js': { kind: 'file' },
  '/usr/lib/node_modules/g5k-tunnel/node_modules': { kind: 'dir' },
  '/usr/lib/node_modules/g5k-tunnel/node_modules/ssh2': { kind: 'dir' },
  '/usr/lib/node_modules/g5k-tunnel/node_modules/ssh2/index.js': { kind: 'file' },
} as const;
const HOST = '/usr/lib/node_modules/g5k-tunnel/dist/native-host/messaging/host-main.js';

test('unsafeReason: another owner, group write, other write; root 0755 and a root symlink pass', () => {
  assert.match(unsafeReason({ uid: 1000, mode: 0o40755, kind: 'dir' })!, /owned by uid 1000/);
  assert.match(unsafeReason({ uid: 0, mode: 0o40775, kind: 'dir' })!, /writable by its group \(mode 0775\)/);
  assert.match(unsafeReason({ uid: 0, mode: 0o41777, kind: 'dir' })!, /writable by every user \(mode 1777\)/);
  assert.equal(unsafeReason({ uid: 0, mode: 0o40755, kind: 'dir' }), null);
  assert.equal(unsafeReason({ uid: 0, mode: 0o120777, kind: 'symlink' }), null);
  assert.match(unsafeReason({ uid: 1000, mode: 0o120777, kind: 'symlink' })!, /owned by uid 1000/);
});

test('chainOf lists / first and the path last', () => {
  assert.deepEqual(chainOf('/usr/bin/node'), ['/', '/usr', '/usr/bin', '/usr/bin/node']);
  assert.deepEqual(chainOf('/'), ['/']);
});

test('hostPackageRoot: the nearest folder above the host script with a package.json', () => {
  const view = fakeFs(SAFE);
  assert.equal(
    hostPackageRoot(HOST, (p) => view.lstat(p) !== null),
    '/usr/lib/node_modules/g5k-tunnel',
  );
  assert.equal(
    hostPackageRoot('/opt/x/host.js', () => false),
    '/opt/x',
  );
});

test('a root-owned global npm install and node binary are accepted', () => {
  assert.equal(findUnsafePath(['/usr/bin/node', '/usr/lib/node_modules/g5k-tunnel'], fakeFs(SAFE)), null);
  assert.equal(systemInstallRefusal('/usr/bin/node', HOST, fakeFs(SAFE)), null);
});

test('the first offending path is named: a parent, a file deep in the package, the node binary', () => {
  const cases: [Record<string, object>, string, RegExp][] = [
    [{ '/usr/lib': { kind: 'dir', mode: 0o40775 } }, '/usr/lib', /group/],
    [
      { '/usr/lib/node_modules/g5k-tunnel/node_modules/ssh2/index.js': { kind: 'file', uid: 1000 } },
      '/usr/lib/node_modules/g5k-tunnel/node_modules/ssh2/index.js',
      /uid 1000/,
    ],
    [{ '/usr/bin/node': { kind: 'file', mode: 0o100777 } }, '/usr/bin/node', /every user/],
    [{ '/': { kind: 'dir', uid: 5 } }, '/', /uid 5/],
  ];
  for (const [change, where, why] of cases) {
    const bad = findUnsafePath(['/usr/bin/node', '/usr/lib/node_modules/g5k-tunnel'], fakeFs({ ...SAFE, ...change }));
    assert.equal(bad?.path, where);
    assert.match(bad.reason, why);
  }
});

test('a symlink is followed: its target and the folders above the target are checked too', () => {
  const table = {
    ...SAFE,
    '/usr/lib/node_modules/g5k-tunnel/node_modules/ssh2': { kind: 'symlink', target: '/home/ada/ssh2' },
    '/home': { kind: 'dir' },
    '/home/ada': { kind: 'dir', uid: 1000 },
    '/home/ada/ssh2': { kind: 'dir', uid: 1000 },
  } as const;
  const bad = findUnsafePath(['/usr/lib/node_modules/g5k-tunnel'], fakeFs(table));
  assert.deepEqual(bad, { path: '/home/ada', reason: 'owned by uid 1000, not root' });
  // node reached through a symlink in a user's folder
  const nvm = {
    ...SAFE,
    '/usr/bin/node': { kind: 'symlink', target: '/home/ada/node' },
    '/home': { kind: 'dir' },
    '/home/ada': { kind: 'dir', mode: 0o40700 },
    '/home/ada/node': { kind: 'file', uid: 1000 },
  } as const;
  assert.deepEqual(findUnsafePath(['/usr/bin/node'], fakeFs(nvm)), {
    path: '/home/ada/node',
    reason: 'owned by uid 1000, not root',
  });
  assert.deepEqual(
    findUnsafePath(['/usr/bin/node'], fakeFs({ ...SAFE, '/usr/bin/node': { kind: 'symlink', target: '' } })),
    { path: '/usr/bin/node', reason: 'a symbolic link to nothing' },
  );
});

test('a missing path is refused; the refusal names the path and what to do', () => {
  assert.deepEqual(findUnsafePath(['/usr/bin/nodejs'], fakeFs(SAFE)), {
    path: '/usr/bin/nodejs',
    reason: 'does not exist',
  });
  const msg = systemInstallRefusal('/usr/bin/node', HOST, fakeFs({ ...SAFE, '/usr/lib': { kind: 'dir', uid: 1000 } }));
  assert.match(msg!, /^refusing a system-wide install: \/usr\/lib is owned by uid 1000, not root\./);
  assert.match(msg!, /sudo npm install -g g5k-tunnel/);
  assert.match(msg!, /g5k-tunnel install`/);
});
