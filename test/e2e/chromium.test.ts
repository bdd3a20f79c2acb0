// The extension in headless Chromium (playwright-core), end to end: the whole suite, browser-suite.ts.
import { browserSuite } from './browser-suite.js';
import { firstRunSuite } from './first-run.js';
import { frenchSuite } from './french.js';
import { proxyAccessSuite } from './proxy-access.js';
import { g5kNamesSuite } from './g5k-names.js';

browserSuite('chromium');
proxyAccessSuite('chromium', { alongside: 'firefox' });
frenchSuite('chromium');
g5kNamesSuite('chromium');
firstRunSuite('chromium');
