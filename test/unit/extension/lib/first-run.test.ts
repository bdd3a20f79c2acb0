// The first run: the host's proposal → what the popup says, and the settings "Use this" and the
// login alone save (in English and in French).

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { makeError } from '../../../../shared/errors.js';
import type { ProfileProposal } from '../../../../shared/protocol.js';
import {
  activeProfile,
  defaultSettings,
  profileFieldErrors,
  toTunnelConfig,
  type Settings,
} from '../../../../shared/settings.js';
import { fr } from '../../../../extension/i18n/fr.js';
import { formatMessage } from '../../../../extension/i18n/message.js';
import { setMessageSource } from '../../../../extension/i18n/t.js';
import {
  proposalTarget,
  proposalView,
  readProposal,
  settingsFromLogin,
  settingsFromProposal,
} from '../../../../extension/lib/first-run.js';
import { gatewayLabel } from '../../../../extension/lib/messages.js';

/** What the host proposes from the ~/.ssh/config of Grid'5000's guide (Host g5k, User jdoe). */
const GUIDE: ProfileProposal = {
  found: true,
  via: 'g5k',
  gateway: 'access.grid5000.fr',
  login: 'jdoe',
  agentHasKey: false,
  gatewayKnown: false,
  source: '~/.ssh/config',
};

const NOTHING: ProfileProposal = { found: false, agentHasKey: false, gatewayKnown: false, source: '~/.ssh/config' };

describe('first run: what the popup shows', () => {
  it("the guide's config: login and alias, the gateway, no key, first connection", () => {
    const v = proposalView(GUIDE);
    assert.equal(v.found, true);
    assert.equal(v.summary, 'Found in ~/.ssh/config: login jdoe, through g5k');
    assert.equal(v.route, 'Gateway: access.grid5000.fr');
    assert.deepEqual(v.key, {
      text: 'No key found: add one to ssh-agent (`ssh-add`) or pick a key file in the settings.',
      tone: 'warn',
    });
    assert.deepEqual(v.hostKey, {
      text: 'First connection: you will be asked to confirm the gateway’s fingerprint.',
      tone: 'info',
    });
    assert.deepEqual(v.choices, [], 'one Host: nothing to choose');
    assert.equal(v.target, 'g5k');
  });

  it('the agent key wins over a key file; a known gateway is said so', () => {
    const agent = proposalView({
      ...GUIDE,
      agentHasKey: true,
      identityFile: '/home/jdoe/.ssh/id_g5k',
      gatewayKnown: true,
    });
    assert.deepEqual(agent.key, { text: 'ssh-agent has a key ✓', tone: 'good' });
    assert.deepEqual(agent.hostKey, { text: 'Gateway already known ✓', tone: 'good' });
    const file = proposalView({ ...GUIDE, identityFile: '/home/jdoe/.ssh/id_g5k' });
    assert.deepEqual(file.key, {
      text: 'Key file /home/jdoe/.ssh/id_g5k (you may be asked its passphrase)',
      tone: 'info',
    });
  });

  it('jump hosts, outermost first, and a port other than 22', () => {
    const v = proposalView({ ...GUIDE, port: 2222, jumps: ['bastion.example', 'jdoe@inner.example:2200'] });
    assert.equal(v.route, 'Gateway: access.grid5000.fr:2222 via bastion.example → jdoe@inner.example:2200');
  });

  it('a ProxyCommand is not worth a warning: the tunnel runs it', () => {
    const v = proposalView({ ...GUIDE, proxyCommand: 'ssh bastion -W %h:%p' });
    assert.deepEqual(v, proposalView(GUIDE));
  });

  it('names what it found: the alias alone, the login alone, or neither', () => {
    const { login: _l, ...noLogin } = GUIDE;
    assert.equal(proposalView(noLogin).summary, 'Found in ~/.ssh/config: Host g5k');
    const { via: _v, ...noAlias } = GUIDE;
    assert.equal(proposalView(noAlias).summary, 'Found in ~/.ssh/config: login jdoe');
    assert.equal(proposalView(noAlias).target, 'access.grid5000.fr');
    const { via: _v2, login: _l2, ...bare } = GUIDE;
    assert.equal(proposalView(bare).summary, "Found in ~/.ssh/config: the way to a Grid'5000 access machine");
  });

  it('other Hosts are offered as alternatives, the proposed one first', () => {
    const p = { ...GUIDE, others: ['g5k-north', 'g5k-south'] };
    const v = proposalView(p);
    assert.deepEqual(v.choices, ['g5k', 'g5k-north', 'g5k-south']);
    assert.equal(v.target, 'g5k');
    const other = proposalView(p, 'g5k-south');
    assert.equal(other.target, 'g5k-south');
    assert.equal(other.summary, 'Found in ~/.ssh/config: Host g5k-south');
    // the host told nothing of that Host: no facts that would be about another one
    assert.equal(other.route, 'Its login, key and gateway come from ~/.ssh/config.');
    assert.equal(other.key, null);
    assert.equal(other.hostKey, null);
    assert.deepEqual(other.choices, v.choices);
    // a name that is not one of them is not taken
    assert.equal(proposalTarget(p, 'evil; rm -rf ~'), 'g5k');
    assert.equal(proposalView(p, 'somewhere').target, 'g5k');
  });

  it('nothing found: the login is asked, with what the host knows of the key and the gateway', () => {
    const v = proposalView({ ...NOTHING, agentHasKey: true });
    assert.equal(v.found, false);
    assert.equal(v.summary, "Nothing in ~/.ssh/config reaches Grid'5000: type your login.");
    assert.equal(v.route, '');
    assert.equal(v.key?.tone, 'good');
    assert.equal(v.hostKey?.tone, 'info');
    assert.equal(v.target, 'access.grid5000.fr');
  });

  it('no proposal at all (host away or too old): the login is asked, nothing claimed', () => {
    const v = proposalView(null);
    assert.equal(v.found, false);
    assert.equal(v.summary, "Type your Grid'5000 login to start.");
    assert.equal(v.key, null);
    assert.equal(v.hostKey, null);
  });

  it('reads only well-formed proposals from the reply', () => {
    assert.deepEqual(readProposal({ ok: true, result: GUIDE }), GUIDE);
    assert.equal(readProposal({ ok: true, result: null }), null);
    assert.equal(readProposal({ ok: true, result: { ...GUIDE, found: 'yes' } }), null);
    assert.equal(readProposal({ ok: false, error: makeError('HOST_MISSING') }), null);
  });

  describe('in French', () => {
    after(() => setMessageSource(undefined));
    it('says the same in French', () => {
      setMessageSource((key, subs) => formatMessage(fr[key as keyof typeof fr], subs));
      const v = proposalView({ ...GUIDE, jumps: ['a', 'b'], gatewayKnown: true });
      assert.equal(v.summary, 'Trouvé dans ~/.ssh/config\u00a0: identifiant jdoe, par g5k');
      assert.equal(v.route, 'Passerelle\u00a0: access.grid5000.fr via a → b');
      assert.equal(v.hostKey?.text, 'Passerelle déjà connue ✓');
      assert.match(v.key?.text ?? '', /^Aucune clé trouvée\u00a0: .*`ssh-add`/);
    });
  });
});

