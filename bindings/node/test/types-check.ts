// Type-checked by `make node-types` (tsc --strict --noEmit); never run. It uses
// every export the way a program would, so index.d.ts must describe them all.
import * as r2 from '..';

declare const process: { env: Record<string, string | undefined> };
declare const someReadable: r2.NodeReadable;
declare const someWebStream: r2.WebReadableStream<Uint8Array>;
declare const signal: r2.AbortSignalLike;
declare const headers: r2.HeadersLike;

async function everything(): Promise<void> {
  const client = new r2.Client({
    accountId: 'acct', accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: undefined,
    endpoint: process.env.R2_ENDPOINT, jurisdiction: 'eu', allowHttp: true, caBundle: '/ca.pem',
    timeouts: { connectMs: 1000, requestMs: 5000 }, multipart: { threshold: 1 << 27, partSize: 1 << 23, concurrency: 8 },
    record: undefined, replay: undefined,
    region: 'us-east-1', virtualHostedStyle: true, maxGetBytes: 1 << 20, maxAttempts: 3, rateLimit: 100,
  });
  new r2.Client({
    accessKeyId: 'id', secretAccessKey: 'secret', endpoint: 'http://127.0.0.1:1', allowHttp: true, region: '',
    timeouts: { stallMs: 5000, stallMinBytesPerSec: 512, listMs: 10000, partMs: 30000, deadlineMs: 60000 },
  }).close();
  const sseCustomerKey: Uint8Array = new Uint8Array(32);
  const fromEnv: r2.Client = r2.Client.fromEnv();
  fromEnv.close();

  const put: r2.ObjectInfo = await client.put('b', 'k', 'text', { contentType: 'text/plain', metadata: { a: 'b' }, signal });
  await client.put('b', 'k', new Uint8Array(4));
  await client.put('b', 'k', new ArrayBuffer(4));
  await client.put('b', 'k', someReadable, { length: 10 });
  await client.put('b', 'k', someWebStream);
  await client.put('b', 'k', (async function* () { yield 'a'; })());
  const etag: string = put.etag;

  const got: r2.GetResult = await client.get('b', 'k', { range: 'bytes=0-1', signal });
  const body: Uint8Array = got.body;
  const modified: Date | undefined = got.lastModified;
  const meta: Record<string, string> = got.metadata;
  const stream: r2.ObjectStream = await client.getStream('b', 'k', { signal, window: 1 << 20 });
  for await (const chunk of stream) { const n: number = chunk.length; void n; }
  stream.on('info', (info: r2.ObjectInfo) => info.etag);
  const head: r2.ObjectInfo = await client.head('b', 'k', { ifMatch: etag });
  await client.delete('b', 'k', { signal });
  const many: r2.DeleteManyResult = await client.deleteMany('b', ['a', 'b'], { quiet: false });
  many.errors.forEach((e) => e.code);
  await client.copy('b', 'k', 'b2', 'k2', { replaceMetadata: true, metadata: { x: 'y' } });
  const page: r2.ListPage = await client.list('b', { prefix: 'p/', delimiter: '/', startAfter: 'p/a', continuationToken: undefined, maxKeys: 10 });
  page.commonPrefixes.map((p: string) => p);
  for await (const o of client.listAll('b', { prefix: 'p/' })) { const s: number = o.size; void s; }

  const uploadId: string = await client.createMultipartUpload('b', 'k', { contentType: 'x/y' });
  const p1: r2.CompletedPart = await client.uploadPart('b', 'k', uploadId, 1, new Uint8Array(1), { checksum: 'crc32' });
  const p2 = await client.uploadPartCopy('b', 'k', uploadId, 2, 'b', 'src', { range: [0, 99] });
  const parts: r2.PartInfo[] = await client.listParts('b', 'k', uploadId);
  const ups: r2.UploadInfo[] = await client.listMultipartUploads('b', { prefix: 'k' });
  await client.completeMultipartUpload('b', 'k', uploadId, [p1, p2]);
  await client.abortMultipartUpload('b', 'k', uploadId);
  await client.put('b', 'k', 'secret', { sseCustomerKey });
  await client.get('b', 'k', { sseCustomerKey });
  await client.getStream('b', 'k', { sseCustomerKey });
  await client.head('b', 'k', { sseCustomerKey });
  await client.copy('b', 'k', 'b', 'k2', { sseCustomerKey, sourceSseCustomerKey: sseCustomerKey });
  const sseUpload: string = await client.createMultipartUpload('b', 'k', { sseCustomerKey });
  const sp: r2.CompletedPart = await client.uploadPart('b', 'k', sseUpload, 1, new Uint8Array(1), { sseCustomerKey });
  await client.uploadPartCopy('b', 'k', sseUpload, 2, 'b', 'src', { sseCustomerKey, sourceSseCustomerKey: sseCustomerKey });
  await client.completeMultipartUpload('b', 'k', sseUpload, [sp], { ifNoneMatch: '*', sseCustomerKey });
  await client.completeMultipartUpload('b', 'k', sseUpload, [sp], { ifMatch: etag });
  await client.uploadFile('/tmp/f', 'b', 'k', { ifNoneMatch: '*', sseCustomerKey, threshold: 5 << 20, partSize: 5 << 20 });
  await client.uploadFile('/tmp/f', 'b', 'k', { ifMatch: etag });
  await client.downloadFile('b', 'k', '/tmp/g', { fsync: false, sseCustomerKey });
  const missingKey: r2.SSECustomerKeyRequired | r2.ExpiredRequest | r2.MetadataTooLarge | undefined = undefined;
  void missingKey;
  await client.uploadFile('/tmp/f', 'b', 'k', { partSize: 1 << 23, concurrency: 4, statePath: '/tmp/f.state', onProgress: (p: r2.Progress) => p.bytes, signal });
  await client.downloadFile('b', 'k', '/tmp/g', { onProgress: ({ bytes, total }) => (total ?? 0) - bytes });
  const url: string = client.presign('GET', 'b', 'k', 3600, { headers: { 'content-type': 'x' }, query: { 'response-content-disposition': 'attachment' } });
  const prom: string = client.metrics();
  const json = client.metrics({ json: true });
  json.metrics.forEach((m) => m.samples.forEach((s) => s.value));

  const signer = new r2.Signer({ accessKeyId: 'id', secretAccessKey: 's', region: 'auto', service: 's3' });
  const signed: r2.SignedRequest = signer.sign({ method: 'GET', url: 'https://h/b/k', headers: { 'x-a': '1' }, body: 'x', date: new Date() });
  const pre: r2.SignedRequest = signer.presign({ method: 'GET', path: '/b/k', headers: [['host', 'h']] }, 60);
  signed.headers.forEach(([n, v]) => n + v);

  try {
    await client.get('b', 'missing');
  } catch (e) {
    if (e instanceof r2.NoSuchKey) { const s: number = e.status; void s; }
    if (e instanceof r2.R2Error) { const fields = [e.code, e.s3Code, e.requestId, e.retryable, e.retryAfterMs]; void fields; }
    if (e instanceof r2.Cancelled || e instanceof r2.SlowDown || e instanceof r2.Unsupported || e instanceof r2.ReplayUnmatched) throw e;
  }

  // Workers R2Bucket, as a Worker uses env.MY_BUCKET
  const MY_BUCKET: r2.R2Bucket = client.bucket('b');
  const o: r2.R2Object | null = await MY_BUCKET.put('k', 'v', { httpMetadata: { contentType: 'text/plain' }, customMetadata: { a: 'b' }, md5: 'abcd', onlyIf: { etagMatches: 'x' } });
  const obj = await MY_BUCKET.get('k', { range: { offset: 0, length: 2 } });
  if (obj) {
    const text: string = await obj.text();
    const data: ArrayBuffer = await obj.arrayBuffer();
    const j = await obj.json<{ a: number }>();
    const blob: r2.BlobLike = await obj.blob();
    const b: r2.WebReadableStream<Uint8Array> = obj.body;
    obj.writeHttpMetadata(headers);
    const fields = [obj.key, obj.size, obj.etag, obj.httpEtag, obj.uploaded.getTime(), obj.httpMetadata.contentType, obj.customMetadata.a, obj.range];
    void [text, data, j.a, blob, b, fields];
  }
  const cond = await MY_BUCKET.get('k', { onlyIf: { etagDoesNotMatch: 'x' } });
  if (cond && !(cond instanceof r2.R2ObjectBody)) cond.etag;
  const h: r2.R2Object | null = await MY_BUCKET.head('k');
  await MY_BUCKET.delete('k');
  await MY_BUCKET.delete(['a', 'b']);
  const listed: r2.R2Objects = await MY_BUCKET.list({ prefix: 'p', delimiter: '/', cursor: undefined, limit: 10, include: ['customMetadata'] });
  listed.delimitedPrefixes.concat(listed.cursor ?? '');
  const mpu: r2.R2MultipartUpload = await MY_BUCKET.createMultipartUpload('k', { httpMetadata: { contentType: 'x' } });
  const part: r2.R2UploadedPart = await mpu.uploadPart(1, new Uint8Array(5));
  const done: r2.R2Object = await MY_BUCKET.resumeMultipartUpload('k', mpu.uploadId).complete([part]);
  await mpu.abort();

  // the seed's clients
  const service = new r2.R2Service(MY_BUCKET, { maxRetries: 2 }, { accountId: 'a', accessKeyId: 'i', secretAccessKey: 's', bucketName: 'b' });
  await service.put('k', 'body', { m: '1' }, { contentType: 'text/plain' });
  await service.putJson('k.json', { a: 1 });
  const maybe: r2.R2ObjectBody | null = await service.get('k');
  await service.delete('k');
  await service.list({ prefix: 'p', delimiter: '/', limit: 5, cursor: undefined });
  await service.createMultipartUpload('k');
  service.resumeMultipartUpload('k', 'id');
  const signedUrl: string = await service.generateSignedUrl('k', 3600);
  const signing: r2.R2SigningClient = r2.createR2SigningClientFromEnv();
  const direct = new r2.R2SigningClient({ accountId: 'a', accessKeyId: 'i', secretAccessKey: 's', bucketName: 'b' });
  const exists: boolean = await direct.objectExists('k');
  const u2: string = await signing.generateSignedUrl('k', 60);
  const bucketName: string = signing.getBucketName();
  const v: string = r2.version + r2.libraryPath;
  void [body, modified, meta, head, parts, ups, url, prom, pre, o, h, done, maybe, signedUrl, exists, u2, bucketName, v];
}
void everything;
