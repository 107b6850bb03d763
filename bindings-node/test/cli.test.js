'use strict';
// The package's `partly` bin (bin/partly.js, what `npx partly` runs) calls the native module's
// runCli: the Rust command line (crate `partly-cli`) with this process's stdin, stdout, stderr
// and exit status. The commands themselves are tested once, end to end, in cli/tests/cli.rs.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const partly = require('partly');
const { DEMO } = require('partly/testing');
const { startMock } = require('./support');

const BIN = path.join(__dirname, '..', 'bin', 'partly.js');
const pkg = require('../package.json');

function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PARTLY_')) env[k] = v;
  return { ...env, ...extra };
}

function run(args, { env, input } = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: cleanEnv(env), input, timeout: 60000 });
}

test('the bin is the package.json bin and reports the version', () => {
  assert.equal(pkg.bin.partly, 'bin/partly.js');
  const out = run(['--version']);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout, `partly ${partly.VERSION}\n`);
  const help = run(['--help']);
  assert.equal(help.status, 0);
  for (const command of ['preload', 'jobs', 'call', 'oauth', 'mock', 'doctor']) {
    assert.ok(help.stdout.includes(`  ${command} `), `--help lacks ${command}`);
  }
});

test('a command through the bin: stdin, stdout, stderr and exit statuses pass through', async (t) => {
  const mock = await startMock(t);
  const env = {
    PARTLY_BASE_URL: mock.url,
    PARTLY_API_KEY: DEMO.DEMO_API_KEY,
    PARTLY_INTEGRATION_ID: DEMO.DEMO_INTEGRATION_ID,
  };
  const got = run(['--json', 'jobs', 'get', '--external', DEMO.DEMO_JOB_EXTERNAL_ID], { env });
  assert.equal(got.status, 0, got.stderr);
  assert.equal(JSON.parse(got.stdout).id, DEMO.DEMO_JOB_ID);
  const called = run(['call', 'jobs.get', '-'], { env, input: JSON.stringify({ identity: { id: DEMO.DEMO_JOB_ID } }) });
  assert.equal(called.status, 0, called.stderr);
  assert.equal(JSON.parse(called.stdout).external_id, DEMO.DEMO_JOB_EXTERNAL_ID);
  const missing = run(['jobs', 'get', '--external', 'no-such-job'], { env });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^partly: jobs\.get: HTTP 404 not_found/);
  const usage = run(['jobs', 'get'], { env });
  assert.equal(usage.status, 2);
  for (const text of [got.stdout, called.stdout, missing.stderr, usage.stderr]) {
    assert.ok(!text.includes(DEMO.DEMO_API_KEY), 'no secret echoed');
  }
});

test(
  'partly mock through the bin prints the demo credentials and stops on Ctrl-C',
  { skip: process.platform === 'win32' && 'SIGINT to a child is POSIX' },
  async () => {
    const child = spawn(process.execPath, [BIN, 'mock', '--json'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (chunk) => {
        buf += chunk;
        if (buf.includes('\n')) resolve(buf.split('\n')[0]);
      });
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`partly mock exited with ${code}`)));
    });
    const demo = JSON.parse(line);
    assert.equal(demo.api_key, DEMO.DEMO_API_KEY);
    const got = run(['jobs', 'get', '--id', DEMO.DEMO_JOB_ID], {
      env: { PARTLY_BASE_URL: demo.url, PARTLY_API_KEY: demo.api_key, PARTLY_INTEGRATION_ID: demo.integration_id },
    });
    assert.equal(got.status, 0, got.stderr);
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGINT');
    assert.deepEqual(await exited, { code: 0, signal: null });
  },
);