describe('first run: what is saved', () => {
  it('"Use this": the alias as the gateway, login, port, key and jump hosts left to ~/.ssh/config', () => {
    const base = defaultSettings();
    const s = settingsFromProposal(
      { ...GUIDE, port: 2222, identityFile: '/home/jdoe/.ssh/id_g5k', jumps: ['bastion.example'] },
      base,
    );
    const p = activeProfile(s);
    assert.deepEqual(
      { gateway: p.gateway, user: p.user, port: p.port, identityFile: p.identityFile, jumps: p.jumps },
      { gateway: 'g5k', user: '', port: 0, identityFile: '', jumps: [] },
    );
    // the rest stays as it was, and the profile is one the host takes
    assert.deepEqual(
      { ...p, gateway: 'x', user: 'x', port: 0 },
      { ...activeProfile(base), gateway: 'x', user: 'x', port: 0 },
    );
    assert.deepEqual(profileFieldErrors(p), {});
    assert.equal(s.startupMode, base.startupMode);
    assert.equal(toTunnelConfig(p).gateway, 'g5k');
    // the popup then shows the alias alone until the host reports user@host
    assert.equal(gatewayLabel(p), 'g5k');
  });

  it('"Use this" with an alternative saves that Host', () => {
    const s = settingsFromProposal({ ...GUIDE, others: ['g5k-south'] }, defaultSettings(), 'g5k-south');
    assert.equal(activeProfile(s).gateway, 'g5k-south');
    assert.equal(activeProfile(s).user, '');
  });

  it('"Use this" without an alias: the access machine, with the login found (nothing else would give it)', () => {
    const { via: _v, ...wildcard } = GUIDE;
    const p = activeProfile(settingsFromProposal(wildcard, defaultSettings()));
    assert.equal(p.gateway, 'access.grid5000.fr');
    assert.equal(p.user, 'jdoe');
    assert.equal(p.port, 0);
  });

  it('keeps the other profiles and the SOCKS port of what was there', () => {
    const base: Settings = defaultSettings();
    base.profiles[0]!.socksPort = 1081;
    const s = settingsFromProposal(GUIDE, base);
    assert.equal(s.profiles.length, 1);
    assert.equal(activeProfile(s).socksPort, 1081);
    assert.equal(base.profiles[0]!.gateway, 'access.grid5000.fr', 'the base is not changed');
  });

  it('the login alone: that login on access.grid5000.fr, port 22', () => {
    const r = settingsFromLogin('  jdoe ', defaultSettings());
    assert.equal(r.error, undefined);
    const p = activeProfile(r.settings);
    assert.deepEqual(
      { user: p.user, gateway: p.gateway, port: p.port },
      { user: 'jdoe', gateway: 'access.grid5000.fr', port: 22 },
    );
    assert.deepEqual(profileFieldErrors(p), {});
  });

  it('the login alone: an empty or malformed login is refused with a reason', () => {
    assert.equal(settingsFromLogin('  ', defaultSettings()).error, "Type your Grid'5000 login first.");
    assert.match(settingsFromLogin('j doe', defaultSettings()).error ?? '', /^Login /);
    assert.match(settingsFromLogin('-oProxyCommand=x', defaultSettings()).error ?? '', /^Login /);
  });
});
