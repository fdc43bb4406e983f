'use strict';
// r2 for Node.js: the public API over the N-API addon (src/r2_node.c).
const { Readable } = require('node:stream');
const path = require('node:path');
const native = require('./native');
const errors = require('./errors');
const { readerIterable } = require('./streams');
const { fromNative, abortError } = errors;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const JURISDICTIONS = { default: 0, eu: 1, fedramp: 2, us: 3 };
const PAYLOAD = { signed: 1, unsigned: 2 };
const CHECKSUMS = { md5: 1, crc32: 2, crc32c: 3, sha1: 4, sha256: 5 };
const DOWNLOAD_WINDOW = 4 * MiB; // bytes a getStream may hold ahead of its reader before r2 pauses the transfer

function checkSignal(signal, what) {
  if (signal && signal.aborted) throw abortError(signal, what);
}

// Starting a call costs the JS thread ~10 µs (arguments, N-API, r2_X_async).
// A caller that starts thousands in one turn would hold the event loop for
// tens of milliseconds, so in the caller's turn a call only records itself (a
// Call and its promise); a FIFO drained by setImmediate, SUBMIT_BUDGET_MS per
// turn, marshals the arguments and starts the calls in order, letting timers
// and I/O run in between.
const SUBMIT_BUDGET_MS = 2;
const queue = [];
let queueHead = 0;

// A call waiting for its start, in one shape for every call (no closure per
// call on the way in). start(call, ctl) marshals a..d and returns the addon's
// promise, which settles with the final result (native.setFactories: the
// addon makes objectInfo's and makeError's objects). A start function may
// carry `stream` (the call needs a control block even without a signal) and
// `fail(call, err)` (maps its errors).
class Call {
  constructor(start, client, a, b, c, d, signal, what) {
    this.start = start;
    this.client = client;
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    this.signal = signal;
    this.what = what;
    this.resolve = undefined;
    this.reject = undefined;
  }
}

// The executor of every call's promise: hands its resolving functions over
// without a closure per call.
let resolved;
let rejected;
function capture(resolve, reject) {
  resolved = resolve;
  rejected = reject;
}

function submit(start, client, a, b, c, d, signal, what) {
  if (signal && signal.aborted) return Promise.reject(abortError(signal, what));
  const call = new Call(start, client, a, b, c, d, signal, what);
  const promise = new Promise(capture);
  call.resolve = resolved;
  call.reject = rejected;
  if (queue.push(call) - queueHead === 1) setImmediate(drainQueue);
  return promise;
}

function drainQueue() {
  const t0 = performance.now();
  while (queueHead < queue.length) {
    const call = queue[queueHead];
    queue[queueHead++] = undefined;
    begin(call);
    if ((queueHead & 15) === 0 && performance.now() - t0 >= SUBMIT_BUDGET_MS) break;
  }
  if (queueHead < queue.length) {
    setImmediate(drainQueue);
  } else {
    queue.length = 0;
    queueHead = 0;
  }
}

// Starts a call: with a signal (or for a stream) under a control block the
// signal cancels (r2_op_cancel); without, ctl is null (no block to make for
// a small call). A call stopped by the signal rejects with an AbortError
// (r2.Cancelled).
function begin(call) {
  const signal = call.signal;
  let ctl = null;
  if (signal || call.start.stream) {
    if (signal && signal.aborted) {
      call.reject(abortError(signal, call.what));
      return;
    }
    ctl = native.ctlNew();
  }
  let promise;
  try {
    promise = call.start(call, ctl);
  } catch (e) {
    call.reject(failure(call, e));
    return;
  }
  if (!signal) {
    promise.then(call.resolve, (e) => call.reject(failure(call, e)));
    return;
  }
  const onAbort = () => native.ctlCancel(ctl);
  signal.addEventListener('abort', onAbort, { once: true });
  promise.then((v) => {
    signal.removeEventListener('abort', onAbort);
    call.resolve(v);
  }, (e) => {
    signal.removeEventListener('abort', onAbort);
    call.reject(failure(call, e));
  });
}

function failure(call, e) {
  if (call.signal && call.signal.aborted) return abortError(call.signal, call.what);
  e = fromNative(e);
  return call.start.fail ? call.start.fail(call, e) : e;
}

