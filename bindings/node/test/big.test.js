'use strict';
// Large transfers (R2_NODE_BIG_MIB, default 128; 1024 for the size):
// uploadFile/downloadFile round trip, a slow getStream consumer in bounded
// memory, and the event loop's delay during a big upload and 2000 concurrent
// small GETs (reported with t.diagnostic, never asserted: performance is not
// a test's business here).
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { BUCKET, BIG_MIB, client, prefix, blocks } = require('./helpers');

const MiB = 1 << 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-big-'));
const file = path.join(dir, 'big.bin');
const key = prefix('big') + 'big.bin';
let fileSha;

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

// The JS thread's time on a CPU and waiting for one (ms), from the kernel's
// schedstat: what the binding costs the event loop, apart from the machine's
// load (on a busy 2-CPU machine the thread may wait tens of ms for a CPU).
function jsThread() {
  const [run, wait] = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { cpuMs: run / 1e6, waitMs: wait / 1e6 };
}

function since(t0) {
  const t = jsThread();
  return `JS thread on a CPU ${(t.cpuMs - t0.cpuMs).toFixed(0)} ms, waiting for one ${(t.waitMs - t0.waitMs).toFixed(0)} ms`;
}

// Starts monitorEventLoopDelay and waits until it has taken its first sample
// (it records nothing before that), so the next tick counts.
async function delayMonitor() {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await new Promise((r) => setTimeout(r, 20));
  const t0 = jsThread();
  return () => {
    h.disable();
    return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, meanMs: h.mean / 1e6, js: since(t0), cpuMs: jsThread().cpuMs - t0.cpuMs };
  };
}

test(`uploadFile / downloadFile round trip of ${BIG_MIB} MiB, with the event loop's delay`, async (t) => {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'w');
  for (const b of blocks(BIG_MIB, 7)) { hash.update(b); fs.writeSync(fd, b); }
  // On disk before the clock starts: the kernel writing back this test's own
  // GiB of dirty pages is not the binding's cost to the event loop.
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fileSha = hash.digest('hex');

  const c = client();
  t.after(() => c.close());
  let progressCalls = 0;
  let last = 0;
  const stop = await delayMonitor();
  const t0 = process.hrtime.bigint();
  const up = await c.uploadFile(file, BUCKET, key, {
    partSize: 8 * MiB, concurrency: 4, threshold: 16 * MiB,
    onProgress: ({ bytes, total }) => { progressCalls++; assert.ok(bytes >= last); last = bytes; assert.equal(total, BIG_MIB * MiB); },
  });
  const upSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const upDelay = stop();
  t.diagnostic(`uploadFile ${BIG_MIB} MiB: ${(BIG_MIB / upSec).toFixed(0)} MiB/s; event-loop delay max ${upDelay.maxMs.toFixed(1)} ms, p99 ${upDelay.p99Ms.toFixed(1)} ms; ${upDelay.js}`);
  assert.match(up.etag, /-\d+"$/, 'multipart above the threshold');
  assert.ok(progressCalls >= 1);
  assert.equal(last, BIG_MIB * MiB);
  assert.equal((await c.head(BUCKET, key)).size, BIG_MIB * MiB);

  const target = path.join(dir, 'down.bin');
  const t1 = process.hrtime.bigint();
  await c.downloadFile(BUCKET, key, target, { partSize: 8 * MiB, concurrency: 4, threshold: 16 * MiB });
  const downSec = Number(process.hrtime.bigint() - t1) / 1e9;
  t.diagnostic(`downloadFile ${BIG_MIB} MiB: ${(BIG_MIB / downSec).toFixed(0)} MiB/s`);
  const got = crypto.createHash('sha256');
  for await (const ch of fs.createReadStream(target, { highWaterMark: 4 * MiB })) got.update(ch);
  assert.equal(got.digest('hex'), fileSha);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['big.bin', 'down.bin']);
  fs.rmSync(target);
});

test(`a slow getStream consumer of ${BIG_MIB} MiB: bounded memory, same SHA-256`, async (t) => {
  const c = client();
  t.after(() => c.close());
  global.gc && global.gc();
  const base = process.memoryUsage().rss;
  let peak = base;
  const s = await c.getStream(BUCKET, key);
  const hash = crypto.createHash('sha256');
  let n = 0;
  let chunks = 0;
  for await (const ch of s) {
    hash.update(ch);
    n += ch.length;
    // slow: a pause every 256 KiB, so the server could run far ahead without backpressure
    if (++chunks % 16 === 0) await new Promise((r) => setTimeout(r, 1));
    if (chunks % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  const growth = (peak - base) / MiB;
  t.diagnostic(`getStream ${BIG_MIB} MiB, slow consumer: RSS grew by ${growth.toFixed(1)} MiB at most`);
  assert.equal(n, BIG_MIB * MiB);
  assert.equal(hash.digest('hex'), fileSha);
  // the window (8 MiB) plus the Readable's buffer plus GC slack; a run-away producer would hold the whole object
  assert.ok(growth < Math.min(96, BIG_MIB * 0.75), `RSS grew by ${growth.toFixed(1)} MiB`);
});

test('2000 concurrent small GETs, with the event loop delay', async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('small');
  await Promise.all(Array.from({ length: 20 }, (_, i) => c.put(BUCKET, `${p}${i}`, crypto.randomBytes(4096))));
  // warm: the code paths compiled by V8 and connections open, as in a running service
  await Promise.all(Array.from({ length: 200 }, (_, i) => c.get(BUCKET, `${p}${i % 20}`)));
  // the machine's own noise, for reading the numbers below: the loop doing nothing for 1 s
  const idle = await delayMonitor();
  await new Promise((r) => setTimeout(r, 1000));
  const base = idle();
  t.diagnostic(`idle event loop (1 s, no calls): delay max ${base.maxMs.toFixed(1)} ms, p99 ${base.p99Ms.toFixed(1)} ms; ${base.js}`);
  const stop = await delayMonitor();
  const t0 = process.hrtime.bigint();
  const j0 = jsThread();
  const calls = Array.from({ length: 2000 }, (_, i) => c.get(BUCKET, `${p}${i % 20}`));
  const submitMs = Number(process.hrtime.bigint() - t0) / 1e6; // the caller's own tick: starting 2000 calls
  const submitJs = since(j0);
  const got = await Promise.all(calls);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const d = stop();
  t.diagnostic(`2000 concurrent 4 KiB GETs: ${(2000 / sec).toFixed(0)}/s; the caller's loop starting them took ${submitMs.toFixed(1)} ms (${submitJs}); event-loop delay max ${d.maxMs.toFixed(1)} ms, p99 ${d.p99Ms.toFixed(1)} ms; ${d.js} (${(d.cpuMs * 1000 / 2000).toFixed(0)} µs per call)`);
  assert.ok(got.every((g) => g.body.length === 4096));
  await c.deleteMany(BUCKET, Array.from({ length: 20 }, (_, i) => `${p}${i}`));
  await c.delete(BUCKET, key);
});
