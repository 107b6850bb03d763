'use strict';
// What `onProgress` costs per call in Node: `prepareAll` of 100,000 identifiers in requests of
// 10 (10,000 progress calls) against the in-process mock, without a callback and with one that
// does nothing; the median of 5 interleaved runs of each. Reported: wall time, and the event
// loop's active time (the JavaScript thread, where the progress objects are made and the
// callback runs), far less disturbed by other load than wall time. Run after `make build-node`.

const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { MockServer } = require(path.join(__dirname, '..', '..', '..', 'bindings-node', 'testing'));

const N = 100000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const mock = await MockServer.start();
  const client = mock.client();
  const ids = Array.from({ length: N }, (_, i) => `JH4KA7561PC${String(i).padStart(6, '0')}`);
  const runs = { false: [], true: [] };
  let calls = 0;
  const onProgress = () => {
    calls++;
  };
  for (let k = 0; k < 5; k++) {
    for (const withCb of [false, true]) {
      calls = 0;
      const elu = performance.eventLoopUtilization();
      const start = process.hrtime.bigint();
      const report = await client.tier1.prepareAll(ids, { batchSize: 10, onProgress: withCb ? onProgress : undefined });
      const wall = Number(process.hrtime.bigint() - start) / 1e9;
      const active = performance.eventLoopUtilization(elu).active / 1000;
      if (report.accepted !== N) throw new Error(`accepted ${report.accepted} of ${N}`);
      runs[withCb].push([wall, active, calls]);
    }
  }
  const m = (withCb, i) => median(runs[withCb].map((r) => r[i]));
  const n = runs.true[0][2];
  const perCall = (i) => (((m(true, i) - m(false, i)) / n) * 1e6).toFixed(1);
  console.log(
    `node: wall ${m(false, 0).toFixed(3)} s -> ${m(true, 0).toFixed(3)} s with onProgress (${n} calls): ` +
      `${perCall(0)} us/call; JS-thread active ${m(false, 1).toFixed(3)} s -> ${m(true, 1).toFixed(3)} s: ${perCall(1)} us/call`,
  );
  await mock.stop();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
