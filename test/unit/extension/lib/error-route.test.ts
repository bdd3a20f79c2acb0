import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ErrorPageTabs,
  errorPageUrl,
  isTlsError,
  netErrorName,
  parseErrorPageQuery,
  shouldShowErrorPage,
} from '../../../../extension/lib/error-route.js';
import { parseRules } from '../../../../shared/patterns.js';

const rules = parseRules(['*.grid5000.fr', '!www.grid5000.fr']).rules;
const internal = 'http://graphite-3.nancy.grid5000.fr:8888/';

describe('shouldShowErrorPage', () => {
  it('replaces a failed main-frame load of a tunnelled host', () => {
    assert.equal(
      shouldShowErrorPage(
        { frameId: 0, url: internal, error: 'net::ERR_PROXY_CONNECTION_FAILED' },
        { mode: 'auto', rules },
      ),
      true,
    );
    assert.equal(
      shouldShowErrorPage(
        { frameId: 0, url: internal, error: 'NS_ERROR_PROXY_CONNECTION_REFUSED' },
        { mode: 'on', rules },
      ),
      true,
    );
  });

  it('leaves alone hosts that go direct, sub-frames, the Off mode and other schemes', () => {
    const ctx = { mode: 'on' as const, rules };
    assert.equal(
      shouldShowErrorPage({ frameId: 0, url: 'http://example.org/', error: 'net::ERR_NAME_NOT_RESOLVED' }, ctx),
      false,
    );
    assert.equal(
      shouldShowErrorPage({ frameId: 0, url: 'https://www.grid5000.fr/', error: 'net::ERR_TIMED_OUT' }, ctx),
      false,
    );
    assert.equal(
      shouldShowErrorPage({ frameId: 3, url: internal, error: 'net::ERR_PROXY_CONNECTION_FAILED' }, ctx),
      false,
    );
    assert.equal(
      shouldShowErrorPage(
        { frameId: 0, url: internal, error: 'net::ERR_PROXY_CONNECTION_FAILED' },
        { mode: 'off', rules },
      ),
      false,
    );
    assert.equal(shouldShowErrorPage({ frameId: 0, url: 'ftp://a.grid5000.fr/', error: 'x' }, ctx), false);
  });

  it('ignores loads the user stopped', () => {
    assert.equal(
      shouldShowErrorPage({ frameId: 0, url: internal, error: 'net::ERR_ABORTED' }, { mode: 'on', rules }),
      false,
    );
    assert.equal(
      shouldShowErrorPage({ frameId: 0, url: internal, error: 'NS_BINDING_ABORTED' }, { mode: 'on', rules }),
      false,
    );
    assert.equal(
      shouldShowErrorPage({ frameId: 0, url: internal, error: 'Error code 2152398850' }, { mode: 'on', rules }),
      false,
    );
  });

  it('leaves certificate and TLS errors to the browser, whose page lets the user inspect them', () => {
    const ctx = { mode: 'on' as const, rules };
    const https = 'https://intranet.grid5000.fr/';
    for (const error of [
      'net::ERR_CERT_AUTHORITY_INVALID',
      'net::ERR_CERT_DATE_INVALID',
      'net::ERR_SSL_PROTOCOL_ERROR',
      'SEC_ERROR_UNKNOWN_ISSUER',
      'MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT',
      'Error code 2153390067', // Firefox: SEC_ERROR_UNKNOWN_ISSUER (0x805A1FF3)
    ]) {
      assert.equal(isTlsError(error), true, error);
      assert.equal(shouldShowErrorPage({ frameId: 0, url: https, error }, ctx), false, error);
    }
    for (const error of [
      'net::ERR_PROXY_CONNECTION_FAILED',
      'Error code 2152398861',
      'net::ERR_SOCKS_CONNECTION_FAILED',
    ]) {
      assert.equal(isTlsError(error), false, error);
      assert.equal(shouldShowErrorPage({ frameId: 0, url: https, error }, ctx), true, error);
    }
  });

  it('names the numeric errors Firefox reports', () => {
    assert.equal(netErrorName('Error code 2152398861'), 'NS_ERROR_CONNECTION_REFUSED');
    assert.equal(netErrorName('Error code 2152398920'), 'NS_ERROR_PROXY_CONNECTION_REFUSED');
    assert.equal(netErrorName('Error code 12'), 'Error code 12');
    assert.equal(netErrorName('net::ERR_PROXY_CONNECTION_FAILED'), 'net::ERR_PROXY_CONNECTION_FAILED');
  });
});

describe('error page address', () => {
  it('carries the failed URL and the browser error there and back', () => {
    const url = `${internal}path?q=a&b=c#frag`;
    const page = errorPageUrl('chrome-extension://x/error.html', url, 'net::ERR_PROXY_CONNECTION_FAILED');
    assert.ok(page.startsWith('chrome-extension://x/error.html?'));
    assert.deepEqual(parseErrorPageQuery(page.slice(page.indexOf('?'))), {
      url,
      error: 'net::ERR_PROXY_CONNECTION_FAILED',
    });
  });

  it('never hands back a URL that is not http(s)', () => {
    assert.equal(parseErrorPageQuery('?url=javascript%3Aalert(1)&error=x').url, null);
    assert.equal(parseErrorPageQuery('?url=data%3Atext%2Fhtml%2Cx').url, null);
    assert.equal(parseErrorPageQuery('').url, null);
  });
});

describe('ErrorPageTabs', () => {
  const page = 'chrome-extension://x/error.html';
  const url = 'http://intranet.grid5000.fr/';

  it('takes a new failure of the URL behind the error page for Back (Chromium keeps that entry)', () => {
    const tabs = new ErrorPageTabs(page);
    assert.equal(tabs.isReturn(1, url), false, 'a first failure gets the error page');
    tabs.shownFor(1, url);
    tabs.committed(1, `${page}?url=x`); // the error page itself loads
    assert.equal(tabs.isReturn(1, url), true, 'Back from the error page loads the failed entry again');
    assert.equal(tabs.isReturn(2, url), false, 'only in that tab');
    assert.equal(tabs.isReturn(1, 'http://other.grid5000.fr/'), false, 'only that address');
  });

  it('forgets a tab that moved on, closed, or pressed Retry', () => {
    const tabs = new ErrorPageTabs(page);
    tabs.shownFor(1, url);
    tabs.committed(1, 'http://www.example.org/');
    assert.equal(tabs.isReturn(1, url), false, 'the tab went elsewhere: a new failure is a new one');
    tabs.shownFor(1, url);
    tabs.forget(1);
    assert.equal(tabs.isReturn(1, url), false, 'Retry: a failure of its reload gets the error page again');
  });
});
