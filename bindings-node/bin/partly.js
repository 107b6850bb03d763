#!/usr/bin/env node
'use strict';
// The `partly` command line (`npx partly ...`): the Rust core's own (crate `partly-cli`), the
// same entry point as the `partly` binary of `cargo install partly-cli` and the Python package's
// console script. It reads and writes this process's stdin, stdout and stderr itself, so nothing
// here touches process.stdout (Node would switch a pipe to non-blocking mode).
let native;
try {
  native = require('../native.js');
} catch (error) {
  console.error(`partly: ${error && error.message ? error.message : error}`);
  process.exit(1);
}
// Ctrl-C and SIGTERM are the command line's own (a clean stop). Node's built-in handler for
// them re-raises the signal, which the command line's handler would pass it back to, forever:
// listening here puts libuv's quiet handler in its place (the event loop waits until the end).
const ignore = () => {};
process.on('SIGINT', ignore);
process.on('SIGTERM', ignore);
process.exit(native.runCli(['partly', ...process.argv.slice(2)]));
