// The extension in headless Firefox ESR (puppeteer-core over WebDriver BiDi), end to end: the whole
// suite, browser-suite.ts.
import { browserSuite } from './browser-suite.js';
import { firstRunSuite } from './first-run.js';
import { frenchSuite } from './french.js';

browserSuite('firefox');
frenchSuite('firefox');
firstRunSuite('firefox');
