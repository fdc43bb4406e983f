/* The types of the r2 C ABI: version macros, status codes, the error record,
 * opaque handles, option structs and callbacks. The Swift core imports this
 * header, so the functions it exports are declared with exactly these types;
 * `make header` composes include/r2.h from this file and those declarations. */
#ifndef R2_TYPES_H
#define R2_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** @name Version
 * The header's version, written here once: R2_VERSION_STRING ("MAJOR.MINOR.PATCH")
 * is derived from these by scripts/gen_header.py, the library's from the same
 * macros. r2_version_number() returns the library's; bindings check that the
 * two agree. */
#define R2_VERSION_MAJOR 1
#define R2_VERSION_MINOR 0
#define R2_VERSION_PATCH 0
#define R2_VERSION_NUMBER (R2_VERSION_MAJOR * 10000 + R2_VERSION_MINOR * 100 + R2_VERSION_PATCH)

/** Limits that the library enforces before anything is sent. */
#define R2_MAX_KEY_BYTES 1024
#define R2_MIN_PRESIGN_EXPIRES 1
#define R2_MAX_PRESIGN_EXPIRES 604800

/** Status codes. Every fallible function returns one: R2_OK (0), R2_ITER_OVER
 * (1, from iterators: no more items, not an error) or a negative code. The
 * numbers are stable: once published they never change. Codes are grouped by
 * hundreds in the error taxonomy's classes.
 *
 * This enum is the one source of every status: each comment reads
 * "Name[, retryable]: description", where Name is what r2_status_string()
 * returns and "retryable" sets r2_error.retryable. scripts/gen_status.py
 * derives the Swift, Python and Node tables from it. */
typedef enum r2_status {
    R2_OK = 0, /**< OK: success */
    R2_ITER_OVER = 1, /**< IterOver: the iterator has no more items (not an error) */

    /* Caller and library errors. */
    R2_ERR_INVALID_ARGUMENT = -1, /**< InvalidArgument: a NULL pointer, bad UTF-8, an out-of-range number, an invalid bucket or key, a stale or foreign handle */
    R2_ERR_CONFIG = -2, /**< Config: invalid or missing configuration (endpoint, credentials, environment) */
    R2_ERR_ABORTED = -3, /**< Aborted: a caller's callback returned non-zero */
    R2_ERR_CANCELLED = -4, /**< Cancelled: the operation was cancelled */
    R2_ERR_LIBRARY_BUG = -5, /**< LibraryBug: a bug in r2 (or no memory or threads left); please report it */
    R2_ERR_MALFORMED_RESPONSE = -6, /**< MalformedResponse: a response that could not be parsed (bad XML, missing fields) */
    R2_ERR_REPLAY_UNMATCHED = -7, /**< ReplayUnmatched: the replay transport has no recorded response for a request */
    R2_ERR_CIRCUIT_OPEN = -8, /**< CircuitOpen: the circuit breaker is open; the call failed fast */
    R2_ERR_UNSUPPORTED = -9, /**< Unsupported: a feature R2 refuses (e.g. a second checksum) was requested */

    /* Auth. */
    R2_ERR_INVALID_ACCESS_KEY = -100, /**< InvalidAccessKey: the server does not know the access key id */
    R2_ERR_SIGNATURE_MISMATCH = -101, /**< SignatureDoesNotMatch: the server computed another signature (wrong secret key?) */
    R2_ERR_EXPIRED_CREDENTIALS = -102, /**< ExpiredCredentials: the temporary credentials have expired */
    R2_ERR_UNAUTHORIZED = -103, /**< Unauthorized: the request is not authenticated (HTTP 401) */
    R2_ERR_EXPIRED_REQUEST = -104, /**< ExpiredRequest: a presigned URL (or request date) that has expired */

    /* Bucket. */
    R2_ERR_NO_SUCH_BUCKET = -200, /**< NoSuchBucket: the bucket does not exist */
    R2_ERR_ACCESS_DENIED = -201, /**< AccessDenied: the credentials may not do this (HTTP 403) */
    R2_ERR_INVALID_BUCKET_NAME = -202, /**< InvalidBucketName: the bucket name breaks R2's naming rules */

    /* Object. */
    R2_ERR_NO_SUCH_KEY = -300, /**< NoSuchKey: the key does not exist */
    R2_ERR_PRECONDITION_FAILED = -301, /**< PreconditionFailed: an If-Match or If-Unmodified-Since condition failed (HTTP 412) */
    R2_ERR_NOT_MODIFIED = -302, /**< NotModified: an If-None-Match or If-Modified-Since condition held (HTTP 304) */
    R2_ERR_ENTITY_TOO_LARGE = -303, /**< EntityTooLarge: a body over R2's limit, or a get over max_get_bytes */
    R2_ERR_INVALID_RANGE = -304, /**< InvalidRange: the range is outside the object (HTTP 416) */
    R2_ERR_INVALID_OBJECT_NAME = -305, /**< InvalidObjectName: the key breaks R2's rules (e.g. over R2_MAX_KEY_BYTES) */
    R2_ERR_METADATA_TOO_LARGE = -306, /**< MetadataTooLarge: user metadata over R2's 8 192 bytes */
    R2_ERR_SSE_CUSTOMER_KEY_REQUIRED = -307, /**< SSECustomerKeyRequired: the object is encrypted with a customer key (SSE-C) and the request did not give it */

    /* Multipart. */
    R2_ERR_NO_SUCH_UPLOAD = -400, /**< NoSuchUpload: the multipart upload does not exist (or was completed or aborted) */
    R2_ERR_INVALID_PART = -401, /**< InvalidPart: a part is missing or its ETag does not match */
    R2_ERR_INVALID_PART_ORDER = -402, /**< InvalidPartOrder: the parts are not in ascending order */
    R2_ERR_ENTITY_TOO_SMALL = -403, /**< EntityTooSmall: a part other than the last is under R2's minimum (5 MiB) */

    /* Network. */
    R2_ERR_CONNECTION_FAILED = -500, /**< ConnectionFailed, retryable: no connection to the server (DNS, refused, reset) */
    R2_ERR_TIMEOUT = -501, /**< Timeout, retryable: a timeout, a stalled transfer or the call's deadline */
    R2_ERR_TLS = -502, /**< TLS: the TLS handshake or the certificate check failed */

    /* Server. */
    R2_ERR_SERVER_INTERNAL = -600, /**< ServerInternal, retryable: the server failed (S3's InternalError, HTTP 500) */
    R2_ERR_SERVICE_UNAVAILABLE = -601, /**< ServiceUnavailable, retryable: the server is unavailable (HTTP 503) */
    R2_ERR_SLOW_DOWN = -602, /**< SlowDown, retryable: the server asks to slow down (SlowDown, HTTP 429) */
    R2_ERR_NOT_IMPLEMENTED = -603, /**< NotImplemented: the server does not implement this (HTTP 501) */

    /* Request. */
    R2_ERR_BAD_DIGEST = -700, /**< BadDigest: the body sent does not match its Content-MD5 or checksum */
    R2_ERR_MISSING_CONTENT_LENGTH = -701, /**< MissingContentLength: the server wants a Content-Length (HTTP 411) */
    R2_ERR_INVALID_REQUEST = -702, /**< InvalidRequest: the server refused the request as malformed (HTTP 400) */

    /* Transfer. */
    R2_ERR_STREAM_INTERRUPTED = -800, /**< StreamInterrupted, retryable: a body was cut off mid-way */
    R2_ERR_CHECKSUM_MISMATCH = -801, /**< ChecksumMismatch: a body received does not match its checksum */
    R2_ERR_INCOMPLETE_BODY = -802, /**< IncompleteBody, retryable: the server received less than the body announced */

    R2_ERR_HTTP = -900 /**< HTTPError: any other HTTP error status; see r2_error.http_status and s3_code */
} r2_status;