// The less frequent calls: start(ctl) is the caller's closure.
function controlled(signal, what, start, { stream = false } = {}) {
  return submit(stream ? startStreamThunk : startThunk, null, start, undefined, undefined, undefined, signal, what);
}
function startThunk(call, ctl) { return call.a(ctl); }
function startStreamThunk(call, ctl) { return call.a(ctl); }
startStreamThunk.stream = true;

// The frequent calls, without a closure: call.client and a..d are their arguments.
function startGet(call, ctl) {
  return native.get(call.client._h, call.a, call.b, getOptions(call.c), ctl);
}
startGet.fail = (call, e) => {
  if (!(e instanceof errors.EntityTooLarge)) return e;
  return new errors.EntityTooLarge(`the body of ${call.b} is larger than maxGetBytes (${call.client._maxGetBytes}); use getStream or downloadFile`,
    { code: 'EntityTooLarge', status: e.status, requestId: e.requestId });
};

function startHead(call, ctl) {
  return native.head(call.client._h, call.a, call.b, getOptions(call.c), ctl);
}

function startDelete(call, ctl) {
  return native.delete(call.client._h, call.a, call.b, ctl);
}

// One PUT on r2's engine; the transfer manager (multipart) from the threshold on.
function startPut(call, ctl) {
  const opts = call.d;
  const put = putOptions(opts);
  const threshold = opts.threshold || call.client._threshold;
  const viaTransfer = !put.checksum && call.c.byteLength >= threshold;
  return native.put(call.client._h, call.a, call.b, call.c, viaTransfer ? {} : put, viaTransfer ? transferOptions(opts, put) : null, ctl);
}

function sync(fn) {
  try { return fn(); } catch (e) { throw fromNative(e); }
}

function toDate(s) {
  if (!s) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function httpDate(v) {
  if (v === undefined || v === null) return undefined;
  return v instanceof Date ? v.toUTCString() : String(v);
}

function pairs(v, what) {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(([k, x]) => [String(k), String(x)]);
  if (typeof v.entries === 'function' && typeof v.get === 'function') return [...v.entries()].map(([k, x]) => [k, String(x)]);
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => [k, String(x)]);
  throw new TypeError(`${what} must be an object of names to values`);
}

function enumValue(table, v, what) {
  if (v === undefined || v === null) return undefined;
  const n = table[String(v).toLowerCase()];
  if (n === undefined) throw new TypeError(`${what} must be one of ${Object.keys(table).join(', ')}`);
  return n;
}

// Body → bytes, or null for a stream (then `iterable` is its async iterable).
function bytesOf(body) {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) return body;
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && body instanceof SharedArrayBuffer)) return new Uint8Array(body);
  if (body === undefined || body === null) return Buffer.alloc(0);
  return null;
}

function iterableOf(body) {
  if (body && typeof body[Symbol.asyncIterator] === 'function') return body;
  if (body && typeof body.getReader === 'function') {
    return readerIterable(body); // a web ReadableStream without async iteration
  }
  if (body && typeof body[Symbol.iterator] === 'function') return body;
  throw new TypeError('body must be a string, Buffer, Uint8Array, ArrayBuffer, Readable, ReadableStream or (async) iterable');
}

// An SSE-C key: 32 bytes (AES-256), copied; undefined when not given.
function sseKey(v, what = 'sseCustomerKey') {
  if (v === undefined || v === null) return undefined;
  if (!(v instanceof Uint8Array) || v.byteLength !== 32) {
    throw new errors.InvalidArgument(`${what} must be 32 bytes (a Buffer or Uint8Array holding an AES-256 key)`, { code: 'InvalidArgument' });
  }
  return Buffer.from(v);
}

function putOptions(o = {}) {
  return {
    contentType: o.contentType,
    cacheControl: o.cacheControl,
    contentDisposition: o.contentDisposition,
    contentEncoding: o.contentEncoding,
    contentLanguage: o.contentLanguage,
    expires: httpDate(o.expires),
    metadata: pairs(o.metadata, 'metadata'),
    ifMatch: o.ifMatch,
    ifNoneMatch: o.ifNoneMatch,
    ifModifiedSince: httpDate(o.ifModifiedSince),
    ifUnmodifiedSince: httpDate(o.ifUnmodifiedSince),
    payloadMode: enumValue(PAYLOAD, o.payload, 'payload'),
    checksum: enumValue(CHECKSUMS, o.checksum, 'checksum'),
    checksumValue: o.checksumValue,
    storageClass: o.storageClass,
    sseCustomerKey: sseKey(o.sseCustomerKey),
  };
}

