// known_hosts parsing and lookup, over fixture files written by OpenSSH's own tools
// (keys from ssh-keygen, fingerprints from `ssh-keygen -lf`, hashed names from `ssh-keygen -H`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  checkHostKey,
  fingerprint,
  formatKnownHostsLine,
  hostKeyFromBlob,
  knownHostKeyTypes,
  knownHostsName,
  parseKnownHosts,
  type HostKey,
} from '../../../../native-host/ssh/known-hosts.js';

const FIX = fileURLToPath(new URL('../../../../../test/fixtures/ssh/', import.meta.url));

function key(name: string): HostKey {
  const [, b64] = fs.readFileSync(`${FIX}keys/${name}.pub`, 'utf8').trim().split(' ');
  return hostKeyFromBlob(Buffer.from(b64!, 'base64'));
}
const ed = key('gw_ed25519');
const other = key('other_ed25519');
const ecdsa = key('gw_ecdsa');
const ecdsa384 = key('gw_ecdsa384');
const rsa = key('gw_rsa');
/** An RSA key that is not gw_rsa: the same blob with its last byte changed. */
const rsaOther = () => {
  const b = Buffer.from(rsa.blob);
  b.writeUInt8(b.readUInt8(b.length - 1) ^ 1, b.length - 1);
  return b;
};

const fixture = parseKnownHosts(fs.readFileSync(`${FIX}known_hosts`, 'utf8'), 'known_hosts');
const entries = fixture.entries;

test('hostKeyFromBlob reads the type from the blob and refuses what is not a key', () => {
  assert.equal(ed.type, 'ssh-ed25519');
  assert.equal(ecdsa.type, 'ecdsa-sha2-nistp256');
  assert.equal(ecdsa384.type, 'ecdsa-sha2-nistp384');
  assert.equal(rsa.type, 'ssh-rsa');
  assert.throws(() => hostKeyFromBlob(Buffer.from('nope')), /not an SSH public key/);
  assert.throws(() => hostKeyFromBlob(Buffer.from([0, 0, 0, 200, 1, 2, 3])), /not an SSH public key/);
  assert.throws(() => hostKeyFromBlob(Buffer.alloc(0)), /not an SSH public key/);
});

test('fingerprint equals what ssh-keygen -lf printed for each fixture key', () => {
  const lines = fs.readFileSync(`${FIX}fingerprints.txt`, 'utf8').trim().split('\n');
  const byComment = new Map(lines.map((l) => [l.split(' ')[2]!, l.split(' ')[1]!]));
  const pairs: [HostKey, string][] = [
    [ed, 'gateway-ed25519'],
    [other, 'other-ed25519'],
    [ecdsa, 'gateway-ecdsa'],
    [ecdsa384, 'gateway-ecdsa384'],
    [rsa, 'gateway-rsa'],
  ];
  for (const [k, comment] of pairs) assert.equal(fingerprint(k.blob), byComment.get(comment), comment);
});

test('parseKnownHosts keeps good lines and reports each bad one with its line number', () => {
  assert.equal(entries.length, 10);
  const tabbed = entries.find((e) => e.hosts[0] === 'fgw-?.example.org');
  assert.ok(tabbed, 'leading blanks and tabs between fields are accepted');
  assert.deepEqual(entries[0]!.hosts, ['access.grid5000.fr', 'access.nancy.grid5000.fr']);
  assert.deepEqual(entries.map((e) => e.marker).filter(Boolean), ['revoked', 'cert-authority']);
  const errs = new Map(fixture.errors.map((e) => [e.line, e.message]));
  assert.deepEqual([...errs.keys()], [12, 13, 14, 15, 16]);
  assert.match(errs.get(12)!, /unknown marker/);
  assert.match(errs.get(13)!, /no base64 key/);
  assert.match(errs.get(14)!, /does not match the key data/);
  assert.match(errs.get(15)!, /protocol 1/);
  assert.match(errs.get(16)!, /no base64 key/);
});

test('a known key is known, under any name of its line and in any letter case', () => {
  assert.deepEqual(checkHostKey(entries, 'access.grid5000.fr', 22, ed), {
    status: 'known',
    file: 'known_hosts',
    line: 2,
  });
  assert.deepEqual(checkHostKey(entries, 'ACCESS.Nancy.Grid5000.FR', 22, ed), {
    status: 'known',
    file: 'known_hosts',
    line: 2,
  });
  assert.deepEqual(checkHostKey(entries, 'access.grid5000.fr', 22, rsa), {
    status: 'known',
    file: 'known_hosts',
    line: 3,
  });
  assert.equal(checkHostKey(entries, '192.0.2.10', 22, ed).status, 'known');
});