/** The details of a failure. Read it with r2_error_last() on the thread that
 * made the failing call. Strings are never NULL ("" when absent), belong to
 * r2, and stay valid until the next failing r2 call on the same thread.
 * Messages never contain a secret key, signature or Authorization header. */
typedef struct r2_error {
    int32_t code;            /**< an r2_status */
    int32_t http_status;     /**< the HTTP status, or 0 when there was no response */
    bool retryable;          /**< true when trying the same call again may succeed */
    int64_t retry_after_ms;  /**< the server's Retry-After in milliseconds, or -1 */
    const char *s3_code;     /**< the S3 error code, e.g. "NoSuchKey", or "" */
    const char *message;     /**< a human-readable description */
    const char *request_id;  /**< x-amz-request-id (or cf-ray) of the failing response, or "" */
} r2_error;

/** A string or bytes that r2 allocated and the caller owns. Release it with
 * r2_buf_dispose(). `ptr` is NUL-terminated for text; `size` excludes the NUL. */
typedef struct r2_buf {
    char *ptr;
    size_t size;
} r2_buf;

/** One HTTP header: a NUL-terminated UTF-8 name and value. */
typedef struct r2_header {
    const char *name;
    const char *value;
} r2_header;

/** A client: configuration, credentials, signer and connection pool. Safe to
 * use from many threads at once. */
typedef struct r2_client r2_client;

/** A standalone SigV4 signer with its own credentials, region and service.
 * Safe to use from many threads at once. */
typedef struct r2_signer r2_signer;

/** The result of signing or presigning one request: headers to send, the
 * canonical request and string to sign. Immutable; safe to read from many
 * threads. */
typedef struct r2_signed r2_signed;

/** How the request body is covered by the signature. */
typedef enum r2_payload_mode {
    R2_PAYLOAD_DEFAULT = 0,  /**< the client's setting (itself defaulting to R2_PAYLOAD_SIGNED) */
    R2_PAYLOAD_SIGNED = 1,   /**< x-amz-content-sha256 is the hex SHA-256 of the body */
    R2_PAYLOAD_UNSIGNED = 2  /**< x-amz-content-sha256 is UNSIGNED-PAYLOAD (TLS protects the body) */
} r2_payload_mode;

/** R2 jurisdictions: each selects the endpoint host
 * `<account>.<jurisdiction>.r2.cloudflarestorage.com`. */
typedef enum r2_jurisdiction {
    R2_JURISDICTION_DEFAULT = 0,
    R2_JURISDICTION_EU = 1,
    R2_JURISDICTION_FEDRAMP = 2,
    R2_JURISDICTION_US = 3
} r2_jurisdiction;

/** One class of retried failure: attempts in all (the first included; 1
 * means never retry), the first retry's delay and the longest delay. Each
 * later delay doubles, with jitter. */
