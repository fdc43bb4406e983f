#!/usr/bin/env node
'use strict';
// The JS thread's cost of many concurrent small calls, for A/B runs of the
// binding: node bench_loop.js [binding dir] [rounds] [n] prints one JSON
// line, a record per round of n concurrent 4 KiB GETs (after 3 warm rounds):
// the caller's loop that starts them (wall ms), the JS thread's CPU per call
// (µs, from /proc schedstat: robust to the machine's load, coarse below a few
// ms) and its time waiting for a CPU (ms), calls per second, and the event
// loop's delay (max, p99; monitorEventLoopDelay at 5 ms). ENGINE_NICE=N
// renices r2's engine threads (r2-engine-*) to N first. Needs R2_TEST_*
// (scripts/test-server.sh); run two bindings alternately for an A/B.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { monitorEventLoopDelay } = require('node:perf_hooks');

const r2 = require(path.resolve(process.argv[2] || __dirname));
const ROUNDS = Number(process.argv[3] || 5);
const N = Number(process.argv[4] || 2000);
const env = process.env;
const BUCKET = env.R2_TEST_BUCKET || 'r2-test';

function jsThread() {
  const [run, wait] = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { cpu: run / 1e6, wait: wait / 1e6 };
}

(async () => {
  const c = new r2.Client({ endpoint: env.R2_TEST_ENDPOINT, allowHttp: true, accessKeyId: env.R2_TEST_ACCESS_KEY_ID, secretAccessKey: env.R2_TEST_SECRET_ACCESS_KEY });
  const p = `bench-loop-${crypto.randomBytes(3).toString('hex')}/`;
  await Promise.all(Array.from({ length: 20 }, (_, i) => c.put(BUCKET, `${p}${i}`, crypto.randomBytes(4096))));
  for (let k = 0; k < 3; k++) await Promise.all(Array.from({ length: N }, (_, i) => c.get(BUCKET, `${p}${i % 20}`)));
  if (env.ENGINE_NICE) {
    for (const t of fs.readdirSync('/proc/self/task')) {
      if (fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').startsWith('r2-engine')) os.setPriority(Number(t), Number(env.ENGINE_NICE));
    }
  }
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    await new Promise((res) => setTimeout(res, 20)); // its first sample
    const j0 = jsThread();
    const t0 = process.hrtime.bigint();
    const calls = new Array(N);
    for (let i = 0; i < N; i++) calls[i] = c.get(BUCKET, `${p}${i % 20}`);
    const tickMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const got = await Promise.all(calls);
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const j1 = jsThread();
    h.disable();
    if (!got.every((g) => g.body.length === 4096)) throw new Error('a body of the wrong size');
    rounds.push({
      tickMs, cpuUsPerCall: (j1.cpu - j0.cpu) * 1e3 / N, waitMs: j1.wait - j0.wait, perSec: N / sec,
      maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6,
    });
    await new Promise((res) => setTimeout(res, 50));
  }
  await c.deleteMany(BUCKET, Array.from({ length: 20 }, (_, i) => `${p}${i}`));
  c.close();
  process.stdout.write(JSON.stringify(rounds) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
