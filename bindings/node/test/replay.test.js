'use strict';
// The shared cassette (recorded by the C tests) replayed in Node, a Node
// session recorded and replayed, and the SigV4 vectors run through r2.Signer.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { r2, ROOT, BUCKET, clientOptions, prefix, env } = require('./helpers');

const C_CASSETTE = path.join(ROOT, 'Tests', 'Fixtures', 'c-session.json');
const NOWHERE = 'http://127.0.0.1:9'; // replay never touches the network

function replayClient(cassette) {
  return new r2.Client({ endpoint: NOWHERE, allowHttp: true, accessKeyId: 'AKIDREPLAY', secretAccessKey: 'any-secret-works-for-replay-000000000000', replay: cassette });
}

test('the C cassette replays from Node', async () => {
  const c = replayClient(C_CASSETTE);
  const put = await c.put('r2-test', 'cassette/a.txt', 'recorded body');
  assert.equal(put.etag, '"dc2184bc71d0e8f0c71c52152444a27e"');
  const got = await c.get('r2-test', 'cassette/a.txt');
  assert.equal(got.body.toString(), 'recorded body');
  assert.equal(got.etag, put.etag);
  await assert.rejects(c.get('r2-test', 'cassette/missing'), (e) => e instanceof r2.NoSuchKey && e.status === 404 && e.requestId !== '');
  const page = await c.list('r2-test', { prefix: 'cassette/' });
  assert.deepEqual(page.objects.map((o) => [o.key, o.size]), [['cassette/a.txt', 13]]);
  await c.delete('r2-test', 'cassette/a.txt');
  await assert.rejects(c.delete('r2-test', 'cassette/a.txt'), (e) => e instanceof r2.ReplayUnmatched && /DELETE/.test(e.message));
  await assert.rejects(c.get('r2-test', 'never-recorded'), (e) => e instanceof r2.ReplayUnmatched && /never-recorded/.test(e.message));
  c.close();
});

