'use strict';
// The core's newer options through the Node API, against SeaweedFS: SSE-C,
// conditional multipart completes, downloadFile's fsync switch and the client
// options (region, addressing style, maxGetBytes, timeouts, rate limit).
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { r2, BUCKET, client, clientOptions, prefix, sha256, env } = require('./helpers');

const MiB = 1024 * 1024;

function tmpDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-options-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('SSE-C: put, get, getStream, head and copy with a customer key', async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('ssec');
  const key = crypto.randomBytes(32);
  const other = new Uint8Array(crypto.randomBytes(32)); // a plain Uint8Array works too
  await c.put(BUCKET, p + 'obj', 'secret', { sseCustomerKey: key });
  assert.equal((await c.get(BUCKET, p + 'obj', { sseCustomerKey: key })).body.toString(), 'secret');
  assert.equal((await c.head(BUCKET, p + 'obj', { sseCustomerKey: key })).size, 6);
  const chunks = [];
  for await (const chunk of await c.getStream(BUCKET, p + 'obj', { sseCustomerKey: key })) chunks.push(chunk);
  assert.equal(Buffer.concat(chunks).toString(), 'secret');

  // Without the key the server refuses to read it.
  await assert.rejects(c.get(BUCKET, p + 'obj'), r2.SSECustomerKeyRequired);
  await assert.rejects(c.head(BUCKET, p + 'obj'), (e) => e instanceof r2.R2Error && !(e instanceof r2.NoSuchKey));

  // A key that is not 32 bytes is refused before anything is sent.
  for (const bad of [Buffer.alloc(16), 'k'.repeat(32), new Uint16Array(16)]) {
    await assert.rejects(c.put(BUCKET, p + 'bad', 'x', { sseCustomerKey: bad }),
      (e) => e instanceof r2.InvalidArgument && /sseCustomerKey must be 32 bytes/.test(e.message));
  }
  await assert.rejects(c.getStream(BUCKET, p + 'obj', { sseCustomerKey: Buffer.alloc(31) }), r2.InvalidArgument);
  await assert.rejects(c.head(BUCKET, p + 'bad'), r2.NoSuchKey);

  // copy: decrypted with the source's key, encrypted with another.
  await c.copy(BUCKET, p + 'obj', BUCKET, p + 'copy', { sourceSseCustomerKey: key, sseCustomerKey: other });
  assert.equal((await c.get(BUCKET, p + 'copy', { sseCustomerKey: other })).body.toString(), 'secret');
  await assert.rejects(c.get(BUCKET, p + 'copy'), r2.SSECustomerKeyRequired);
  await assert.rejects(c.copy(BUCKET, p + 'obj', BUCKET, p + 'copy2', { sourceSseCustomerKey: Buffer.alloc(8) }),
    (e) => e instanceof r2.InvalidArgument && /sourceSseCustomerKey/.test(e.message));
});

test('SSE-C: multipart calls, uploadFile and downloadFile', async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('ssec-mp');
  const dir = tmpDir(t);
  const key = crypto.randomBytes(32);
  const body = crypto.randomBytes(5 * MiB + 1234);

  const uploadId = await c.createMultipartUpload(BUCKET, p + 'll', { sseCustomerKey: key });
  const p1 = await c.uploadPart(BUCKET, p + 'll', uploadId, 1, body.subarray(0, 5 * MiB), { sseCustomerKey: key });
  const p2 = await c.uploadPart(BUCKET, p + 'll', uploadId, 2, body.subarray(5 * MiB), { sseCustomerKey: key });
  await assert.rejects(c.uploadPart(BUCKET, p + 'll', uploadId, 3, 'x', { sseCustomerKey: Buffer.alloc(1) }), r2.InvalidArgument);
  await c.completeMultipartUpload(BUCKET, p + 'll', uploadId, [p1, p2], { sseCustomerKey: key });
  assert.equal(sha256((await c.get(BUCKET, p + 'll', { sseCustomerKey: key })).body), sha256(body));
  await assert.rejects(c.get(BUCKET, p + 'll'), r2.SSECustomerKeyRequired);

  // The transfer manager above its threshold: two 5 MiB-parts up, two ranges down.
  const src = path.join(dir, 'src');
  const out = path.join(dir, 'out');
  fs.writeFileSync(src, body);
  const opts = { threshold: 5 * MiB, partSize: 5 * MiB, sseCustomerKey: key };
  await c.uploadFile(src, BUCKET, p + 'file', opts);
  await assert.rejects(c.head(BUCKET, p + 'file'), (e) => e instanceof r2.R2Error && !(e instanceof r2.NoSuchKey));
  await assert.rejects(c.downloadFile(BUCKET, p + 'file', out, { threshold: 5 * MiB, partSize: 5 * MiB }),
    (e) => e instanceof r2.R2Error && !(e instanceof r2.NoSuchKey));
  assert.equal(fs.existsSync(out), false);
  await c.downloadFile(BUCKET, p + 'file', out, opts);
  assert.equal(sha256(fs.readFileSync(out)), sha256(body));
});

