'use strict';
// Loads the native module built from ./src by `npm install` (scripts/build.js).
const path = require('node:path');

const file = path.join(__dirname, 'partly.node');
let native;
try {
  native = require(file);
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND') {
    throw new Error(
      `partly: the native module ${file} is missing. It is compiled from Rust when the package is ` +
        `installed; build it with \`npm run build\` in ${__dirname} (needs cargo from https://rustup.rs).`,
      { cause: error },
    );
  }
  throw error;
}
module.exports = native;