typedef struct r2_retry_rule {
    uint32_t max_attempts;
    uint32_t base_delay_ms;
    uint32_t max_delay_ms;
} r2_retry_rule;

/** Log levels, most severe first. */
typedef enum r2_log_level {
    R2_LOG_OFF = 0,
    R2_LOG_ERROR = 1,  /**< a call failed for good */
    R2_LOG_WARN = 2,   /**< an attempt failed and will be retried; the circuit breaker opened */
    R2_LOG_INFO = 3,   /**< a call finished; the circuit breaker closed */
    R2_LOG_DEBUG = 4,  /**< each attempt's outcome */
    R2_LOG_TRACE = 5   /**< each request and response line with headers (secrets redacted) */
} r2_log_level;

/** One log event. Strings are never NULL ("" when absent) and are valid only
 * during the callback. Nothing in a record is secret: Authorization headers,
 * signatures and security tokens are redacted at every level. */
typedef struct r2_log_record {
    int32_t level;           /**< an r2_log_level */
    const char *message;
    const char *operation;   /**< e.g. "GetObject" */
    const char *bucket;
    const char *key;
    int32_t http_status;     /**< 0 when there was no response */
    const char *request_id;
    uint32_t attempt;        /**< 1 for the first attempt; 0 when not about one attempt */
    double duration_ms;      /**< of the attempt (or of the call, for call events); 0 when not timed */
    int32_t error_code;      /**< an r2_status; R2_OK when the event is not a failure */
} r2_log_record;

/** Releases a userdata pointer the client was given to keep. */
typedef void (*r2_free_cb)(void *userdata);

/** Receives log events on the thread that made the call. Keep it quick; it
 * must not call r2 functions on the same client. */
typedef void (*r2_log_cb)(const r2_log_record *record, void *userdata);

/** One finished call, every attempt included. Strings are never NULL and
 * are valid only during the callback. */
typedef struct r2_trace_record {
    const char *operation;
    const char *bucket;
    const char *key;
    int32_t http_status;     /**< the last response's status, 0 when none */
    int32_t error_code;      /**< an r2_status; R2_OK on success */
    const char *error_message; /**< "" on success */
    const char *request_id;
    double duration_ms;
    uint64_t bytes_sent;
    uint64_t bytes_received;
    uint32_t retries;
    const char *traceparent; /**< the W3C traceparent sent, or "" */
} r2_trace_record;

/** Receives one record per finished call, on the thread that made it. */
typedef void (*r2_trace_cb)(const r2_trace_record *record, void *userdata);

/** The state of a client's circuit breaker (r2_client_breaker_state()). */
typedef enum r2_breaker_state {
    R2_BREAKER_CLOSED = 0,    /**< requests flow */
    R2_BREAKER_OPEN = 1,      /**< calls fail fast with R2_ERR_CIRCUIT_OPEN */
    R2_BREAKER_HALF_OPEN = 2  /**< one trial call at a time goes through */
} r2_breaker_state;

/** In an options field where zero means the default, R2_OFF turns the
 * feature off instead (where the field says so). */
#define R2_OFF 0xFFFFFFFFu

/** Client configuration. Initialise with R2_CLIENT_OPTIONS_INIT or
 * r2_client_options_init() (the version, every other field zero), then set
 * fields. Zero (or NULL) in any field means the default, which the library
 * keeps. Strings are NUL-terminated UTF-8, borrowed for the duration of
 * r2_client_new() only. */
