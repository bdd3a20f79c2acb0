// The first-run proposal from ~/.ssh/config text: the Grid'5000 guide's config and its variants
// (none, several candidates, a jump host, only a wildcard block), and its protocol form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSshConfig } from '../../../../native-host/ssh/config-parse.js';
import { chooseProfile, defaultTarget, proposal } from '../../../../native-host/setup/propose.js';
import { isProfileProposal, parseRequest } from '../../../../shared/protocol.js';

const ctx = { localUser: 'me', home: '/home/me' };
const choose = (text: string) => chooseProfile(parseSshConfig(text, '/home/me/.ssh/config').blocks, ctx);
const propose = (text: string, facts = { agentHasKey: false, gatewayKnown: false }) => {
  const p = proposal(choose(text), facts);
  assert.ok(isProfileProposal(p), JSON.stringify(p));
  return p;
};

/** ~/.ssh/config as Grid'5000's Getting Started guide writes it. */
const GUIDE = `Host g5k
  User jdoe
  Hostname access.grid5000.fr
  ForwardAgent no

Host *.g5k
  User jdoe
  ProxyCommand ssh g5k -W "$(basename %h .g5k):%p"
  ForwardAgent no
`;

test("the guide's config: through g5k to access.grid5000.fr as jdoe", () => {
  assert.deepEqual(propose(GUIDE, { agentHasKey: true, gatewayKnown: false }), {
    found: true,
    via: 'g5k',
    gateway: 'access.grid5000.fr',
    login: 'jdoe',
    agentHasKey: true,
    gatewayKnown: false,
    source: '~/.ssh/config',
  });
});

test('no config, or one naming no access machine: nothing found, the facts still told', () => {
  assert.deepEqual(propose('', { agentHasKey: true, gatewayKnown: true }), {
    found: false,
    agentHasKey: true,
    gatewayKnown: true,
    source: '~/.ssh/config',
  });
  assert.equal(choose('Host work\n  HostName ssh.example.org\n  User me\n'), null);
  // an alias named like the gateway but leading nowhere: ssh would look "g5k" up in DNS
  assert.equal(choose('Host g5k\n  User jdoe\n'), null);
  // the guide's wildcard block alone names only the missing alias
  assert.equal(choose('Host *.g5k\n  User jdoe\n  ProxyCommand ssh g5k -W "$(basename %h .g5k):%p"\n'), null);
});

test('the alias itself is the access machine, with its key (~ expanded) and port', () => {
  const p = propose('Host access.grid5000.fr\n  User jdoe\n  IdentityFile ~/.ssh/id_g5k\n  Port 2222\n');
  assert.equal(p.via, 'access.grid5000.fr');
  assert.equal(p.gateway, 'access.grid5000.fr');
  assert.equal(p.login, 'jdoe');
  assert.equal(p.identityFile, '/home/me/.ssh/id_g5k');
  assert.equal(p.port, 2222);
});

test('access-north and access-south count; HostName is matched whatever its case', () => {
  assert.equal(propose('Host north\n  HostName access-north.grid5000.fr\n').gateway, 'access-north.grid5000.fr');
  assert.equal(propose('Host s\n  HostName ACCESS-SOUTH.Grid5000.fr\n').gateway, 'access-south.grid5000.fr');
  assert.equal(choose('Host x\n  HostName access-east.grid5000.fr\n'), null);
  assert.equal(choose('Host x\n  HostName access.grid5000.fr.evil.example\n'), null);
});

test('the login may come from a later Host * block, as ssh resolves it', () => {
  const p = propose('Host g5k\n  HostName access.grid5000.fr\n\nHost *\n  User jdoe\n  IdentityFile ~/.ssh/id_rsa\n');
  assert.equal(p.login, 'jdoe');
  assert.equal(p.identityFile, '/home/me/.ssh/id_rsa');
});

