'use strict';
// The Workers R2 binding's interface (R2Bucket, R2Object, R2ObjectBody,
// R2MultipartUpload) over an r2.Client, so Worker code runs in Node unchanged.
// Where S3 cannot express what the binding does, the call throws r2.Unsupported
// (see index.d.ts).
const errors = require('./errors');
const { readerIterable } = require('./streams');

const HTTP_FIELDS = [
  ['contentType', 'content-type'], ['contentLanguage', 'content-language'], ['contentDisposition', 'content-disposition'],
  ['contentEncoding', 'content-encoding'], ['cacheControl', 'cache-control'], ['cacheExpiry', 'expires'],
];

function unsupported(what) {
  return new errors.Unsupported(`${what} cannot be expressed over the S3 API`, { code: 'Unsupported' });
}

function unquote(etag) {
  return etag && etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag || '';
}

function isHeaders(v) {
  return v && typeof v.get === 'function' && typeof v.entries === 'function';
}

function httpMetadataOf(info) {
  const m = {};
  if (info.contentType) m.contentType = info.contentType;
  if (info.contentLanguage) m.contentLanguage = info.contentLanguage;
  if (info.contentDisposition) m.contentDisposition = info.contentDisposition;
  if (info.contentEncoding) m.contentEncoding = info.contentEncoding;
  if (info.cacheControl) m.cacheControl = info.cacheControl;
  if (info.expires) {
    const d = new Date(info.expires);
    if (!Number.isNaN(d.getTime())) m.cacheExpiry = d;
  }
  return m;
}

function base64Of(v, what) {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') {
    if (!/^[0-9a-fA-F]+$/.test(v)) throw new TypeError(`${what} must be a hex string or bytes`);
    return Buffer.from(v, 'hex').toString('base64');
  }
  if (v instanceof ArrayBuffer) return Buffer.from(v).toString('base64');
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  throw new TypeError(`${what} must be a hex string or bytes`);
}

class R2Object {
  constructor(key, info, size) {
    this.key = key;
    this.version = info.versionId || info.etag ? unquote(info.versionId || info.etag) : '';
    this.size = size;
    this.etag = unquote(info.etag);
    this.httpEtag = info.etag && info.etag.startsWith('"') ? info.etag : `"${this.etag}"`;
    this.uploaded = info.lastModified || new Date();
    this.httpMetadata = httpMetadataOf(info);
    this.customMetadata = { ...(info.metadata || {}) };
    this.checksums = checksumsOf(info);
    this.storageClass = info.storageClass === 'STANDARD_IA' ? 'InfrequentAccess' : 'Standard';
    if (info.range) this.range = info.range;
  }

  /** Sets the object's HTTP metadata (Content-Type, ...) and ETag on a Headers-like object. */
  writeHttpMetadata(headers) {
    for (const [field, header] of HTTP_FIELDS) {
      const v = this.httpMetadata[field];
      if (v !== undefined) headers.set(header, v instanceof Date ? v.toUTCString() : v);
    }
  }
}

function checksumsOf(info) {
  const c = {};
  const sums = info.checksums || {};
  for (const name of ['sha1', 'sha256']) {
    if (sums[name]) c[name] = Buffer.from(sums[name], 'base64').buffer;
  }
  if (/^"?[0-9a-f]{32}"?$/.test(info.etag || '')) c.md5 = Buffer.from(unquote(info.etag), 'hex').buffer;
  c.toJSON = function toJSON() {
    const o = {};
    for (const k of ['md5', 'sha1', 'sha256']) if (this[k]) o[k] = Buffer.from(this[k]).toString('hex');
    return o;
  };
  return c;
}

class R2ObjectBody extends R2Object {
  constructor(key, info, size, bytes) {
    super(key, info, size);
    Object.defineProperty(this, '_bytes', { value: bytes, enumerable: false });
    this.bodyUsed = false;
    let stream;
    Object.defineProperty(this, 'body', {
      enumerable: true,
      get: () => {
        if (!stream) {
          const data = this._take();
          stream = new ReadableStream({
            start(controller) {
              if (data.length) controller.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.length));
              controller.close();
            },
          });
        }
        return stream;
      },
    });
  }

  _take() {
    if (this.bodyUsed) throw new TypeError('the body has already been used');
    this.bodyUsed = true;
    return this._bytes;
  }

  async arrayBuffer() {
    const b = this._take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
  }

  async bytes() {
    return new Uint8Array(await this.arrayBuffer());
  }

  async text() {
    return this._take().toString('utf8');
  }

  async json() {
    return JSON.parse(await this.text());
  }

  async blob() {
    const type = this.httpMetadata.contentType || '';
    return new Blob([this._take()], { type });
  }
}

