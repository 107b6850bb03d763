// ES module entry of `partly/testing` (the same objects as `require('partly/testing')`).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const testing = require('./testing.js');

export const { MockServer, DEMO } = testing;
export default testing;
