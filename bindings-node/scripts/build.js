#!/usr/bin/env node
'use strict';
// Builds the native module `partly.node` from the Rust sources with @napi-rs/cli (`napi build`).
// It is the package's `install` script, so `npm install` of the package builds it.
//
// PARTLY_NODE_PROFILE=debug builds without optimisations (fast to compile, what the test suite
// uses); the default is an optimised release build.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const profile = process.env.PARTLY_NODE_PROFILE || 'release';
if (profile !== 'release' && profile !== 'debug') {
  console.error(`partly: PARTLY_NODE_PROFILE must be "release" or "debug", got ${JSON.stringify(profile)}`);
  process.exit(1);
}

const cargo = spawnSync(process.env.CARGO || 'cargo', ['--version'], { stdio: 'ignore' });
if (cargo.error || cargo.status !== 0) {
  console.error(
    'partly: building the native module needs the Rust toolchain (cargo), which was not found on PATH.\n' +
      'Install it from https://rustup.rs and run `npm install` again.',
  );
  process.exit(1);
}

function findCli() {
  try {
    const manifest = require.resolve('@napi-rs/cli/package.json', { paths: [root, process.cwd()] });
    const bin = require(manifest).bin;
    return path.join(path.dirname(manifest), typeof bin === 'string' ? bin : bin.napi);
  } catch {
    return null;
  }
}

let cli = findCli();
if (!cli) {
  // `npm install /path/to/bindings-node` from a project that does not contain that folder links
  // it without installing its dependencies (npm's rule for folders outside the project root),
  // yet runs this script. Install the build tool from the lockfile into the package's own
  // node_modules, then go on.
  console.log('partly: installing the build tool (@napi-rs/cli) for the native module');
  const npm = process.env.npm_execpath
    ? [process.execPath, [process.env.npm_execpath]]
    : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
  const args = [...npm[1], 'ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
  const installed = spawnSync(npm[0], args, { stdio: 'inherit', cwd: root });
  cli = installed.status === 0 ? findCli() : null;
  if (!cli) {
    console.error('partly: @napi-rs/cli, which builds the native module, could not be installed');
    process.exit(1);
  }
}

const args = [cli, 'build', '--cwd', root, '--output-dir', root, '--dts', 'native.d.ts'];
if (profile === 'release') args.push('--release');
console.log(`partly: building the native module (${profile}); the first build takes a few minutes`);
const built = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
if (built.error) {
  console.error(`partly: could not run napi build: ${built.error.message}`);
  process.exit(1);
}
process.exit(built.status === null ? 1 : built.status);
