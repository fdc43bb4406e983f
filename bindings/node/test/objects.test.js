'use strict';
// Every operation of r2.Client against SeaweedFS, over http and over TLS.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Readable } = require('node:stream');
const { r2, BUCKET, client, prefix, sha256 } = require('./helpers');

for (const tls of [false, true]) {
  test(`every operation over ${tls ? 'TLS' : 'http'}`, async (t) => {
    const c = client(tls);
    const p = prefix(tls ? 'ops-tls' : 'ops-http');
    t.after(() => c.close());

    // put: every body kind
    const put = await c.put(BUCKET, p + 'a.txt', 'alpha ✓', { contentType: 'text/plain', metadata: { m: '1', 'uni': 'héllo ☃' }, cacheControl: 'max-age=60' });
    assert.match(put.etag, /^"[0-9a-f]{32}"$/);
    const bodies = {
      buffer: Buffer.from('buffer body'),
      uint8: new Uint8Array([1, 2, 3, 4]),
      arraybuffer: new Uint8Array([9, 8, 7]).buffer,
      readable: Readable.from([Buffer.from('read'), Buffer.from('able')]),
      webstream: new ReadableStream({ start(ctl) { ctl.enqueue(new TextEncoder().encode('web ')); ctl.enqueue(new TextEncoder().encode('stream')); ctl.close(); } }),
      asynciter: (async function* gen() { yield 'async '; yield Buffer.from('iterable'); })(),
    };
    const expect = {
      buffer: 'buffer body', uint8: '01020304', arraybuffer: '090807', readable: 'readable', webstream: 'web stream', asynciter: 'async iterable',
    };
    for (const [kind, body] of Object.entries(bodies)) {
      await c.put(BUCKET, p + kind, body);
      const got = await c.get(BUCKET, p + kind);
      const text = kind === 'uint8' || kind === 'arraybuffer' ? got.body.toString('hex') : got.body.toString();
      assert.equal(text, expect[kind], kind);
    }
    // a stream of known length is one PUT
    await c.put(BUCKET, p + 'known', Readable.from([Buffer.from('12345')]), { length: 5 });
    assert.equal((await c.get(BUCKET, p + 'known')).body.toString(), '12345');

    // get: the shape the types promise
    const got = await c.get(BUCKET, p + 'a.txt');
    assert.ok(Buffer.isBuffer(got.body));
    assert.equal(got.body.toString(), 'alpha ✓');
    assert.equal(got.etag, put.etag);
    assert.equal(got.size, Buffer.byteLength('alpha ✓'));
    assert.equal(got.contentType, 'text/plain');
    assert.equal(got.cacheControl, 'max-age=60');
    assert.ok(got.lastModified instanceof Date && !Number.isNaN(got.lastModified.getTime()));
    assert.deepEqual(got.metadata, { m: '1', uni: 'héllo ☃' });
    assert.equal((await c.get(BUCKET, p + 'a.txt', { range: 'bytes=0-4' })).body.toString(), 'alpha');

    // getStream
    const s = await c.getStream(BUCKET, p + 'a.txt');
    assert.ok(s instanceof Readable);
    // the metadata comes with the response head, before the body is read, as get has it
    for (const field of ['etag', 'size', 'contentType', 'cacheControl', 'lastModified', 'metadata']) {
      assert.deepEqual(s.info[field], got[field], field);
    }
    const chunks = [];
    for await (const ch of s) chunks.push(ch);
    assert.equal(Buffer.concat(chunks).toString(), 'alpha ✓');
    assert.equal(s.info.etag, put.etag);

    // head
    const h = await c.head(BUCKET, p + 'a.txt');
    assert.equal(h.size, Buffer.byteLength('alpha ✓'));
    assert.equal(h.etag, put.etag);
    assert.deepEqual(h.metadata, { m: '1', uni: 'héllo ☃' });

    // copy, keeping and replacing metadata
    const cp = await c.copy(BUCKET, p + 'a.txt', BUCKET, p + 'copy ☃.txt');
    assert.ok(cp.etag);
    assert.deepEqual((await c.head(BUCKET, p + 'copy ☃.txt')).metadata, { m: '1', uni: 'héllo ☃' });
    await c.copy(BUCKET, p + 'a.txt', BUCKET, p + 'copy2.txt', { replaceMetadata: true, contentType: 'text/x-copy', metadata: { n: '2' } });
    const h2 = await c.head(BUCKET, p + 'copy2.txt');
    assert.equal(h2.contentType, 'text/x-copy');
    assert.deepEqual(h2.metadata, { n: '2' });

    // list (one page, delimiter) and listAll (every page)
    const page = await c.list(BUCKET, { prefix: p, maxKeys: 3 });
    assert.equal(page.objects.length, 3);
    assert.equal(page.isTruncated, true);
    assert.ok(page.nextContinuationToken);
    assert.ok(page.objects[0].lastModified instanceof Date);
    const all = [];
    for await (const o of c.listAll(BUCKET, { prefix: p, maxKeys: 2 })) all.push(o.key);
    assert.equal(all.length, 10); // a.txt, six body kinds, known, two copies
    assert.ok(all.includes(p + 'copy ☃.txt'));
    const delimited = await c.list(BUCKET, { prefix: prefix(tls ? 'ops-tls' : 'ops-http').split('/')[0] + '/', delimiter: '/' });
    assert.ok(delimited.commonPrefixes.includes(p));
    const after = await c.list(BUCKET, { prefix: p, startAfter: p + 'known' });
    assert.ok(after.objects.every((o) => o.key > p + 'known'));

    // low-level multipart: create, parts (one copied), list, complete
    const big = Buffer.alloc(5 * 1024 * 1024, 'x');
    const uploadId = await c.createMultipartUpload(BUCKET, p + 'mp.bin', { contentType: 'application/x-mp' });
    assert.equal(typeof uploadId, 'string');
    const p1 = await c.uploadPart(BUCKET, p + 'mp.bin', uploadId, 1, big, { checksum: 'crc32' });
    const p2 = await c.uploadPartCopy(BUCKET, p + 'mp.bin', uploadId, 2, BUCKET, p + 'a.txt');
    const parts = await c.listParts(BUCKET, p + 'mp.bin', uploadId);
    assert.deepEqual(parts.map((x) => x.partNumber), [1, 2]);
    const ups = await c.listMultipartUploads(BUCKET, { prefix: p });
    assert.ok(ups.some((u) => u.uploadId === uploadId && u.key === p + 'mp.bin'));
    const done = await c.completeMultipartUpload(BUCKET, p + 'mp.bin', uploadId, [p1, p2]);
    assert.match(done.etag, /-2"$/);
    const mp = await c.get(BUCKET, p + 'mp.bin');
    assert.equal(sha256(mp.body), sha256(Buffer.concat([big, Buffer.from('alpha ✓')])));
    const id2 = await c.createMultipartUpload(BUCKET, p + 'aborted.bin');
    await c.abortMultipartUpload(BUCKET, p + 'aborted.bin', id2);
    assert.ok(!(await c.listMultipartUploads(BUCKET, { prefix: p })).some((u) => u.uploadId === id2));

    // presign: the URL works with fetch (GET and PUT with a signed Content-Type)
    if (!tls) {
      const url = c.presign('GET', BUCKET, p + 'a.txt', 60);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'alpha ✓');
      const putUrl = c.presign('PUT', BUCKET, p + 'presigned.txt', 60, { headers: { 'content-type': 'text/plain' } });
      const pr = await fetch(putUrl, { method: 'PUT', body: 'via url', headers: { 'content-type': 'text/plain' } });
      assert.equal(pr.status, 200);
      assert.equal((await c.get(BUCKET, p + 'presigned.txt')).body.toString(), 'via url');
      const q = c.presign('GET', BUCKET, p + 'a.txt', 60, { query: { 'response-content-disposition': 'attachment' } });
      assert.match(q, /response-content-disposition=attachment/);
    }

    // delete and deleteMany (per-key results)
    await c.delete(BUCKET, p + 'presigned.txt');
    await c.delete(BUCKET, p + 'never-existed'); // deleting a missing key succeeds
    const keys = (await c.list(BUCKET, { prefix: p })).objects.map((o) => o.key);
    const del = await c.deleteMany(BUCKET, keys);
    assert.deepEqual([...del.deleted].sort(), [...keys].sort());
    assert.deepEqual(del.errors, []);
    assert.equal((await c.list(BUCKET, { prefix: p })).objects.length, 0);

    // metrics count what happened
    assert.match(c.metrics(), /r2_requests_total/);
    assert.ok(Array.isArray(c.metrics({ json: true }).metrics));
  });
}

