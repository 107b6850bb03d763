'use strict';
// An integrator's web app that installs a Partly integration (the OAuth install), on node:http
// with nothing but the SDK. Each handler is one route of an Express app, unchanged.
//
// "Connect Partly" sends the browser to Partly's authorize page; Partly sends it back to
// /partly/callback with an access code and the `state` this attempt sent. The callback checks
// the state (in constant time), trades the code with integrations.insert and keeps the API key
// on the server: it never goes to the browser and never into a log line. The home page then
// shows the installed integration and a job read with its key.
//
// Rehearse it offline against a local Partly (partly/testing's MockServer, in-process):
//
//   node examples/install-server.js --mock          # then open the URL it prints
//
// Against Partly, with the redirect URL registered for your integration:
//
//   PARTLY_CLIENT_ID=... PARTLY_CLIENT_SECRET=... APP_URL=https://shop.example node examples/install-server.js
//
// APP_URL is where users reach this app (the redirect URL is APP_URL/partly/callback);
// PARTLY_AUTHORIZE_URL and PARTLY_BASE_URL point it at another Partly (staging).

const crypto = require('node:crypto');
const http = require('node:http');
const { Client, authorizeUrl, parseCallback, PartlyError, ValidationError, NotFoundError } = require('partly');

const CALLBACK_PATH = '/partly/callback';
const SESSION_COOKIE = 'sid';

