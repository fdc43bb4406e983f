'use strict';
// client.bucket(name) used as Cloudflare's Workers examples use env.MY_BUCKET,
// and the seed's R2Service / R2SigningClient used as the seed uses them.
const test = require('node:test');
const assert = require('node:assert/strict');
const { r2, BUCKET, client, clientOptions, prefix, env } = require('./helpers');

test('client.bucket(): the Workers R2Bucket API', async (t) => {
  const c = client();
  t.after(() => c.close());
  const MY_BUCKET = c.bucket(BUCKET);
  const p = prefix('workers');

  // put with httpMetadata, customMetadata, md5 (as a Worker would)
  const put = await MY_BUCKET.put(p + 'doc.json', JSON.stringify({ a: 1 }), {
    httpMetadata: { contentType: 'application/json', cacheControl: 'max-age=3600', contentLanguage: 'en' },
    customMetadata: { owner: 'ünï' },
    md5: require('node:crypto').createHash('md5').update(JSON.stringify({ a: 1 })).digest('hex'),
  });
  assert.ok(put instanceof r2.R2Object);
  assert.equal(put.key, p + 'doc.json');
  assert.equal(put.size, 7);
  assert.match(put.etag, /^[0-9a-f]{32}$/);
  assert.equal(put.httpEtag, `"${put.etag}"`);
  await assert.rejects(MY_BUCKET.put(p + 'bad', 'x', { md5: '00000000000000000000000000000000' }), r2.BadDigest);
  await MY_BUCKET.put(p + 'sha.txt', 'sha', { sha256: require('node:crypto').createHash('sha256').update('sha').digest() });

  // get: R2ObjectBody with its body readers
  const obj = await MY_BUCKET.get(p + 'doc.json');
  assert.ok(obj instanceof r2.R2ObjectBody);
  assert.equal(obj.size, 7);
  assert.equal(obj.etag, put.etag);
  assert.ok(obj.uploaded instanceof Date);
  assert.equal(obj.httpMetadata.contentType, 'application/json');
  assert.deepEqual(obj.customMetadata, { owner: 'ünï' });
  assert.deepEqual(await obj.json(), { a: 1 });
  assert.equal(obj.bodyUsed, true);
  await assert.rejects(obj.text(), TypeError);
  assert.equal(await (await MY_BUCKET.get(p + 'doc.json')).text(), '{"a":1}');
  assert.equal(new TextDecoder().decode(await (await MY_BUCKET.get(p + 'doc.json')).arrayBuffer()), '{"a":1}');
  assert.equal(await (await (await MY_BUCKET.get(p + 'doc.json')).blob()).text(), '{"a":1}');
  const streamed = await MY_BUCKET.get(p + 'doc.json');
  assert.equal(await new Response(streamed.body).text(), '{"a":1}');

  // writeHttpMetadata onto Headers, as in the Workers example
  const headers = new Headers();
  obj.writeHttpMetadata(headers);
  headers.set('etag', obj.httpEtag);
  assert.equal(headers.get('content-type'), 'application/json');
  assert.equal(headers.get('cache-control'), 'max-age=3600');
  assert.equal(headers.get('content-language'), 'en');

  // range and onlyIf
  const part = await MY_BUCKET.get(p + 'doc.json', { range: { offset: 1, length: 3 } });
  assert.equal(await part.text(), '"a"');
  assert.deepEqual(part.range, { offset: 1, length: 3 });
  assert.equal(part.size, 7);
  assert.equal(await (await MY_BUCKET.get(p + 'doc.json', { range: { suffix: 2 } })).text(), '1}');
  const unchanged = await MY_BUCKET.get(p + 'doc.json', { onlyIf: { etagDoesNotMatch: put.etag } });
  assert.ok(unchanged instanceof r2.R2Object && !(unchanged instanceof r2.R2ObjectBody), 'a failed onlyIf gives the object without body');
  assert.ok(await MY_BUCKET.get(p + 'doc.json', { onlyIf: { etagMatches: put.etag } }) instanceof r2.R2ObjectBody);
  assert.equal(await MY_BUCKET.put(p + 'doc.json', 'new', { onlyIf: { etagMatches: 'ffffffffffffffffffffffffffffffff' } }), null);
  assert.equal(await MY_BUCKET.get(p + 'missing'), null);
  assert.equal(await MY_BUCKET.head(p + 'missing'), null);
  assert.equal((await MY_BUCKET.head(p + 'doc.json')).size, 7);

  // list with limit, cursor, delimiter, include
  for (let i = 0; i < 3; i++) await MY_BUCKET.put(`${p}dir/${i}`, `v${i}`, { customMetadata: { i: String(i) } });
  const page1 = await MY_BUCKET.list({ prefix: p, limit: 2 });
  assert.equal(page1.objects.length, 2);
  assert.equal(page1.truncated, true);
  const page2 = await MY_BUCKET.list({ prefix: p, limit: 100, cursor: page1.cursor });
  assert.equal(page2.truncated, false);
  assert.equal(page1.objects.length + page2.objects.length, 5);
  const delimited = await MY_BUCKET.list({ prefix: p, delimiter: '/' });
  assert.deepEqual(delimited.delimitedPrefixes, [p + 'dir/']);
  const withMeta = await MY_BUCKET.list({ prefix: p + 'dir/', include: ['customMetadata', 'httpMetadata'] });
  assert.deepEqual(withMeta.objects.map((o) => o.customMetadata.i), ['0', '1', '2']);

  // multipart, as in the Workers multipart example
  const mpu = await MY_BUCKET.createMultipartUpload(p + 'mpu.bin', { httpMetadata: { contentType: 'application/octet-stream' } });
  const resumed = MY_BUCKET.resumeMultipartUpload(p + 'mpu.bin', mpu.uploadId);
  const parts = [await resumed.uploadPart(1, new Uint8Array(5 * 1024 * 1024)), await mpu.uploadPart(2, 'tail')];
  const done = await mpu.complete(parts);
  assert.equal(done.size, 5 * 1024 * 1024 + 4);
  const gone = await MY_BUCKET.createMultipartUpload(p + 'gone.bin');
  await gone.abort();

  // delete one key and many
  await MY_BUCKET.delete(p + 'mpu.bin');
  const rest = (await MY_BUCKET.list({ prefix: p })).objects.map((o) => o.key);
  await MY_BUCKET.delete(rest);
  assert.equal((await MY_BUCKET.list({ prefix: p })).objects.length, 0);
  await assert.rejects(MY_BUCKET.put(p + 'x', 'x', { sha384: 'ab' }), r2.Unsupported);
});