test('listed keys, sizes, etags and dates as the server wrote them (a crafted page, replayed)', async (t) => {
  // The addon parses LastModified in C where it has the form S3 uses and
  // leaves any other form to JS's Date: both must agree with new Date(text).
  const dates = ['2024-02-29T23:59:59.999Z', '1999-12-31T00:00:00Z', '2024-05-06T07:08:09.1Z', '2024-05-06T07:08:09.123456Z',
    '2024-05-06T07:08:09+02:00', 'not a date', '1970-01-01T00:00:00.000Z', '2100-03-01T12:00:00.500Z', '1969-07-20T20:17:40Z'];
  const keys = dates.map((_, i) => `dates/${i}-${['a', 'é', '日本', '😀 x'][i % 4]}`);
  const contents = dates.map((d, i) => `<Contents><Key>${encodeURIComponent(keys[i])}</Key><ETag>&quot;e${i}&quot;</ETag>` +
    `<Size>${i * 1000}</Size><StorageClass>STANDARD</StorageClass><LastModified>${d}</LastModified></Contents>`).join('');
  const body = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>r2-test</Name><Prefix>dates/</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}` +
    `<EncodingType>url</EncodingType><KeyCount>${dates.length}</KeyCount></ListBucketResult>`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-dates-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cassette = path.join(dir, 'dates.json');
  fs.writeFileSync(cassette, JSON.stringify({
    format: 'r2-cassette/1',
    interactions: [{
      operation: 'ListObjectsV2',
      request: { method: 'GET', path: '/r2-test', query: 'encoding-type=url&list-type=2&prefix=dates%2F', headers: [], body_size: 0 },
      response: { status: 200, headers: [['Content-Type', 'application/xml'], ['X-Amz-Request-Id', 'CRAFTED']], body_base64: body.toString('base64'), body_size: body.length },
      latency_ms: 0,
    }],
  }));
  const c = replayClient(cassette);
  t.after(() => c.close());
  const page = await c.list('r2-test', { prefix: 'dates/' });
  assert.equal(page.objects.length, dates.length);
  page.objects.forEach((o, i) => {
    const want = new Date(dates[i]);
    assert.equal(o.key, keys[i]);
    assert.equal(o.etag, `"e${i}"`);
    assert.equal(o.size, i * 1000);
    assert.equal(o.storageClass, 'STANDARD');
    if (Number.isNaN(want.getTime())) assert.equal(o.lastModified, undefined, dates[i]);
    else assert.equal(o.lastModified.getTime(), want.getTime(), dates[i]);
  });
  assert.equal(page.requestId, 'CRAFTED');
});

test('a missing cassette is an error naming it', () => {
  assert.throws(() => replayClient('/nonexistent/no-such-cassette.json'), (e) => e instanceof r2.R2Error && /no-such-cassette/.test(e.message));
});

async function session(c, p) {
  const seen = [];
  seen.push((await c.put(BUCKET, p + 'a.txt', 'alpha ✓', { contentType: 'text/plain', metadata: { m: '1' } })).etag);
  seen.push((await c.put(BUCKET, p + 'big.bin', Buffer.alloc(200000, 'b'))).etag);
  const got = await c.get(BUCKET, p + 'a.txt');
  seen.push([got.body.toString(), got.contentType, got.metadata]);
  seen.push((await c.get(BUCKET, p + 'a.txt', { range: 'bytes=0-4' })).body.toString());
  seen.push((await c.head(BUCKET, p + 'big.bin')).size);
  let n = 0;
  for await (const ch of await c.getStream(BUCKET, p + 'big.bin')) n += ch.length;
  seen.push(n);
  seen.push(!!(await c.copy(BUCKET, p + 'a.txt', BUCKET, p + 'copy ☃.txt')).etag);
  seen.push((await c.list(BUCKET, { prefix: p })).objects.map((o) => o.key));
  try { await c.get(BUCKET, p + 'missing'); } catch (e) { seen.push([e.code, e.status]); }
  seen.push((await c.deleteMany(BUCKET, [p + 'a.txt', p + 'big.bin', p + 'copy ☃.txt'])).deleted.sort());
  return seen;
}

test('a Node session recorded against the server replays identically', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2-node-cassette-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cassette = path.join(dir, 'node-session.json');
  const p = prefix('record');
  const live = new r2.Client(clientOptions(false, { record: cassette }));
  const recorded = await session(live, p);
  live.close();
  const text = fs.readFileSync(cassette, 'utf8');
  assert.ok(!text.includes(env.R2_TEST_SECRET_ACCESS_KEY), 'the secret reached the cassette');
  assert.ok(!/authorization/i.test(text.replace(/"operation"[^\n]*/g, '')), 'an Authorization header reached the cassette');
  const replay = replayClient(cassette);
  assert.deepEqual(await session(replay, p), recorded);
  replay.close();
});

// ---- SigV4 vectors (the vector files' format; the same mapping as Tests/CABITests/vectors.c) ----

const VECTORS_DIR = env.R2_VECTORS_DIR || path.join(ROOT, 'Tests', 'Fixtures', 'testdata', 'sigv4');
const PARAM_QUERY = {
  VersionId: 'versionId', PartNumber: 'partNumber', UploadId: 'uploadId',
  ResponseCacheControl: 'response-cache-control', ResponseContentDisposition: 'response-content-disposition',
  ResponseContentEncoding: 'response-content-encoding', ResponseContentLanguage: 'response-content-language',
  ResponseContentType: 'response-content-type', ResponseExpires: 'response-expires',
};
const rawQueryPart = (s) => String(s).replace(/[%&=#+]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
const sameAuthorization = (a, b) => a.replace(/, */g, ',') === b.replace(/, */g, ',');

function runCase(file, c) {
  if (c.s3_applicable === false) return 'skip';
  const req = c.request || {};
  const opts = c.options || {};
  const kind = c.kind || 'header';
  const service = c.service || file.service || 's3';
  const signer = new r2.Signer({
    accessKeyId: c.credentials.access_key, secretAccessKey: c.credentials.secret_key, sessionToken: c.credentials.session_token,
    region: c.region || file.region || 'auto', service,
  });
  const headers = [];
  let payloadHash;
  for (const [name, value] of req.headers || req.headers_client_must_send || []) {
    if (name.toLowerCase() === 'authorization') break;
    if (kind !== 'presigned' && name.toLowerCase() === 'x-amz-content-sha256') payloadHash = value;
    headers.push([name, value]);
  }
  let query = req.query;
  if (query === undefined && kind === 'presigned') {
    const parts = [];
    for (const [param, q] of Object.entries(PARAM_QUERY)) {
      const v = c.params && c.params[param];
      if (v !== undefined && v !== null) parts.push(`${rawQueryPart(q)}=${rawQueryPart(v)}`);
    }
    query = parts.length ? parts.join('&') : undefined;
  }
  const body = req.body === undefined ? undefined : req.body_encoding === 'base64' ? Buffer.from(req.body, 'base64') : Buffer.from(req.body);
  const request = {
    method: req.method, path: req.path, query, headers, body, payloadHash,
    date: c.timestamp || file.timestamp,
    contentSha256Header: service === 's3' || !!opts.sign_body,
    omitSessionToken: opts.session_token_signed === false || opts.omit_session_token === true,
  };
  const want = c.expected || {};
  const check = (got, what) => {
    for (const [field, key] of [['canonicalRequest', 'canonical_request'], ['stringToSign', 'string_to_sign'], ['signature', 'signature']]) {
      if (what[key] !== undefined) assert.equal(got[field], what[key], `${c.name}: ${key}`);
    }
  };
  if (kind === 'presigned') {
    const got = signer.presign(request, c.expires_in ?? 3600);
    check(got, want);
    if (want.url !== undefined) {
      const base = req.url_unsigned_base || `https://${headers.find(([n]) => n.toLowerCase() === 'host')[1]}${req.path}`;
      assert.equal(`${base}?${got.query}`, want.url, `${c.name}: url`);
    }
  } else {
    const got = signer.sign(request);
    check(got, want);
    if (want.authorization !== undefined) assert.ok(sameAuthorization(got.authorization, want.authorization), `${c.name}: authorization ${got.authorization}`);
    if (c.expected_presigned) check(signer.presign(request, c.expires_in ?? 3600), c.expected_presigned);
  }
  return 'pass';
}

test(`the SigV4 vectors pass through r2.Signer (${VECTORS_DIR})`, (t) => {
  const files = fs.readdirSync(VECTORS_DIR).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 5, `expected the vector files in ${VECTORS_DIR} (set R2_VECTORS_DIR)`);
  let pass = 0;
  let skip = 0;
  for (const f of files) {
    const file = JSON.parse(fs.readFileSync(path.join(VECTORS_DIR, f), 'utf8'));
    for (const c of file.cases) {
      if (runCase(file, c) === 'pass') pass++;
      else skip++;
    }
  }
  t.diagnostic(`sigv4 vectors: ${pass} passed, ${skip} skipped (not S3-applicable), ${files.length} files`);
  assert.ok(pass > 100);
});
