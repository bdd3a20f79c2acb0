// The extension in headless Firefox ESR (puppeteer-core over WebDriver BiDi), end to end: see steps.ts.
import { browserSuite } from './browser-suite.js';
import { proxyAccessSuite } from './proxy-access.js';

browserSuite('firefox');
proxyAccessSuite('firefox');
