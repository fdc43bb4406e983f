'use strict';
// Large transfers (R2_NODE_BIG_MIB, default 128; 1024 for the size):
// uploadFile/downloadFile round trip, a slow getStream consumer in bounded
// memory, and the event loop's delay during a big upload and 2000 concurrent
// small GETs, with the server sharing the client's CPUs and held to one CPU
// (reported with t.diagnostic, never asserted: performance is not a test's
// business here).
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const v8 = require('node:v8');
const vm = require('node:vm');
const { BUCKET, BIG_MIB, client, prefix, blocks, withServerOnOneCpu } = require('./helpers');

const MiB = 1 << 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-big-'));
const file = path.join(dir, 'big.bin');
const key = prefix('big') + 'big.bin';
let fileSha;

const uploadOptions = { partSize: 8 * MiB, concurrency: 4, threshold: 16 * MiB };

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

// A full garbage collection, so a measurement starts from a settled heap: the
// test's own garbage from before (the GiB of Buffers written to the file or
// read from a stream) is otherwise collected during the next measurement.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');

// Starts monitorEventLoopDelay and waits until it has taken its first sample
// (it records nothing before that), so the next tick counts. Before that, a
// settled heap, and `sync`: the server's GiB from the test before is
// otherwise written back by the kernel's flusher threads (30 s after it was
// written) during the next measurement.
async function delayMonitor() {
  collectGarbage();
  execFileSync('sync');
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await new Promise((r) => setTimeout(r, 20));
  const t0 = jsThread();
  return () => {
    h.disable();
    return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, meanMs: h.mean / 1e6, js: since(t0), cpuMs: jsThread().cpuMs - t0.cpuMs };
  };
}

// monitorEventLoopDelay records the whole time between two ticks of its
// timer, so an idle loop already shows the resolution (5 ms) as its delay.
function delayText(d) {
  return `event-loop delay max ${d.maxMs.toFixed(1)} ms, p99 ${d.p99Ms.toFixed(1)} ms`;
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
    ...uploadOptions,
    onProgress: ({ bytes, total }) => { progressCalls++; assert.ok(bytes >= last); last = bytes; assert.equal(total, BIG_MIB * MiB); },
  });
  const upSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const upDelay = stop();
  t.diagnostic(`uploadFile ${BIG_MIB} MiB, server on the same CPUs: ${(BIG_MIB / upSec).toFixed(0)} MiB/s; ${delayText(upDelay)}; ${upDelay.js}`);
  assert.match(up.etag, /-\d+"$/, 'multipart above the threshold');
  assert.ok(progressCalls >= 1);
  assert.equal(last, BIG_MIB * MiB);
  assert.equal((await c.head(BUCKET, key)).size, BIG_MIB * MiB);

  const target = path.join(dir, 'down.bin');
  const t1 = process.hrtime.bigint();
  await c.downloadFile(BUCKET, key, target, uploadOptions);
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
  collectGarbage();
  const base = process.memoryUsage().rss;
  let peak = base;
  const s = await c.getStream(BUCKET, key);
  const hash = crypto.createHash('sha256');
  let n = 0;
  let chunks = 0;
  let nextGc = 16 * MiB;
  for await (const ch of s) {
    hash.update(ch);
    n += ch.length;
    // slow: a pause every 256 KiB, so the server could run far ahead without backpressure
    if (++chunks % 16 === 0) await new Promise((r) => setTimeout(r, 1));
    if (chunks % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    // What this checks is what the stream holds, not how late V8 collects
    // the chunks already read: those are freed every 16 MiB.
    if (n >= nextGc) { collectGarbage(); nextGc += 16 * MiB; }
  }
  const growth = (peak - base) / MiB;
  t.diagnostic(`getStream ${BIG_MIB} MiB, slow consumer: RSS grew by ${growth.toFixed(1)} MiB at most`);
  assert.equal(n, BIG_MIB * MiB);
  assert.equal(hash.digest('hex'), fileSha);
  // the window (8 MiB) plus the Readable's buffer plus GC slack; a run-away producer would hold the whole object
  assert.ok(growth < Math.min(96, BIG_MIB * 0.75), `RSS grew by ${growth.toFixed(1)} MiB`);
});

// 2000 concurrent 4 KiB GETs of 20 keys under p, with the event loop's delay.
async function smallGets(t, c, p, where) {
  const stop = await delayMonitor();
  const t0 = process.hrtime.bigint();
  const j0 = jsThread();
  const calls = Array.from({ length: 2000 }, (_, i) => c.get(BUCKET, `${p}${i % 20}`));
  const submitMs = Number(process.hrtime.bigint() - t0) / 1e6; // the caller's own tick: starting 2000 calls
  const submitJs = since(j0);
  const got = await Promise.all(calls);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const d = stop();
  t.diagnostic(`2000 concurrent 4 KiB GETs, ${where}: ${(2000 / sec).toFixed(0)}/s; the caller's loop starting them took ${submitMs.toFixed(1)} ms (${submitJs}); ${delayText(d)}; ${d.js} (${(d.cpuMs * 1000 / 2000).toFixed(0)} µs per call)`);
  assert.ok(got.every((g) => g.body.length === 4096));
}

test('2000 concurrent small GETs, with the event loop delay', async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('small');
  await Promise.all(Array.from({ length: 20 }, (_, i) => c.put(BUCKET, `${p}${i}`, crypto.randomBytes(4096))));
  // warm: the code paths compiled by V8 and connections open, as in a running service
  await Promise.all(Array.from({ length: 2000 }, (_, i) => c.get(BUCKET, `${p}${i % 20}`)));
  // the machine's own noise, for reading the numbers below: the loop doing nothing for 1 s
  const idle = await delayMonitor();
  await new Promise((r) => setTimeout(r, 1000));
  const base = idle();
  t.diagnostic(`idle event loop (1 s, no calls): ${delayText(base)}; ${base.js}`);
  await smallGets(t, c, p, 'server on the same CPUs');
  await c.deleteMany(BUCKET, Array.from({ length: 20 }, (_, i) => `${p}${i}`));
});

test(`the event loop during a ${BIG_MIB} MiB uploadFile and 2000 small GETs, with the server on one CPU`, async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('small-apart');
  await Promise.all(Array.from({ length: 20 }, (_, i) => c.put(BUCKET, `${p}${i}`, crypto.randomBytes(4096))));
  await Promise.all(Array.from({ length: 2000 }, (_, i) => c.get(BUCKET, `${p}${i % 20}`)));
  const split = await withServerOnOneCpu(async () => {
    const stop = await delayMonitor();
    const t0 = process.hrtime.bigint();
    const up = await c.uploadFile(file, BUCKET, key, uploadOptions);
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const d = stop();
    t.diagnostic(`uploadFile ${BIG_MIB} MiB, server on one CPU: ${(BIG_MIB / sec).toFixed(0)} MiB/s; ${delayText(d)}; ${d.js}`);
    assert.match(up.etag, /-\d+"$/);
    await smallGets(t, c, p, 'server on one CPU');
  });
  t.diagnostic(split);
  assert.equal((await c.head(BUCKET, key)).size, BIG_MIB * MiB);
  await c.deleteMany(BUCKET, [key, ...Array.from({ length: 20 }, (_, i) => `${p}${i}`)]);
});