/** Text safe inside HTML. */
function escape(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

const STYLE = `body{margin:0;font:15px/1.45 system-ui,sans-serif;background:#f6f7f9;color:#1d2330}
main{max-width:460px;margin:32px auto;background:#fff;border-radius:10px;padding:22px 26px;
box-shadow:0 2px 10px rgba(0,0,0,.08)}h1{font-size:20px;margin:0 0 10px}
.brand{font-weight:700;color:#2d6cdf;margin:0 0 12px}a.button{display:inline-block;background:#e4572e;
color:#fff;padding:9px 18px;border-radius:6px;text-decoration:none;font-weight:600}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px}dt{color:#6b7384}dd{margin:0}
.error{color:#b42318}code{word-break:break-all}`;

function page(title, { message = '', error = false, installed = null, job = null } = {}) {
  const parts = [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Body Shop — ${escape(title)}</title>`,
    `<style>${STYLE}</style></head><body><main><p class="brand">Acme Body Shop</p>`,
    `<h1 id="title">${escape(title)}</h1>`,
  ];
  if (message) parts.push(`<p id="message" class="${error ? 'error' : ''}">${escape(message)}</p>`);
  if (installed) {
    parts.push(`<dl id="installed"><dt>Integration</dt><dd><code id="integration-id">${escape(installed)}</code></dd>`);
    if (job) {
      parts.push(`<dt>Job</dt><dd id="job">${escape(job.external_id)} · ${escape(job.status.type)}</dd>`);
      parts.push(`<dt>Claim</dt><dd>${escape(job.claim_number)}</dd>`);
    }
    parts.push('</dl>');
  } else {
    parts.push('<p><a class="button" id="connect" href="/connect">Connect Partly</a></p>');
  }
  if (error) parts.push('<p><a href="/">Back</a></p>');
  parts.push('</main></body></html>');
  return parts.join('');
}

/**
 * The app: `settings` = { clientId, clientSecret, redirectUrl (APP_URL + /partly/callback, exactly
 * as registered), authorizeEndpoint? (another authorize page), baseUrl? (another API),
 * jobReference? }. `logger` gets one line per request, without query strings (the callback's
 * carries the access code). Returns { handle(req, res), installations }.
 */
function createApp(settings, logger = console) {
  const jobReference = settings.jobReference || 'CCC-2026-04817';
  // Server-side state. A real app keeps installations in its database (encrypted at rest).
  const sessions = new Map(); // session id -> { state, integrationId }
  const installations = new Map(); // integration id -> API key: never sent to the browser

  function session(req, res) {
    const cookies = Object.fromEntries(
      (req.headers.cookie || '')
        .split(';')
        .map((c) => c.trim().split('='))
        .filter((kv) => kv.length === 2),
    );
    let id = cookies[SESSION_COOKIE];
    if (!id || !sessions.has(id)) {
      id = crypto.randomBytes(32).toString('hex');
      sessions.set(id, {});
      res.setHeader('set-cookie', `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Lax; Path=/`);
    }
    return sessions.get(id);
  }

  function send(res, status, html) {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  }

  function redirect(res, location) {
    res.writeHead(302, { location });
    res.end();
  }

  async function home(req, res, s) {
    const apiKey = s.integrationId && installations.get(s.integrationId);
    if (!apiKey) return send(res, 200, page('Connect your Partly account'));
    const client = new Client({ apiKey, integrationId: s.integrationId, baseUrl: settings.baseUrl });
    try {
      const job = await client.jobs.get({ external: jobReference }).catch((e) => {
        if (e instanceof NotFoundError) return null;
        throw e;
      });
      return send(res, 200, page('Partly is connected', { installed: s.integrationId, job }));
    } finally {
      client.close();
    }
  }

  function connect(req, res, s) {
    const auth = authorizeUrl({
      clientId: settings.clientId,
      redirectUrl: settings.redirectUrl,
      scopes: ['repairer'],
      endpoint: settings.authorizeEndpoint,
    });
    s.state = auth.state; // new for every attempt
    return redirect(res, auth.url);
  }

  async function callback(req, res, s) {
    const expected = s.state || '';
    delete s.state; // single use: a reload cannot trade twice
    let answer;
    try {
      answer = parseCallback(req.url, expected); // constant-time state check
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      logger.warn(`install rejected: ${e.message}`);
      return send(res, 400, page('Install rejected', { message: e.message, error: true }));
    }
    if (answer.code === null) {
      const message = answer.denied
        ? 'You declined to connect Partly; nothing was installed.'
        : `Partly did not authorize the install: ${answer.errorDescription || answer.error}`;
      return send(res, 400, page('Partly was not connected', { message, error: true }));
    }
    const client = new Client({ baseUrl: settings.baseUrl });
    let installed;
    try {
      installed = await client.integrations.insert({
        accessCode: answer.code,
        clientId: settings.clientId,
        clientSecret: settings.clientSecret,
      });
    } catch (e) {
      if (!(e instanceof PartlyError)) throw e;
      // The SDK's messages never hold the code or the secret.
      logger.warn(`install failed: ${e.message}`);
      return send(res, 502, page('Install failed', { message: `${e.name}: ${e.message}`, error: true }));
    } finally {
      client.close();
    }
    installations.set(installed.integration_id, installed.api_key);
    s.integrationId = installed.integration_id;
    logger.info(`installed integration ${installed.integration_id}`);
    return redirect(res, '/'); // drops the code from the address bar
  }

  const routes = { '/': home, '/connect': connect, [CALLBACK_PATH]: callback };

  async function handle(req, res) {
    const path = new URL(req.url, 'http://app.invalid').pathname;
    const route = req.method === 'GET' ? routes[path] : undefined;
    try {
      if (!route) {
        send(res, 404, page('Not found', { error: true }));
      } else {
        await route(req, res, session(req, res));
      }
    } catch (e) {
      logger.error(`${req.method} ${path} failed: ${e && e.name}`);
      if (!res.headersSent) send(res, 500, page('Something went wrong', { error: true }));
    }
    logger.info(`${req.method} ${path} ${res.statusCode}`);
  }

  return { handle, installations };
}

async function main() {
  const useMock = process.argv.includes('--mock');
  const portArg = process.argv.indexOf('--port');
  const port = Number(portArg > 0 ? process.argv[portArg + 1] : process.env.PORT || 3000);
  let mock = null;
  let partly;
  if (useMock) {
    const { MockServer, DEMO } = require('partly/testing');
    mock = await MockServer.start();
    partly = {
      clientId: DEMO.DEMO_CLIENT_ID,
      clientSecret: DEMO.DEMO_CLIENT_SECRET,
      authorizeEndpoint: mock.authorizeEndpoint,
      baseUrl: mock.url,
    };
  } else {
    partly = {
      clientId: process.env.PARTLY_CLIENT_ID,
      clientSecret: process.env.PARTLY_CLIENT_SECRET,
      authorizeEndpoint: process.env.PARTLY_AUTHORIZE_URL,
    };
  }
  let app = null;
  const server = http.createServer((req, res) => {
    if (app) return app.handle(req, res);
    res.writeHead(503, { 'retry-after': '1' });
    return res.end();
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const appUrl = (process.env.APP_URL || `http://127.0.0.1:${server.address().port}`).replace(/\/$/, '');
  const settings = { ...partly, redirectUrl: appUrl + CALLBACK_PATH };
  if (mock) mock.registerRedirectUrl(settings.redirectUrl);
  app = createApp(settings);
  console.log(`listening on ${appUrl}`);
  const stop = () => server.close(() => (mock ? mock.stop() : undefined));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

module.exports = { createApp, CALLBACK_PATH };

if (require.main === module) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
