// Type declarations of the r2 Node binding. They stand on their own (no
// @types/node, no DOM lib): the Node and web shapes used here are declared
// below as minimal structural interfaces, so Node's real objects fit them.

// ---- minimal shapes of Node and web objects ----

/** An AbortSignal (Node's global AbortSignal fits). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** The bytes Node hands out: a Buffer is a Uint8Array. */
export type Bytes = Uint8Array;

/** A Node stream.Readable, as far as r2 uses and returns it. */
export interface NodeReadable extends AsyncIterable<Bytes> {
  readable: boolean;
  destroyed: boolean;
  read(size?: number): Bytes | null;
  pause(): this;
  resume(): this;
  pipe<T>(destination: T, options?: { end?: boolean }): T;
  destroy(error?: Error): this;
  on(event: 'data', listener: (chunk: Bytes) => void): this;
  on(event: 'info', listener: (info: ObjectInfo) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'end' | 'close', listener: () => void): this;
  on(event: string, listener: (...args: any[]) => void): this;
  once(event: string, listener: (...args: any[]) => void): this;
}

/** A web ReadableStream (WHATWG streams). */
export interface WebReadableStream<T = Uint8Array> {
  readonly locked: boolean;
  getReader(): { read(): Promise<{ done: boolean; value?: T }>; releaseLock(): void; cancel(reason?: unknown): Promise<void> };
  cancel(reason?: unknown): Promise<void>;
}

/** A web Headers object (or anything with get/set/entries). */
export interface HeadersLike {
  get(name: string): string | null;
  set(name: string, value: string): void;
  entries(): IterableIterator<[string, string]>;
}

/** A web Blob. */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}

// ---- errors ----

/** Every failure of an r2 call. `code` is the taxonomy's name (the class name). */
export class R2Error extends Error {
  constructor(message: string, fields?: Partial<Pick<R2Error, 'code' | 'status' | 's3Code' | 'requestId' | 'retryable' | 'retryAfterMs'>> & { cause?: unknown });
  /** e.g. "NoSuchKey", "SlowDown", "Cancelled" */
  readonly code: string;
  /** the HTTP status, 0 when there was no response */
  readonly status: number;
  /** the S3 error code, "" when none */
  readonly s3Code: string;
  /** x-amz-request-id (or cf-ray) of the failing response, "" when none */
  readonly requestId: string;
  /** true when the same call may succeed later (already retried by the client's policy) */
  readonly retryable: boolean;
  /** the server's Retry-After in milliseconds, -1 when none */
  readonly retryAfterMs: number;
}
export class InvalidArgument extends R2Error {}
export class Config extends R2Error {}
export class Aborted extends R2Error {}
/** The call was stopped by its AbortSignal (its `name` is "AbortError"). */
export class Cancelled extends R2Error {}
export class Internal extends R2Error {}
export class MalformedResponse extends R2Error {}
export class ReplayUnmatched extends R2Error {}
export class CircuitOpen extends R2Error {}
/** Something R2 (or the S3 API) cannot do. */
export class Unsupported extends R2Error {}
export class InvalidAccessKey extends R2Error {}
export class SignatureDoesNotMatch extends R2Error {}
export class ExpiredCredentials extends R2Error {}
export class Unauthorized extends R2Error {}
/** a presigned URL (or request date) that has expired */
export class ExpiredRequest extends R2Error {}
export class NoSuchBucket extends R2Error {}
export class AccessDenied extends R2Error {}
export class InvalidBucketName extends R2Error {}
export class NoSuchKey extends R2Error {}
export class PreconditionFailed extends R2Error {}
export class NotModified extends R2Error {}
export class EntityTooLarge extends R2Error {}
export class InvalidRange extends R2Error {}
export class InvalidObjectName extends R2Error {}
/** user metadata over R2's 8 192 bytes */
export class MetadataTooLarge extends R2Error {}
/** the object is encrypted with a customer key (SSE-C) and the call did not give it */
export class SSECustomerKeyRequired extends R2Error {}
export class NoSuchUpload extends R2Error {}
export class InvalidPart extends R2Error {}
export class InvalidPartOrder extends R2Error {}
export class EntityTooSmall extends R2Error {}
export class ConnectionFailed extends R2Error {}
export class Timeout extends R2Error {}
export class TLS extends R2Error {}
export class InternalError extends R2Error {}
export class ServiceUnavailable extends R2Error {}
export class SlowDown extends R2Error {}
export class NotImplemented extends R2Error {}
export class BadDigest extends R2Error {}
export class MissingContentLength extends R2Error {}
export class InvalidRequest extends R2Error {}
export class StreamInterrupted extends R2Error {}
export class ChecksumMismatch extends R2Error {}
export class IncompleteBody extends R2Error {}
export class HTTPError extends R2Error {}

