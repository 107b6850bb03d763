// One benchmark client process for tests/bench/run.py: `--calls` calls of one scenario with
// `--concurrency` in flight, through the partly package, global fetch or undici.request, each
// with the same headers, JSON decoded into objects, and one shared connection pool. Prints one
// JSON line: wall seconds, CPU seconds (user + system), peak RSS.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { values: a } = parseArgs({
  options: {
    client: { type: 'string' },
    scenario: { type: 'string' },
    url: { type: 'string' },
    calls: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '1' },
  },
});
const calls = Number(a.calls);
const concurrency = Number(a.concurrency);
const KEY = 'pk_demo_7c1f0e5a2b9d4c83a6e15f0b9d2c4e71';
const INTEGRATION = '6f2d8a41-93c5-4b7e-a0d2-1c5e9b7f3a60';
const SITE = '2d6b9a4e-8f13-4c57-b0e2-6a9d3f1c7e85';
const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json',
  authorization: `Bearer ${KEY}`,
  'partly-integration-id': INTEGRATION,
};

function body(scenario, i) {
  switch (scenario) {
    case 'get':
    case 'memory':
      return ['jobs.get', { identity: { external: 'CCC-2026-04817' } }];
    case 'insert':
      return [
        'jobs.insert',
        {
          data: { repairer_site_id: SITE, claim_number: `CLM-${i}` },
          identity: { external: 'BENCH-1' },
          if_: { exists: 'update' },
        },
      ];
    case 'prepare':
      return [
        'tier1.prepare',
        {
          identifiers: Array.from({ length: 100 }, (_, k) => ({
            chassis_number: `JH4KA7561PC${String((i % 7) * 1000 + k).padStart(6, '0')}`,
          })),
        },
      ];
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

if (a.scenario === 'soak') {
  // `calls` calls through one client with `concurrency` in flight; every outcome counted.
  const partly = require(path.join(here, '..', '..', '..', 'bindings-node'));
  const client = new partly.Client({ apiKey: KEY, integrationId: INTEGRATION, baseUrl: a.url });
  const rssStart = rssKb();
  let ok = 0;
  const errors = {};
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, calls) }, async () => {
      while (next < calls) {
        next++;
        try {
          await client.jobs.get({ external: 'CCC-2026-04817' });
          ok++;
        } catch (e) {
          if (!(e instanceof partly.PartlyError)) throw e;
          errors[e.name] = (errors[e.name] || 0) + 1;
        }
      }
    }),
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await client.close();
  const accounted = ok + Object.values(errors).reduce((x, y) => x + y, 0);
  console.log(
    JSON.stringify({
      calls,
      concurrency,
      ok,
      errors,
      accounted,
      wall_s: wall,
      cpu_s: (cpu.user + cpu.system) / 1e6,
      calls_per_s: calls / wall,
      rss_start_kb: rssStart,
      rss_end_kb: rssKb(),
      max_rss_kb: process.resourceUsage().maxRSS,
    }),
  );
  process.exit(accounted === calls ? 0 : 1);
}

function rssKb() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
  return Math.round(process.memoryUsage.rss() / 1024);
}

let call;
if (a.client === 'partly') {
  const { Client } = require(path.join(here, '..', '..', '..', 'bindings-node'));
  const client = new Client({ apiKey: KEY, integrationId: INTEGRATION, baseUrl: a.url });
  call = (i) => {
    switch (a.scenario) {
      case 'get':
      case 'memory':
        return client.jobs.get({ external: 'CCC-2026-04817' });
      case 'insert':
        return client.jobs.insert({
          external: 'BENCH-1',
          data: { repairer_site_id: SITE, claim_number: `CLM-${i}` },
          ifExists: 'update',
        });
      case 'prepare':
        return client.tier1.prepare(body('prepare', i)[1].identifiers);
      default:
        throw new Error(`unknown scenario ${a.scenario}`);
    }
  };
} else if (a.client === 'fetch') {
  call = async (i) => {
    const [method, b] = body(a.scenario, i);
    const r = await fetch(`${a.url}/api/2026-01/${method}`, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify(b),
    });
    if (!r.ok) throw new Error(`status ${r.status}`);
    return r.json();
  };
} else if (a.client === 'undici') {
  const { request, Agent } = require(path.join(here, 'node_modules', 'undici'));
  const dispatcher = new Agent({ connections: Math.max(concurrency, 1) });
  call = async (i) => {
    const [method, b] = body(a.scenario, i);
    const r = await request(`${a.url}/api/2026-01/${method}`, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify(b),
      dispatcher,
    });
    if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
    return r.body.json();
  };
} else {
  throw new Error(`unknown client ${a.client}`);
}

async function run(n) {
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      await call(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

await run(Math.max(20, concurrency));
let rssAfterWarm = 0;
if (a.scenario === 'memory') {
  await run(1000);
  rssAfterWarm = rssKb();
}
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
await run(calls);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    calls,
    wall_s: wall,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    max_rss_kb: process.resourceUsage().maxRSS,
    rss_after_warm_kb: rssAfterWarm,
    rss_end_kb: rssKb(),
  }),
);