// onlyIf (R2Conditional or Headers) → S3 conditional headers.
function conditions(onlyIf) {
  if (!onlyIf) return {};
  if (isHeaders(onlyIf)) {
    return {
      ifMatch: onlyIf.get('if-match') || undefined,
      ifNoneMatch: onlyIf.get('if-none-match') || undefined,
      ifModifiedSince: onlyIf.get('if-modified-since') || undefined,
      ifUnmodifiedSince: onlyIf.get('if-unmodified-since') || undefined,
    };
  }
  const q = (e) => (e === undefined ? undefined : e === '*' ? '*' : `"${unquote(e)}"`);
  if (onlyIf.secondsGranularity === false) throw unsupported('onlyIf with secondsGranularity: false (HTTP dates have whole seconds)');
  return {
    ifMatch: q(onlyIf.etagMatches),
    ifNoneMatch: q(onlyIf.etagDoesNotMatch),
    ifUnmodifiedSince: onlyIf.uploadedBefore,
    ifModifiedSince: onlyIf.uploadedAfter,
  };
}

// R2Range or Headers with Range → "bytes=..."; returns [rangeHeader, describe(size)].
function rangeOf(range) {
  if (!range) return undefined;
  if (isHeaders(range)) return range.get('range') || undefined;
  if (range.suffix !== undefined) return `bytes=-${range.suffix}`;
  const offset = range.offset ?? 0;
  if (range.length !== undefined) return `bytes=${offset}-${offset + range.length - 1}`;
  return `bytes=${offset}-`;
}

function isMiss(e) {
  return e instanceof errors.NoSuchKey;
}

function isConditionFailed(e) {
  return e instanceof errors.PreconditionFailed || e instanceof errors.NotModified;
}

function httpPut(h) {
  if (!h) return {};
  if (isHeaders(h)) {
    const o = {};
    for (const [field, header] of HTTP_FIELDS) {
      const v = h.get(header);
      if (v) o[field] = v;
    }
    h = o;
  }
  return {
    contentType: h.contentType,
    contentLanguage: h.contentLanguage,
    contentDisposition: h.contentDisposition,
    contentEncoding: h.contentEncoding,
    cacheControl: h.cacheControl,
    expires: h.cacheExpiry,
  };
}

class R2MultipartUpload {
  constructor(bucket, key, uploadId) {
    this._bucket = bucket;
    this.key = key;
    this.uploadId = uploadId;
  }

  async uploadPart(partNumber, value) {
    const body = value && typeof value.arrayBuffer === 'function' && !(value instanceof Uint8Array) ? await value.arrayBuffer()
      : value && (typeof value.getReader === 'function' || typeof value[Symbol.asyncIterator] === 'function') ? await collect(value)
        : value;
    const part = await this._bucket._client.uploadPart(this._bucket.name, this.key, this.uploadId, partNumber, body);
    return { partNumber, etag: unquote(part.etag) };
  }

  async abort() {
    await this._bucket._client.abortMultipartUpload(this._bucket.name, this.key, this.uploadId);
  }

  async complete(uploadedParts) {
    const parts = uploadedParts.map((p) => ({ partNumber: p.partNumber, etag: p.etag.startsWith('"') ? p.etag : `"${p.etag}"` }));
    await this._bucket._client.completeMultipartUpload(this._bucket.name, this.key, this.uploadId, parts);
    return this._bucket.head(this.key);
  }
}

async function collect(iterable) {
  const chunks = [];
  for await (const c of iterable) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer ? new Uint8Array(c.buffer, c.byteOffset, c.byteLength) : c));
  return Buffer.concat(chunks);
}

class R2Bucket {
  constructor(client, name) {
    this._client = client;
    this.name = name;
  }

  /** The object's metadata, or null when the key does not exist. */
  async head(key) {
    try {
      const info = await this._client.head(this.name, key);
      return new R2Object(key, info, info.size);
    } catch (e) {
      if (isMiss(e)) return null;
      throw e;
    }
  }

