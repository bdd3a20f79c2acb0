// The extension in headless Firefox ESR (puppeteer-core over WebDriver BiDi), end to end: the whole
// suite, browser-suite.ts.
import { browserSuite } from './browser-suite.js';
import { firstRunSuite } from './first-run.js';
import { frenchSuite } from './french.js';
import { proxyAccessSuite } from './proxy-access.js';
import { g5kNamesSuite } from './g5k-names.js';

browserSuite('firefox');
proxyAccessSuite('firefox');
frenchSuite('firefox');
g5kNamesSuite('firefox');
firstRunSuite('firefox');
