'use strict';
// The calls on r2's engine: an AbortSignal stops even a small request in
// libr2 (r2_op_cancel: the connection is closed, not left to finish), and a
// getStream whose reader does not read pauses the transfer (R2_WRITE_PAUSE)
// instead of buffering the object.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { r2, BUCKET, client, prefix, blocks } = require('./helpers');

const MiB = 1 << 20;

function isAbort(e) {
  assert.ok(e instanceof r2.Cancelled, `${e && e.name}: ${e && e.message}`);
  assert.equal(e.name, 'AbortError');
  return true;
}

// A loopback server that reads each request and never answers: only a
// cancel in libr2 ends such a call before its timeout. It records when each
// connection is closed by the client.
function hangingServer() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const r = { method: req.method, url: req.url, closedAt: 0 };
    requests.push(r);
    req.resume();
    res.on('close', () => { r.closedAt = Date.now(); });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, requests, port: server.address().port })));
}

test('AbortSignal cancels every small call in libr2: the request is dropped at once', async (t) => {
  const { server, requests, port } = await hangingServer();
  const c = new r2.Client({
    endpoint: `http://127.0.0.1:${port}`, allowHttp: true, accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret',
    maxAttempts: 1, timeouts: { requestMs: 60000, transferMs: 60000, deadlineMs: 60000 },
  });
  t.after(() => { c.close(); server.close(); server.closeAllConnections(); });
  const calls = {
    head: (signal) => c.head('bkt', 'k', { signal }),
    get: (signal) => c.get('bkt', 'k', { signal }),
    getStream: (signal) => c.getStream('bkt', 'k', { signal }),
    put: (signal) => c.put('bkt', 'k', 'small body', { signal }),
    putStream: (signal) => c.put('bkt', 'k', (async function* () { yield Buffer.from('abc'); })(), { signal, length: 3 }),
    delete: (signal) => c.delete('bkt', 'k', { signal }),
    deleteMany: (signal) => c.deleteMany('bkt', ['a', 'b'], { signal }),
    copy: (signal) => c.copy('bkt', 'src', 'bkt', 'dst', { signal }),
    list: (signal) => c.list('bkt', { signal }),
    createMultipartUpload: (signal) => c.createMultipartUpload('bkt', 'k', { signal }),
    uploadPart: (signal) => c.uploadPart('bkt', 'k', 'up-1', 1, Buffer.alloc(1024), { signal }),
    uploadPartCopy: (signal) => c.uploadPartCopy('bkt', 'k', 'up-1', 1, 'bkt', 'src', { signal }),
    completeMultipartUpload: (signal) => c.completeMultipartUpload('bkt', 'k', 'up-1', [{ partNumber: 1, etag: '"e"' }], { signal }),
    abortMultipartUpload: (signal) => c.abortMultipartUpload('bkt', 'k', 'up-1', { signal }),
    listParts: (signal) => c.listParts('bkt', 'k', 'up-1', { signal }),
    listMultipartUploads: (signal) => c.listMultipartUploads('bkt', { signal }),
  };
  for (const [name, call] of Object.entries(calls)) {
    const before = requests.length;
    const ac = new AbortController();
    const p = call(ac.signal);
    // wait until the server holds the request, then abort
    const t0 = Date.now();
    while (requests.length === before) {
      assert.ok(Date.now() - t0 < 10000, `${name}: the request never reached the server`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const abortedAt = Date.now();
    ac.abort();
    await assert.rejects(p, isAbort, name);
    const r = requests[requests.length - 1];
    while (!r.closedAt && Date.now() - abortedAt < 5000) await new Promise((res) => setTimeout(res, 5));
    assert.ok(r.closedAt, `${name}: the connection was not closed after the abort (the request went on)`);
    assert.ok(r.closedAt - abortedAt < 2000, `${name}: closed ${r.closedAt - abortedAt} ms after the abort`);
  }
});

test('a getStream nobody reads pauses the transfer: bounded buffering, then the same SHA-256', async (t) => {
  const c = client();
  t.after(() => c.close());
  const key = prefix('engine') + 'paused.bin';
  const mib = 64;
  const hash = crypto.createHash('sha256');
  const body = Buffer.concat([...blocks(mib, 3)]);
  hash.update(body);
  const want = hash.digest('hex');
  await c.put(BUCKET, key, body);

  const window = 2 * MiB;
  const highWaterMark = MiB;
  const s = await c.getStream(BUCKET, key, { window, highWaterMark });
  // the metadata is there at once, though the body cannot have ended (the transfer pauses at `window`)
  const headed = await c.head(BUCKET, key);
  assert.equal(s.info.size, mib * MiB);
  assert.equal(s.info.etag, headed.etag);
  // nobody reads for a while: without the pause the whole object would pile up in the Readable
  await new Promise((r) => setTimeout(r, 1500));
  const held = s.readableLength;
  t.diagnostic(`unread getStream of ${mib} MiB: ${(held / MiB).toFixed(1)} MiB buffered after 1.5 s`);
  assert.ok(held <= window + highWaterMark + 512 * 1024, `${held} bytes buffered while nobody read`);

  // then a slow reader gets every byte, in order
  const got = crypto.createHash('sha256');
  let n = 0;
  let chunks = 0;
  for await (const ch of s) {
    got.update(ch);
    n += ch.length;
    if (++chunks % 8 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  assert.equal(n, mib * MiB);
  assert.equal(got.digest('hex'), want);
  assert.equal(s.info.size, mib * MiB);
  await c.delete(BUCKET, key);
});

test('a streamed put of known length runs as one PUT, fed as the source produces', async (t) => {
  const c = client();
  t.after(() => c.close());
  const key = prefix('engine') + 'fed.bin';
  // a source slower than the network: the upload waits for it (R2_READ_PAUSE), then completes
  async function* slow() {
    for (const b of blocks(6, 9)) {
      await new Promise((r) => setTimeout(r, 20));
      yield b;
    }
  }
  const info = await c.put(BUCKET, key, slow(), { length: 6 * MiB });
  assert.doesNotMatch(info.etag, /-\d+"$/, 'one PUT, not multipart');
  const back = await c.get(BUCKET, key);
  assert.equal(back.body.length, 6 * MiB);
  assert.ok(back.body.equals(Buffer.concat([...blocks(6, 9)])));
  // a source shorter than the length it announced fails the put
  await assert.rejects(c.put(BUCKET, key + '.short', (async function* () { yield Buffer.alloc(10); })(), { length: 20 }), r2.R2Error);
  await c.delete(BUCKET, key);
});
