'use strict';
// The OAuth helpers against the in-process mock's authorize page (no browser: a plain HTTP
// client presses the buttons); the browser run is install.browser.test.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const util = require('node:util');
const http = require('node:http');
const { authorizeUrl, parseCallback, ValidationError, Callback } = require('..');
const { MockServer, DEMO } = require('../testing');

const CALLBACK = 'http://127.0.0.1:5999/partly/callback';

function request(url, { method = 'GET', body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Loads the consent page and presses `decision`: where the browser is sent. */
async function press(url, decision) {
  const page = await request(url);
  assert.equal(page.status, 200, page.text);
  const consent = page.text.split('name="consent" value="')[1].split('"')[0];
  const answer = await request(url.split('?')[0], { method: 'POST', body: `consent=${consent}&decision=${decision}` });
  assert.equal(answer.status, 303);
  return answer.headers.location;
}

test('parseCallback checks the state and reads code or error', () => {
  const cb = parseCallback('/partly/callback?code=ac_1&state=s1', 's1');
  assert.ok(cb instanceof Callback);
  assert.equal(cb.code, 'ac_1');
  assert.equal(cb.denied, false);
  assert.ok(!util.inspect(cb).includes('ac_1'));
  assert.ok(!JSON.stringify(cb).includes('ac_1'));
  assert.equal(parseCallback('https://shop.example/cb?code=ac_1&state=s1', 's1').code, 'ac_1');
  const denied = parseCallback('?error=access_denied&error_description=no&state=s1', 's1');
  assert.equal(denied.denied, true);
  assert.equal(denied.code, null);
  assert.equal(denied.errorDescription, 'no');
  assert.throws(
    () => parseCallback('/cb?code=ac_1&state=s2', 's1'),
    (e) => e instanceof ValidationError && /does not match/.test(e.message) && !e.message.includes('ac_1'),
  );
  assert.throws(() => parseCallback('/cb?code=ac_1', 's1'), /has no `state`/);
  assert.throws(
    () => parseCallback('/cb?code=ac_1&state=', ''),
    /expectedState is empty; pass the state of this attempt, as kept from authorizeUrl/,
  );
  assert.throws(() => parseCallback('/cb?code=ac_1&state=s', undefined), /expectedState must be the string/);
  assert.throws(() => parseCallback(undefined, 's'), /urlOrQuery must be a string/);
});

test('install through the mock authorize page', async () => {
  const mock = await MockServer.start({ redirectUrls: [CALLBACK] });
  try {
    assert.deepEqual(mock.redirectUrls(), [CALLBACK]);
    assert.equal(mock.authorizeEndpoint, `${mock.url}/auth/integration/authorize`);
    for (const endpoint of [mock.url, mock.authorizeEndpoint]) {
      const auth = authorizeUrl({
        clientId: DEMO.DEMO_CLIENT_ID,
        redirectUrl: CALLBACK,
        scopes: ['repairer'],
        endpoint,
      });
      assert.ok(auth.url.startsWith(`${mock.authorizeEndpoint}?`), auth.url);
      const cb = parseCallback(await press(auth.url, 'approve'), auth.state);
      const installed = await mock.client({ apiKey: undefined, integrationId: undefined }).integrations.insert({
        accessCode: cb.code,
        clientId: DEMO.DEMO_CLIENT_ID,
        clientSecret: DEMO.DEMO_CLIENT_SECRET,
      });
      const job = await mock
        .client({ apiKey: installed.api_key, integrationId: installed.integration_id })
        .jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
      assert.equal(job.external_id, DEMO.DEMO_JOB_EXTERNAL_ID);
    }
    const auth = authorizeUrl({
      clientId: DEMO.DEMO_CLIENT_ID,
      redirectUrl: CALLBACK,
      scopes: ['repairer'],
      endpoint: mock.url,
    });
    assert.equal(parseCallback(await press(auth.url, 'deny'), auth.state).denied, true);
    mock.registerRedirectUrl('https://shop.example/cb');
    assert.deepEqual(mock.redirectUrls(), [CALLBACK, 'https://shop.example/cb']);
    assert.throws(
      () => mock.registerRedirectUrl('shop.example/cb'),
      (e) => e instanceof ValidationError && /not an absolute http/.test(e.message),
    );
  } finally {
    await mock.stop();
  }
  await assert.rejects(
    MockServer.start({ redirectUrls: ['nope'] }),
    (e) => e instanceof ValidationError && /redirectUrls/.test(e.message),
  );
  await assert.rejects(MockServer.start({ redirectUrls: 'x' }), /redirectUrls must be an array/);
});

test('examples/install-server.js --mock serves the Connect page and sends the browser to the mock', async () => {
  const { spawn } = require('node:child_process');
  const path = require('node:path');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARTLY_')));
  const child = spawn(
    process.execPath,
    [path.join(__dirname, '..', 'examples', 'install-server.js'), '--mock', '--port', '0'],
    {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const line = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
    });
    assert.match(line, /^listening on http:\/\/127\.0\.0\.1:\d+$/);
    const appUrl = line.split(' ').pop();
    const home = await request(appUrl);
    assert.equal(home.status, 200);
    assert.ok(home.text.includes('id="connect"'));
    const toPartly = await request(`${appUrl}/connect`);
    assert.equal(toPartly.status, 302);
    const target = new URL(toPartly.headers.location);
    assert.equal(target.pathname, '/auth/integration/authorize');
    assert.equal(target.searchParams.get('redirect_url'), `${appUrl}/partly/callback`);
    const consent = await request(target.href);
    assert.equal(consent.status, 200);
    assert.ok(consent.text.includes('Approve'));
  } finally {
    child.kill('SIGTERM');
  }
});

test('the README guide "Installing an integration" runs as pasted', async () => {
  const { execFile } = require('node:child_process');
  const fs = require('node:fs');
  const path = require('node:path');
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const guide = readme.split('## Installing an integration')[1].split('\n## ')[0];
  const blocks = guide
    .split('```js\n')
    .slice(1)
    .map((b) => b.split('```')[0]);
  assert.ok(blocks.length > 0, 'the guide has JavaScript code');
  for (const code of blocks) {
    const out = await new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['-e', code],
        { cwd: path.join(__dirname, '..'), timeout: 60000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    assert.match(out, /^installed [0-9a-f-]{36}\n$/);
  }
});
