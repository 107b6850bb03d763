// One bulk-preload benchmark process (Node): tier1.prepareAll of `n` identifiers from a
// generator (`adaptive`, the SDK's default), or `fixed`: the behaviour before the adaptive
// limiter (batches of 100, 8 in flight, default retries). Prints one JSON line. Run by
// tests/bench/preload.py.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { Client } = require('../../../bindings-node');
const { DEMO } = require('../../../bindings-node/testing');

const { values: a } = parseArgs({
  options: {
    url: { type: 'string' },
    n: { type: 'string' },
    mode: { type: 'string', default: 'adaptive' },
    prefix: { type: 'string', default: 'P0' },
  },
});
const n = Number(a.n);

function status(field) {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(field));
  return line ? Number(line.split(/\s+/)[1]) : 0;
}

function* ids() {
  for (let i = 0; i < n; i++) yield `${a.prefix}-${String(i).padStart(9, '0')}`;
}

const client = new Client({ baseUrl: a.url, apiKey: DEMO.DEMO_API_KEY, integrationId: DEMO.DEMO_INTEGRATION_ID });
const rss0 = status('VmRSS:');
const t0 = performance.now();
let accepted = 0;
let failed = 0;
let throttled = null;
if (a.mode === 'fixed') {
  const it = ids();
  const worker = async () => {
    for (;;) {
      const batch = [];
      for (let s = it.next(); !s.done; s = batch.length < 100 ? it.next() : { done: true }) batch.push(s.value);
      if (batch.length === 0) return;
      try {
        await client.tier1.prepare(batch);
        accepted += batch.length;
      } catch {
        failed += batch.length;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
} else {
  const report = await client.tier1.prepareAll(ids());
  ({ accepted, failed, throttled } = report);
}
const elapsed = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    lang: 'node',
    mode: a.mode,
    n,
    elapsed_s: elapsed,
    accepted,
    failed,
    throttled,
    rss_start_kb: rss0,
    rss_peak_kb: status('VmHWM:'),
    ids_per_s: n / elapsed,
  }),
);
await client.close();