// ---- client ----

export type Jurisdiction = 'default' | 'eu' | 'fedramp' | 'us';
export type ChecksumName = 'md5' | 'crc32' | 'crc32c' | 'sha1' | 'sha256';

export interface ClientOptions {
  /** required unless endpoint is set */
  accountId?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** e.g. "http://127.0.0.1:8333"; http:// needs allowHttp */
  endpoint?: string;
  jurisdiction?: Jurisdiction;
  allowHttp?: boolean;
  /** PEM file of CA certificates to trust */
  caBundle?: string;
  timeouts?: {
    connectMs?: number;
    requestMs?: number;
    transferMs?: number;
    /** a request with no byte moved (or under stallMinBytesPerSec) this long fails (60 000) */
    stallMs?: number;
    /** the rate below which a request counts as stalled (1024; 0: only the no-byte check) */
    stallMinBytesPerSec?: number;
    /** per attempt of a listing (60 000) */
    listMs?: number;
    /** per attempt of a multipart part (0: none beyond the stall check) */
    partMs?: number;
    /** the whole call, retries included (0: none) */
    deadlineMs?: number;
  };
  /** threshold: bytes at which uploads and downloads go multipart (100 MiB); partSize (10 MiB); concurrency (4) */
  multipart?: { threshold?: number; partSize?: number; concurrency?: number };
  /** idle connections kept (20) */
  poolSize?: number;
  payload?: 'signed' | 'unsigned';
  /** record every exchange to this cassette (secrets left out) */
  record?: string;
  /** serve every request from this cassette; no network */
  replay?: string;
  replayLatency?: boolean;
  /** attempts per call for every retried class (1: never retry) */
  maxAttempts?: number;
  /** requests per second, adaptive on SlowDown (0: no limit) */
  rateLimit?: number;
  /** the most get() holds in memory (1 GiB); a larger body rejects with EntityTooLarge */
  maxGetBytes?: number;
  /** <bucket>.<host>/<key> URLs instead of <host>/<bucket>/<key> */
  virtualHostedStyle?: boolean;
  /** the SigV4 region: 'auto' (R2's, the default), or the aliases R2 accepts */
  region?: 'auto' | 'us-east-1' | '';
}

/** SSE-C: a customer-provided AES-256 key (32 bytes); reads of the object then need it. */
export interface SSECOptions {
  sseCustomerKey?: Uint8Array;
}

export interface CallOptions {
  /** cancels the call: it rejects with an AbortError (r2.Cancelled). Transfers stop
   * and clean up (multipart upload aborted, no partial file); a one-request call
   * (head, list, ...) rejects at once and its answer is dropped. */
  signal?: AbortSignalLike;
}

export interface PutOptions extends CallOptions, SSECOptions {
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  expires?: Date | string;
  /** user metadata (x-amz-meta-*); any Unicode */
  metadata?: Record<string, string>;
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: Date | string;
  ifUnmodifiedSince?: Date | string;
  payload?: 'signed' | 'unsigned';
  /** one integrity check (R2 takes one per request) */
  checksum?: ChecksumName;
  /** base64 digest, needed for a checksum on a stream */
  checksumValue?: string;
  storageClass?: 'STANDARD' | 'STANDARD_IA';
  /** a stream's length when known (one streamed PUT below the threshold); unknown lengths go multipart */
  length?: number;
  threshold?: number;
  partSize?: number;
  concurrency?: number;
}