// null when none is set (most calls): the addon then reads no options object.
function getOptions(o = {}) {
  if (o.range == null && o.ifMatch == null && o.ifNoneMatch == null && o.ifModifiedSince == null &&
    o.ifUnmodifiedSince == null && o.validateChecksum == null && o.sseCustomerKey == null) return null;
  return {
    range: o.range,
    ifMatch: o.ifMatch,
    ifNoneMatch: o.ifNoneMatch,
    ifModifiedSince: httpDate(o.ifModifiedSince),
    ifUnmodifiedSince: httpDate(o.ifUnmodifiedSince),
    validateChecksum: o.validateChecksum,
    sseCustomerKey: sseKey(o.sseCustomerKey),
  };
}

function transferOptions(o = {}, put) {
  return {
    threshold: o.threshold,
    partSize: o.partSize,
    concurrency: o.concurrency,
    partChecksum: enumValue(CHECKSUMS, o.partChecksum, 'partChecksum'),
    progressIntervalMs: o.progressIntervalMs,
    statePath: o.statePath,
    sseCustomerKey: sseKey(o.sseCustomerKey),
    sourceSseCustomerKey: sseKey(o.sourceSseCustomerKey, 'sourceSseCustomerKey'),
    skipFsync: o.fsync === false,
    put,
  };
}

// What put, head, copy, complete, the file transfers and get (with `body`)
// resolve to, from r2_object_info's fields: the addon calls this for each
// (native.setFactories), so the object is made once, from a literal.
function objectInfo(body, etag, size, contentType, lastModified, metadata, versionId, contentRange, cacheControl,
  contentDisposition, contentEncoding, contentLanguage, expires, storageClass, checksums, requestId, httpStatus) {
  // Two literals on purpose: a get's result has `body` first, a head's has no
  // `body` key at all, and each kind keeps one shape (no spread, no delete).
  if (body !== undefined) {
    return {
      body,
      etag,
      size,
      contentType: contentType || undefined,
      lastModified: toDate(lastModified),
      metadata,
      versionId: versionId || undefined,
      contentRange: contentRange || undefined,
      cacheControl: cacheControl || undefined,
      contentDisposition: contentDisposition || undefined,
      contentEncoding: contentEncoding || undefined,
      contentLanguage: contentLanguage || undefined,
      expires: expires || undefined,
      storageClass: storageClass || undefined,
      checksums,
      requestId,
      httpStatus,
    };
  }
  return {
    etag,
    size,
    contentType: contentType || undefined,
    lastModified: toDate(lastModified),
    metadata,
    versionId: versionId || undefined,
    contentRange: contentRange || undefined,
    cacheControl: cacheControl || undefined,
    contentDisposition: contentDisposition || undefined,
    contentEncoding: contentEncoding || undefined,
    contentLanguage: contentLanguage || undefined,
    expires: expires || undefined,
    storageClass: storageClass || undefined,
    checksums,
    requestId,
    httpStatus,
  };
}
native.setFactories(objectInfo, errors.makeError);

// A page from the addon's three pieces (src/r2_node.c result_list): the
// page's text, each entry's strings as start and length in it (table: key,
// etag, last-modified, storage class) and its numbers (size, last-modified
// in ms, NaN where the server's date did not parse in C).
function listPage(p) {
  const { text, table, numbers } = p;
  const n = numbers.length / 2;
  const objects = new Array(n);
  for (let i = 0, t = 0; i < n; i++, t += 8) {
    const ms = numbers[2 * i + 1];
    const storageClass = text.substring(table[t + 6], table[t + 6] + table[t + 7]);
    objects[i] = {
      key: text.substring(table[t], table[t] + table[t + 1]),
      size: numbers[2 * i],
      etag: text.substring(table[t + 2], table[t + 2] + table[t + 3]),
      lastModified: ms === ms ? new Date(ms) : toDate(text.substring(table[t + 4], table[t + 4] + table[t + 5])),
      storageClass: storageClass || undefined,
    };
  }
  return {
    objects,
    commonPrefixes: p.commonPrefixes,
    isTruncated: p.isTruncated,
    nextContinuationToken: p.nextContinuationToken || undefined,
    requestId: p.requestId,
  };
}

