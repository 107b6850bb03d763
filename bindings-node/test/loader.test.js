'use strict';
// native.js, the loader of the prebuilt native module: each place it looks, and what it says when
// nothing fits. Each case copies the package's JavaScript into a scratch folder (so the
// checkout's own build is not found next to it) and requires it in a child process.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const PKG_DIR = path.join(__dirname, '..');
const pkg = require('../package.json');
const native = fs.readdirSync(PKG_DIR).find((f) => /^partly\..+\.node$/.test(f));
assert.ok(native, 'the checkout has a built partly.<platform>.node (make build-node)');
const PLATFORM = native.slice('partly.'.length, -'.node'.length);

/** A scratch install: node_modules/partly with the package's JS, and optionally a platform package. */
function scratch(t, { platformVersion, platformBinary = true } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partly-loader-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const own = path.join(dir, 'node_modules', 'partly');
  fs.mkdirSync(own, { recursive: true });
  for (const f of ['package.json', 'native.js']) fs.copyFileSync(path.join(PKG_DIR, f), path.join(own, f));
  if (platformVersion !== undefined) {
    const plat = path.join(dir, 'node_modules', `partly-${PLATFORM}`);
    fs.mkdirSync(plat);
    const main = `partly.${PLATFORM}.node`;
    fs.writeFileSync(
      path.join(plat, 'package.json'),
      JSON.stringify({ name: `partly-${PLATFORM}`, version: platformVersion, main }),
    );
    if (platformBinary) fs.copyFileSync(path.join(PKG_DIR, native), path.join(plat, main));
  }
  return dir;
}

function load(dir, env = {}) {
  const script =
    "const n = require('./node_modules/partly/native.js'); console.log(JSON.stringify({ version: n.version() }));";
  const childEnv = { ...process.env, ...env };
  if (!('PARTLY_NATIVE_LIBRARY_PATH' in env)) delete childEnv.PARTLY_NATIVE_LIBRARY_PATH;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, env: childEnv, encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout.trim(), err: r.stderr };
}

test('the platform package partly-<platform> of the same version is loaded', (t) => {
  const r = load(scratch(t, { platformVersion: pkg.version }));
  assert.ok(r.ok, r.err);
  assert.deepEqual(JSON.parse(r.out), { version: pkg.version });
});

test('a platform package of another version is refused, naming both versions and the fix', (t) => {
  const r = load(scratch(t, { platformVersion: '0.0.1' }));
  assert.equal(r.ok, false);
  assert.match(
    r.err,
    new RegExp(`partly-${PLATFORM} 0\\.0\\.1 is installed, but this is partly ${pkg.version.replace(/\./g, '\\.')}`),
  );
  assert.match(r.err, new RegExp(`npm install partly@${pkg.version} partly-${PLATFORM}@${pkg.version}`));
  assert.match(r.err, /PARTLY_NATIVE_MODULE/);
});

test('no platform package: the error names the package to install and why npm may have skipped it', (t) => {
  const r = load(scratch(t));
  assert.equal(r.ok, false);
  assert.match(r.err, new RegExp(`install partly-${PLATFORM}@${pkg.version}`));
  assert.match(r.err, /optionalDependencies/);
  assert.match(r.err, /--omit=optional/);
  assert.match(r.err, /npm\/cli#4828/);
});

test('PARTLY_NATIVE_LIBRARY_PATH names the binary to load, and nothing else is tried', (t) => {
  const dir = scratch(t, { platformVersion: '0.0.1' }); // would be refused if it were looked at
  const r = load(dir, { PARTLY_NATIVE_LIBRARY_PATH: path.join(PKG_DIR, native) });
  assert.ok(r.ok, r.err);
  assert.deepEqual(JSON.parse(r.out), { version: pkg.version });
  const missing = load(dir, { PARTLY_NATIVE_LIBRARY_PATH: path.join(dir, 'nope.node') });
  assert.equal(missing.ok, false);
  assert.match(missing.err, /could not load the native module named by PARTLY_NATIVE_LIBRARY_PATH/);
  assert.match(missing.err, /nope\.node/);
});

test('the platform name is one the package ships, spelled as napi-rs and scripts/dist.py spell it', () => {
  const triples = pkg.napi.targets;
  const names = triples.map((t) => {
    const [cpu, , sys, abi] = t.split('-');
    const arch = { x86_64: 'x64', aarch64: 'arm64' }[cpu];
    const plat = { linux: 'linux', darwin: 'darwin', windows: 'win32' }[sys];
    return abi ? `${plat}-${arch}-${abi}` : `${plat}-${arch}`;
  });
  assert.ok(names.includes(PLATFORM), `${PLATFORM} not in ${names}`);
  for (const name of names) {
    const manifest = require(`../npm/${name}/package.json`);
    assert.equal(manifest.name, `partly-${name}`);
    assert.equal(manifest.version, pkg.version);
    assert.equal(manifest.main, `partly.${name}.node`);
  }
});