export interface GetOptions extends CallOptions, SSECOptions {
  /** "bytes=a-b", "bytes=a-" or "bytes=-n" */
  range?: string;
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: Date | string;
  ifUnmodifiedSince?: Date | string;
  validateChecksum?: boolean;
}

export interface GetStreamOptions extends GetOptions {
  /** bytes the download may run ahead of the reader (8 MiB) */
  window?: number;
  /** the Readable's highWaterMark (1 MiB) */
  highWaterMark?: number;
}

export interface ObjectInfo {
  etag: string;
  /** bytes of this response's body (the object's size for head) */
  size: number;
  contentType?: string;
  lastModified?: Date;
  metadata: Record<string, string>;
  versionId?: string;
  contentRange?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  expires?: string;
  storageClass?: string;
  checksums: { crc32?: string; crc32c?: string; sha1?: string; sha256?: string };
  requestId: string;
  httpStatus: number;
}

export interface GetResult extends ObjectInfo {
  body: Bytes;
}

/** getStream's Readable: `info` is set (and emitted as 'info') before 'end'. */
export interface ObjectStream extends NodeReadable {
  info?: ObjectInfo;
}

export type Body = string | Uint8Array | ArrayBuffer | NodeReadable | WebReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export interface ListOptions extends CallOptions {
  prefix?: string;
  delimiter?: string;
  startAfter?: string;
  continuationToken?: string;
  /** 1 to 1000 per page */
  maxKeys?: number;
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified?: Date;
  storageClass?: string;
}

export interface ListPage {
  objects: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
  requestId: string;
}

export interface DeleteManyResult {
  deleted: string[];
  errors: { key: string; code: string; message: string }[];
}