typedef struct r2_client_options {
    uint32_t version;                 /**< R2_CLIENT_OPTIONS_VERSION */
    const char *account_id;           /**< Cloudflare account id; required unless endpoint is set */
    const char *access_key_id;        /**< required */
    const char *secret_access_key;    /**< required; copied into memory that is zeroed when the client is freed */
    const char *session_token;        /**< optional temporary-credential token */
    const char *endpoint;             /**< optional override, e.g. "https://example.com" or "http://127.0.0.1:8333" */
    int32_t jurisdiction;             /**< an r2_jurisdiction */
    bool allow_http;                  /**< must be true for an http:// endpoint */
    const char *ca_bundle_path;       /**< optional PEM file of CA certificates to trust */
    uint32_t connect_timeout_ms;      /**< 0: the default, 10 000 */
    uint32_t request_timeout_ms;      /**< small requests; 0: the default, 60 000 */
    uint32_t transfer_timeout_ms;     /**< large bodies; 0: none beyond the stall check (the default) */
    uint64_t multipart_threshold;     /**< bytes; 0: the default, 100 MiB */
    uint64_t multipart_part_size;     /**< bytes; 0: the default, 10 MiB */
    uint32_t multipart_concurrency;   /**< 0: the default, 4 */
    uint32_t pool_size;               /**< idle connections kept; 0: the default, 20 */
    int32_t payload_mode;             /**< an r2_payload_mode; R2_PAYLOAD_DEFAULT (0): R2_PAYLOAD_SIGNED */
    const char *record_path;          /**< record every exchange to this cassette file (secrets redacted) */
    const char *replay_path;          /**< serve every request from this cassette; no network */
    bool replay_latency;              /**< with replay_path: wait as long as each recorded response took */
    /* Version 2: resilience and observability (README, "Resilience and observability"). */
    /* A zero field of a retry rule means that field's default. */
    r2_retry_rule retry_slow_down;    /**< SlowDown and HTTP 429; default {5, 1000, 30000}; the server's Retry-After replaces the base delay */
    r2_retry_rule retry_server;       /**< InternalError, ServiceUnavailable; default {3, 1000, 30000} */
    r2_retry_rule retry_network;      /**< timeouts, connection failures; default {3, 500, 10000} */
    r2_retry_rule retry_interrupted;  /**< bodies cut off mid-way; default {2, 500, 500}, a fixed delay; a resumed download that made progress starts afresh */
    double retry_jitter;              /**< 0 to 1: each delay is drawn from [(1 - jitter) * d, d]; 0: the default, 0.5; R2_OFF: no jitter */
    uint32_t deadline_ms;             /**< the whole call, retries and waits included; 0: none (the default) */
    uint32_t list_timeout_ms;         /**< per attempt of a listing; 0: the default, 60 000; R2_OFF: none */
    uint32_t part_timeout_ms;         /**< per attempt of a multipart part; 0: none beyond the stall check (the default) */
    uint32_t stall_timeout_ms;        /**< a request with no byte moved (or under stall_min_bytes_per_s) for this long fails (a download then resumes); 0: the default, 60 000 */
    uint32_t breaker_failure_threshold; /**< consecutive failed calls that open the circuit; 0: the default, 5; R2_OFF: no breaker */
    uint32_t breaker_success_threshold; /**< successful trial calls that close it again; 0: the default, 3 */
    uint32_t breaker_reset_timeout_ms;  /**< how long it stays open; 0: the default, 30 000 */
    double rate_limit;                /**< requests per second, adaptive on SlowDown; 0: no limit (the default) */
    int32_t log_level;                /**< an r2_log_level; 0: R2_LOG_OFF (the default) */
    r2_log_cb log_cb;                 /**< NULL: no logging */
    void *log_userdata;
    r2_free_cb log_userdata_free;     /**< called with log_userdata when the client is freed (or r2_client_new fails); may be NULL */
    r2_trace_cb trace_cb;             /**< NULL: no tracing */
    void *trace_userdata;
    r2_free_cb trace_userdata_free;   /**< as log_userdata_free, for trace_userdata */
    bool traceparent;                 /**< send a W3C traceparent header (unsigned) with every request */
    /* Version 3: limits against a hostile or broken server (README, "Hostile servers"),
     * addressing and signing region. */
    uint64_t max_get_bytes;           /**< the most r2_object_get() holds in memory; larger (or endless) bodies fail with R2_ERR_ENTITY_TOO_LARGE; 0: the default, 1 GiB */
    uint32_t stall_min_bytes_per_s;   /**< a request moving under this rate for stall_timeout_ms fails (a server trickling bytes); 0: the default, 1024; R2_OFF: only the no-byte check */
    bool virtual_hosted_style;        /**< <bucket>.<host>/<key> URLs instead of <host>/<bucket>/<key> (R2 accepts both) */
    const char *region;               /**< SigV4 region: NULL or "auto" (R2's), "us-east-1" or "" (aliases R2 accepts); others are refused */
} r2_client_options;

#define R2_CLIENT_OPTIONS_VERSION 3
#define R2_CLIENT_OPTIONS_INIT { .version = R2_CLIENT_OPTIONS_VERSION }

/** Credentials and scope of a standalone signer. Strings are borrowed for the
 * duration of r2_signer_new() only; NULL means the default. */
typedef struct r2_signer_options {
    uint32_t version;               /**< R2_SIGNER_OPTIONS_VERSION */
    const char *access_key_id;      /**< required */
    const char *secret_access_key;  /**< required */
    const char *session_token;      /**< optional */
    const char *region;             /**< NULL: "auto" */
    const char *service;            /**< NULL: "s3" */
} r2_signer_options;

#define R2_SIGNER_OPTIONS_VERSION 1
#define R2_SIGNER_OPTIONS_INIT { .version = R2_SIGNER_OPTIONS_VERSION }

/** One request to sign or presign. Everything is borrowed for the duration of
 * the call. */
typedef struct r2_sign_request {
    uint32_t version;            /**< R2_SIGN_REQUEST_VERSION */
    const char *method;          /**< "GET", "PUT", ... */
    const char *path;            /**< the request-target path exactly as sent (already percent-encoded); signed as is, never normalised */
    const char *query;           /**< the raw query string after '?', or NULL */
    const r2_header *headers;    /**< headers to sign, in send order; Host is required */
    size_t header_count;
    const uint8_t *body;         /**< hashed when payload_hash is NULL */
    size_t body_len;
    const char *payload_hash;    /**< hex SHA-256, "UNSIGNED-PAYLOAD", or NULL to hash body (presign: NULL means UNSIGNED-PAYLOAD for s3) */
    int64_t unix_time;           /**< signing time in seconds since 1970; 0 means now */
    bool omit_content_sha256_header; /**< do not add x-amz-content-sha256 when absent (S3 and R2 need it: leave false) */
    bool omit_session_token;     /**< do not add or sign x-amz-security-token */
} r2_sign_request;

#define R2_SIGN_REQUEST_VERSION 1
#define R2_SIGN_REQUEST_INIT { .version = R2_SIGN_REQUEST_VERSION }

/** Everything an r2_signed holds, read in one call (r2_signed_get) instead of
 * one call per field. The caller sets `version`; the library fills the rest
 * with strings borrowed from the r2_signed (NUL-terminated, lengths given),
 * valid until r2_signed_free(). */