test('several candidates: one with a login first, then the main access machine, then file order; the others listed', () => {
  const text = `Host south
  HostName access-south.grid5000.fr
  User jdoe
Host bare
  HostName access.grid5000.fr
Host g5k grid5000
  HostName access.grid5000.fr
  User jdoe
`;
  const p = propose(text);
  assert.equal(p.via, 'g5k', 'a login and the main access machine');
  assert.deepEqual(p.others, ['south', 'bare', 'grid5000']);
  assert.equal(propose('Host a\n  HostName access.grid5000.fr\nHost b\n  HostName access.grid5000.fr\n').via, 'a');
  assert.equal(
    propose('Host a\n  HostName access.grid5000.fr\nHost b\n  HostName access.grid5000.fr\n  User jdoe\n').via,
    'b',
  );
});

test('ProxyJump through another alias: the jump host is given, and is not itself a candidate', () => {
  const text = `Host lab
  HostName gw.lab.example.org
  User me2
Host g5k
  HostName access.grid5000.fr
  User jdoe
  ProxyJump lab,me3@bastion.example.org:2200
`;
  const p = propose(text);
  assert.equal(p.via, 'g5k');
  assert.deepEqual(p.jumps, ['lab', 'me3@bastion.example.org:2200']);
  assert.equal(p.others, undefined);
});

test('a ProxyCommand is reported (the tunnel does not run it), and one without is preferred', () => {
  const cmd = 'Host g5k\n  HostName access.grid5000.fr\n  User jdoe\n  ProxyCommand ssh -W %h:%p lab\n';
  assert.equal(propose(cmd).proxyCommand, 'ssh -W %h:%p lab');
  const both = `${cmd}Host g5k-direct\n  HostName access.grid5000.fr\n  User jdoe\n`;
  assert.equal(propose(both).via, 'g5k-direct');
});

test('only a Host *.g5k block: the access machine and login it names, with no alias to go through', () => {
  const jump = propose('Host *.g5k\n  ProxyJump jdoe@access.grid5000.fr\n');
  assert.equal(jump.found, true);
  assert.equal(jump.via, undefined);
  assert.equal(jump.gateway, 'access.grid5000.fr');
  assert.equal(jump.login, 'jdoe');
  const command = propose(
    'Host *.g5k\n  User jdoe\n  ProxyCommand ssh access.grid5000.fr -W "$(basename %h .g5k):%p"\n',
  );
  assert.equal(command.gateway, 'access.grid5000.fr');
  assert.equal(command.login, 'jdoe', "the block's User");
  assert.equal(command.proxyCommand, undefined, 'the wildcard block is not what reaches the gateway');
});

test('a Host block whose %-token ssh would refuse is skipped, not thrown', () => {
  const p = propose(
    'Host bad\n  HostName access.grid5000.fr\n  IdentityFile ~/.ssh/%Q\nHost g5k\n  HostName access.grid5000.fr\n',
  );
  assert.equal(p.via, 'g5k');
});

test('with nothing found, the facts are about access.grid5000.fr as ssh would reach it', () => {
  const blocks = parseSshConfig('Host *\n  UserKnownHostsFile ~/.ssh/kh\n', 'c').blocks;
  assert.deepEqual(defaultTarget(blocks, ctx)?.userKnownHostsFiles, ['/home/me/.ssh/kh']);
  assert.equal(defaultTarget(blocks, ctx)?.hostName, 'access.grid5000.fr');
});

test('protocol: propose-profile is a request of its own; malformed proposals are refused', () => {
  assert.deepEqual(parseRequest({ type: 'propose-profile', id: 7 }), {
    ok: true,
    value: { type: 'propose-profile', id: 7 },
  });
  const good = propose(GUIDE);
  assert.equal(isProfileProposal({ ...good, found: 'yes' }), false);
  assert.equal(isProfileProposal({ ...good, agentHasKey: undefined }), false);
  assert.equal(isProfileProposal({ ...good, port: 70000 }), false);
  assert.equal(isProfileProposal({ ...good, jumps: 'lab' }), false);
  assert.equal(isProfileProposal({ ...good, source: '/etc/ssh/ssh_config' }), false);
});
