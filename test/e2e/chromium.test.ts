// The extension in headless Chromium (playwright-core), end to end: see steps.ts.
import { browserSuite } from './browser-suite.js';
import { proxyAccessSuite } from './proxy-access.js';

browserSuite('chromium');
proxyAccessSuite('chromium', { alongside: 'firefox' });
