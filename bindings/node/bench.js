#!/usr/bin/env node
'use strict';
// Benchmarks of the Node binding (make node-bench starts a local server):
// 1. r2.Signer.sign and client.presign per call (µs, median of 5 rounds);
// 2. listing 1000 objects (one ListObjectsV2 page, ms, median of 5);
// 3. 4 KiB GETs and PUTs with 16 and 256 in flight (calls per second);
// 4. a file up and down (--size-mib, default 1024), each in its own process:
//    wall time, CPU (user + sys) per GiB and peak RSS of that process.
// Options: --size-mib N, --skip-transfers. Needs R2_TEST_* (scripts/test-server.sh).
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const r2 = require('.');

const env = process.env;
const BUCKET = env.R2_TEST_BUCKET || 'r2-test';
// UNSIGNED-PAYLOAD, as r2's C benchmark and curl send it (signed adds a SHA-256 of every part).
const options = () => ({
  endpoint: env.R2_TEST_ENDPOINT, allowHttp: true, accessKeyId: env.R2_TEST_ACCESS_KEY_ID, secretAccessKey: env.R2_TEST_SECRET_ACCESS_KEY,
  payload: 'unsigned',
});

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function perCallUs(fn, n = 20000, rounds = 5) {
  for (let i = 0; i < 1000; i++) fn();
  const r = [];
  for (let k = 0; k < rounds; k++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    r.push(Number(process.hrtime.bigint() - t0) / 1e3 / n);
  }
  return median(r);
}

async function inFlight(n, limit, op) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n) await op(next++);
  }));
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

// Child mode: one transfer, reported as JSON.
async function child(direction, file, key) {
  const c = new r2.Client(options());
  const t0 = process.hrtime.bigint();
  if (direction === 'up') await c.uploadFile(file, BUCKET, key);
  else await c.downloadFile(BUCKET, key, file);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const u = process.resourceUsage();
  c.close();
  process.stdout.write(JSON.stringify({ wall, cpu: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRssMiB: u.maxRSS / 1024 }));
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1], args[2], args[3]);
  const sizeMib = Number(args[args.indexOf('--size-mib') + 1]) || (args.includes('--size-mib') ? 0 : 1024);
  const rows = [];
  const signer = new r2.Signer({ accessKeyId: 'AKIDEXAMPLE0BENCH001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });
  const req = { method: 'GET', path: '/bucket/some/key.txt', headers: [['host', 'acct.r2.cloudflarestorage.com']], payloadHash: 'UNSIGNED-PAYLOAD', date: '2024-05-06T07:08:09Z' };
  rows.push(['sign (r2.Signer.sign)', `${perCallUs(() => signer.sign(req)).toFixed(2)} µs/call`]);
  const c = new r2.Client(options());
  rows.push(['presign (client.presign)', `${perCallUs(() => c.presign('GET', BUCKET, 'some/key.txt', 3600)).toFixed(2)} µs/call`]);

  const p = `bench-${crypto.randomBytes(3).toString('hex')}/`;
  const keys = Array.from({ length: 1000 }, (_, i) => `${p}list/${String(i).padStart(4, '0')}`);
  await inFlight(keys.length, 64, (i) => c.put(BUCKET, keys[i], 'x'));
  const listMs = [];
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    const page = await c.list(BUCKET, { prefix: `${p}list/`, maxKeys: 1000 });
    listMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (page.objects.length !== 1000) throw new Error(`listed ${page.objects.length}`);
  }
  rows.push(['list 1000 objects (one page)', `${median(listMs).toFixed(1)} ms`]);

  const small = crypto.randomBytes(4096);
  await c.put(BUCKET, `${p}small`, small);
  for (const limit of [16, 256]) {
    rows.push([`4 KiB GET, ${limit} in flight`, `${(await inFlight(4000, limit, () => c.get(BUCKET, `${p}small`))).toFixed(0)} /s`]);
    rows.push([`4 KiB PUT, ${limit} in flight`, `${(await inFlight(4000, limit, (i) => c.put(BUCKET, `${p}put/${i % 100}`, small))).toFixed(0)} /s`]);
  }
  const all = [];
  for await (const o of c.listAll(BUCKET, { prefix: p })) all.push(o.key);
  await c.deleteMany(BUCKET, all);

  if (sizeMib > 0 && !args.includes('--skip-transfers')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-bench-'));
    try {
      const file = path.join(dir, 'up.bin');
      const fd = fs.openSync(file, 'w');
      const block = crypto.randomBytes(1 << 20);
      for (let m = 0; m < sizeMib; m++) fs.writeSync(fd, block);
      fs.closeSync(fd);
      const key = `${p}big.bin`;
      for (const [direction, target] of [['up', file], ['down', path.join(dir, 'down.bin')]]) {
        const out = JSON.parse(execFileSync(process.execPath, [__filename, '--child', direction, target, key], { encoding: 'utf8' }));
        const gib = sizeMib / 1024;
        rows.push([`${sizeMib} MiB ${direction === 'up' ? 'uploadFile' : 'downloadFile'}`,
          `${(sizeMib / out.wall).toFixed(0)} MiB/s, CPU ${(out.cpu / gib).toFixed(2)} s/GiB, peak RSS ${out.maxRssMiB.toFixed(0)} MiB`]);
      }
      await c.delete(BUCKET, key);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  c.close();
  const w = Math.max(...rows.map(([a]) => a.length));
  console.log(`r2 Node binding ${r2.version}, node ${process.version}, ${os.cpus().length} CPUs`);
  for (const [a, b] of rows) console.log(`${a.padEnd(w)}  ${b}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