test('another key of the same type is "changed", with the known key\'s fingerprint', () => {
  assert.deepEqual(checkHostKey(entries, 'access.grid5000.fr', 22, other), {
    status: 'changed',
    file: 'known_hosts',
    line: 2,
    knownType: 'ssh-ed25519',
    knownFingerprint: fingerprint(ed.blob),
  });
});

test('a key of another type than those on file is "changed", as in OpenSSH: the attacker picks the type', () => {
  // access.grid5000.fr has ed25519 and rsa keys on file; a server presenting ECDSA is refused, not asked about
  assert.deepEqual(checkHostKey(entries, 'access.grid5000.fr', 22, ecdsa), {
    status: 'changed',
    file: 'known_hosts',
    line: 2,
    knownType: 'ssh-ed25519',
    knownFingerprint: fingerprint(ed.blob),
  });
  // with several keys on file, the one of the presented type is the one named
  assert.deepEqual(checkHostKey(entries, 'access.grid5000.fr', 22, hostKeyFromBlob(rsaOther())), {
    status: 'changed',
    file: 'known_hosts',
    line: 3,
    knownType: 'ssh-rsa',
    knownFingerprint: fingerprint(rsa.blob),
  });
  assert.deepEqual(checkHostKey(entries, 'nowhere.example.org', 22, ed), { status: 'unknown', otherTypesKnown: [] });
});

test('a port other than 22 is filed as [host]:port, and a line naming [host]:port wins over the bare name', () => {
  assert.equal(checkHostKey(entries, 'access.grid5000.fr', 2222, other).status, 'known');
  assert.equal(checkHostKey(entries, 'access.grid5000.fr', 2222, ed).status, 'changed');
  assert.equal(checkHostKey(entries, 'access.grid5000.fr', 2222, rsa).status, 'changed');
  assert.equal(checkHostKey(entries, '2001:db8::1', 2200, ed).status, 'known');
  assert.equal(checkHostKey(entries, '2001:db8::1', 22, ed).status, 'unknown');
});

test('port other than 22, no [host]:port line: the bare name\'s key is accepted, as "found matching key w/out port"', () => {
  assert.deepEqual(checkHostKey(entries, '192.0.2.10', 2222, ed), {
    status: 'known',
    file: 'known_hosts',
    line: 8,
    withoutPort: true,
  });
  assert.deepEqual(checkHostKey(entries, 'Access.Grid5000.fr', 2200, rsa), {
    status: 'known',
    file: 'known_hosts',
    line: 3,
    withoutPort: true,
  });
  // patterns on the bare name count too, as in OpenSSH
  assert.equal(checkHostKey(entries, 'graphite.lyon.grid5000.fr', 2222, ecdsa).status, 'known');
  // port 22 (and the port-less 0) are the bare name itself: nothing more to look at
  assert.deepEqual(checkHostKey(entries, '192.0.2.10', 22, ed), { status: 'known', file: 'known_hosts', line: 8 });
});

test('port other than 22: another key under the bare name is "unknown" (asked about), never "changed"', () => {
  assert.deepEqual(checkHostKey(entries, '192.0.2.10', 2222, other), {
    status: 'unknown',
    otherTypesKnown: [],
    mismatchWithoutPort: { file: 'known_hosts', line: 8 },
  });
  // another type than the bare name's keys: unknown as well
  assert.equal(checkHostKey(entries, 'access.grid5000.fr', 2200, ecdsa).status, 'unknown');
  assert.equal(checkHostKey(entries, 'bad.lyon.grid5000.fr', 2222, ecdsa).status, 'unknown');
  // the same keys on port 22 are a change of key
  assert.equal(checkHostKey(entries, '192.0.2.10', 22, other).status, 'changed');
  assert.equal(checkHostKey(entries, '192.0.2.10', 0, other).status, 'changed');
});