function clientOptions(o = {}) {
  const t = o.timeouts || {};
  const m = o.multipart || {};
  return {
    accountId: o.accountId,
    accessKeyId: o.accessKeyId,
    secretAccessKey: o.secretAccessKey,
    sessionToken: o.sessionToken,
    endpoint: o.endpoint,
    jurisdiction: enumValue(JURISDICTIONS, o.jurisdiction, 'jurisdiction'),
    allowHttp: o.allowHttp,
    caBundle: o.caBundle,
    connectTimeoutMs: t.connectMs,
    requestTimeoutMs: t.requestMs,
    transferTimeoutMs: t.transferMs,
    stallTimeoutMs: t.stallMs,
    deadlineMs: t.deadlineMs,
    stallMinBytesPerSec: t.stallMinBytesPerSec,
    listTimeoutMs: t.listMs,
    partTimeoutMs: t.partMs,
    multipartThreshold: m.threshold,
    multipartPartSize: m.partSize,
    multipartConcurrency: m.concurrency,
    poolSize: o.poolSize,
    payloadMode: enumValue(PAYLOAD, o.payload, 'payload'),
    record: o.record,
    replay: o.replay,
    replayLatency: o.replayLatency,
    maxAttempts: o.maxAttempts,
    rateLimit: o.rateLimit,
    maxGetBytes: o.maxGetBytes,
    virtualHostedStyle: o.virtualHostedStyle,
    region: o.region,
  };
}

