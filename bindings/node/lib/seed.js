'use strict';
// The seed's clients (@codex/cloudflare-clients) with the seed's signatures:
// R2Service over any Workers-style R2Bucket (client.bucket(name) in Node, the
// binding in a Worker), R2SigningClient and createR2SigningClientFromEnv.

const DEFAULT_RETRY = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 5000 };

function signingClient(cfg) {
  const { Client } = require('./index');
  const endpoint = cfg.endpoint ?? (process.env.R2_ENDPOINT || undefined);
  const allowHttp = cfg.allowHttp ?? process.env.R2_ALLOW_HTTP === '1';
  return new Client({
    accountId: cfg.accountId, accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey,
    endpoint, allowHttp, caBundle: cfg.caBundle ?? (process.env.R2_CA_BUNDLE || undefined),
  });
}

function isRetryable(e) {
  if (e && e.retryable === true) return true;
  const status = e && (e.status || e.statusCode);
  return status === 429 || (status >= 500 && status < 600);
}

class R2Service {
  /** bucket: an R2Bucket (a Worker's binding or client.bucket(name)); retryConfig: backoff on 429/5xx;
   * signingConfig: credentials for generateSignedUrl. */
  constructor(bucket, retryConfig = {}, signingConfig) {
    this.bucket = bucket;
    this.retryConfig = { ...DEFAULT_RETRY, ...retryConfig };
    // not enumerable: printing the service must not print the secret
    Object.defineProperty(this, '_signingConfig', { value: signingConfig, enumerable: false });
    Object.defineProperty(this, '_signer', { value: undefined, enumerable: false, writable: true });
  }

  async _retry(op) {
    const { maxRetries, baseDelayMs, maxDelayMs } = this.retryConfig;
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (attempt >= maxRetries || !isRetryable(e)) throw e;
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
        await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * (delay / 2)));
      }
    }
  }

  put(key, body, metadata, httpMetadata) {
    return this._retry(() => this.bucket.put(key, body, { customMetadata: metadata, httpMetadata }));
  }

  putJson(key, obj, metadata) {
    return this.put(key, JSON.stringify(obj), metadata, { contentType: 'application/json' });
  }

  /** The object, or null when the key does not exist. */
  get(key) {
    return this._retry(() => this.bucket.get(key));
  }

  delete(key) {
    return this._retry(() => this.bucket.delete(key));
  }

  list(options = {}) {
    return this._retry(() => this.bucket.list(options));
  }

  createMultipartUpload(key, options) {
    return this.bucket.createMultipartUpload(key, options);
  }

  resumeMultipartUpload(key, uploadId) {
    return this.bucket.resumeMultipartUpload(key, uploadId);
  }

  /** A presigned GET URL; needs signingConfig. */
  async generateSignedUrl(key, expirySeconds) {
    if (!this._signingConfig) throw new Error('R2Service: generateSignedUrl needs a signingConfig');
    if (!this._signer) this._signer = signingClient(this._signingConfig);
    return this._signer.presign('GET', this._signingConfig.bucketName, key, expirySeconds);
  }
}

class R2SigningClient {
  constructor(config) {
    if (!config || !config.bucketName) throw new Error('R2SigningClient: bucketName is required');
    this.bucketName = config.bucketName;
    this._client = signingClient(config);
  }

  /** A presigned GET URL (no I/O). */
  async generateSignedUrl(key, expirySeconds) {
    return this._client.presign('GET', this.bucketName, key, expirySeconds);
  }

  /** A presigned PUT URL that requires the given Content-Type. */
  async generateSignedUploadUrl(key, contentType, expirySeconds = 3600) {
    return this._client.presign('PUT', this.bucketName, key, expirySeconds, { headers: { 'content-type': contentType } });
  }

  /** True when the key exists (HEAD), false on 404. */
  async objectExists(key) {
    const errors = require('./errors');
    try {
      await this._client.head(this.bucketName, key);
      return true;
    } catch (e) {
      if (e instanceof errors.NoSuchKey) return false;
      throw e;
    }
  }

  getBucketName() {
    return this.bucketName;
  }
}

/** From R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY and R2_BUCKET_NAME
 * (R2_BUCKET_MEDIA, the seed's name, also works), plus R2_ENDPOINT, R2_ALLOW_HTTP, R2_CA_BUNDLE. */
function createR2SigningClientFromEnv() {
  const env = process.env;
  const bucketName = env.R2_BUCKET_NAME || env.R2_BUCKET_MEDIA;
  const missing = ['R2_ACCESS_KEY_ID', 'R2_SECRET_ACCESS_KEY'].filter((n) => !env[n]);
  if (!env.R2_ACCOUNT_ID && !env.R2_ENDPOINT) missing.unshift('R2_ACCOUNT_ID');
  if (!bucketName) missing.push('R2_BUCKET_NAME');
  if (missing.length) throw new Error(`Missing R2 environment variables: ${missing.join(', ')}`);
  return new R2SigningClient({
    accountId: env.R2_ACCOUNT_ID, accessKeyId: env.R2_ACCESS_KEY_ID, secretAccessKey: env.R2_SECRET_ACCESS_KEY, bucketName,
  });
}

module.exports = { R2Service, R2SigningClient, createR2SigningClientFromEnv };