typedef struct r2_signed_fields {
    uint32_t version;               /**< R2_SIGNED_FIELDS_VERSION */
    const char *authorization;      /**< "" for a presigned result */
    size_t authorization_len;
    const char *canonical_request;
    size_t canonical_request_len;
    const char *string_to_sign;
    size_t string_to_sign_len;
    const char *signature;
    size_t signature_len;
    const char *query;              /**< the query string to send */
    size_t query_len;
    const r2_header *headers;       /**< the headers to send, in order */
    size_t header_count;
    const uint8_t *header_block;    /**< the same headers as consecutive NUL-terminated strings: name, value, name, ... (for bindings: one copy, split there) */
    size_t header_block_len;        /**< including every NUL */
} r2_signed_fields;

#define R2_SIGNED_FIELDS_VERSION 1
#define R2_SIGNED_FIELDS_INIT { .version = R2_SIGNED_FIELDS_VERSION }

/** Options of r2_client_presign(). */
typedef struct r2_presign_options {
    uint32_t version;            /**< R2_PRESIGN_OPTIONS_VERSION */
    const r2_header *headers;    /**< extra headers to sign (e.g. Content-Type for PUT); the URL's user must send them */
    size_t header_count;
    int64_t unix_time;           /**< signing time; 0 means now */
    const r2_header *query;      /**< extra query parameters, unencoded (e.g. response-content-disposition) */
    size_t query_count;
} r2_presign_options;

#define R2_PRESIGN_OPTIONS_VERSION 1
#define R2_PRESIGN_OPTIONS_INIT { .version = R2_PRESIGN_OPTIONS_VERSION }


/** Integrity checks sent with an upload. R2 accepts one checksum per request:
 * Content-MD5 or one x-amz-checksum-* header, never both. None is sent
 * unless asked for. */
typedef enum r2_checksum {
    R2_CHECKSUM_NONE = 0,
    R2_CHECKSUM_MD5 = 1,     /**< Content-MD5 */
    R2_CHECKSUM_CRC32 = 2,   /**< x-amz-checksum-crc32 */
    R2_CHECKSUM_CRC32C = 3,  /**< x-amz-checksum-crc32c */
    R2_CHECKSUM_SHA1 = 4,    /**< x-amz-checksum-sha1 */
    R2_CHECKSUM_SHA256 = 5   /**< x-amz-checksum-sha256 */
} r2_checksum;

/** Restarts a streamed upload body from its first byte (rewind a file or a
 * seekable stream) so that a failed attempt can be sent again. Called with
 * the read callback's userdata; return 0 when done, anything else when the
 * body cannot be read again (the error is then final). */
typedef int (*r2_rewind_cb)(void *userdata);

/** Options of r2_object_put() and r2_object_put_stream(). Everything is
 * borrowed for the call; NULL means "not set". */
typedef struct r2_put_options {
    uint32_t version;              /**< R2_PUT_OPTIONS_VERSION */
    const char *content_type;
    const char *cache_control;
    const char *content_disposition;
    const char *content_encoding;
    const char *content_language;
    const char *expires;           /**< an HTTP date */
    const r2_header *metadata;     /**< user metadata; names without the x-amz-meta- prefix */
    size_t metadata_count;
    const char *if_match;          /**< conditional write: an ETag, or "*" */
    const char *if_none_match;     /**< "*" creates only when the key does not exist */
    const char *if_modified_since; /**< an HTTP date */
    const char *if_unmodified_since;
    int32_t payload_mode;          /**< an r2_payload_mode; DEFAULT uses the client's */
    int32_t checksum;              /**< an r2_checksum */
    const char *checksum_value;    /**< base64 digest for streams (bytes puts compute it); NULL to compute */
    const char *storage_class;     /**< "STANDARD" or "STANDARD_IA" (anything else is refused before sending); NULL or "" for the bucket's default */
    /* Version 2. */
    r2_rewind_cb rewind;           /**< streamed puts (r2_object_put_stream, r2_transfer_upload_stream below the threshold): restarts the body
                                        so a 429/5xx/network failure is sent again; NULL: a one-shot stream, not retried once read */
    const uint8_t *sse_customer_key; /**< SSE-C: 32 bytes (AES-256) to encrypt the object with; reads then need it; NULL for none */
} r2_put_options;

#define R2_PUT_OPTIONS_VERSION 2
#define R2_PUT_OPTIONS_INIT { .version = R2_PUT_OPTIONS_VERSION }

/** Options of r2_object_get(), r2_object_get_stream() and r2_object_head(). */
typedef struct r2_get_options {
    uint32_t version;              /**< R2_GET_OPTIONS_VERSION */
    const char *range;             /**< "bytes=a-b", "bytes=a-" or "bytes=-n"; NULL for the whole object */
    const char *if_match;
    const char *if_none_match;
    const char *if_modified_since;
    const char *if_unmodified_since;
    bool validate_checksum;        /**< check a whole-object x-amz-checksum-* response header against the body */
    /* Version 2. */
    const uint8_t *sse_customer_key; /**< SSE-C: the 32-byte key the object was written with; NULL for none */
} r2_get_options;

#define R2_GET_OPTIONS_VERSION 2
#define R2_GET_OPTIONS_INIT { .version = R2_GET_OPTIONS_VERSION }