  /** The object with its body; null when missing; an R2Object without body when onlyIf fails.
   * The body is read into memory before this resolves (use client.getStream for large objects). */
  async get(key, options = {}) {
    const range = rangeOf(options.range);
    let got;
    try {
      got = await this._client.get(this.name, key, { range, ...conditions(options.onlyIf) });
    } catch (e) {
      if (isMiss(e)) return null;
      if (isConditionFailed(e)) return this.head(key);
      throw e;
    }
    let size = got.size;
    let r2range;
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(got.contentRange || '');
    if (m) {
      size = Number(m[3]);
      r2range = { offset: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 };
    }
    return new R2ObjectBody(key, { ...got, range: r2range }, size, got.body);
  }

  /** Stores value; null when onlyIf is not met. */
  async put(key, value, options = {}) {
    const opts = { ...httpPut(options.httpMetadata), metadata: options.customMetadata, ...conditions(options.onlyIf) };
    if (options.storageClass) opts.storageClass = options.storageClass === 'InfrequentAccess' ? 'STANDARD_IA' : 'STANDARD';
    const sums = [['md5', options.md5], ['sha1', options.sha1], ['sha256', options.sha256]].filter(([, v]) => v !== undefined);
    if (options.sha384 !== undefined || options.sha512 !== undefined) throw unsupported('sha384/sha512 checksums');
    if (sums.length > 1) throw new errors.Unsupported('R2 accepts one checksum per request', { code: 'Unsupported' });
    if (sums.length === 1) {
      opts.checksum = sums[0][0];
      opts.checksumValue = base64Of(sums[0][1], sums[0][0]);
    }
    let body = value === null ? '' : value;
    if (body && typeof body.arrayBuffer === 'function' && typeof body.getReader !== 'function' && !ArrayBuffer.isView(body)) body = Buffer.from(await body.arrayBuffer());
    let size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (size === undefined) {
      // a stream: count what goes through
      const source = body;
      size = 0;
      body = (async function* count() {
        for await (const c of source.getReader && !source[Symbol.asyncIterator] ? readerIterable(source) : source) {
          const b = typeof c === 'string' ? Buffer.from(c) : c;
          size += b.byteLength;
          yield b;
        }
      })();
    }
    let info;
    try {
      info = await this._client.put(this.name, key, body, opts);
    } catch (e) {
      if (e instanceof errors.PreconditionFailed) return null;
      throw e;
    }
    const httpMetadata = httpMetadataOf({ ...opts, expires: opts.expires && new Date(opts.expires).toUTCString() });
    const obj = new R2Object(key, { ...info, metadata: options.customMetadata || {} }, size);
    obj.httpMetadata = httpMetadata;
    return obj;
  }

  /** Deletes one key or many (up to 1000 per call in Workers; any number here). */
  async delete(keys) {
    if (Array.isArray(keys)) {
      if (keys.length) await this._client.deleteMany(this.name, keys, { quiet: true });
      return;
    }
    await this._client.delete(this.name, keys);
  }

  /** One page: { objects, truncated, cursor, delimitedPrefixes }. With include, each object's
   * metadata is read with a HEAD (ListObjectsV2 does not return it). */
  async list(options = {}) {
    const page = await this._client.list(this.name, {
      prefix: options.prefix, delimiter: options.delimiter, startAfter: options.startAfter,
      continuationToken: options.cursor, maxKeys: options.limit,
    });
    const include = options.include || [];
    let objects = page.objects.map((o) => new R2Object(o.key, { etag: o.etag, lastModified: o.lastModified, storageClass: o.storageClass, checksums: {} }, o.size));
    if (include.length) {
      objects = await Promise.all(objects.map(async (o) => {
        const full = await this.head(o.key);
        if (!full) return o;
        if (!include.includes('httpMetadata')) full.httpMetadata = {};
        if (!include.includes('customMetadata')) full.customMetadata = {};
        return full;
      }));
    } else {
      for (const o of objects) { o.httpMetadata = {}; o.customMetadata = {}; }
    }
    const out = { objects, truncated: page.isTruncated, delimitedPrefixes: page.commonPrefixes };
    if (page.isTruncated) out.cursor = page.nextContinuationToken;
    return out;
  }

  async createMultipartUpload(key, options = {}) {
    const uploadId = await this._client.createMultipartUpload(this.name, key, {
      ...httpPut(options.httpMetadata), metadata: options.customMetadata,
    });
    return new R2MultipartUpload(this, key, uploadId);
  }

  resumeMultipartUpload(key, uploadId) {
    return new R2MultipartUpload(this, key, uploadId);
  }
}

module.exports = { R2Bucket, R2Object, R2ObjectBody, R2MultipartUpload };