class Client {
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    this._handle = sync(() => native.clientNew(clientOptions(options)));
    this._threshold = (options.multipart && options.multipart.threshold) || 100 * MiB;
    this._maxGetBytes = options.maxGetBytes || GiB;
  }

  /** A client from R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_ENDPOINT, R2_ALLOW_HTTP, ... */
  static fromEnv() {
    const c = Object.create(Client.prototype);
    c._handle = sync(() => native.clientFromEnv());
    c._threshold = Number(process.env.R2_MULTIPART_THRESHOLD_BYTES) || 100 * MiB;
    c._maxGetBytes = GiB;
    return c;
  }

  /** Frees the client once the calls in flight have finished. Later calls throw. */
  close() {
    if (this._handle) native.clientClose(this._handle);
    this._closed = true;
  }

  get _h() {
    if (this._closed) {
      const e = new Error('the client is closed');
      e.code = 'ERR_R2_CLOSED';
      throw e;
    }
    return this._handle;
  }

  put(bucket, key, body, opts = {}) {
    const bytes = bytesOf(body);
    if (bytes) return submit(startPut, this, bucket, key, bytes, opts, opts ? opts.signal : undefined, 'put');
    return this._putStream(bucket, key, body, opts);
  }

  async _putStream(bucket, key, body, opts) {
    const signal = opts.signal;
    const put = putOptions(opts);
    const threshold = opts.threshold || this._threshold;
    // A stream: fed chunk by chunk when r2 asks ("need"), a few chunks ahead. A known
    // length below the threshold is one streamed PUT on the engine (it pauses while
    // nothing is fed); otherwise the transfer manager uploads parts.
    const iterable = iterableOf(body);
    const iterator = iterable[Symbol.asyncIterator] ? iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]();
    let feedError;
    let ended = false;
    let chain = Promise.resolve();
    const length = opts.length === undefined || opts.length === null ? -1 : opts.length;
    const single = length >= 0 && length < threshold;
    return controlled(signal, 'put', (ctl) => {
      const onEvent = (kind) => {
        if (kind !== 'need') return;
        chain = chain.then(async () => {
          if (ended) return;
          try {
            const { value, done } = await iterator.next();
            if (done) {
              ended = true;
              native.ctlFeed(ctl, null);
            } else {
              native.ctlFeed(ctl, typeof value === 'string' ? Buffer.from(value) : bytesOf(value) || Buffer.from(value));
            }
          } catch (e) {
            feedError = e;
            ended = true;
            native.ctlCancel(ctl);
          }
        });
      };
      return single
        ? native.put(this._h, bucket, key, null, put, null, ctl, length, onEvent)
        : native.put(this._h, bucket, key, null, {}, transferOptions(opts, put), ctl, length, onEvent);
    }, { stream: true }).catch(async (e) => {
      if (!ended && typeof iterator.return === 'function') await Promise.resolve(iterator.return()).catch(() => {});
      throw feedError !== undefined ? feedError : e;
    });
  }

  /** The whole body in memory (r2_object_get on the engine): at most maxGetBytes (1 GiB); more rejects with EntityTooLarge. */
  get(bucket, key, opts = {}) {
    return submit(startGet, this, bucket, key, opts, undefined, opts ? opts.signal : undefined, 'get');
  }

  /** A Readable of the object's body that honours backpressure. It resolves
   * once the response head arrived, with the object's metadata already in
   * `stream.info` (as get has it), before the body is read; 'info' is still
   * emitted just before 'end'. */
  getStream(bucket, key, opts = {}) {
    const signal = opts.signal;
    return new Promise((resolve, reject) => {
      try { checkSignal(signal, 'getStream'); } catch (e) { reject(e); return; }
      const ctl = native.ctlNew(opts.window || DOWNLOAD_WINDOW);
      // r2's write callback pauses the transfer once `window` bytes wait
      // unacknowledged; a chunk is acknowledged when the Readable takes it
      // below its highWaterMark, or later when _read asks for more.
      let owed = 0;
      let started = false;
      let finished = false;
      const stream = new Readable({
        highWaterMark: opts.highWaterMark || MiB,
        read() {
          if (owed) {
            native.ctlAck(ctl, owed);
            owed = 0;
          }
        },
        destroy(err, cb) {
          if (!finished) native.ctlCancel(ctl);
          cb(err);
        },
      });
      const onAbort = () => {
        native.ctlCancel(ctl);
        if (started) stream.destroy(abortError(signal, 'getStream'));
      };
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      const onEvent = (kind, chunk, headInfo) => {
        if (headInfo) stream.info = headInfo;
        if (!started) {
          started = true;
          resolve(stream);
        }
        if (stream.destroyed) return;
        if (stream.push(chunk)) native.ctlAck(ctl, chunk.length);
        else owed += chunk.length;
      };
      let promise;
      try {
        promise = native.getStream(this._h, bucket, key, getOptions(opts), ctl, onEvent);
      } catch (e) {
        reject(fromNative(e));
        return;
      }
      promise.then((info) => {
        finished = true;
        if (!stream.info) stream.info = info;
        if (!started) resolve(stream);
        started = true;
        stream.emit('info', stream.info);
        stream.push(null);
      }, (e) => {
        finished = true;
        const err = signal && signal.aborted ? abortError(signal, 'getStream') : fromNative(e);
        if (!started) reject(err);
        else if (!stream.destroyed) stream.destroy(err);
      }).finally(() => {
        if (signal) signal.removeEventListener('abort', onAbort);
      });
    });
  }

  head(bucket, key, opts = {}) {
    return submit(startHead, this, bucket, key, opts, undefined, opts ? opts.signal : undefined, 'head');
  }

  delete(bucket, key, opts = {}) {
    return submit(startDelete, this, bucket, key, undefined, undefined, opts ? opts.signal : undefined, 'delete');
  }

  /** Deletes many keys (batches of 1000); per-key failures are in `errors`, not thrown. */
  async deleteMany(bucket, keys, opts = {}) {
    return controlled(opts.signal, 'deleteMany', (ctl) => native.deleteMany(this._h, bucket, [...keys], !!opts.quiet, ctl));
  }

  /** Server-side copy of srcBucket/srcKey to bucket/key (up to 5 GiB; `multipart: true` for larger). */
  async copy(srcBucket, srcKey, bucket, key, opts = {}) {
    if (opts.multipart) {
      const put = opts.replaceMetadata ? putOptions(opts) : undefined;
      return controlled(opts.signal, 'copy', (ctl) =>
        native.copyLarge(this._h, bucket, key, srcBucket, srcKey, transferOptions(opts, put), ctl));
    }
    const copyOpts = {
      replaceMetadata: !!opts.replaceMetadata,
      contentType: opts.contentType,
      cacheControl: opts.cacheControl,
      contentDisposition: opts.contentDisposition,
      contentEncoding: opts.contentEncoding,
      metadata: pairs(opts.metadata, 'metadata'),
      ifMatch: opts.ifMatch,
      ifNoneMatch: opts.ifNoneMatch,
      ifModifiedSince: httpDate(opts.ifModifiedSince),
      ifUnmodifiedSince: httpDate(opts.ifUnmodifiedSince),
      sseCustomerKey: sseKey(opts.sseCustomerKey),
      sourceSseCustomerKey: sseKey(opts.sourceSseCustomerKey, 'sourceSseCustomerKey'),
    };
    return controlled(opts.signal, 'copy', (ctl) => native.copy(this._h, bucket, key, srcBucket, srcKey, copyOpts, ctl));
  }

  /** One page of ListObjectsV2. */
  async list(bucket, opts = {}) {
    return listPage(await controlled(opts.signal, 'list', (ctl) => native.list(this._h, bucket, {
      prefix: opts.prefix, delimiter: opts.delimiter, startAfter: opts.startAfter,
      continuationToken: opts.continuationToken, maxKeys: opts.maxKeys,
    }, ctl)));
  }

  /** Every object (pages fetched as the iteration goes). */
  async *listAll(bucket, opts = {}) {
    let token = opts.continuationToken;
    for (;;) {
      const page = await this.list(bucket, { ...opts, continuationToken: token });
      yield* page.objects;
      if (!page.isTruncated || !page.nextContinuationToken) return;
      token = page.nextContinuationToken;
    }
  }

  async createMultipartUpload(bucket, key, opts = {}) {
    return controlled(opts.signal, 'createMultipartUpload', (ctl) => native.multipartCreate(this._h, bucket, key, putOptions(opts), ctl));
  }

  async uploadPart(bucket, key, uploadId, partNumber, body, opts = {}) {
    const bytes = bytesOf(body);
    if (!bytes) throw new TypeError('a part must be bytes (string, Buffer, Uint8Array or ArrayBuffer)');
    const checksum = enumValue(CHECKSUMS, opts.checksum, 'checksum');
    const partOpts = { sseCustomerKey: sseKey(opts.sseCustomerKey) };
    const etag = await controlled(opts.signal, 'uploadPart', (ctl) =>
      native.uploadPart(this._h, bucket, key, uploadId, partNumber, bytes, checksum, partOpts, ctl));
    return { partNumber, etag };
  }

  async uploadPartCopy(bucket, key, uploadId, partNumber, srcBucket, srcKey, opts = {}) {
    const [first, last] = opts.range || [-1, -1];
    const partOpts = { sseCustomerKey: sseKey(opts.sseCustomerKey), sourceSseCustomerKey: sseKey(opts.sourceSseCustomerKey, 'sourceSseCustomerKey') };
    const etag = await controlled(opts.signal, 'uploadPartCopy', (ctl) =>
      native.uploadPartCopy(this._h, bucket, key, uploadId, partNumber, srcBucket, srcKey, first, last, partOpts, ctl));
    return { partNumber, etag };
  }

  /** ifNoneMatch '*' (create-only) / ifMatch (an ETag) are checked by the server when the object is published. */
  async completeMultipartUpload(bucket, key, uploadId, parts, opts = {}) {
    const completeOpts = { ifMatch: opts.ifMatch, ifNoneMatch: opts.ifNoneMatch, sseCustomerKey: sseKey(opts.sseCustomerKey) };
    return controlled(opts.signal, 'completeMultipartUpload', (ctl) =>
      native.multipartComplete(this._h, bucket, key, uploadId, parts, completeOpts, ctl));
  }

  async abortMultipartUpload(bucket, key, uploadId, opts = {}) {
    await controlled(opts.signal, 'abortMultipartUpload', (ctl) => native.multipartAbort(this._h, bucket, key, uploadId, ctl));
  }

  async listParts(bucket, key, uploadId, opts = {}) {
    const parts = await controlled(opts.signal, 'listParts', (ctl) => native.listParts(this._h, bucket, key, uploadId, ctl));
    return parts.map((p) => ({ ...p, lastModified: toDate(p.lastModified) }));
  }

  async listMultipartUploads(bucket, opts = {}) {
    const ups = await controlled(opts.signal, 'listMultipartUploads', (ctl) => native.listUploads(this._h, bucket, opts.prefix, ctl));
    return ups.map((u) => ({ ...u, initiated: toDate(u.initiated) }));
  }

  /** Uploads a file: one PUT below the threshold, parallel parts above it. */
  async uploadFile(file, bucket, key, opts = {}) {
    return this._transferFile('upload', file, bucket, key, opts);
  }

  /** Downloads to <path>.r2-partial, renamed at the end: a failed or aborted download leaves nothing at path. */
  async downloadFile(bucket, key, file, opts = {}) {
    return this._transferFile('download', file, bucket, key, opts);
  }

  async _transferFile(direction, file, bucket, key, opts) {
    const onProgress = typeof opts.onProgress === 'function' ? opts.onProgress : null;
    const put = direction === 'upload' ? putOptions(opts) : undefined;
    return controlled(opts.signal, direction === 'upload' ? 'uploadFile' : 'downloadFile', (ctl) =>
      native.transferFile(this._h, bucket, key, path.resolve(String(file)), direction, transferOptions(opts, put), ctl,
        onProgress && ((kind, done, total) => onProgress({ bytes: done, total: total < 0 ? undefined : total }))));
  }

  /** A presigned URL (no I/O): method GET, PUT, HEAD or DELETE; 1 s to 7 days. */
  presign(method, bucket, key, expiresInSeconds, opts = {}) {
    if (typeof expiresInSeconds !== 'number') throw new TypeError('expiresInSeconds must be a number');
    const unixTime = opts.date === undefined ? undefined : Math.floor(new Date(opts.date).getTime() / 1000);
    return sync(() => native.presign(this._h, String(method).toUpperCase(), bucket, key, expiresInSeconds,
      pairs(opts.headers, 'headers'), pairs(opts.query, 'query'), unixTime));
  }

  /** The client's metrics: Prometheus text, or parsed JSON with { json: true }. */
  metrics(opts = {}) {
    const text = sync(() => native.metrics(this._h, !!opts.json));
    return opts.json ? JSON.parse(text) : text;
  }

  /** The Workers R2Bucket interface over this client. */
  bucket(name) {
    const { R2Bucket } = require('./bucket');
    return new R2Bucket(this, name);
  }
}