/* Results that can grow. Every struct r2 fills for the caller starts with a
 * `version` that the caller sets (R2_X_INIT, or x.version = R2_X_VERSION)
 * and r2 honours: it writes only the fields that version has, so a caller
 * built against an older header is never written past. A version of 0, or
 * above the library's, is R2_ERR_INVALID_ARGUMENT. Arrays that r2 allocates
 * inside a result use the element layout of the result's version (r2 sets
 * each element's version). */

/** What r2 knows about an object after a put, get, head or copy. Filled by
 * r2; strings are "" when absent and, like the metadata array, owned by the
 * struct: release them with r2_object_info_dispose(). */
typedef struct r2_object_info {
    uint32_t version;              /**< R2_OBJECT_INFO_VERSION, set by the caller */
    const char *etag;
    const char *version_id;
    const char *content_type;
    const char *content_range;     /**< set on ranged gets */
    const char *last_modified;     /**< as the server sent it (HTTP date) */
    const char *cache_control;
    const char *content_disposition;
    const char *content_encoding;
    const char *content_language;
    const char *expires;
    const char *storage_class;
    const char *checksum_crc32;    /**< x-amz-checksum-* response headers, when present */
    const char *checksum_crc32c;
    const char *checksum_sha1;
    const char *checksum_sha256;
    const char *request_id;        /**< x-amz-request-id (or cf-ray) */
    int64_t content_length;        /**< bytes in this response's body (or the object's size for head) */
    int32_t http_status;
    const r2_header *metadata;     /**< user metadata, names without the x-amz-meta- prefix */
    size_t metadata_count;
    void *internal;                /**< r2's storage; do not touch */
} r2_object_info;

#define R2_OBJECT_INFO_VERSION 1
#define R2_OBJECT_INFO_INIT { .version = R2_OBJECT_INFO_VERSION }

/** Options of r2_object_copy(). */
typedef struct r2_copy_options {
    uint32_t version;                   /**< R2_COPY_OPTIONS_VERSION */
    bool replace_metadata;              /**< REPLACE the metadata with the fields below instead of COPYing the source's */
    const char *content_type;           /**< with replace_metadata */
    const char *cache_control;
    const char *content_disposition;
    const char *content_encoding;
    const r2_header *metadata;
    size_t metadata_count;
    const char *if_match;               /**< x-amz-copy-source-if-match */
    const char *if_none_match;          /**< x-amz-copy-source-if-none-match */
    const char *if_modified_since;      /**< x-amz-copy-source-if-modified-since */
    const char *if_unmodified_since;    /**< x-amz-copy-source-if-unmodified-since */
    /* Version 2. */
    const uint8_t *sse_customer_key;        /**< SSE-C: 32-byte key to encrypt the copy with; NULL for none */
    const uint8_t *source_sse_customer_key; /**< SSE-C: 32-byte key the source was written with; NULL for none */
} r2_copy_options;

#define R2_COPY_OPTIONS_VERSION 2
#define R2_COPY_OPTIONS_INIT { .version = R2_COPY_OPTIONS_VERSION }

/** Options of r2_list_objects() and r2_list_iter_new(). */
typedef struct r2_list_options {
    uint32_t version;                /**< R2_LIST_OPTIONS_VERSION */
    const char *prefix;
    const char *delimiter;
    const char *start_after;
    const char *continuation_token;
    uint32_t max_keys;               /**< 1 to 1000; 0 means the server's default (1000) */
} r2_list_options;

#define R2_LIST_OPTIONS_VERSION 1
#define R2_LIST_OPTIONS_INIT { .version = R2_LIST_OPTIONS_VERSION }

/** One listed object. Strings are owned by the list result or iterator. */
typedef struct r2_object_entry {
    uint32_t version;               /**< R2_OBJECT_ENTRY_VERSION: set by the caller of r2_list_iter_next(), by r2 in a list result */
    const char *key;
    const char *etag;
    const char *last_modified;      /**< ISO 8601, as the server sent it */
    const char *storage_class;
    uint64_t size;
} r2_object_entry;

#define R2_OBJECT_ENTRY_VERSION 1
#define R2_OBJECT_ENTRY_INIT { .version = R2_OBJECT_ENTRY_VERSION }

/** One page of ListObjectsV2, keys already URL-decoded. Owned by the struct:
 * release with r2_list_result_dispose(). The entries are laid out as
 * r2_object_entry version 1 (whatever the result's version). */
typedef struct r2_list_result {
    uint32_t version;                     /**< R2_LIST_RESULT_VERSION, set by the caller */
    const r2_object_entry *objects;
    size_t object_count;
    const char *const *common_prefixes;
    size_t common_prefix_count;
    bool is_truncated;
    const char *next_continuation_token;  /**< "" when not truncated */
    const char *request_id;
    void *internal;
    /* Version 2. */
    const char *strings;                  /**< every string of the result, each NUL-terminated, lies in [strings, strings + strings_size):
                                               a binding can copy the page's text in one piece and read each string at its offset */
    size_t strings_size;
} r2_list_result;

#define R2_LIST_RESULT_VERSION 2
#define R2_LIST_RESULT_INIT { .version = R2_LIST_RESULT_VERSION }

/** A lazy iterator over every object of a listing, fetching pages as it goes.
 * Use it from one thread at a time. */