test('port other than 22: an explicit [host]:port line decides alone, and its mismatch is "changed"', () => {
  // [access.grid5000.fr]:2222 holds `other`; the bare name holds ed and rsa
  assert.deepEqual(checkHostKey(entries, 'access.grid5000.fr', 2222, other), {
    status: 'known',
    file: 'known_hosts',
    line: 4,
  });
  assert.deepEqual(checkHostKey(entries, 'access.grid5000.fr', 2222, ed), {
    status: 'changed',
    file: 'known_hosts',
    line: 4,
    knownType: 'ssh-ed25519',
    knownFingerprint: fingerprint(other.blob),
  });
});

test('port other than 22: HostKeyAlias turns the bare-name check off; @revoked still wins', () => {
  assert.deepEqual(checkHostKey(entries, '192.0.2.10', 2222, ed, { alias: 'gw-alias' }), {
    status: 'unknown',
    otherTypesKnown: [],
  });
  const e = parseKnownHosts(`gw.example.org ${ecdsa384.type} ${ecdsa384.blob.toString('base64')}`, 'f').entries;
  assert.deepEqual(checkHostKey([...e, ...entries], 'gw.example.org', 2222, ecdsa384), {
    status: 'revoked',
    file: 'known_hosts',
    line: 10,
  });
});

test('wildcards * and ?, and a matching !negation vetoes the line', () => {
  assert.equal(checkHostKey(entries, 'graphite.lyon.grid5000.fr', 22, ecdsa).status, 'known');
  assert.deepEqual(checkHostKey(entries, 'bad.lyon.grid5000.fr', 22, ecdsa), {
    status: 'unknown',
    otherTypesKnown: [],
  });
  assert.equal(checkHostKey(entries, 'fgw-1.example.org', 22, ed).status, 'known');
  assert.equal(checkHostKey(entries, 'fgw-12.example.org', 22, ed).status, 'unknown');
  assert.equal(checkHostKey(entries, 'x.example.net', 2022, ed).status, 'known');
  assert.equal(checkHostKey(entries, 'x.example.net', 22, ed).status, 'unknown');
});

test('@revoked wins over everything, for any host; known beats changed', () => {
  assert.deepEqual(checkHostKey(entries, 'anything.example.org', 22, ecdsa384), {
    status: 'revoked',
    file: 'known_hosts',
    line: 10,
  });
  const line = (k: HostKey) => `${k.type} ${k.blob.toString('base64')}`;
  const text = [
    `h.example.org ${line(other)}`,
    `h.example.org ${line(ed)}`,
    `@revoked nothing.else ${line(rsa)}`,
    `h.example.org ${line(rsa)}`,
  ].join('\n');
  const e = parseKnownHosts(text, 'f').entries;
  assert.deepEqual(checkHostKey(e, 'h.example.org', 22, ed), { status: 'known', file: 'f', line: 2 });
  assert.deepEqual(checkHostKey(e, 'h.example.org', 22, rsa), { status: 'revoked', file: 'f', line: 3 });
});

test('@cert-authority and unknown-marker lines never vouch for a plain key', () => {
  assert.deepEqual(checkHostKey(entries, 'node.ca.example.org', 22, other), { status: 'unknown', otherTypesKnown: [] });
  assert.deepEqual(checkHostKey(entries, 'host.example.org', 22, ed), { status: 'unknown', otherTypesKnown: [] });
});

test('hashed names written by ssh-keygen -H are matched, ports included', () => {
  const h = parseKnownHosts(fs.readFileSync(`${FIX}known_hosts.hashed`, 'utf8'), 'hashed');
  assert.equal(h.errors.length, 0);
  assert.ok(h.entries.every((e) => e.hashed && e.hosts.length === 0));
  assert.equal(checkHostKey(h.entries, 'access.grid5000.fr', 22, ed).status, 'known');
  assert.equal(checkHostKey(h.entries, 'access.grid5000.fr', 22, other).status, 'changed');
  assert.equal(checkHostKey(h.entries, 'access.grid5000.fr', 2222, other).status, 'known');
  assert.equal(checkHostKey(h.entries, 'b.example.org', 22, rsa).status, 'known');
  assert.equal(checkHostKey(h.entries, 'c.example.org', 22, rsa).status, 'unknown');
  // port-less check on hashed names: ssh-keygen -H hashes `access.grid5000.fr` and `[access.grid5000.fr]:2222` alike
  assert.equal(checkHostKey(h.entries, 'access.grid5000.fr', 2222, ed).status, 'changed');
  assert.deepEqual(
    { ...checkHostKey(h.entries, 'access.grid5000.fr', 2200, ed), file: '', line: 0 },
    { status: 'known', file: '', line: 0, withoutPort: true },
  );
  const mismatch = checkHostKey(h.entries, 'access.grid5000.fr', 2200, other);
  assert.equal(mismatch.status, 'unknown');
  assert.ok(mismatch.status === 'unknown' && mismatch.mismatchWithoutPort, 'the mismatching hashed line is named');
  assert.equal(checkHostKey(h.entries, 'b.example.org', 2022, rsa).status, 'known');
  const bad = parseKnownHosts(`|1|c2FsdA==|aGFzaA== ${ed.type} ${ed.blob.toString('base64')}`, 'x');
  assert.match(bad.errors[0]!.message, /malformed hashed host/);
});

