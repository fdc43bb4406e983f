'use strict';
// Every error kind the server, the network and validation can produce, as
// R2Error subclasses with code, status, s3Code, requestId, retryable, retryAfterMs.
const test = require('node:test');
const assert = require('node:assert/strict');
const { r2, BUCKET, client, clientOptions, prefix } = require('./helpers');

async function rejectsWith(promise, cls, check = () => {}) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof cls, `${e && e.name}: ${e && e.message} is not ${cls.name}`);
    assert.ok(e instanceof r2.R2Error);
    assert.equal(e.code, cls.name);
    assert.equal(typeof e.retryable, 'boolean');
    assert.equal(typeof e.retryAfterMs, 'number');
    check(e);
    return true;
  });
}

test('server errors map to their kinds', async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('errors');
  const put = await c.put(BUCKET, p + 'x', 'x');
  await rejectsWith(c.get(BUCKET, p + 'missing'), r2.NoSuchKey, (e) => {
    assert.equal(e.status, 404);
    assert.equal(e.s3Code, 'NoSuchKey');
    assert.ok(e.requestId);
    assert.equal(e.retryable, false);
  });
  await rejectsWith(c.head(BUCKET, p + 'missing'), r2.NoSuchKey, (e) => assert.equal(e.status, 404));
  await rejectsWith(c.list('no-such-bucket-' + Date.now()), r2.NoSuchBucket, (e) => assert.equal(e.status, 404));
  await rejectsWith(c.get(BUCKET, p + 'x', { ifMatch: '"00000000000000000000000000000000"' }), r2.PreconditionFailed, (e) => assert.equal(e.status, 412));
  await rejectsWith(c.get(BUCKET, p + 'x', { ifNoneMatch: put.etag }), r2.NotModified, (e) => assert.equal(e.status, 304));
  await rejectsWith(c.put(BUCKET, p + 'x', 'y', { ifNoneMatch: '*' }), r2.PreconditionFailed);
  await rejectsWith(c.get(BUCKET, p + 'x', { range: 'bytes=100-200' }), r2.InvalidRange, (e) => assert.equal(e.status, 416));
  await rejectsWith(c.abortMultipartUpload(BUCKET, p + 'x', 'no-such-upload'), r2.NoSuchUpload, (e) => assert.equal(e.status, 404));
  const id = await c.createMultipartUpload(BUCKET, p + 'small');
  await c.uploadPart(BUCKET, p + 'small', id, 1, 'tiny');
  // A second part makes the 4-byte part 1 a non-last part under 5 MiB: refused before it is sent.
  await rejectsWith(c.uploadPart(BUCKET, p + 'small', id, 2, 'tiny'), r2.EntityTooSmall, (e) => assert.equal(e.status, 0));
  await c.abortMultipartUpload(BUCKET, p + 'small', id);
  await c.delete(BUCKET, p + 'x');
});

test('auth errors', async () => {
  const bad = new r2.Client(clientOptions(false, { secretAccessKey: 'wrong-secret-0000000000000000000000000000' }));
  await rejectsWith(bad.get(BUCKET, 'k'), r2.SignatureDoesNotMatch, (e) => assert.equal(e.status, 403));
  bad.close();
  const unknown = new r2.Client(clientOptions(false, { accessKeyId: 'AKIDNOSUCHKEY000' }));
  await rejectsWith(unknown.list(BUCKET), r2.InvalidAccessKey, (e) => assert.equal(e.status, 403));
  unknown.close();
});

test('validation errors are thrown before anything is sent', async (t) => {
  const c = client();
  t.after(() => c.close());
  await rejectsWith(c.get('Bad_Bucket', 'k'), r2.InvalidBucketName);
  await rejectsWith(c.put(BUCKET, '', 'x'), r2.InvalidObjectName);
  await rejectsWith(c.put(BUCKET, 'k'.repeat(1025), 'x'), r2.InvalidObjectName);
  assert.throws(() => c.presign('GET', BUCKET, 'k', 0), r2.InvalidArgument);
  assert.throws(() => c.presign('GET', BUCKET, 'k', 604801), r2.InvalidArgument);
  await rejectsWith(c.uploadPart(BUCKET, 'k', 'id', 0, 'x'), r2.InvalidPart);
  await assert.rejects(c.put(BUCKET, 'k', 42), TypeError);
  await assert.rejects(c.get(BUCKET, 'k\0x'), TypeError);
  await rejectsWith(c.put(BUCKET, 'k', 'x', { checksum: 'md5', checksumValue: 'AAAA' }), r2.BadDigest);
});

test('config, network and TLS errors', async () => {
  assert.throws(() => new r2.Client({ endpoint: 'http://127.0.0.1:9', accessKeyId: 'a', secretAccessKey: 'b' }), (e) => e instanceof r2.Config && /http/.test(e.message));
  assert.throws(() => new r2.Client({ accessKeyId: 'a' }), (e) => e instanceof r2.R2Error && /secret/i.test(e.message));
  assert.throws(() => new r2.Client({ endpoint: 'https://x', accessKeyId: 'a', secretAccessKey: 'b', jurisdiction: 'mars' }), TypeError);
  const down = new r2.Client({ endpoint: 'http://127.0.0.1:9', allowHttp: true, accessKeyId: 'a', secretAccessKey: 'b', maxAttempts: 1 });
  await rejectsWith(down.get(BUCKET, 'k'), r2.ConnectionFailed, (e) => assert.equal(e.retryable, true));
  down.close();
  const noCa = new r2.Client({ ...clientOptions(true), caBundle: undefined, maxAttempts: 1 });
  await rejectsWith(noCa.get(BUCKET, 'k'), r2.TLS);
  noCa.close();
});

test('secrets never appear in errors', async () => {
  const secret = 'wrong-secret-SHOULD-NOT-LEAK-00000000000';
  const bad = new r2.Client(clientOptions(false, { secretAccessKey: secret }));
  await assert.rejects(bad.get(BUCKET, 'k'), (e) => {
    const all = JSON.stringify({ ...e, message: e.message, stack: e.stack });
    assert.ok(!all.includes(secret) && !/Signature=|AWS4-HMAC-SHA256 Credential/.test(all));
    return true;
  });
  bad.close();
});

test('import works as well as require, with the same classes', async () => {
  const esm = await import('../lib/index.mjs');
  assert.equal(esm.Client, r2.Client);
  assert.equal(esm.NoSuchKey, r2.NoSuchKey);
  assert.equal(esm.default, r2);
  const viaPackage = await import('r2'); // the package's own name (exports self-reference), as an installed package is imported
  assert.equal(viaPackage.Client, r2.Client);
});

test('every status has its class', () => {
  for (const name of ['NoSuchKey', 'SlowDown', 'Cancelled', 'ReplayUnmatched', 'TLS', 'HTTPError', 'CircuitOpen']) {
    assert.equal(typeof r2[name], 'function');
    assert.ok(new r2[name]('m', { code: name }) instanceof r2.R2Error);
    assert.equal(new r2[name]('m').name, name);
  }
});