test("the seed's R2Service over client.bucket()", async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('seed');
  const signing = { accountId: 'acct', accessKeyId: env.R2_TEST_ACCESS_KEY_ID, secretAccessKey: env.R2_TEST_SECRET_ACCESS_KEY, bucketName: BUCKET, endpoint: env.R2_TEST_ENDPOINT, allowHttp: true };
  const r2s = new r2.R2Service(c.bucket(BUCKET), {}, signing);
  const put = await r2s.put(p + 'video.mp4', Buffer.from('frames'), { uploader: 'me' }, { contentType: 'video/mp4' });
  assert.equal(put.size, 6);
  await r2s.putJson(p + 'meta.json', { data: 1 });
  const meta = await r2s.get(p + 'meta.json');
  assert.equal(meta.httpMetadata.contentType, 'application/json');
  assert.deepEqual(await meta.json(), { data: 1 });
  assert.equal(await r2s.get(p + 'missing'), null);
  const listed = await r2s.list({ prefix: p, limit: 1 });
  assert.equal(listed.objects.length, 1);
  assert.equal(listed.truncated, true);
  const url = await r2s.generateSignedUrl(p + 'video.mp4', 3600);
  assert.equal(await (await fetch(url)).text(), 'frames');
  const mpu = await r2s.createMultipartUpload(p + 'big.bin');
  const again = r2s.resumeMultipartUpload(p + 'big.bin', mpu.uploadId);
  await again.complete([await again.uploadPart(1, 'only part')]);
  assert.equal(await (await r2s.get(p + 'big.bin')).text(), 'only part');
  for (const k of ['video.mp4', 'meta.json', 'big.bin']) await r2s.delete(p + k);
  assert.equal(await r2s.get(p + 'meta.json'), null);
  await assert.rejects(new r2.R2Service(c.bucket(BUCKET)).generateSignedUrl('k', 60), /signingConfig/);
  const printed = require('node:util').inspect(r2s, { depth: 5 }) + JSON.stringify(r2s) + require('node:util').inspect(c, { depth: 5 });
  assert.ok(!printed.includes(env.R2_TEST_SECRET_ACCESS_KEY), 'printing the service or client shows the secret');
});

test("the seed's R2SigningClient and createR2SigningClientFromEnv", async (t) => {
  const c = client();
  t.after(() => c.close());
  const p = prefix('signing');
  await c.put(BUCKET, p + 'there.txt', 'here');
  const saved = { ...process.env };
  t.after(() => { for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]; Object.assign(process.env, saved); });
  Object.assign(process.env, {
    R2_ACCOUNT_ID: 'acct', R2_ACCESS_KEY_ID: env.R2_TEST_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY: env.R2_TEST_SECRET_ACCESS_KEY,
    R2_BUCKET_NAME: BUCKET, R2_ENDPOINT: env.R2_TEST_ENDPOINT, R2_ALLOW_HTTP: '1',
  });
  const signing = r2.createR2SigningClientFromEnv();
  assert.ok(signing instanceof r2.R2SigningClient);
  assert.equal(signing.getBucketName(), BUCKET);
  assert.equal(await signing.objectExists(p + 'there.txt'), true);
  assert.equal(await signing.objectExists(p + 'not-there.txt'), false);
  const url = await signing.generateSignedUrl(p + 'there.txt', 600);
  assert.match(url, /X-Amz-Expires=600/);
  assert.equal(await (await fetch(url)).text(), 'here');
  const direct = new r2.R2SigningClient({ accountId: 'acct', accessKeyId: 'AKID', secretAccessKey: 'secret', bucketName: 'media' });
  assert.match(await direct.generateSignedUrl('a/b.mp4', 60), /^http:\/\/127\.0\.0\.1:\d+\/media\/a\/b\.mp4\?X-Amz-Algorithm=AWS4-HMAC-SHA256/);
  delete process.env.R2_BUCKET_NAME;
  assert.throws(() => r2.createR2SigningClientFromEnv(), /R2_BUCKET_NAME/);
  await c.delete(BUCKET, p + 'there.txt');
});