test('conditional multipart: ifNoneMatch / ifMatch on completeMultipartUpload and uploadFile', async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('cond-mp');
  const dir = tmpDir(t);
  const body = crypto.randomBytes(6 * MiB);

  // completeMultipartUpload: create-only refuses over an existing key; ifMatch needs the current ETag.
  const existing = await c.put(BUCKET, p + 'k', 'old');
  const uploadId = await c.createMultipartUpload(BUCKET, p + 'k');
  const part = await c.uploadPart(BUCKET, p + 'k', uploadId, 1, 'new');
  await assert.rejects(c.completeMultipartUpload(BUCKET, p + 'k', uploadId, [part], { ifNoneMatch: '*' }), r2.PreconditionFailed);
  await assert.rejects(c.completeMultipartUpload(BUCKET, p + 'k', uploadId, [part], { ifMatch: '"0123456789abcdef0123456789abcdef"' }),
    r2.PreconditionFailed);
  assert.equal((await c.get(BUCKET, p + 'k')).body.toString(), 'old');
  await c.completeMultipartUpload(BUCKET, p + 'k', uploadId, [part], { ifMatch: existing.etag });
  assert.equal((await c.get(BUCKET, p + 'k')).body.toString(), 'new');

  // uploadFile above the threshold: the condition goes on the Complete; a refused
  // upload is aborted (nothing left unfinished) and the object is untouched.
  const src = path.join(dir, 'src');
  fs.writeFileSync(src, body);
  const big = { threshold: 5 * MiB, partSize: 5 * MiB };
  await assert.rejects(c.uploadFile(src, BUCKET, p + 'k', { ...big, ifNoneMatch: '*' }), r2.PreconditionFailed);
  assert.deepEqual(await c.listMultipartUploads(BUCKET, { prefix: p }), []);
  assert.equal((await c.get(BUCKET, p + 'k')).body.toString(), 'new');
  const created = await c.uploadFile(src, BUCKET, p + 'fresh', { ...big, ifNoneMatch: '*' });
  assert.match(created.etag, /-2"$/); // a multipart ETag: the large-file path ran
  assert.equal((await c.head(BUCKET, p + 'fresh')).size, body.length);
  await assert.rejects(c.uploadFile(src, BUCKET, p + 'fresh', { ...big, ifMatch: '"0123456789abcdef0123456789abcdef-2"' }),
    r2.PreconditionFailed);
  await c.uploadFile(src, BUCKET, p + 'fresh', { ...big, ifMatch: created.etag });
  assert.deepEqual(await c.listMultipartUploads(BUCKET, { prefix: p }), []);
});

test('downloadFile with fsync: false writes the same bytes', async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('nofsync');
  const dir = tmpDir(t);
  const body = crypto.randomBytes(6 * MiB + 7);
  await c.put(BUCKET, p + 'obj', body);
  for (const fsync of [false, true]) {
    const out = path.join(dir, `out-${fsync}`);
    const info = await c.downloadFile(BUCKET, p + 'obj', out, { fsync, threshold: 5 * MiB, partSize: 5 * MiB });
    assert.equal(info.size, body.length);
    assert.equal(sha256(fs.readFileSync(out)), sha256(body));
    assert.equal(fs.existsSync(out + '.r2-partial'), false);
  }
});