typedef struct r2_list_iter r2_list_iter;

/** One failed key of a DeleteObjects call. */
typedef struct r2_delete_error {
    uint32_t version;     /**< R2_DELETE_ERROR_VERSION, set by r2 */
    const char *key;
    const char *code;     /**< S3 error code, e.g. "AccessDenied" */
    const char *message;
} r2_delete_error;

#define R2_DELETE_ERROR_VERSION 1

/** Options of r2_object_delete_many(). */
typedef struct r2_delete_many_options {
    uint32_t version;              /**< R2_DELETE_MANY_OPTIONS_VERSION */
    bool quiet;                    /**< ask the server to report failures only: the result's deleted list is then empty */
} r2_delete_many_options;

#define R2_DELETE_MANY_OPTIONS_VERSION 1
#define R2_DELETE_MANY_OPTIONS_INIT { .version = R2_DELETE_MANY_OPTIONS_VERSION }

/** The outcome of r2_object_delete_many(): keys deleted and keys that failed (a
 * partial failure is not an error of the call). Release with
 * r2_delete_result_dispose(). */
typedef struct r2_delete_result {
    uint32_t version;              /**< R2_DELETE_RESULT_VERSION, set by the caller */
    const char *const *deleted;
    size_t deleted_count;
    const r2_delete_error *errors;
    size_t error_count;
    void *internal;
} r2_delete_result;

#define R2_DELETE_RESULT_VERSION 1
#define R2_DELETE_RESULT_INIT { .version = R2_DELETE_RESULT_VERSION }

/** A cancel switch for long calls: create it with r2_cancel_new(), pass it in
 * r2_transfer_options, and call r2_cancel_signal() from any thread. */
typedef struct r2_cancel r2_cancel;

/** Transfer progress: bytes moved so far and the total (-1 when unknown).
 * Called on the thread that made the call, at most every
 * progress_interval_ms and once at the end. Return 0 to go on, anything else
 * to cancel (the call then fails with R2_ERR_CANCELLED). */
typedef int (*r2_progress_cb)(uint64_t done, int64_t total, void *userdata);

/** Options of the transfer manager (r2_transfer_upload_*, r2_transfer_download_*, r2_transfer_copy).
 * Zero means "the client's setting". Everything is borrowed for the call. */
typedef struct r2_transfer_options {
    uint32_t version;                 /**< R2_TRANSFER_OPTIONS_VERSION */
    uint64_t threshold;               /**< multipart at or above this many bytes; 0: the client's (100 MiB) */
    uint64_t part_size;               /**< preferred part size; 0: the client's (10 MiB); raised to fit 10 000 parts */
    uint32_t concurrency;             /**< parts in flight, 1 to 64; 0: the client's (4) */
    int32_t part_checksum;            /**< per-part check: R2_CHECKSUM_NONE, _MD5, _CRC32 or _CRC32C */
    const r2_put_options *put;        /**< headers and metadata of an upload (its checksum must be NONE: use part_checksum); NULL for none */
    r2_progress_cb progress;          /**< NULL for none */
    void *progress_userdata;
    uint32_t progress_interval_ms;    /**< 0: 100 ms */
    r2_cancel *cancel;                /**< NULL for none */
    const char *state_path;           /**< resume state file; NULL: no resume (failed uploads are aborted) */
    /* Version 2. */
    const uint8_t *sse_customer_key;        /**< SSE-C: 32-byte key of the object uploaded or downloaded (uploads: or put->sse_customer_key); NULL for none */
    const uint8_t *source_sse_customer_key; /**< SSE-C: 32-byte key of r2_transfer_copy's source; NULL for none */
    /* Version 3. */
    uint32_t skip_fsync;              /**< downloads to a file: 1 skips the fsync before the rename into place (faster; a crash soon after may leave the file short); 0: fsync (durable) */
} r2_transfer_options;

#define R2_TRANSFER_OPTIONS_VERSION 3
#define R2_TRANSFER_OPTIONS_INIT { .version = R2_TRANSFER_OPTIONS_VERSION }

/** A part to assemble with r2_multipart_complete(). */
typedef struct r2_completed_part {
    uint32_t part_number;  /**< 1 to 10 000 */
    const char *etag;      /**< as r2_multipart_upload_part() returned it */
} r2_completed_part;

/** Options of r2_multipart_complete(): conditions R2 checks when
 * the object is published, and a failed one (R2_ERR_PRECONDITION_FAILED) is
 * final: R2 then treats the upload as aborted. Strings are borrowed for the call. */
typedef struct r2_complete_options {
    uint32_t version;              /**< R2_COMPLETE_OPTIONS_VERSION */
    const char *if_match;          /**< complete only if the key holds this ETag (or "*": any object) */
    const char *if_none_match;     /**< "*": complete only if the key does not exist (create-only) */
    const uint8_t *sse_customer_key; /**< SSE-C: the upload's 32-byte key; NULL for none */
} r2_complete_options;

#define R2_COMPLETE_OPTIONS_VERSION 1
#define R2_COMPLETE_OPTIONS_INIT { .version = R2_COMPLETE_OPTIONS_VERSION }

