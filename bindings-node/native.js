'use strict';
// Finds and loads the native module (the Rust core, prebuilt per platform).
//
// Where it looks, in order:
//   1. PARTLY_NATIVE_LIBRARY_PATH: a path to a `.node` file, used as is (for platforms we do not
//      ship, or a module built by hand). Nothing else is tried when it is set.
//   2. partly.<platform>.node next to this file: a contributor's build in a checkout
//      (`npm run build` in bindings-node/).
//   3. The platform package `partly-<platform>` (e.g. partly-linux-x64-gnu), which npm, pnpm,
//      yarn and bun install from `partly`'s optionalDependencies on the matching platform only.
//      Its version must be this package's own: a mismatch would run other code than the
//      JavaScript expects.
// When nothing fits, the error says which package to install and why it may be missing.

const fs = require('node:fs');
const path = require('node:path');

const VERSION = require('./package.json').version;
const ENV_PATH = 'PARTLY_NATIVE_LIBRARY_PATH';

/** 'musl' or 'gnu' on Linux. */
function linuxLibc() {
  // ldd is a script (glibc) or a link to the musl loader: cheap to read, and it says which.
  try {
    const ldd = fs.readFileSync('/usr/bin/ldd', 'latin1');
    if (ldd.includes('musl')) return 'musl';
    if (ldd.includes('GNU C Library') || ldd.includes('glibc')) return 'gnu';
  } catch {
    // no ldd (a slim image): ask the runtime
  }
  // The diagnostic report's header names the glibc the process runs on; musl has none.
  const report = process.report;
  if (report && typeof report.getReport === 'function') {
    const excluded = report.excludeNetwork;
    try {
      report.excludeNetwork = true; // the network part is slow to collect and not needed
      const header = report.getReport().header;
      if (header) return header.glibcVersionRuntime ? 'gnu' : 'musl';
    } catch {
      // fall through
    } finally {
      report.excludeNetwork = excluded;
    }
  }
  return 'gnu';
}

/** The platform's name as napi-rs spells it: linux-x64-gnu, darwin-arm64, win32-x64-msvc. */
function platformName() {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${linuxLibc()}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** The platforms with a prebuilt package (the napi.targets of package.json). */
function shippedPlatforms() {
  const triples = (require('./package.json').napi || {}).targets || [];
  return triples.map(tripleToPlatform);
}

function tripleToPlatform(triple) {
  const [cpu, , os, abi] = triple.split('-');
  const arch = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }[cpu] || cpu;
  const platform = { linux: 'linux', darwin: 'darwin', windows: 'win32' }[os] || os;
  return abi ? `${platform}-${arch}-${abi}` : `${platform}-${arch}`;
}

function loadError(message, cause) {
  const error = new Error(`partly: ${message}`, cause === undefined ? undefined : { cause });
  error.code = 'PARTLY_NATIVE_MODULE';
  return error;
}

function load() {
  const forced = process.env[ENV_PATH];
  if (typeof forced === 'string' && forced.trim() !== '') {
    const file = path.resolve(forced.trim());
    try {
      return require(file);
    } catch (error) {
      throw loadError(`could not load the native module named by ${ENV_PATH} (${file}): ${error.message}`, error);
    }
  }

  const name = platformName();
  const local = path.join(__dirname, `partly.${name}.node`);
  if (fs.existsSync(local)) return require(local);

  const pkg = `partly-${name}`;
  let pkgVersion;
  try {
    pkgVersion = require(`${pkg}/package.json`).version;
  } catch (error) {
    if (!error || error.code !== 'MODULE_NOT_FOUND') throw error;
    throw loadError(missingMessage(name, pkg), error);
  }
  if (pkgVersion !== VERSION) {
    throw loadError(
      `${pkg} ${pkgVersion} is installed, but this is partly ${VERSION}, which needs ${pkg} ${VERSION} ` +
        `(a package manager mixed versions). Reinstall both: npm install partly@${VERSION} ${pkg}@${VERSION}`,
    );
  }
  return require(pkg);
}

function missingMessage(name, pkg) {
  const shipped = shippedPlatforms();
  if (!shipped.includes(name)) {
    return (
      `no prebuilt native module for this platform (${name}); prebuilt ones exist for ` +
      `${shipped.join(', ')}. Build one from source (https://github.com/partly/partly-sdk/blob/main/CONTRIBUTING.md) ` +
      `and point ${ENV_PATH} at the .node file.`
    );
  }
  return (
    `the native module for this platform is missing: install ${pkg}@${VERSION} ` +
    `(npm install ${pkg}@${VERSION}). partly lists it in optionalDependencies and the package manager ` +
    `installs the one matching the platform; it is skipped when optional dependencies are omitted ` +
    `(--omit=optional, --no-optional), and npm also skips it when a package-lock.json was written on ` +
    `another platform (npm/cli#4828): remove node_modules and package-lock.json and run npm install again. ` +
    `In a Docker image, run npm install inside the image rather than copying node_modules from the host.`
  );
}

module.exports = load();