export interface CopyOptions extends CallOptions, SSECOptions {
  /** the key the source was written with (SSE-C) */
  sourceSseCustomerKey?: Uint8Array;
  replaceMetadata?: boolean;
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  metadata?: Record<string, string>;
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: Date | string;
  ifUnmodifiedSince?: Date | string;
  /** UploadPartCopy ranges in parallel (for objects above 5 GiB) */
  multipart?: boolean;
  threshold?: number;
  partSize?: number;
  concurrency?: number;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface PartInfo {
  partNumber: number;
  size: number;
  etag: string;
  lastModified?: Date;
}

export interface UploadInfo {
  key: string;
  uploadId: string;
  initiated?: Date;
}

export interface Progress {
  bytes: number;
  /** undefined when unknown */
  total?: number;
}

export interface TransferOptions extends CallOptions, SSECOptions {
  threshold?: number;
  partSize?: number;
  concurrency?: number;
  partChecksum?: 'md5' | 'crc32' | 'crc32c';
  /** resume state: a failed upload is kept and a later call with the same file continues it */
  statePath?: string;
  onProgress?: (progress: Progress) => void;
  progressIntervalMs?: number;
}

export interface UploadFileOptions extends TransferOptions {
  /** '*': create only (PreconditionFailed if the key exists); checked on the Complete of a multipart upload */
  ifNoneMatch?: string;
  /** replace only the object with this ETag */
  ifMatch?: string;
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  metadata?: Record<string, string>;
}

export interface DownloadFileOptions extends TransferOptions {
  /** false skips the fsync before the rename into place (faster; a crash soon after may leave the file short) */
  fsync?: boolean;
}

export interface CompleteOptions extends CallOptions, SSECOptions {
  /** '*': publish only if the key does not exist (create-only) */
  ifNoneMatch?: string;
  /** publish only if the key holds this ETag ('*': any object) */
  ifMatch?: string;
}

export interface PresignOptions {
  /** headers the URL's user must send (signed) */
  headers?: Record<string, string> | [string, string][];
  /** extra query parameters, e.g. response-content-disposition */
  query?: Record<string, string> | [string, string][];
  /** signing time (default now) */
  date?: Date | number | string;
}

export type PresignMethod = 'GET' | 'PUT' | 'HEAD' | 'DELETE';

export class Client {
  constructor(options: ClientOptions);
  /** From R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_ENDPOINT, R2_ALLOW_HTTP, R2_CA_BUNDLE, ... */
  static fromEnv(): Client;
  /** Frees the client once the calls in flight have finished; later calls throw. */
  close(): void;
  put(bucket: string, key: string, body: Body, opts?: PutOptions): Promise<ObjectInfo>;
  get(bucket: string, key: string, opts?: GetOptions): Promise<GetResult>;
  getStream(bucket: string, key: string, opts?: GetStreamOptions): Promise<ObjectStream>;
  head(bucket: string, key: string, opts?: GetOptions): Promise<ObjectInfo>;
  delete(bucket: string, key: string, opts?: CallOptions): Promise<void>;
  deleteMany(bucket: string, keys: Iterable<string>, opts?: CallOptions & { quiet?: boolean }): Promise<DeleteManyResult>;
  copy(srcBucket: string, srcKey: string, bucket: string, key: string, opts?: CopyOptions): Promise<ObjectInfo>;
  list(bucket: string, opts?: ListOptions): Promise<ListPage>;
  listAll(bucket: string, opts?: ListOptions): AsyncIterableIterator<ListedObject>;
  createMultipartUpload(bucket: string, key: string, opts?: PutOptions): Promise<string>;
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: string | Uint8Array | ArrayBuffer, opts?: CallOptions & SSECOptions & { checksum?: 'md5' | 'crc32' | 'crc32c' }): Promise<CompletedPart>;
  uploadPartCopy(bucket: string, key: string, uploadId: string, partNumber: number, srcBucket: string, srcKey: string, opts?: CallOptions & SSECOptions & { range?: [number, number]; sourceSseCustomerKey?: Uint8Array }): Promise<CompletedPart>;
  completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: CompletedPart[], opts?: CompleteOptions): Promise<ObjectInfo>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string, opts?: CallOptions): Promise<void>;
  listParts(bucket: string, key: string, uploadId: string, opts?: CallOptions): Promise<PartInfo[]>;
  listMultipartUploads(bucket: string, opts?: CallOptions & { prefix?: string }): Promise<UploadInfo[]>;
  uploadFile(path: string, bucket: string, key: string, opts?: UploadFileOptions): Promise<ObjectInfo>;
  downloadFile(bucket: string, key: string, path: string, opts?: DownloadFileOptions): Promise<ObjectInfo>;
  /** A presigned URL; no I/O. expiresInSeconds: 1 to 604800. */
  presign(method: PresignMethod, bucket: string, key: string, expiresInSeconds: number, opts?: PresignOptions): string;
  metrics(): string;
  metrics(opts: { json: true }): { metrics: { name: string; type: string; help: string; samples: { name: string; labels: Record<string, string>; value: number }[] }[] };
  /** The Workers R2Bucket interface over this client. */
  bucket(name: string): R2Bucket;
}

// ---- signer ----

export interface SignerOptions {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** "auto" */
  region?: string;
  /** "s3" */
  service?: string;
}

export interface SignRequest {
  method?: string;
  /** a full URL (gives path, query and the Host header) ... */
  url?: string;
  /** ... or the path exactly as sent (already percent-encoded) */
  path?: string;
  query?: string | Record<string, string>;
  /** must include host unless url is given */
  headers?: Record<string, string> | [string, string][];
  body?: string | Uint8Array | ArrayBuffer;
  /** hex SHA-256 or "UNSIGNED-PAYLOAD"; default: hash the body */
  payloadHash?: string;
  /** signing time (default now) */
  date?: Date | number | string;
  /** add x-amz-content-sha256 (default true) */
  contentSha256Header?: boolean;
  omitSessionToken?: boolean;
}

