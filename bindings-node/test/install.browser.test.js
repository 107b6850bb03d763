'use strict';
// The OAuth install in a real browser: headless Chromium (Debian's, driven by playwright-core)
// runs examples/install-server.js against the in-process mock's authorize page.
//
// Approve installs (the key stays on the server: not in a page, a cookie or a log line); Deny
// shows a clear message; a tampered state is rejected with nothing traded; a replayed code shows
// the SDK's error. One browser for the whole file. Screenshots of each page are taken on every
// run; PARTLY_UPDATE_SCREENSHOTS=1 (`make screenshots`) writes them to docs/images/.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { generateState } = require('partly');
const { MockServer, DEMO } = require('partly/testing');
const { createApp, CALLBACK_PATH } = require('../examples/install-server.js');

const ROOT = path.resolve(__dirname, '..', '..');
const VIEWPORT = { width: 640, height: 360 };
const WAIT_MS = 15000; // how long a page may take to show what a step expects (never a sleep)
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function findChromium() {
  if (process.env.PARTLY_CHROMIUM) return process.env.PARTLY_CHROMIUM;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, 'chromium');
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return null;
}

const chromiumPath = findChromium();
const nodeMajor = Number(process.versions.node.split('.')[0]);
const missing = !chromiumPath
  ? "the browser tests need Debian's chromium (apt-get install -y chromium; `make test` installs it where apt-get is usable)"
  : nodeMajor < 20
    ? `the browser tests need Node 20 or newer (playwright-core), this is Node ${process.versions.node}`
    : null;
if (missing && process.env.CI) {
  throw new Error(`CI must run the browser tests, but ${missing}`);
}

