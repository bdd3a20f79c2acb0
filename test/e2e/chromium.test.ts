// The extension in headless Chromium (playwright-core), end to end: the whole suite, browser-suite.ts.
import { browserSuite } from './browser-suite.js';
import { firstRunSuite } from './first-run.js';
import { frenchSuite } from './french.js';

browserSuite('chromium');
frenchSuite('chromium');
firstRunSuite('chromium');