export interface SignedRequest {
  /** the headers to send, Authorization included (presigned: the signed ones) */
  headers: [string, string][];
  /** "" for a presigned result */
  authorization: string;
  /** the query string to send (presigned: with the X-Amz-* parameters) */
  query: string;
  signature: string;
  canonicalRequest: string;
  stringToSign: string;
}

export class Signer {
  constructor(options: SignerOptions);
  sign(request: SignRequest): SignedRequest;
  presign(request: SignRequest, expiresInSeconds: number): SignedRequest;
}

// ---- the Workers R2 binding's interface ----

export interface R2HTTPMetadata {
  contentType?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  cacheControl?: string;
  cacheExpiry?: Date;
}

export interface R2Checksums {
  readonly md5?: ArrayBuffer;
  readonly sha1?: ArrayBuffer;
  readonly sha256?: ArrayBuffer;
  toJSON(): { md5?: string; sha1?: string; sha256?: string };
}

export type R2Range = { offset: number; length?: number } | { offset?: number; length: number } | { suffix: number };

/** secondsGranularity: false cannot be expressed (HTTP dates are whole seconds): r2.Unsupported. */
export interface R2Conditional {
  etagMatches?: string;
  etagDoesNotMatch?: string;
  uploadedBefore?: Date;
  uploadedAfter?: Date;
  secondsGranularity?: boolean;
}

export class R2Object {
  readonly key: string;
  readonly version: string;
  readonly size: number;
  /** without quotes */
  readonly etag: string;
  /** with quotes, for an HTTP ETag header */
  readonly httpEtag: string;
  /** the server's Last-Modified; after put(), the client's clock (S3's PUT does not return it) */
  readonly uploaded: Date;
  httpMetadata: R2HTTPMetadata;
  customMetadata: Record<string, string>;
  readonly checksums: R2Checksums;
  readonly storageClass: 'Standard' | 'InfrequentAccess';
  readonly range?: { offset: number; length: number };
  writeHttpMetadata(headers: HeadersLike): void;
}

/** The body is read into memory before get() resolves (the C ABI reports an object's
 * headers with its end); use client.getStream() for objects too large for memory. */
export class R2ObjectBody extends R2Object {
  readonly body: WebReadableStream<Uint8Array>;
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  blob(): Promise<BlobLike>;
}

export interface R2GetOptions {
  onlyIf?: R2Conditional | HeadersLike;
  range?: R2Range | HeadersLike;
}

/** sha384/sha512 cannot be expressed (S3 has no such checksum headers): r2.Unsupported.
 * One checksum at most per put (R2's rule). */
export interface R2PutOptions {
  onlyIf?: R2Conditional | HeadersLike;
  httpMetadata?: R2HTTPMetadata | HeadersLike;
  customMetadata?: Record<string, string>;
  md5?: ArrayBuffer | Uint8Array | string;
  sha1?: ArrayBuffer | Uint8Array | string;
  sha256?: ArrayBuffer | Uint8Array | string;
  sha384?: ArrayBuffer | Uint8Array | string;
  sha512?: ArrayBuffer | Uint8Array | string;
  storageClass?: 'Standard' | 'InfrequentAccess';
}

/** include reads each listed object's metadata with a HEAD (ListObjectsV2 does not return it). */
export interface R2ListOptions {
  limit?: number;
  prefix?: string;
  cursor?: string;
  delimiter?: string;
  startAfter?: string;
  include?: ('httpMetadata' | 'customMetadata')[];
}

export interface R2Objects {
  objects: R2Object[];
  truncated: boolean;
  cursor?: string;
  delimitedPrefixes: string[];
}

export interface R2UploadedPart {
  partNumber: number;
  etag: string;
}

export interface R2MultipartOptions {
  httpMetadata?: R2HTTPMetadata | HeadersLike;
  customMetadata?: Record<string, string>;
}

export interface R2MultipartUpload {
  readonly key: string;
  readonly uploadId: string;
  uploadPart(partNumber: number, value: WebReadableStream<Uint8Array> | ArrayBuffer | Uint8Array | string | BlobLike): Promise<R2UploadedPart>;
  abort(): Promise<void>;
  complete(uploadedParts: R2UploadedPart[]): Promise<R2Object>;
}