class Signer {
  constructor(options = {}) {
    this._handle = sync(() => native.signerNew({
      accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, sessionToken: options.sessionToken,
      region: options.region, service: options.service,
    }));
  }

  static _request(req) {
    if (!req || typeof req !== 'object') throw new TypeError('request must be an object');
    let reqPath = req.path;
    let query = req.query;
    const headers = pairs(req.headers, 'headers') || [];
    if (req.url !== undefined) {
      const u = new URL(String(req.url));
      reqPath = reqPath ?? u.pathname;
      query = query ?? (u.search ? u.search.slice(1) : undefined);
      if (!headers.some(([n]) => n.toLowerCase() === 'host')) headers.unshift(['host', u.host]);
    }
    if (query !== undefined && typeof query !== 'string') {
      query = new URLSearchParams(pairs(query, 'query')).toString();
    }
    const body = req.body === undefined ? undefined : bytesOf(req.body);
    const date = req.date === undefined ? undefined : new Date(req.date).getTime();
    return {
      method: req.method || 'GET', path: reqPath || '/', query, headers, body,
      payloadHash: req.payloadHash,
      unixTime: date === undefined ? undefined : Math.floor(date / 1000),
      contentSha256Header: req.contentSha256Header === undefined ? true : !!req.contentSha256Header,
      omitSessionToken: !!req.omitSessionToken,
    };
  }

