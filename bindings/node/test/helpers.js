'use strict';
// Shared set-up of the Node suite: clients for the server that
// scripts/test-server.sh started (R2_TEST_* variables). Without a server the
// server tests fail (they are never skipped and counted as passing).
const crypto = require('node:crypto');
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

module.exports = { r2, env, ROOT, BUCKET, BIG_MIB, client, clientOptions, prefix, sha256, blocks, requireServer };