test('client options: region, maxGetBytes, timeouts, rateLimit, virtualHostedStyle', async (t) => {
  const p = prefix('client-options');
  const plain = client();
  t.after(() => plain.close());
  await plain.put(BUCKET, p + 'obj', 'x'.repeat(2000));

  // region: 'auto', 'us-east-1' and '' sign requests the server accepts; anything else is refused at once.
  for (const region of ['auto', 'us-east-1', '']) {
    const c = client(false, { region });
    assert.equal((await c.get(BUCKET, p + 'obj')).body.length, 2000, region);
    c.close();
  }
  assert.throws(() => client(false, { region: 'eu-west-1' }), (e) => e instanceof r2.Config && /auto/.test(e.message));

  // maxGetBytes bounds what get() holds; getStream is not bounded.
  const small = client(false, { maxGetBytes: 1000 });
  t.after(() => small.close());
  await assert.rejects(small.get(BUCKET, p + 'obj'), (e) => e instanceof r2.EntityTooLarge && /maxGetBytes/.test(e.message));
  assert.equal((await small.get(BUCKET, p + 'obj', { range: 'bytes=0-999' })).body.length, 1000);
  let streamed = 0;
  for await (const chunk of await small.getStream(BUCKET, p + 'obj')) streamed += chunk.length;
  assert.equal(streamed, 2000);

  // The resilience and timeout fields are accepted and the client works with them.
  const tuned = client(false, {
    maxAttempts: 2, rateLimit: 50,
    timeouts: { stallMs: 5000, stallMinBytesPerSec: 1, listMs: 5000, partMs: 10000, deadlineMs: 30000 },
  });
  t.after(() => tuned.close());
  const page = await tuned.list(BUCKET, { prefix: p });
  assert.deepEqual(page.objects.map((o) => o.key), [p + 'obj']);
  assert.throws(() => client(false, { timeouts: { listMs: 'soon' } }), TypeError);

  // virtualHostedStyle: <bucket>.localhost:<port> (curl resolves *.localhost to
  // loopback); the recording shows paths without the bucket (path style: /<bucket>/<key>).
  const port = new URL(env.R2_TEST_ENDPOINT).port;
  const dir = tmpDir(t);
  const cassette = path.join(dir, 'vh.json');
  const vh = new r2.Client(clientOptions(false, { endpoint: `http://localhost:${port}`, virtualHostedStyle: true, record: cassette }));
  await vh.put(BUCKET, p + 'vh', 'hosted');
  const got = await vh.get(BUCKET, p + 'vh');
  vh.close();
  assert.equal(got.body.toString(), 'hosted');
  const recorded = JSON.parse(fs.readFileSync(cassette, 'utf8')).interactions.map((i) => i.request.path);
  assert.deepEqual(recorded, [`/${p}vh`, `/${p}vh`]);
  assert.equal((await plain.get(BUCKET, p + 'vh')).body.toString(), 'hosted');
});

test('the addon itself refuses a key that is not 32 bytes (direct calls, no JS check)', async (t) => {
  const native = require('../lib/native');
  const c = client();
  t.after(() => c.close());
  for (const bad of [Buffer.alloc(31), Buffer.alloc(33), new Uint16Array(16), 'k'.repeat(32), {}]) {
    assert.throws(() => native.head(c._h, BUCKET, 'k', { sseCustomerKey: bad }), (e) => e instanceof TypeError && /sseCustomerKey must be 32 bytes/.test(e.message));
    assert.throws(() => native.multipartComplete(c._h, BUCKET, 'k', 'id', [], { sseCustomerKey: bad }), TypeError);
    assert.throws(() => native.copy(c._h, BUCKET, 'k', BUCKET, 'src', { sourceSseCustomerKey: bad }), /sourceSseCustomerKey must be 32 bytes/);
    assert.throws(() => native.uploadPart(c._h, BUCKET, 'k', 'id', 1, Buffer.from('x'), null, { sseCustomerKey: bad }), TypeError);
  }
});

test('every r2_status of r2.h has its error class, named as libr2 names it', async () => {
  const native = require('../lib/native');
  const { STATUSES } = require('../lib/errors');
  const { ROOT } = require('./helpers');
  const header = fs.readFileSync(path.join(ROOT, 'include', 'r2.h'), 'utf8');
  const codes = [...header.matchAll(/R2_ERR_[A-Z0-9_]+ = (-\d+)/g)].map((m) => Number(m[1]));
  assert.ok(codes.includes(-307) && codes.length > 40);
  const known = new Map(STATUSES);
  for (const code of codes) {
    assert.equal(known.get(code), native.statusName(code), `status ${code}`);
    assert.equal(typeof r2[native.statusName(code)], 'function', native.statusName(code));
  }
  const esm = await import('../lib/index.mjs');
  for (const name of ['ExpiredRequest', 'MetadataTooLarge', 'SSECustomerKeyRequired']) assert.equal(esm[name], r2[name]);
});
