'use strict';
// HTTPS against `MockServer.start({ tls: true })`: trusted through `caBundle` and
// NODE_EXTRA_CA_CERTS, refused with a clear error when not; through an explicit and an
// environment proxy (a CONNECT proxy of the test helpers) that never sees the key; HTTP/2 over
// TLS; `diagnostics()`.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { execFile } = require('node:child_process');

const partly = require('partly');
const { startMock, startConnectProxy, rejection, DEMO } = require('./support');

const TEST_HOST = 'mock.partly.test'; // in the TLS mock's certificate; not loopback, so it can be proxied
const proxiedUrl = (mock) => mock.url.replace('127.0.0.1', TEST_HOST);

async function calls(client) {
  const job = await client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
  assert.equal(job.external_id, DEMO.DEMO_JOB_EXTERNAL_ID);
  await client.tier1.prepare([{ chassis_number: 'JH4KA7561PC008269' }]);
  const e = await rejection(client.jobs.get({ external: 'no-such-job' }));
  assert.ok(e instanceof partly.NotFoundError, String(e));
}

/** Sets environment variables for one test. */
function setEnv(t, vars) {
  const before = {};
  for (const [k, v] of Object.entries(vars)) {
    before[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  t.after(() => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

test('https trusted through caBundle negotiates HTTP/2', async (t) => {
  const mock = await startMock(t, { tls: true });
  assert.match(mock.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(fs.readFileSync(mock.caPath, 'utf8').startsWith('-----BEGIN CERTIFICATE-----'));
  await calls(mock.client()); // caBundle: mock.caPath
  assert.deepEqual(
    mock.requests().map((r) => r.httpVersion),
    ['HTTP/2', 'HTTP/2', 'HTTP/2'],
  );
});

test('HTTP/1.1 when the server does not offer HTTP/2', async (t) => {
  const mock = await startMock(t, { tls: true, http1Only: true });
  await calls(mock.client());
  assert.deepEqual([...new Set(mock.requests().map((r) => r.httpVersion))], ['HTTP/1.1']);
});

test('an untrusted certificate is a clear ConnectionError, not retried', async (t) => {
  const mock = await startMock(t, { tls: true });
  const client = new partly.Client({
    baseUrl: mock.url,
    apiKey: DEMO.DEMO_API_KEY,
    integrationId: DEMO.DEMO_INTEGRATION_ID,
  });
  const e = await rejection(client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID }));
  assert.ok(e instanceof partly.ConnectionError && !(e instanceof partly.TimeoutError), String(e));
  assert.match(e.message, /certificate/);
  assert.match(e.message, /not trusted/);
  assert.match(e.message, /caBundle/);
  assert.match(e.message, /NODE_EXTRA_CA_CERTS/);
  assert.equal(e.attempts, 1);
  assert.deepEqual(mock.requests(), []);
});

test('caBundle must exist and hold a certificate', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partly-ca-'));
  try {
    assert.throws(
      () => new partly.Client({ caBundle: path.join(dir, 'missing.pem') }),
      (e) => e instanceof partly.ValidationError && /no such file/.test(e.message),
    );
    fs.writeFileSync(path.join(dir, 'empty.pem'), 'not a certificate\n');
    assert.throws(
      () => new partly.Client({ caBundle: path.join(dir, 'empty.pem') }),
      (e) => e instanceof partly.ValidationError && /holds no certificate/.test(e.message),
    );
    assert.throws(() => new partly.Client({ caBundle: 42 }), partly.ValidationError);
    assert.throws(
      () => new partly.Client({ proxy: true }),
      (e) => e instanceof partly.ValidationError && /proxy must be/.test(e.message),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('trusted through NODE_EXTRA_CA_CERTS, as Node does (a child process)', async (t) => {
  const mock = await startMock(t, { tls: true });
  const script = `
    const partly = require('partly');
    const client = new partly.Client();
    client.jobs.get({ external: ${JSON.stringify(DEMO.DEMO_JOB_EXTERNAL_ID)} }).then(
      async (job) => {
        const d = await client.diagnostics();
        console.log(JSON.stringify({ ok: job.external_id, roots: d.trusted_roots.map((r) => r.source) }));
      },
      (e) => console.log(JSON.stringify({ error: e.name, message: e.message })),
    );`;
  const run = (extra) =>
    new Promise((resolve, reject) => {
      const env = {
        ...process.env,
        PARTLY_BASE_URL: mock.url,
        PARTLY_API_KEY: DEMO.DEMO_API_KEY,
        PARTLY_INTEGRATION_ID: DEMO.DEMO_INTEGRATION_ID,
        ...extra,
      };
      execFile(process.execPath, ['-e', script], { env, cwd: __dirname }, (err, stdout) =>
        err ? reject(err) : resolve(JSON.parse(stdout)),
      );
    });
  assert.deepEqual(await run({ NODE_EXTRA_CA_CERTS: mock.caPath }), {
    ok: DEMO.DEMO_JOB_EXTERNAL_ID,
    roots: ['system', 'NODE_EXTRA_CA_CERTS'],
  });
  const without = await run({});
  assert.equal(without.error, 'ConnectionError');
  // As Node: a file that cannot be read is a warning, and the roots that can be had still work.
  const missing = await run({ NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' });
  assert.equal(missing.error, 'ConnectionError');
});

test('an explicit proxy sees only CONNECT, never the key', async (t) => {
  const mock = await startMock(t, { tls: true });
  const proxy = await startConnectProxy(t);
  const client = mock.client({ baseUrl: proxiedUrl(mock), proxy: proxy.url });
  assert.equal(client.settings.proxy, proxy.url);
  await calls(client);
  const heads = proxy.heads();
  assert.ok(heads.length > 0 && heads.every((h) => h.startsWith(`CONNECT ${TEST_HOST}:`)), heads.join('|'));
  assert.ok(!proxy.saw(DEMO.DEMO_API_KEY));
  assert.equal(mock.requests().length, 3);
});

test('an environment proxy (HTTPS_PROXY), and proxy: false', async (t) => {
  const mock = await startMock(t, { tls: true });
  const proxy = await startConnectProxy(t);
  setEnv(t, { HTTPS_PROXY: proxy.url });
  const client = mock.client({ baseUrl: proxiedUrl(mock) });
  assert.equal(client.settings.proxy, proxy.url);
  await calls(client);
  const d = await client.diagnostics();
  assert.equal(d.error, null, JSON.stringify(d));
  assert.equal(d.proxy.variable, 'HTTPS_PROXY');
  assert.ok(d.timings.proxy_connect_ms !== null);
  assert.ok(proxy.heads().every((h) => h.startsWith('CONNECT ')));
  assert.ok(!proxy.saw(DEMO.DEMO_API_KEY));
  assert.equal(mock.client({ baseUrl: proxiedUrl(mock), proxy: false }).settings.proxy, null);
});

test('a plain-http loopback base URL is never proxied, HTTP_PROXY or not', async (t) => {
  const mock = await startMock(t);
  const proxy = await startConnectProxy(t);
  setEnv(t, { HTTP_PROXY: proxy.url, http_proxy: proxy.url });
  const client = mock.client();
  assert.equal(client.settings.proxy, null);
  await client.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
  await mock.client({ proxy: proxy.url }).jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID });
  assert.deepEqual(proxy.heads(), []);
  assert.ok(!proxy.saw(DEMO.DEMO_API_KEY));
});

test('proxy credentials are sent to the proxy and shown nowhere', async (t) => {
  const mock = await startMock(t, { tls: true });
  const proxy = await startConnectProxy(t, 'Basic YWxpY2U6cHIweHktczNjcmV0'); // alice:pr0xy-s3cret
  const good = mock.client({ baseUrl: proxiedUrl(mock), proxy: `http://alice:pr0xy-s3cret@127.0.0.1:${proxy.port}` });
  await calls(good);
  const shownGood = util.inspect(good) + JSON.stringify(good);
  assert.ok(!shownGood.includes('pr0xy-s3cret') && !shownGood.includes('alice'), shownGood);
  assert.equal(good.settings.proxy, `http://***@127.0.0.1:${proxy.port}`);
  const bad = mock.client({
    baseUrl: proxiedUrl(mock),
    proxy: `http://alice:wr0ng-s3cret@127.0.0.1:${proxy.port}`,
    maxRetries: 0,
  });
  const e = await rejection(bad.jobs.get({ external: DEMO.DEMO_JOB_EXTERNAL_ID }));
  assert.ok(e instanceof partly.ConnectionError, String(e));
  assert.match(e.message, /proxy/);
  const shown = [e.message, util.inspect(e), JSON.stringify(e), JSON.stringify(await bad.diagnostics())].join(' ');
  for (const secret of ['wr0ng-s3cret', 'pr0xy-s3cret', 'alice'])
    assert.ok(!shown.includes(secret), `${secret} in ${shown}`);
  const badScheme = (() => {
    try {
      new partly.Client({ proxy: 'socks5://alice:hunter2-pw@127.0.0.1:1' });
    } catch (err) {
      return err;
    }
    return null;
  })();
  assert.ok(badScheme instanceof partly.ValidationError);
  assert.ok(!badScheme.message.includes('hunter2-pw'));
});

test('plain http to a *.localhost name is refused', () => {
  assert.throws(
    () => new partly.Client({ baseUrl: 'http://api.localhost:8080' }),
    (e) => e instanceof partly.ValidationError && /\*\.localhost/.test(e.message),
  );
  new partly.Client({ baseUrl: 'http://localhost:8080' });
});

test('diagnostics()', async (t) => {
  setEnv(t, { NODE_EXTRA_CA_CERTS: undefined });
  const mock = await startMock(t, { tls: true });
  const d = await partly.diagnostics({ baseUrl: mock.url, caBundle: mock.caPath, proxy: false });
  assert.equal(d.error, null, JSON.stringify(d));
  assert.equal(d.sdk_version, partly.VERSION);
  assert.equal(d.base_url, mock.url);
  assert.equal(d.http_version, 'HTTP/2');
  assert.equal(d.tls_version, 'TLSv1_3');
  assert.deepEqual(
    d.trusted_roots.map((r) => r.source),
    ['system', 'ca_bundle'],
  );
  for (const step of ['dns_ms', 'tcp_ms', 'tls_ms', 'first_byte_ms']) assert.ok(d.timings[step] >= 0, step);
  assert.ok(Math.abs(d.clock_offset_ms) <= 2000, String(d.clock_offset_ms));
  assert.ok(mock.requests().every((r) => !('authorization' in r.headers)));
  const untrusted = await partly.diagnostics({ baseUrl: mock.url, proxy: false });
  assert.equal(untrusted.error.stage, 'tls');
  assert.match(untrusted.error.message, /not trusted/);
  await assert.rejects(partly.diagnostics({ baseUrl: 'ftp://nope' }), partly.ValidationError);
  await assert.rejects(partly.diagnostics({ apiKey: 'x' }), partly.ValidationError);
});
