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
 * The header's version. r2_version_number() returns the library's; bindings
 * check that the two agree. */
#define R2_VERSION_MAJOR 0
#define R2_VERSION_MINOR 1
#define R2_VERSION_PATCH 0
#define R2_VERSION_NUMBER (R2_VERSION_MAJOR * 10000 + R2_VERSION_MINOR * 100 + R2_VERSION_PATCH)
#define R2_VERSION_STRING "0.1.0"

/** Limits that the library enforces before anything is sent. */
#define R2_MAX_KEY_BYTES 1024
#define R2_MIN_PRESIGN_EXPIRES 1
#define R2_MAX_PRESIGN_EXPIRES 604800

/** Status codes. Every fallible function returns one: R2_OK (0) or a negative
 * code. The numbers are stable: once published they never change. Codes are
 * grouped by hundreds in the error taxonomy's classes. */
typedef enum r2_status {
    R2_OK = 0,

    /* Caller and library errors. */
    R2_ERR_INVALID_ARGUMENT = -1, /**< NULL pointer, bad UTF-8, out-of-range number, invalid bucket or key */
    R2_ERR_CONFIG = -2,           /**< invalid or missing configuration (endpoint, credentials, environment) */
    R2_ERR_ABORTED = -3,          /**< a caller's callback returned non-zero */
    R2_ERR_CANCELLED = -4,        /**< the operation was cancelled */
    R2_ERR_INTERNAL = -5,         /**< a bug in r2; please report it */
    R2_ERR_MALFORMED_RESPONSE = -6, /**< a response that could not be parsed (bad XML, missing fields) */
    R2_ERR_REPLAY_UNMATCHED = -7, /**< the replay transport has no recorded response for a request */
    R2_ERR_CIRCUIT_OPEN = -8,     /**< the circuit breaker is open; the call failed fast */
    R2_ERR_UNSUPPORTED = -9,      /**< a feature R2 refuses (e.g. a second checksum) was requested */

    /* Auth. */
    R2_ERR_INVALID_ACCESS_KEY = -100,
    R2_ERR_SIGNATURE_MISMATCH = -101,
    R2_ERR_EXPIRED_CREDENTIALS = -102,
    R2_ERR_UNAUTHORIZED = -103,

    /* Bucket. */
    R2_ERR_NO_SUCH_BUCKET = -200,
    R2_ERR_ACCESS_DENIED = -201,
    R2_ERR_INVALID_BUCKET_NAME = -202,

    /* Object. */
    R2_ERR_NO_SUCH_KEY = -300,
    R2_ERR_PRECONDITION_FAILED = -301,
    R2_ERR_NOT_MODIFIED = -302,
    R2_ERR_ENTITY_TOO_LARGE = -303,
    R2_ERR_INVALID_RANGE = -304,
    R2_ERR_INVALID_OBJECT_NAME = -305,

    /* Multipart. */
    R2_ERR_NO_SUCH_UPLOAD = -400,
    R2_ERR_INVALID_PART = -401,
    R2_ERR_INVALID_PART_ORDER = -402,
    R2_ERR_ENTITY_TOO_SMALL = -403,

    /* Network. */
    R2_ERR_CONNECTION_FAILED = -500,
    R2_ERR_TIMEOUT = -501,
    R2_ERR_TLS = -502,

    /* Server. */
    R2_ERR_INTERNAL_ERROR = -600,
    R2_ERR_SERVICE_UNAVAILABLE = -601,
    R2_ERR_SLOW_DOWN = -602,
    R2_ERR_NOT_IMPLEMENTED = -603,

    /* Request. */
    R2_ERR_BAD_DIGEST = -700,
    R2_ERR_MISSING_CONTENT_LENGTH = -701,
    R2_ERR_INVALID_REQUEST = -702,

    /* Transfer. */
    R2_ERR_STREAM_INTERRUPTED = -800,
    R2_ERR_CHECKSUM_MISMATCH = -801,
    R2_ERR_INCOMPLETE_BODY = -802,

    /** Any other HTTP error status; see r2_error.http_status and s3_code. */
    R2_ERR_HTTP = -900
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

/** Client configuration. Initialise with R2_CLIENT_OPTIONS_INIT or
 * r2_client_options_init(), which fill in the defaults, then set fields.
 * Strings are NUL-terminated UTF-8, borrowed for the duration of
 * r2_client_new() only; NULL means "not set". */
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
    uint32_t connect_timeout_ms;      /**< default 10 000 */
    uint32_t request_timeout_ms;      /**< small requests; default 60 000 */
    uint32_t transfer_timeout_ms;     /**< large bodies; default 0 (no limit beyond the low-speed check) */
    uint64_t multipart_threshold;     /**< bytes; default 100 MiB */
    uint64_t multipart_part_size;     /**< bytes; default 10 MiB */
    uint32_t multipart_concurrency;   /**< default 4 */
    uint32_t pool_size;               /**< idle connections kept; default 20 */
    int32_t payload_mode;             /**< an r2_payload_mode; default R2_PAYLOAD_SIGNED */
} r2_client_options;

#define R2_CLIENT_OPTIONS_VERSION 1
#define R2_CLIENT_OPTIONS_INIT { R2_CLIENT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, R2_JURISDICTION_DEFAULT, false, NULL, 10000, 60000, 0, 104857600, 10485760, 4, 20, R2_PAYLOAD_SIGNED }

/** Credentials and scope of a standalone signer. Strings are borrowed for the
 * duration of r2_signer_new() only. */
typedef struct r2_signer_options {
    uint32_t version;               /**< R2_SIGNER_OPTIONS_VERSION */
    const char *access_key_id;      /**< required */
    const char *secret_access_key;  /**< required */
    const char *session_token;      /**< optional */
    const char *region;             /**< default "auto" */
    const char *service;            /**< default "s3" */
} r2_signer_options;

#define R2_SIGNER_OPTIONS_VERSION 1
#define R2_SIGNER_OPTIONS_INIT { R2_SIGNER_OPTIONS_VERSION, NULL, NULL, NULL, "auto", "s3" }

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
    bool content_sha256_header;  /**< add x-amz-content-sha256 when absent (always true in practice for S3/R2) */
    bool omit_session_token;     /**< do not add or sign x-amz-security-token */
} r2_sign_request;

#define R2_SIGN_REQUEST_VERSION 1
#define R2_SIGN_REQUEST_INIT { R2_SIGN_REQUEST_VERSION, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, true, false }

/** Options of r2_presign(). */
typedef struct r2_presign_options {
    uint32_t version;            /**< R2_PRESIGN_OPTIONS_VERSION */
    const r2_header *headers;    /**< extra headers to sign (e.g. Content-Type for PUT); the URL's user must send them */
    size_t header_count;
    int64_t unix_time;           /**< signing time; 0 means now */
} r2_presign_options;

#define R2_PRESIGN_OPTIONS_VERSION 1
#define R2_PRESIGN_OPTIONS_INIT { R2_PRESIGN_OPTIONS_VERSION, NULL, 0, 0 }

/** Download sink: receives each chunk of a body as it arrives. Return 0 to go
 * on, anything else to abort (the call then fails with R2_ERR_ABORTED). */
typedef int (*r2_write_cb)(const uint8_t *chunk, size_t len, void *userdata);

/** Upload source: fill `buf` with up to `cap` bytes and return how many
 * (> 0), 0 at the end of the body, or < 0 to abort. */
typedef int64_t (*r2_read_cb)(uint8_t *buf, size_t cap, void *userdata);

#endif /* R2_TYPES_H */