describe(
  'OAuth install in headless Chromium (examples/install-server.js)',
  { skip: missing ? `cannot run here: ${missing}` : false },
  () => {
    const lines = [];
    const logger = { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
    const update = process.env.PARTLY_UPDATE_SCREENSHOTS === '1';
    let mock;
    let server;
    let app;
    let appUrl;
    let context;
    let browserPage;
    let profile;
    let shots;

    before(async () => {
      const { chromium } = require('playwright-core');
      mock = await MockServer.start();
      server = http.createServer((req, res) => app.handle(req, res));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      appUrl = `http://127.0.0.1:${server.address().port}`;
      const settings = {
        clientId: DEMO.DEMO_CLIENT_ID,
        clientSecret: DEMO.DEMO_CLIENT_SECRET,
        redirectUrl: appUrl + CALLBACK_PATH,
        authorizeEndpoint: mock.url,
        baseUrl: mock.url,
      };
      mock.registerRedirectUrl(settings.redirectUrl);
      app = createApp(settings, logger);
      profile = fs.mkdtempSync(path.join(os.tmpdir(), 'partly-chromium-'));
      shots = update ? path.join(ROOT, 'docs', 'images') : fs.mkdtempSync(path.join(os.tmpdir(), 'partly-shots-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: chromiumPath,
        headless: true,
        args: FLAGS,
        viewport: VIEWPORT,
        deviceScaleFactor: 1,
        timeout: WAIT_MS,
      });
      context.setDefaultTimeout(WAIT_MS);
      browserPage = context.pages()[0] || (await context.newPage());
    });

    after(async () => {
      if (context) await context.close();
      if (server) await new Promise((resolve) => server.close(resolve));
      if (mock) await mock.stop();
      if (profile) fs.rmSync(profile, { recursive: true, force: true });
      if (shots && !update) fs.rmSync(shots, { recursive: true, force: true });
    });

    const trades = () => mock.requests().filter((r) => r.method === 'integrations.insert');
    const title = async () => (await browserPage.locator('#title').textContent()).trim();

    async function shot(name) {
      const png = await browserPage.screenshot();
      assert.equal(png.subarray(1, 4).toString(), 'PNG');
      assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [VIEWPORT.width, VIEWPORT.height]);
      fs.writeFileSync(path.join(shots, `install-node-${name}.png`), png);
    }

    /** A new visitor (no session cookie) on the Connect page. */
    async function freshStart() {
      await context.clearCookies();
      await browserPage.goto(appUrl);
      assert.equal(await title(), 'Connect your Partly account');
    }

    /** Clicks Connect Partly; the consent page's URL (it carries this attempt's state). */
    async function toConsentPage() {
      await browserPage.click('#connect');
      await browserPage.waitForURL((u) => u.href.startsWith(`${mock.authorizeEndpoint}?`));
      await browserPage.locator('#approve').waitFor();
      return new URL(browserPage.url());
    }

    test('Approve installs; the key stays on the server', async () => {
      await freshStart();
      await shot('1-connect');
      await toConsentPage();
      const consent = await browserPage.content();
      assert.ok(consent.includes(DEMO.DEMO_INTEGRATION_NAME) && consent.includes('repairer'));
      assert.equal((await browserPage.locator('#deny').textContent()).trim(), 'Deny');
      await shot('2-consent');

      await browserPage.click('#approve');
      await browserPage.locator('#installed').waitFor();
      assert.equal(await title(), 'Partly is connected');
      const integrationId = (await browserPage.locator('#integration-id').textContent()).trim();
      assert.ok((await browserPage.locator('#job').textContent()).includes(DEMO.DEMO_JOB_EXTERNAL_ID));
      assert.equal(new URL(browserPage.url()).search, '', 'the code is gone from the address bar');
      await shot('3-installed');

      const sent = trades().map((t) => JSON.parse(t.body));
      assert.equal(sent.length, 1);
      assert.equal(sent[0].client_id, DEMO.DEMO_CLIENT_ID);
      const apiKey = app.installations.get(integrationId);
      assert.ok(apiKey && apiKey.startsWith('pk_'));
      // The key is on the server only: not in the page, not in a cookie, not in a log line.
      assert.ok(!(await browserPage.content()).includes(apiKey));
      for (const cookie of await context.cookies()) assert.ok(!cookie.value.includes(apiKey));
      const logged = lines.join('\n');
      assert.match(logged, /installed integration /);
      assert.match(logged, /GET \/partly\/callback 302/);
      for (const secret of [apiKey, sent[0].access_code, DEMO.DEMO_CLIENT_SECRET]) assert.ok(!logged.includes(secret));
      // The key works: the app read the seeded job with it.
      const reads = mock
        .requests()
        .filter((r) => r.method === 'jobs.get' && r.headers.authorization === `Bearer ${apiKey}`);
      assert.equal(reads.length, 1);
    });

    test('Deny shows a clear message and installs nothing', async () => {
      const before = trades().length;
      await freshStart();
      await toConsentPage();
      await browserPage.click('#deny');
      await browserPage.locator('#message').waitFor();
      assert.equal(await title(), 'Partly was not connected');
      assert.equal(
        (await browserPage.locator('#message').textContent()).trim(),
        'You declined to connect Partly; nothing was installed.',
      );
      await shot('4-denied');
      assert.equal(trades().length, before);
    });

    test('a tampered state is rejected with nothing traded', async () => {
      const before = trades().length;
      await freshStart();
      const consent = await toConsentPage();
      consent.searchParams.set('state', generateState()); // an attacker's attempt, not this session's
      await browserPage.goto(consent.href);
      await browserPage.click('#approve');
      await browserPage.locator('#message').waitFor();
      assert.equal(await title(), 'Install rejected');
      assert.match(await browserPage.locator('#message').textContent(), /does not match the one this attempt sent/);
      assert.equal(trades().length, before, 'nothing was traded');
    });

    test('a replayed code shows the SDK error', async () => {
      const used = trades().map((t) => JSON.parse(t.body).access_code);
      assert.ok(used.length > 0, 'the Approve test traded a code');
      const before = trades().length;
      await freshStart();
      const state = (await toConsentPage()).searchParams.get('state');
      // The browser comes back with this attempt's state but a code that was already traded.
      await browserPage.goto(`${appUrl}${CALLBACK_PATH}?${new URLSearchParams({ code: used[0], state })}`);
      await browserPage.locator('#message').waitFor();
      assert.equal(await title(), 'Install failed');
      const message = (await browserPage.locator('#message').textContent()).trim();
      assert.match(message, /^BadRequestError: /);
      assert.match(message, /invalid_access_code/);
      assert.match(message, /already been used/);
      assert.ok(!(await browserPage.content()).includes(used[0]), 'the SDK scrubs the code from its error');
      assert.equal(trades().length, before + 1, 'the app traded once and the API refused');
    });
  },
);
