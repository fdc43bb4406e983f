#!/usr/bin/env node
'use strict';
// Benchmarks of the Node binding beside the Python binding and C, in one run
// against one local server (make node-bench starts it):
// 1. r2.Signer.sign and client.presign per call (µs, median of 5 rounds);
// 2. listing 1000 objects (one ListObjectsV2 page: wall and client CPU, ms,
//    median of 5; Python beside it);
// 3. 4 KiB GETs and PUTs with 16 and 256 in flight: calls per second and
//    client CPU per call (the whole process: JS thread and r2's engine threads),
//    and the event loop's largest delay while they run. Python: a pool of 16 /
//    256 threads of blocking calls (bench_python.py); C: 16 / 256 threads
//    (Tests/CABITests/bench_transfer);
// 4. a file up and down (--size-mib, default 1024) through the transfer
//    manager with r2's defaults, each in its own process (downloads: the
//    median of 3 rounds, order rotated): throughput, CPU
//    (user + sys) per GiB and peak RSS of that process (C: bench_multipart
//    under GNU time). SHA-256 of every download checked.
// Options: --size-mib N, --ops N (default 4000), --skip-transfers, --node-only.
// Needs R2_TEST_* (scripts/test-server.sh).
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const r2 = require('.');

const env = process.env;
const BUCKET = env.R2_TEST_BUCKET || 'r2-test';
const ROOT = path.resolve(__dirname, '..', '..');
const CBIN = path.join(ROOT, '.build', 'r2-c');
const PYTHON = fs.existsSync(path.join(ROOT, '.venv', 'bin', 'python')) ? path.join(ROOT, '.venv', 'bin', 'python') : 'python3';
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
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  if (direction === 'up') await c.uploadFile(file, BUCKET, key);
  else await c.downloadFile(BUCKET, key, file);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  c.close();
  process.stdout.write(JSON.stringify({ wall, cpu: (cpu.user + cpu.system) / 1e6, user: cpu.user / 1e6, sys: cpu.system / 1e6,
    maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

function sha256File(file) {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(8 << 20);
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  fs.closeSync(fd);
  return h.digest('hex');
}

// Runs cmd under GNU time: its stdout and peak RSS (MiB).
function timed(cmd, args, opts = {}) {
  const out = path.join(os.tmpdir(), `r2-bench-time-${process.pid}`);
  const stdout = execFileSync('/usr/bin/time', ['-f', '%M', '-o', out, cmd, ...args], { encoding: 'utf8', ...opts });
  const rss = Number(fs.readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024;
  fs.rmSync(out, { force: true });
  return { stdout, rss };
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1], args[2], args[3]);
  const arg = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
  const sizeMib = arg('--size-mib', 1024);
  const ops = arg('--ops', 4000);
  const peers = !args.includes('--node-only');
  const rows = [];
  const signer = new r2.Signer({ accessKeyId: 'AKIDEXAMPLE0BENCH001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });
  const req = { method: 'GET', path: '/bucket/some/key.txt', headers: [['host', 'acct.r2.cloudflarestorage.com']], payloadHash: 'UNSIGNED-PAYLOAD', date: '2024-05-06T07:08:09Z' };
  rows.push(['sign (r2.Signer.sign)', 'Node', `${perCallUs(() => signer.sign(req)).toFixed(2)} µs/call`]);
  const c = new r2.Client(options());
  rows.push(['presign (client.presign)', 'Node', `${perCallUs(() => c.presign('GET', BUCKET, 'some/key.txt', 3600)).toFixed(2)} µs/call`]);

  const p = `bench-${crypto.randomBytes(3).toString('hex')}/`;
  const keys = Array.from({ length: 1000 }, (_, i) => `${p}list/${String(i).padStart(4, '0')}`);
  await inFlight(keys.length, 64, (i) => c.put(BUCKET, keys[i], 'x'));
  const listMs = [];
  const listCpuMs = [];
  await c.list(BUCKET, { prefix: `${p}list/`, maxKeys: 1000 }); // warm up
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const page = await c.list(BUCKET, { prefix: `${p}list/`, maxKeys: 1000 });
    const cpu = process.cpuUsage(cpu0);
    listMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    listCpuMs.push((cpu.user + cpu.system) / 1e3);
    if (page.objects.length !== 1000) throw new Error(`listed ${page.objects.length}`);
  }
  // wall includes the server's answer; client CPU is the process's (JS thread and engine)
  rows.push(['list 1000 objects (one page)', 'Node', `${median(listMs).toFixed(1)} ms, client CPU ${median(listCpuMs).toFixed(2)} ms`]);
  if (peers) {
    const py = JSON.parse(execFileSync(PYTHON, [path.join(__dirname, 'bench_python.py'), 'list', `${p}list/`], { encoding: 'utf8' }));
    rows.push(['', 'Python', `${(py.wall * 1e3).toFixed(1)} ms, client CPU ${(py.cpu * 1e3).toFixed(2)} ms`]);
  }

  // 4 KiB calls: the same 100 keys for every tool (PUTs overwrite them, GETs read them)
  const small = crypto.randomBytes(4096);
  const smallKey = (i) => `${p}small/${String(i % 100).padStart(3, '0')}`;
  await inFlight(100, 16, (i) => c.put(BUCKET, smallKey(i), small));
  for (const op of ['GET', 'PUT']) {
    for (const limit of [16, 256]) {
      const call = op === 'GET' ? (i) => c.get(BUCKET, smallKey(i)) : (i) => c.put(BUCKET, smallKey(i), small);
      await inFlight(limit, limit, call); // warm up: connections open
      const h = monitorEventLoopDelay({ resolution: 5 });
      h.enable();
      const cpu0 = process.cpuUsage();
      const perSec = await inFlight(ops, limit, call);
      const cpu = process.cpuUsage(cpu0);
      h.disable();
      rows.push([`4 KiB ${op}, ${limit} in flight`, 'Node', `${perSec.toFixed(0)} /s, CPU ${((cpu.user + cpu.system) / ops).toFixed(0)} µs/op, ` +
        `event-loop delay max ${(h.max / 1e6).toFixed(1)} ms`]);
      if (!peers) continue;
      const py = JSON.parse(execFileSync(PYTHON, [path.join(__dirname, 'bench_python.py'), 'small', op.toLowerCase(), String(ops), String(limit), `${p}small/`], { encoding: 'utf8' }));
      rows.push(['', 'Python', `${(py.ops / py.wall).toFixed(0)} /s, CPU ${(py.cpu / py.ops * 1e6).toFixed(0)} µs/op (${limit} threads)`]);
      const out = execFileSync(path.join(CBIN, 'bench_transfer'), [env.R2_TEST_ENDPOINT], {
        encoding: 'utf8', env: { ...env, BENCH_MIB: '0', BENCH_SMALL_OPS: String(ops), BENCH_THREADS: String(limit) },
      });
      const m = out.match(new RegExp(`x 4 KiB ${op}, \\d+ threads: (\\d+) ops/s, client CPU (\\d+) us/op`));
      rows.push(['', 'C', m ? `${m[1]} /s, CPU ${m[2]} µs/op (${limit} threads)` : `(no result: ${out.trim().split('\n').pop()})`]);
    }
  }
  const all = [];
  for await (const o of c.listAll(BUCKET, { prefix: p })) all.push(o.key);
  await c.deleteMany(BUCKET, all);

  if (sizeMib > 0 && !args.includes('--skip-transfers')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-bench-'));
    try {
      const file = path.join(dir, 'up.bin');
      const fd = fs.openSync(file, 'w');
      for (let m = 0; m < sizeMib; m++) fs.writeSync(fd, crypto.randomBytes(1 << 20));
      fs.closeSync(fd);
      const want = sha256File(file);
      const gib = sizeMib / 1024;
      const tools = peers ? ['Node', 'Python', 'C'] : ['Node'];
      // One transfer by one tool in its own process: { wall, cpu, user, sys, maxRssMiB }.
      const transfer = (tool, direction, target, key) => {
        if (tool === 'Node') {
          return JSON.parse(execFileSync(process.execPath, [__filename, '--child', direction, target, key], { encoding: 'utf8' }));
        }
        if (tool === 'Python') {
          return JSON.parse(execFileSync(PYTHON, [path.join(__dirname, 'bench_python.py'), direction, target, key], { encoding: 'utf8' }));
        }
        // r2's defaults: 4 parts of 10 MiB in flight
        const t = timed(path.join(CBIN, 'bench_multipart'), [env.R2_TEST_ENDPOINT, direction === 'up' ? 'upload' : 'download', target, key, '4', '10']);
        const j = JSON.parse(t.stdout.trim().split('\n').pop());
        return { wall: j.wall_s, cpu: j.cpu_user_s + j.cpu_sys_s, user: j.cpu_user_s, sys: j.cpu_sys_s, maxRssMiB: t.rss };
      };
      // Downloads: three rounds, the tools' order rotated each round, the median (by CPU) shown.
      // On this kind of VM the first GiB written into memory the guest has not touched yet costs
      // the writer ~3.5 s/GiB of kernel time (dd of 1 GiB: 3.9 s, then 0.7 and 0.3 s), so in a
      // single round whichever download came first paid for it (Node: 3.4 s/GiB in one such run,
      // 0.49-0.51 when interleaved with the others). An unmeasured download goes first.
      for (const direction of ['up', 'down']) {
        const rounds = direction === 'down' && tools.length > 1 ? 3 : 1;
        const runs = new Map(tools.map((tool) => [tool, []]));
        const target = direction === 'up' ? file : path.join(dir, 'down.bin');
        if (direction === 'down') {
          transfer(tools[0], 'down', target, `${p}big-${tools[0]}.bin`);
          fs.rmSync(target);
        }
        for (let r = 0; r < rounds; r++) {
          for (let i = 0; i < tools.length; i++) {
            const tool = tools[(i + r) % tools.length];
            const out = transfer(tool, direction, target, `${p}big-${tool}.bin`);
            if (direction === 'down') {
              if (sha256File(target) !== want) throw new Error(`${tool}: the download's SHA-256 differs from the file's`);
              fs.rmSync(target);
            }
            runs.get(tool).push(out);
          }
        }
        for (const tool of tools) {
          const all = runs.get(tool).sort((x, y) => x.cpu - y.cpu);
          const out = all[Math.floor(all.length / 2)];
          const spread = all.length > 1 ? ` (of ${all.map((o) => (o.cpu / gib).toFixed(2)).join(', ')})` : '';
          rows.push([tool === tools[0] ? `${sizeMib} MiB ${direction === 'up' ? 'upload' : 'download'} (file)` : '', tool,
            `${(sizeMib / out.wall).toFixed(0)} MiB/s, CPU ${(out.cpu / gib).toFixed(2)} s/GiB${spread} (user ${(out.user / gib).toFixed(2)}, sys ${(out.sys / gib).toFixed(2)}), ` +
            `peak RSS ${out.maxRssMiB.toFixed(0)} MiB${direction === 'down' ? ', SHA-256 ok' : ''}`]);
        }
      }
      for (const tool of tools) await c.delete(BUCKET, `${p}big-${tool}.bin`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  c.close();
  const w = Math.max(...rows.map(([a]) => a.length));
  console.log(`r2 ${r2.version}: Node ${process.version} (binding on r2's engine), Python and C; ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const [a, t, b] of rows) console.log(`${a.padEnd(w)}  ${t.padEnd(6)}  ${b}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