test('unicode keys round trip through every call', async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('unicode');
  const keys = ['ünïcödé/日本語.txt', 'emoji/😀 🚀.bin', 'spaces and +plus&amp=eq?.txt', 'rtl/שלום', 'nfd/e\u0301', 'nfc/\u00e9', 'percent/%41%2F'];
  for (const k of keys) await c.put(BUCKET, p + k, `body of ${k}`);
  for (const k of keys) {
    assert.equal((await c.get(BUCKET, p + k)).body.toString(), `body of ${k}`);
    assert.equal((await c.head(BUCKET, p + k)).size, Buffer.byteLength(`body of ${k}`));
  }
  const listed = [];
  for await (const o of c.listAll(BUCKET, { prefix: p })) listed.push(o);
  assert.deepEqual(listed.map((o) => o.key).sort(), keys.map((k) => p + k).sort());
  // every field of a listed entry (the addon hands a page over as one text and
  // offsets into it: multi-byte keys move the offsets of what follows them)
  for (const o of listed) {
    const h = await c.head(BUCKET, o.key);
    assert.equal(o.size, h.size, o.key);
    assert.equal(o.etag, h.etag, o.key);
    assert.equal(o.lastModified.getTime(), h.lastModified.getTime(), o.key);
    assert.equal(o.storageClass === undefined || typeof o.storageClass === 'string', true);
  }
  const url = c.presign('GET', BUCKET, p + keys[1], 60);
  assert.equal(await (await fetch(url)).text(), `body of ${keys[1]}`);
  const del = await c.deleteMany(BUCKET, keys.map((k) => p + k));
  assert.equal(del.deleted.length, keys.length);
});

test('many calls at once on one client', async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('concurrent');
  await Promise.all(Array.from({ length: 64 }, (_, i) => c.put(BUCKET, `${p}${i}`, `v${i}`)));
  const got = await Promise.all(Array.from({ length: 64 }, (_, i) => c.get(BUCKET, `${p}${i}`)));
  got.forEach((g, i) => assert.equal(g.body.toString(), `v${i}`));
  await c.deleteMany(BUCKET, Array.from({ length: 64 }, (_, i) => `${p}${i}`));
});

test('a closed client refuses calls', async () => {
  const c = client();
  c.close();
  assert.throws(() => c.presign('GET', BUCKET, 'k', 60), /closed/);
  await assert.rejects(c.get(BUCKET, 'k'), /closed/);
});

test('the shapes are plain data', async (t) => {
  const c = client();
  t.after(() => c.close());
  assert.equal(typeof r2.version, 'string');
  assert.match(r2.libraryPath, /libr2\.so$/);
  assert.equal(typeof c.presign('HEAD', BUCKET, 'k', 1), 'string');
});
