// forwardOut failures → SOCKS5 reply codes, for the texts OpenSSH and other gateways send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  channelErrorText,
  replyForChannelError,
  toSocksConnectError,
} from '../../../../native-host/socks/open-failures.js';
import { REPLY, SocksConnectError } from '../../../../native-host/socks/wire.js';

/** An error shaped as ssh2 builds it from SSH_MSG_CHANNEL_OPEN_FAILURE. */
function openFailure(description: string, reason: number): Error {
  return Object.assign(new Error(`(SSH) Channel open failure: ${description}`), { reason });
}

test('OpenSSH texts map to their SOCKS replies', () => {
  const cases: [string, number, number][] = [
    ['Connection refused', 2, REPLY.CONNECTION_REFUSED],
    ['Name or service not known', 2, REPLY.HOST_UNREACHABLE],
    ['Temporary failure in name resolution', 2, REPLY.HOST_UNREACHABLE],
    ['No address associated with hostname', 2, REPLY.HOST_UNREACHABLE],
    ['nodename nor servname provided, or not known', 2, REPLY.HOST_UNREACHABLE],
    ['Network is unreachable', 2, REPLY.NETWORK_UNREACHABLE],
    ['No route to host', 2, REPLY.HOST_UNREACHABLE],
    ['Connection timed out', 2, REPLY.TTL_EXPIRED],
    ['administratively prohibited', 2, REPLY.NOT_ALLOWED],
  ];
  for (const [text, reason, want] of cases) assert.equal(replyForChannelError(openFailure(text, reason)), want, text);
});

test('reason 1 (administratively prohibited) means not allowed whatever the text', () => {
  assert.equal(replyForChannelError(openFailure('open failed', 1)), REPLY.NOT_ALLOWED);
});

test('unknown causes are a general failure', () => {
  assert.equal(replyForChannelError(openFailure('open failed', 2)), REPLY.GENERAL_FAILURE);
  assert.equal(replyForChannelError(openFailure('', 4)), REPLY.GENERAL_FAILURE);
  assert.equal(
    replyForChannelError(new Error('(SSH) Channel open failure: server closed channel unexpectedly')),
    REPLY.GENERAL_FAILURE,
  );
  assert.equal(replyForChannelError(new Error('Not connected')), REPLY.GENERAL_FAILURE);
  assert.equal(replyForChannelError(undefined), REPLY.GENERAL_FAILURE);
  assert.equal(replyForChannelError('weird'), REPLY.GENERAL_FAILURE);
});

test('a SocksConnectError keeps its own reply', () => {
  assert.equal(
    replyForChannelError(new SocksConnectError('no tunnel', REPLY.NETWORK_UNREACHABLE)),
    REPLY.NETWORK_UNREACHABLE,
  );
});

test('toSocksConnectError carries the gateway text without the ssh2 prefix, and the reply', () => {
  const e = toSocksConnectError(openFailure('Connection refused', 2), {
    host: '2001:db8::1',
    port: 8080,
    type: 'ipv6',
  });
  assert.ok(e instanceof SocksConnectError);
  assert.equal(e.reply, REPLY.CONNECTION_REFUSED);
  assert.equal(e.message, '[2001:db8::1]:8080: Connection refused');
  assert.equal(channelErrorText(openFailure('No route to host', 2)), 'No route to host');
});