export type R2PutValue = WebReadableStream<Uint8Array> | ArrayBuffer | Uint8Array | string | null | BlobLike | NodeReadable | AsyncIterable<Uint8Array | string>;

export class R2Bucket {
  constructor(client: Client, name: string);
  readonly name: string;
  head(key: string): Promise<R2Object | null>;
  get(key: string, options: R2GetOptions & { onlyIf: R2Conditional | HeadersLike }): Promise<R2ObjectBody | R2Object | null>;
  get(key: string, options?: R2GetOptions): Promise<R2ObjectBody | null>;
  put(key: string, value: R2PutValue, options?: R2PutOptions): Promise<R2Object | null>;
  delete(keys: string | string[]): Promise<void>;
  list(options?: R2ListOptions): Promise<R2Objects>;
  createMultipartUpload(key: string, options?: R2MultipartOptions): Promise<R2MultipartUpload>;
  resumeMultipartUpload(key: string, uploadId: string): R2MultipartUpload;
}

// ---- the seed's clients (@codex/cloudflare-clients) ----

/** Anything with the Workers R2Bucket interface: a Worker's binding or client.bucket(name). */
export interface R2BucketLike {
  head(key: string): Promise<R2Object | null>;
  get(key: string, options?: R2GetOptions): Promise<R2ObjectBody | R2Object | null>;
  put(key: string, value: R2PutValue, options?: R2PutOptions): Promise<R2Object | null>;
  delete(keys: string | string[]): Promise<void>;
  list(options?: R2ListOptions): Promise<R2Objects>;
  createMultipartUpload(key: string, options?: R2MultipartOptions): Promise<R2MultipartUpload>;
  resumeMultipartUpload(key: string, uploadId: string): R2MultipartUpload;
}

export interface R2RetryConfig {
  /** 3 */
  maxRetries?: number;
  /** 100 */
  baseDelayMs?: number;
  /** 5000 */
  maxDelayMs?: number;
}

export interface R2SigningConfig {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucketName: string;
  /** default $R2_ENDPOINT, else the account's R2 endpoint */
  endpoint?: string;
  /** default $R2_ALLOW_HTTP=1 */
  allowHttp?: boolean;
  /** default $R2_CA_BUNDLE */
  caBundle?: string;
}

export class R2Service {
  constructor(bucket: R2BucketLike, retryConfig?: R2RetryConfig, signingConfig?: R2SigningConfig);
  put(key: string, body: R2PutValue, metadata?: Record<string, string>, httpMetadata?: R2HTTPMetadata): Promise<R2Object | null>;
  putJson(key: string, obj: unknown, metadata?: Record<string, string>): Promise<R2Object | null>;
  /** null when the key does not exist */
  get(key: string): Promise<R2ObjectBody | null>;
  delete(key: string): Promise<void>;
  list(options?: { prefix?: string; delimiter?: string; limit?: number; cursor?: string }): Promise<R2Objects>;
  createMultipartUpload(key: string, options?: R2MultipartOptions): Promise<R2MultipartUpload>;
  resumeMultipartUpload(key: string, uploadId: string): R2MultipartUpload;
  /** needs signingConfig */
  generateSignedUrl(key: string, expirySeconds: number): Promise<string>;
}

export class R2SigningClient {
  constructor(config: R2SigningConfig);
  generateSignedUrl(key: string, expirySeconds: number): Promise<string>;
  generateSignedUploadUrl(key: string, contentType: string, expirySeconds?: number): Promise<string>;
  objectExists(key: string): Promise<boolean>;
  getBucketName(): string;
}

/** From R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_BUCKET_NAME (or R2_BUCKET_MEDIA),
 * plus R2_ENDPOINT, R2_ALLOW_HTTP, R2_CA_BUNDLE. */
export function createR2SigningClientFromEnv(): R2SigningClient;

/** The loaded libr2's version and path. */
export const version: string;
export const libraryPath: string;