test('HostKeyAlias replaces host and port in the lookup', () => {
  const text = [
    `gw-alias ${ed.type} ${ed.blob.toString('base64')}`,
    `[127.0.0.1]:2222 ${other.type} ${other.blob.toString('base64')}`,
  ].join('\n');
  const e = parseKnownHosts(text, 'f').entries;
  assert.equal(checkHostKey(e, '127.0.0.1', 2222, ed, { alias: 'GW-Alias' }).status, 'known');
  assert.equal(checkHostKey(e, '127.0.0.1', 2222, ed).status, 'changed');
  assert.deepEqual(knownHostKeyTypes(e, '127.0.0.1', 2222, { alias: 'gw-alias' }), ['ssh-ed25519']);
});

test('knownHostKeyTypes lists the types on file for the host, in file order', () => {
  assert.deepEqual(knownHostKeyTypes(entries, 'access.grid5000.fr', 22), ['ssh-ed25519', 'ssh-rsa']);
  assert.deepEqual(knownHostKeyTypes(entries, 'bad.lyon.grid5000.fr', 22), []);
  // a port with no line of its own: the bare name's types, which checkHostKey accepts without port
  assert.deepEqual(knownHostKeyTypes(entries, 'access.grid5000.fr', 2200), ['ssh-ed25519', 'ssh-rsa']);
  assert.deepEqual(knownHostKeyTypes(entries, 'access.grid5000.fr', 2222), ['ssh-ed25519']);
  assert.deepEqual(knownHostKeyTypes(entries, '192.0.2.10', 2222, { alias: 'gw-alias' }), []);
});

test('knownHostsName writes host for port 22 and [host]:port otherwise, in lower case', () => {
  assert.equal(knownHostsName('Access.Grid5000.fr', 22), 'access.grid5000.fr');
  assert.equal(knownHostsName('127.0.0.1', 2222), '[127.0.0.1]:2222');
  assert.equal(knownHostsName('::1', 2200), '[::1]:2200');
  assert.throws(() => knownHostsName('h', 70000), /bad port/);
});

test('formatKnownHostsLine writes lines that read back as known, hashed with a fresh salt if asked', () => {
  const plain = formatKnownHostsLine('Gw.Example.org', 2222, ed);
  assert.equal(plain, `[gw.example.org]:2222 ssh-ed25519 ${ed.blob.toString('base64')}`);
  const h1 = formatKnownHostsLine('gw.example.org', 2222, ed, { hash: true });
  const h2 = formatKnownHostsLine('gw.example.org', 2222, ed, { hash: true });
  assert.match(h1, /^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ssh-ed25519 /);
  assert.notEqual(h1, h2);
  for (const l of [plain, h1, h2]) {
    const e = parseKnownHosts(l, 'f').entries;
    assert.equal(checkHostKey(e, 'gw.example.org', 2222, ed).status, 'known', l);
    assert.equal(checkHostKey(e, 'gw.example.org', 22, ed).status, 'unknown', l);
  }
  assert.equal(formatKnownHostsLine('127.0.0.1', 2222, ed, { alias: 'MyGw' }).split(' ')[0], 'mygw');
});

test('formatKnownHostsLine refuses names that would become patterns or extra fields', () => {
  for (const bad of ['a,b', '*.example.org', 'a b', '!x', '']) {
    assert.throws(() => formatKnownHostsLine(bad, 22, ed), /cannot write/, bad);
  }
  assert.throws(() => formatKnownHostsLine('h', 22, { type: 'ssh-rsa', blob: ed.blob }), /does not match/);
});