  /** Signs a request for the Authorization header. */
  sign(req) {
    return sync(() => native.signerSign(this._handle, Signer._request(req)));
  }

  /** Presigns a request (query-string auth); `query` of the result is the full query string. */
  presign(req, expiresInSeconds) {
    if (typeof expiresInSeconds !== 'number') throw new TypeError('expiresInSeconds must be a number');
    return sync(() => native.signerSign(this._handle, Signer._request(req), expiresInSeconds));
  }
}

module.exports = {
  Client,
  Signer,
  ...errors,
  version: native.libraryVersion,
  libraryPath: native.libraryPath,
};
// The Workers API and the seed's clients load lazily but are plain exports.
Object.defineProperties(module.exports, {
  R2Bucket: { enumerable: true, get: () => require('./bucket').R2Bucket },
  R2Object: { enumerable: true, get: () => require('./bucket').R2Object },
  R2ObjectBody: { enumerable: true, get: () => require('./bucket').R2ObjectBody },
  R2Service: { enumerable: true, get: () => require('./seed').R2Service },
  R2SigningClient: { enumerable: true, get: () => require('./seed').R2SigningClient },
  createR2SigningClientFromEnv: { enumerable: true, get: () => require('./seed').createR2SigningClientFromEnv },
});
delete module.exports.fromNative;
delete module.exports.makeError;
delete module.exports.STATUSES;