/** Options of r2_multipart_upload_part() and r2_multipart_upload_part_copy(). */
typedef struct r2_part_options {
    uint32_t version;              /**< R2_PART_OPTIONS_VERSION */
    int32_t checksum;              /**< R2_CHECKSUM_NONE, _MD5, _CRC32 or _CRC32C (uploaded parts only) */
    const uint8_t *sse_customer_key;        /**< SSE-C: the upload's 32-byte key; NULL for none */
    const uint8_t *source_sse_customer_key; /**< SSE-C: 32-byte key of an UploadPartCopy source; NULL for none */
} r2_part_options;

#define R2_PART_OPTIONS_VERSION 1
#define R2_PART_OPTIONS_INIT { .version = R2_PART_OPTIONS_VERSION }

/** Options of r2_multipart_list_parts() (none yet: the version only). */
typedef struct r2_list_parts_options {
    uint32_t version;              /**< R2_LIST_PARTS_OPTIONS_VERSION */
} r2_list_parts_options;

#define R2_LIST_PARTS_OPTIONS_VERSION 1
#define R2_LIST_PARTS_OPTIONS_INIT { .version = R2_LIST_PARTS_OPTIONS_VERSION }

/** One uploaded part, from r2_multipart_list_parts(). */
typedef struct r2_multipart_part_info {
    uint32_t version;              /**< R2_MULTIPART_PART_INFO_VERSION, set by r2 */
    uint32_t part_number;
    uint64_t size;
    const char *etag;
    const char *last_modified;
} r2_multipart_part_info;

#define R2_MULTIPART_PART_INFO_VERSION 1

/** Every part of an upload. Release with r2_multipart_part_list_dispose(). */
typedef struct r2_multipart_part_list {
    uint32_t version;              /**< R2_MULTIPART_PART_LIST_VERSION, set by the caller */
    const r2_multipart_part_info *parts;
    size_t count;
    void *internal;
} r2_multipart_part_list;

#define R2_MULTIPART_PART_LIST_VERSION 1
#define R2_MULTIPART_PART_LIST_INIT { .version = R2_MULTIPART_PART_LIST_VERSION }

/** Options of r2_multipart_list_uploads(). */
typedef struct r2_list_uploads_options {
    uint32_t version;              /**< R2_LIST_UPLOADS_OPTIONS_VERSION */
    const char *prefix;            /**< only uploads whose key starts with it; NULL or "" for all */
} r2_list_uploads_options;

#define R2_LIST_UPLOADS_OPTIONS_VERSION 1
#define R2_LIST_UPLOADS_OPTIONS_INIT { .version = R2_LIST_UPLOADS_OPTIONS_VERSION }

/** One unfinished multipart upload, from r2_multipart_list_uploads(). */
typedef struct r2_multipart_upload_info {
    uint32_t version;              /**< R2_MULTIPART_UPLOAD_INFO_VERSION, set by r2 */
    const char *key;
    const char *upload_id;
    const char *initiated;
} r2_multipart_upload_info;

#define R2_MULTIPART_UPLOAD_INFO_VERSION 1

/** Every unfinished upload under a prefix. Release with r2_multipart_upload_list_dispose(). */
typedef struct r2_multipart_upload_list {
    uint32_t version;              /**< R2_MULTIPART_UPLOAD_LIST_VERSION, set by the caller */
    const r2_multipart_upload_info *uploads;
    size_t count;
    void *internal;
} r2_multipart_upload_list;

#define R2_MULTIPART_UPLOAD_LIST_VERSION 1
#define R2_MULTIPART_UPLOAD_LIST_INIT { .version = R2_MULTIPART_UPLOAD_LIST_VERSION }

/** Download sink: receives each chunk of a body as it arrives. Return 0 to go
 * on, anything else to abort (the call then fails with R2_ERR_ABORTED). */
typedef int (*r2_write_cb)(const uint8_t *chunk, size_t len, void *userdata);

/** Upload source: fill `buf` with up to `cap` bytes and return how many
 * (> 0), 0 at the end of the body, or < 0 to abort. */
typedef int64_t (*r2_read_cb)(uint8_t *buf, size_t cap, void *userdata);

/** @name Asynchronous operations
 * Every `_async` call returns at once and reports its outcome later through an
 * r2_done_cb, on one of r2's engine threads (R2_ENGINE_THREADS, at most 4;
 * by default 1, or 2 with four or more CPUs; started on first use). */

/** An asynchronous operation in flight: cancel it with r2_op_cancel(), resume
 * its paused stream with r2_op_resume(), release it with r2_op_free() (at any
 * time: the operation still completes). */
typedef struct r2_op r2_op;

/** Completion of an asynchronous operation. Runs exactly once, on an r2 engine
 * thread, after r2 filled the operation's outputs; `status` is R2_OK or the
 * error, which r2_error_last() describes inside the callback. `op` is the
 * handle the call returned (NULL when none was asked for, or after
 * r2_op_free()). Do not block in it: it holds up the engine thread. */
typedef void (*r2_done_cb)(r2_op *op, int32_t status, void *userdata);

/** An r2_write_cb of an asynchronous operation returns this to pause the
 * transfer: the chunk is not taken and comes again after r2_op_resume(). */
#define R2_WRITE_PAUSE 268435457 /* 0x10000001, as libcurl's CURL_WRITEFUNC_PAUSE */

/** An r2_read_cb of an asynchronous operation returns this when it has no
 * data yet: the transfer pauses until r2_op_resume(). */
#define R2_READ_PAUSE (-268435457)

#endif /* R2_TYPES_H */
