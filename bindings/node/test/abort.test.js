'use strict';
// AbortSignal stops uploads and downloads mid-way: no unfinished multipart
// upload on the server, no partial file on disk.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { r2, BUCKET, client, prefix, blocks } = require('./helpers');

const MiB = 1 << 20;

function isAbort(e) {
  assert.ok(e instanceof r2.Cancelled && e instanceof r2.R2Error, `${e && e.name}: ${e && e.message}`);
  assert.equal(e.name, 'AbortError');
  assert.equal(e.code, 'Cancelled');
  return true;
}

async function noUploadsLeft(c, key) {
  const ups = await c.listMultipartUploads(BUCKET, { prefix: key });
  assert.deepEqual(ups.filter((u) => u.key === key), [], 'an unfinished multipart upload was left');
}

test('an aborted signal rejects at once', async (t) => {
  const c = client();
  t.after(() => c.close());
  const signal = AbortSignal.abort(new Error('already'));
  await assert.rejects(c.get(BUCKET, 'k', { signal }), isAbort);
  await assert.rejects(c.put(BUCKET, 'k', 'x', { signal }), isAbort);
  await assert.rejects(c.head(BUCKET, 'k', { signal }), isAbort);
  await assert.rejects(c.list(BUCKET, { signal }), isAbort);
  await assert.rejects(c.getStream(BUCKET, 'k', { signal }), isAbort);
});

test('abort mid-upload of a stream of unknown length: the multipart upload is aborted', async (t) => {
  const c = client();
  t.after(() => c.close());
  const key = prefix('abort') + 'stream.bin';
  const ac = new AbortController();
  let produced = 0;
  async function* slow() {
    for (const b of blocks(200)) {
      produced += b.length;
      if (produced === 12 * MiB) setTimeout(() => ac.abort(), 10);
      await new Promise((r) => setTimeout(r, 5));
      yield b;
    }
  }
  await assert.rejects(c.put(BUCKET, key, slow(), { signal: ac.signal, partSize: 5 * MiB, concurrency: 2 }), isAbort);
  assert.ok(produced < 200 * MiB, 'the stream was read to its end');
  await noUploadsLeft(c, key);
  await assert.rejects(c.head(BUCKET, key), r2.NoSuchKey);
});

test('abort mid-uploadFile: the multipart upload is aborted', async (t) => {
  const c = client();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-'));
  t.after(() => { c.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  const file = path.join(dir, 'up.bin');
  fs.writeFileSync(file, Buffer.concat([...blocks(64)]));
  const key = prefix('abort') + 'file.bin';
  const ac = new AbortController();
  let seen = 0;
  await assert.rejects(c.uploadFile(file, BUCKET, key, {
    signal: ac.signal, threshold: 5 * MiB, partSize: 5 * MiB, concurrency: 1, progressIntervalMs: 1,
    onProgress: ({ bytes }) => { seen = bytes; if (bytes > 0) ac.abort(); },
  }), isAbort);
  assert.ok(seen < 64 * MiB);
  await noUploadsLeft(c, key);
});

test('abort mid-download: no file and no partial file are left', async (t) => {
  const c = client();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-'));
  t.after(() => { c.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  const key = prefix('abort') + 'download.bin';
  await c.put(BUCKET, key, Buffer.concat([...blocks(40)]));
  const target = path.join(dir, 'down.bin');
  const ac = new AbortController();
  await assert.rejects(c.downloadFile(BUCKET, key, target, {
    signal: ac.signal, threshold: 5 * MiB, partSize: 5 * MiB, concurrency: 1, progressIntervalMs: 1,
    onProgress: ({ bytes }) => { if (bytes > 0) ac.abort(); },
  }), isAbort);
  assert.deepEqual(fs.readdirSync(dir), [], 'something was left in the target directory');

  // getStream: the Readable errors with the AbortError and the transfer stops
  const ac2 = new AbortController();
  const s = await c.getStream(BUCKET, key, { signal: ac2.signal });
  let got = 0;
  await assert.rejects((async () => {
    for await (const ch of s) {
      got += ch.length;
      if (got > MiB) ac2.abort();
    }
  })(), isAbort);
  assert.ok(got < 40 * MiB);

  // get (into memory) too
  const ac3 = new AbortController();
  setTimeout(() => ac3.abort(), 1);
  await assert.rejects(c.get(BUCKET, key, { signal: ac3.signal }), (e) => isAbort(e));
  await c.delete(BUCKET, key);
});

test('an error thrown by the body stream fails the put with that error', async (t) => {
  const c = client();
  t.after(() => c.close());
  const key = prefix('abort') + 'throws.bin';
  async function* failing() {
    yield Buffer.alloc(6 * MiB);
    throw new Error('source broke');
  }
  await assert.rejects(c.put(BUCKET, key, failing(), { partSize: 5 * MiB }), /source broke/);
  await noUploadsLeft(c, key);
});
