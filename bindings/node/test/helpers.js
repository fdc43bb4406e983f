'use strict';
// Shared set-up of the Node suite: clients for the server that
// scripts/test-server.sh started (R2_TEST_* variables). Without a server the
// server tests fail (they are never skipped and counted as passing).
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const r2 = require('..');

const env = process.env;
const ROOT = path.resolve(__dirname, '..', '..', '..');
const BUCKET = env.R2_TEST_BUCKET || 'r2-test';
const BIG_MIB = Number(env.R2_NODE_BIG_MIB || 128);
const RUN = crypto.randomBytes(4).toString('hex');

function requireServer() {
  if (!env.R2_TEST_ENDPOINT) throw new Error('no test server: run under scripts/test-server.sh (make node-test / node-integration)');
}

function clientOptions(tls = false, extra = {}) {
  requireServer();
  return {
    endpoint: tls ? env.R2_TEST_TLS_ENDPOINT : env.R2_TEST_ENDPOINT,
    allowHttp: !tls,
    caBundle: tls ? env.R2_TEST_CA : undefined,
    accessKeyId: env.R2_TEST_ACCESS_KEY_ID,
    secretAccessKey: env.R2_TEST_SECRET_ACCESS_KEY,
    ...extra,
  };
}

function client(tls = false, extra = {}) {
  return new r2.Client(clientOptions(tls, extra));
}

// A fresh key prefix per test file and run.
function prefix(name) {
  return `node-${RUN}/${name}/`;
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

// Deterministic pseudo-random bytes (fast: one 1 MiB block varied per MiB).
function* blocks(mib, seed = 1) {
  const base = crypto.createHash('sha256').update(String(seed)).digest();
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i += 32) base.copy(block, i, 0, Math.min(32, block.length - i));
  for (let m = 0; m < mib; m++) {
    const b = Buffer.from(block);
    b.writeUInt32BE(m, 0);
    b.writeUInt32BE(seed, 4);
    yield b;
  }
}

// The CPUs a process may run on, from `taskset -c -p` ("0-3,5").
function allowedCpus(pid) {
  const list = execFileSync('taskset', ['-c', '-p', String(pid)], { encoding: 'utf8' }).trim().split(': ').pop();
  return list.split(',').flatMap((r) => {
    const [a, b = a] = r.split('-').map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

// Runs fn with the test server (R2_TEST_SERVER_PID) held to one CPU, the last
// it may use; this process keeps every CPU it had. On a 2-CPU machine
// SeaweedFS takes about 1.5 CPUs during an upload (perf: 77 % of all samples
// in weed's own code), and `perf sched` shows the JS thread runnable for
// 20-50 ms at a time while only the server's threads run, whatever their
// priority; with the server on one CPU the client has a CPU as it would
// beside a remote R2, and r2's engine thread still shares it with the JS
// thread, so the binding's own cost stays in the measurement. The server's
// threads get their mask back afterwards. Returns what was done; a failed
// split is said, not hidden.
async function withServerOnOneCpu(fn) {
  const server = Number(env.R2_TEST_SERVER_PID);
  let split;
  let restore = () => {};
  try {
    if (!server) throw new Error('R2_TEST_SERVER_PID is not set');
    const theirs = allowedCpus(server);
    if (theirs.length < 2) throw new Error(`the server may use only CPU ${theirs}`);
    const pin = (cpus) => execFileSync('taskset', ['-a', '-c', '-p', cpus, String(server)], { stdio: 'ignore' });
    pin(String(theirs[theirs.length - 1]));
    restore = () => pin(theirs.join(','));
    split = `server on CPU ${theirs[theirs.length - 1]} of ${theirs.join(',')}; this process on CPU ${allowedCpus(process.pid).join(',')}`;
  } catch (e) {
    split = `server not held to one CPU: ${e.message.split('\n')[0]}`;
  }
  try {
    await fn();
    return split;
  } finally {
    restore();
  }
}

module.exports = { r2, env, ROOT, BUCKET, BIG_MIB, client, clientOptions, prefix, sha256, blocks, requireServer, withServerOnOneCpu };
