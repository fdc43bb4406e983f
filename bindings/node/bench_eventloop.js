#!/usr/bin/env node
'use strict';
// The event loop's delay while r2 works, beside its floor: Node's own `http`
// module sending the same requests to the same server in the same run
// (presigned URLs made before the clock starts; a keep-alive agent with 64
// sockets, r2's connection limit per host). Alternating rounds of
//   - N concurrent 4 KiB GETs (default 2000): r2 `get` / `http.get`;
//   - a file upload (--size-mib, default 1024): r2 `uploadFile` (multipart,
//     parts of 8 MiB, 4 in flight) / one `http` PUT streamed from the file.
// Per case: the event-loop delay (monitorEventLoopDelay at 5 ms, so an idle
// loop already shows 5 ms) as the largest and the median of the rounds'
// maxima and the median p99, the JS thread's CPU (schedstat) and the rate.
// --server-cpu holds the test server to one CPU (R2_TEST_SERVER_PID, as
// test/big.test.js does); --rounds N (default 5; uploads: 2);
// --gets N; --size-mib N (0: no uploads). Needs R2_TEST_* (make node-bench-loop).
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const { execFileSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const r2 = require('.');
const { withServerOnOneCpu } = require('./test/helpers');

const env = process.env;
const BUCKET = env.R2_TEST_BUCKET || 'r2-test';
const MiB = 1 << 20;
const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const ROUNDS = arg('--rounds', 5);
const GETS = arg('--gets', 2000);
const SIZE_MIB = arg('--size-mib', 1024);

function jsThreadMs() {
  return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

// Runs fn once under the delay monitor: { maxMs, p99Ms, cpuMs, sec }. First a
// settled heap and `sync`, so neither the garbage nor the server's dirty pages
// of the round before (written back 30 s later) land in this one.
async function measured(fn) {
  if (global.gc) global.gc();
  execFileSync('sync');
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await new Promise((r) => setTimeout(r, 20)); // its first sample
  const cpu0 = jsThreadMs();
  const t0 = process.hrtime.bigint();
  await fn();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuMs = jsThreadMs() - cpu0;
  h.disable();
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, cpuMs, sec };
}

function httpGet(url, agent) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${res.statusCode}`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function httpPutFile(url, file, size, agent) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', agent, headers: { 'content-length': size } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${res.statusCode}`))));
    });
    req.on('error', reject);
    fs.createReadStream(file, { highWaterMark: MiB }).on('error', reject).pipe(req);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function row(name, runs, rate) {
  const maxes = runs.map((r) => r.maxMs);
  return `${name.padEnd(34)} delay max ${Math.max(...maxes).toFixed(1)} ms (median of rounds ${median(maxes).toFixed(1)}; ` +
    `rounds ${maxes.map((m) => m.toFixed(1)).join(', ')}), p99 ${median(runs.map((r) => r.p99Ms)).toFixed(1)} ms; ` +
    `JS thread ${median(runs.map((r) => r.cpuMs)).toFixed(0)} ms CPU; ${rate(median(runs.map((r) => r.sec)))}`;
}

async function main() {
  const c = new r2.Client({
    endpoint: env.R2_TEST_ENDPOINT, allowHttp: true, accessKeyId: env.R2_TEST_ACCESS_KEY_ID,
    secretAccessKey: env.R2_TEST_SECRET_ACCESS_KEY, payload: 'unsigned',
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const p = `bench-eventloop-${crypto.randomBytes(3).toString('hex')}/`;
  const keys = Array.from({ length: 20 }, (_, i) => `${p}small/${i}`);
  await Promise.all(keys.map((k) => c.put(BUCKET, k, crypto.randomBytes(4096))));
  const urls = keys.map((k) => c.presign('GET', BUCKET, k, 3600));
  const r2Gets = () => Promise.all(Array.from({ length: GETS }, (_, i) => c.get(BUCKET, keys[i % 20])))
    .then((got) => { if (!got.every((g) => g.body.length === 4096)) throw new Error('r2: a body of the wrong size'); });
  const httpGets = () => Promise.all(Array.from({ length: GETS }, (_, i) => httpGet(urls[i % 20], agent)))
    .then((got) => { if (!got.every((b) => b.length === 4096)) throw new Error('http: a body of the wrong size'); });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-bench-eventloop-'));
  const file = path.join(dir, 'up.bin');
  if (SIZE_MIB > 0) {
    const fd = fs.openSync(file, 'w');
    const block = crypto.randomBytes(MiB);
    for (let m = 0; m < SIZE_MIB; m++) { block.writeUInt32BE(m, 0); fs.writeSync(fd, block); }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  const putUrl = c.presign('PUT', BUCKET, `${p}up-http.bin`, 3600);

  const results = { r2Gets: [], httpGets: [], r2Up: [], httpUp: [] };
  const run = async () => {
    for (let k = 0; k < 2; k++) { await r2Gets(); await httpGets(); } // warm: compiled code, open connections
    for (let r = 0; r < ROUNDS; r++) {
      results.r2Gets.push(await measured(r2Gets));
      results.httpGets.push(await measured(httpGets));
    }
    // Idle keep-alive sockets left in the agent cost the JS thread ~150 ms of CPU per GiB
    // uploaded by r2 (measured: 206-287 ms with them, 72 ms without), so they go first;
    // each PUT has a connection of its own.
    agent.destroy();
    for (let r = 0; SIZE_MIB > 0 && r < Math.min(ROUNDS, 2); r++) {
      results.r2Up.push(await measured(() => c.uploadFile(file, BUCKET, `${p}up-r2.bin`, { partSize: 8 * MiB, concurrency: 4, threshold: 16 * MiB })));
      results.httpUp.push(await measured(() => httpPutFile(putUrl, file, SIZE_MIB * MiB, false)));
    }
  };
  let split = 'server on the same CPUs as this process';
  try {
    if (args.includes('--server-cpu')) split = await withServerOnOneCpu(run);
    else await run();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const all = [];
  for await (const o of c.listAll(BUCKET, { prefix: p })) all.push(o.key);
  await c.deleteMany(BUCKET, all);
  c.close();

  console.log(`r2 ${r2.version}, Node ${process.version}: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ${split}`);
  const getRate = (sec) => `${(GETS / sec).toFixed(0)} GETs/s`;
  const upRate = (sec) => `${(SIZE_MIB / sec).toFixed(0)} MiB/s`;
  console.log(row(`${GETS} concurrent 4 KiB GETs, r2`, results.r2Gets, getRate));
  console.log(row(`${GETS} concurrent 4 KiB GETs, http`, results.httpGets, getRate));
  if (SIZE_MIB > 0) {
    console.log(row(`${SIZE_MIB} MiB upload, r2 uploadFile`, results.r2Up, upRate));
    console.log(row(`${SIZE_MIB} MiB upload, http PUT`, results.httpUp, upRate));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
