/* C tests of libr2 through include/r2.h: argument validation, error records,
 * handles, presigning, configuration, secrets. Prints one line per failed
 * check and "N passed, M failed" last; exits 1 on any failure. */
#define _DEFAULT_SOURCE
#include "r2.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define SECRET "3b0f9c6a2e4d8b1f7a5c9e3d2b6f8a0c4e1d7b9f3a5c2e8d6b4f0a9c1e3d5b7f"
#define ACCESS "e8b8f6d1c2a34f5b9d7e0a1b2c3d4e5f"
#define ACCOUNT "023e105f4ecef8ad9ca31a8372d0c353"

static const char *last_message(void) { return r2_error_last()->message; }

/* The secret must never appear in a message. */
static void check_no_secret(const char *where) {
    const r2_error *e = r2_error_last();
    CHECK(strstr(e->message, SECRET) == NULL, "secret in error message after %s", where);
    CHECK(strstr(e->message, "Signature=") == NULL, "signature in error message after %s", where);
}

static r2_client *new_client(void) {
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.account_id = ACCOUNT;
    o.access_key_id = ACCESS;
    o.secret_access_key = SECRET;
    r2_client *c = NULL;
    int rc = r2_client_new(&c, &o);
    CHECK(rc == R2_OK && c != NULL, "r2_client_new: %d %s", rc, last_message());
    return c;
}

static void test_version(void) {
    CHECK(r2_version_number() == R2_VERSION_NUMBER, "library %u header %d", r2_version_number(), R2_VERSION_NUMBER);
    CHECK(strcmp(r2_version_string(), R2_VERSION_STRING) == 0, "%s", r2_version_string());
    CHECK(strcmp(r2_status_string(R2_ERR_NO_SUCH_KEY), "NoSuchKey") == 0, "%s", r2_status_string(R2_ERR_NO_SUCH_KEY));
    CHECK(strcmp(r2_status_string(12345), "Unknown") == 0, "%s", r2_status_string(12345));
    CHECK(r2_error_last() != NULL, "r2_error_last is never NULL");
}

static void test_client_options(void) {
    r2_client *c = (r2_client *)0x1;
    r2_client_options o;
    CHECK(r2_client_options_init(NULL, R2_CLIENT_OPTIONS_VERSION) == R2_ERR_INVALID_ARGUMENT, "NULL opts");
    CHECK(r2_client_options_init(&o, 99) == R2_ERR_INVALID_ARGUMENT, "future version");
    CHECK(r2_client_options_init(&o, R2_CLIENT_OPTIONS_VERSION) == R2_OK, "init");
    r2_client_options init = R2_CLIENT_OPTIONS_INIT;
    CHECK(memcmp(&o, &init, sizeof o) == 0 || (o.multipart_threshold == init.multipart_threshold &&
          o.multipart_part_size == init.multipart_part_size && o.pool_size == init.pool_size &&
          o.multipart_concurrency == init.multipart_concurrency && o.connect_timeout_ms == init.connect_timeout_ms),
          "the _init function and the _INIT macro agree");
    CHECK(o.version == R2_CLIENT_OPTIONS_VERSION && o.multipart_threshold == 0 && o.multipart_part_size == 0 &&
          o.multipart_concurrency == 0 && o.pool_size == 0, "zero fields: the library's defaults");

    CHECK(r2_client_new(NULL, &o) == R2_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(r2_client_new(&c, NULL) == R2_ERR_INVALID_ARGUMENT && c == NULL, "NULL opts sets *out to NULL");
    CHECK(strstr(last_message(), "opts") != NULL, "message names the argument: %s", last_message());

    o.access_key_id = ACCESS;
    o.secret_access_key = SECRET;
    CHECK(r2_client_new(&c, &o) == R2_ERR_CONFIG, "no account id and no endpoint: %s", last_message());
    check_no_secret("missing account");

    o.endpoint = "http://127.0.0.1:8333";
    int rc = r2_client_new(&c, &o);
    CHECK(rc == R2_ERR_CONFIG, "http:// without opt-in is refused (%d)", rc);
    CHECK(strstr(last_message(), "allow_http") != NULL, "message says how to opt in: %s", last_message());
    CHECK(!r2_error_last()->retryable && r2_error_last()->http_status == 0, "config errors are not retryable");
    o.allow_http = true;
    CHECK(r2_client_new(&c, &o) == R2_OK, "http:// with opt-in: %s", last_message());
    r2_client_free(c);

    o.endpoint = "ftp://example.com";
    CHECK(r2_client_new(&c, &o) == R2_ERR_CONFIG, "bad scheme");
    o.endpoint = "https://example.com/path";
    CHECK(r2_client_new(&c, &o) == R2_ERR_CONFIG, "endpoint with a path");
    o.endpoint = NULL;
    o.account_id = ACCOUNT;
    o.jurisdiction = 42;
    CHECK(r2_client_new(&c, &o) == R2_ERR_INVALID_ARGUMENT, "bad jurisdiction");
    o.jurisdiction = R2_JURISDICTION_DEFAULT;
    o.multipart_part_size = 1024;
    CHECK(r2_client_new(&c, &o) == R2_ERR_CONFIG, "part size below 5 MiB: %s", last_message());
    o.multipart_part_size = 10u * 1024 * 1024;
    o.secret_access_key = "\xff\xfe";
    CHECK(r2_client_new(&c, &o) == R2_ERR_INVALID_ARGUMENT, "secret that is not UTF-8");
    CHECK(strstr(last_message(), "UTF-8") != NULL, "%s", last_message());
    o.secret_access_key = SECRET;
    o.version = 0;
    CHECK(r2_client_new(&c, &o) == R2_ERR_INVALID_ARGUMENT, "version 0");
}

static void test_handles(void) {
    r2_client_free(NULL);
    r2_signer_free(NULL);
    r2_signed_free(NULL);
    r2_buf_dispose(NULL);
    r2_buf empty = {NULL, 0};
    r2_buf_dispose(&empty);

    r2_client *c = new_client();
    r2_client_free(c);
    r2_buf url = {NULL, 0};
    CHECK(r2_client_presign(&url, c, "GET", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT, "freed handle is refused");
    CHECK(strstr(last_message(), "live") != NULL, "%s", last_message());
    r2_client_free(c); /* double free is ignored */

    int not_a_handle = 7;
    CHECK(r2_client_presign(&url, (r2_client *)&not_a_handle, "GET", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT,
          "foreign pointer is refused");

    r2_signer_options so = R2_SIGNER_OPTIONS_INIT;
    so.access_key_id = ACCESS;
    so.secret_access_key = SECRET;
    r2_signer *s = NULL;
    CHECK(r2_signer_new(&s, &so) == R2_OK, "signer");
    c = new_client();
    CHECK(r2_client_presign(&url, (r2_client *)s, "GET", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT,
          "a signer is not a client");
    CHECK(r2_signed_query((const r2_signed *)s) == NULL, "a signer is not a signing result");
    r2_signer_free(s);
    r2_client_free(c);
}

/* r2_client_presign_into writes what r2_client_presign returns, into the
 * caller's buffer; a buffer too small is refused with the length needed and left
 * untouched; its own arguments are checked. */
static void test_presign_into(void) {
    r2_client *c = new_client();
    r2_presign_options po = R2_PRESIGN_OPTIONS_INIT;
    po.unix_time = 1700000000;
    r2_buf url = {NULL, 0};
    CHECK(r2_client_presign(&url, c, "GET", "my-bucket", "a b/\xc3\xbc.txt", 60, &po) == R2_OK, "presign");
    char buf[2048];
    size_t len = 7;
    CHECK(r2_client_presign_into(NULL, 0, &len, c, "GET", "my-bucket", "a b/\xc3\xbc.txt", 60, &po) == R2_ERR_INVALID_ARGUMENT
          && len == url.size && strstr(last_message(), "too small") != NULL, "no buffer: the length needed (%zu)", len);
    memset(buf, '#', sizeof buf);
    len = 0;
    CHECK(r2_client_presign_into(buf, url.size, &len, c, "GET", "my-bucket", "a b/\xc3\xbc.txt", 60, &po) == R2_ERR_INVALID_ARGUMENT
          && len == url.size && buf[0] == '#', "no room for the NUL: refused, buffer untouched");
    len = 0;
    CHECK(r2_client_presign_into(buf, url.size + 1, &len, c, "GET", "my-bucket", "a b/\xc3\xbc.txt", 60, &po) == R2_OK
          && len == url.size && memcmp(buf, url.ptr, url.size) == 0 && buf[len] == '\0', "exact fit: the same URL");
    r2_buf_dispose(&url);
    CHECK(r2_client_presign(&url, c, "GET", "bucket", NULL, 60, NULL) == R2_OK, "bucket-level presign");
    CHECK(r2_client_presign_into(buf, sizeof buf, &len, c, "GET", "bucket", NULL, 60, NULL) == R2_OK && len == url.size
          && strstr(buf, "/bucket?X-Amz-") != NULL, "NULL key presigns the bucket");
    r2_buf_dispose(&url);

    CHECK(r2_client_presign_into(buf, sizeof buf, NULL, c, "GET", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT
          && strstr(last_message(), "len") != NULL, "NULL len");
    len = 7;
    CHECK(r2_client_presign_into(NULL, 16, &len, c, "GET", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT
          && len == 0 && strstr(last_message(), "buf is NULL") != NULL, "NULL buf with a capacity");
    len = 7;
    CHECK(r2_client_presign_into(buf, sizeof buf, &len, NULL, "GET", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT
          && len == 0, "NULL client");
    CHECK(r2_client_presign_into(buf, sizeof buf, &len, c, NULL, "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT, "NULL method");
    CHECK(r2_client_presign_into(buf, sizeof buf, &len, c, "POST", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT, "POST");
    CHECK(r2_client_presign_into(buf, sizeof buf, &len, c, "GET", "bucket", "bad\xff", 60, NULL) == R2_ERR_INVALID_ARGUMENT
          && len == 0, "key not UTF-8");
    CHECK(r2_client_presign_into(buf, sizeof buf, &len, c, "GET", "Bucket", "key", 60, NULL) == R2_ERR_INVALID_BUCKET_NAME,
          "bad bucket name");
    CHECK(r2_client_presign_into(buf, sizeof buf, &len, c, "GET", "bucket", "key", 604801, NULL) == R2_ERR_INVALID_ARGUMENT,
          "expiry 604801");
    po.version = 99;
    CHECK(r2_client_presign_into(buf, sizeof buf, &len, c, "GET", "bucket", "key", 60, &po) == R2_ERR_INVALID_ARGUMENT,
          "options of a newer version");
    r2_client_free(c);
    CHECK(r2_client_presign_into(buf, sizeof buf, &len, c, "GET", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT,
          "freed client");
}

static void test_presign_validation(void) {
    r2_client *c = new_client();
    r2_buf url = {NULL, 0};
    char long_key[1026];
    memset(long_key, 'k', 1025);
    long_key[1025] = 0;

    CHECK(r2_client_presign(NULL, c, "GET", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(r2_client_presign(&url, NULL, "GET", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT, "NULL client");
    CHECK(r2_client_presign(&url, c, NULL, "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT, "NULL method");
    CHECK(r2_client_presign(&url, c, "POST", "bucket", "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT, "POST");
    CHECK(r2_client_presign(&url, c, "GET", NULL, "key", 60, NULL) == R2_ERR_INVALID_ARGUMENT, "NULL bucket");
    CHECK(r2_client_presign(&url, c, "GET", "bucket", NULL, 60, NULL) == R2_OK && strstr(url.ptr, "/bucket?X-Amz-") != NULL,
          "NULL key presigns the bucket (e.g. ListObjectsV2)");
    r2_buf_dispose(&url);
    CHECK(r2_client_presign(&url, c, "GET", "bucket", "bad\xff", 60, NULL) == R2_ERR_INVALID_ARGUMENT, "key not UTF-8");
    CHECK(r2_client_presign(&url, c, "GET", "bucket", "\xc3\x28", 60, NULL) == R2_ERR_INVALID_ARGUMENT, "bad 2-byte sequence");
    CHECK(r2_client_presign(&url, c, "GET", "bucket", long_key, 60, NULL) == R2_ERR_INVALID_OBJECT_NAME, "1025-byte key");
    CHECK(strstr(last_message(), "1025") != NULL, "%s", last_message());
    long_key[1024] = 0;
    CHECK(r2_client_presign(&url, c, "GET", "bucket", long_key, 60, NULL) == R2_OK, "1024-byte key is fine");
    r2_buf_dispose(&url);
    CHECK(url.ptr == NULL && url.size == 0, "dispose resets the buffer");
    CHECK(r2_client_presign(&url, c, "GET", "bucket", "", 60, NULL) == R2_ERR_INVALID_OBJECT_NAME, "empty key");
    CHECK(r2_client_presign(&url, c, "GET", "bucket", "key", 604801, NULL) == R2_ERR_INVALID_ARGUMENT, "expiry 604801");
    CHECK(strstr(last_message(), "604800") != NULL, "%s", last_message());
    CHECK(r2_client_presign(&url, c, "GET", "bucket", "key", 0, NULL) == R2_ERR_INVALID_ARGUMENT, "expiry 0");
    CHECK(r2_client_presign(&url, c, "GET", "bucket", "key", -5, NULL) == R2_ERR_INVALID_ARGUMENT, "negative expiry");
    CHECK(r2_client_presign(&url, c, "GET", "bucket", "key", 604800, NULL) == R2_OK, "expiry 604800");
    r2_buf_dispose(&url);
    CHECK(r2_client_presign(&url, c, "GET", "bucket", "key", 1, NULL) == R2_OK, "expiry 1");
    r2_buf_dispose(&url);

    static const struct { const char *name; int ok; } buckets[] = {
        {"abc", 1}, {"my-bucket-1", 1}, {"123", 1}, {"ab", 0}, {"Abc", 0}, {"-abc", 0}, {"abc-", 0},
        {"a_b", 0}, {"a.b", 0}, {"192.168.1.1", 0}, {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0}, {"", 0}, {"b\xc3\xa9", 0},
    };
    for (size_t i = 0; i < sizeof buckets / sizeof buckets[0]; i++) {
        int rc = r2_bucket_validate(buckets[i].name);
        CHECK((rc == R2_OK) == buckets[i].ok, "bucket \"%s\": %d %s", buckets[i].name, rc, last_message());
        if (!buckets[i].ok) CHECK(rc == R2_ERR_INVALID_BUCKET_NAME, "bucket \"%s\" code %d", buckets[i].name, rc);
        rc = r2_client_presign(&url, c, "GET", buckets[i].name, "k", 60, NULL);
        CHECK((rc == R2_OK) == buckets[i].ok, "presign with bucket \"%s\": %d", buckets[i].name, rc);
        r2_buf_dispose(&url);
    }
    CHECK(r2_bucket_validate(NULL) == R2_ERR_INVALID_ARGUMENT, "NULL bucket");
    CHECK(r2_key_validate(NULL) == R2_ERR_INVALID_ARGUMENT, "NULL key");
    CHECK(r2_key_validate("a/./b") == R2_OK && r2_key_validate("a/../b") == R2_OK, "dot segments are valid keys");

    r2_presign_options po = R2_PRESIGN_OPTIONS_INIT;
    r2_header bad = {"Content-Type", "text/plain\r\nX-Evil: 1"};
    po.headers = &bad;
    po.header_count = 1;
    CHECK(r2_client_presign(&url, c, "PUT", "bucket", "key", 60, &po) == R2_ERR_INVALID_ARGUMENT, "CRLF in a header value");
    po.headers = NULL;
    CHECK(r2_client_presign(&url, c, "PUT", "bucket", "key", 60, &po) == R2_ERR_INVALID_ARGUMENT, "NULL headers with a count");
    check_no_secret("presign validation");
    r2_client_free(c);
}

/* The client's presigner against a botocore vector (r2-presigned.json,
 * presign-get-plain and presign-put-content-type). */
static void test_presign_matches_botocore(void) {
    r2_client *c = new_client();
    r2_buf url = {NULL, 0};
    r2_presign_options po = R2_PRESIGN_OPTIONS_INIT;
    po.unix_time = 1765713600; /* 2025-12-14T12:00:00Z */
    CHECK(r2_client_presign(&url, c, "GET", "my-bucket", "hello.txt", 1, &po) == R2_OK, "presign");
    const char *want = "https://" ACCOUNT ".r2.cloudflarestorage.com/my-bucket/hello.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                       "&X-Amz-Credential=" ACCESS "%2F20251214%2Fauto%2Fs3%2Faws4_request&X-Amz-Date=20251214T120000Z"
                       "&X-Amz-Expires=1&X-Amz-SignedHeaders=host"
                       "&X-Amz-Signature=f51e75b8138d0d6d9b4b0876f167727d3836ccdd08af3965f55e9a2127cc5f94";
    CHECK(url.ptr && strcmp(url.ptr, want) == 0, "\n got  %s\n want %s", url.ptr, want);
    CHECK(url.ptr && url.size == strlen(url.ptr), "size excludes the NUL");
    CHECK(url.ptr && strstr(url.ptr, SECRET) == NULL, "no secret in the URL");
    r2_buf_dispose(&url);

    r2_header ct = {"Content-Type", "application/json"};
    po.headers = &ct;
    po.header_count = 1;
    CHECK(r2_client_presign(&url, c, "PUT", "my-bucket", "upload.json", 3600, &po) == R2_OK, "presign PUT");
    CHECK(url.ptr && strstr(url.ptr, "X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature="
                            "11d3817d2c007a9a2fda384fb573959020951c1d7c65555de913bc04fad7f1d3") != NULL, "%s", url.ptr);
    r2_buf_dispose(&url);
    r2_client_free(c);

    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.account_id = ACCOUNT;
    o.access_key_id = ACCESS;
    o.secret_access_key = SECRET;
    o.jurisdiction = R2_JURISDICTION_EU;
    CHECK(r2_client_new(&c, &o) == R2_OK, "eu client");
    CHECK(r2_client_presign(&url, c, "GET", "my-bucket", "k", 60, NULL) == R2_OK, "eu presign");
    CHECK(url.ptr && strncmp(url.ptr, "https://" ACCOUNT ".eu.r2.cloudflarestorage.com/my-bucket/k?", 64) == 0, "%s", url.ptr);
    r2_buf_dispose(&url);
    r2_client_free(c);
}

static void test_signer_validation(void) {
    r2_signer_options so = R2_SIGNER_OPTIONS_INIT;
    r2_signer *s = NULL;
    CHECK(r2_signer_new(&s, &so) == R2_ERR_INVALID_ARGUMENT, "no credentials");
    so.access_key_id = ACCESS;
    so.secret_access_key = SECRET;
    CHECK(r2_signer_new(&s, &so) == R2_OK, "signer");
    r2_sign_request r = R2_SIGN_REQUEST_INIT;
    r2_signed *out = NULL;
    CHECK(r2_signer_sign(&out, s, &r) == R2_ERR_INVALID_ARGUMENT, "no method");
    r.method = "GET";
    r.path = "/b/k";
    CHECK(r2_signer_sign(&out, s, &r) == R2_ERR_INVALID_ARGUMENT, "no Host header");
    r2_header h[2] = {{"Host", "example.com"}, {NULL, "x"}};
    r.headers = h;
    r.header_count = 2;
    CHECK(r2_signer_sign(&out, s, &r) == R2_ERR_INVALID_ARGUMENT, "NULL header name");
    r.header_count = 1;
    r.payload_hash = "not-a-hash";
    CHECK(r2_signer_sign(&out, s, &r) == R2_ERR_INVALID_ARGUMENT, "bad payload hash");
    r.payload_hash = NULL;
    r.body_len = 10;
    CHECK(r2_signer_sign(&out, s, &r) == R2_ERR_INVALID_ARGUMENT, "NULL body with a length");
    r.body_len = 0;
    CHECK(r2_signer_presign(&out, s, &r, 604801) == R2_ERR_INVALID_ARGUMENT, "presign expiry 604801");
    CHECK(r2_signer_sign(&out, s, &r) == R2_OK, "sign: %s", last_message());
    size_t n = r2_signed_header_count(out);
    int saw_sha = 0, saw_date = 0, saw_auth = 0;
    for (size_t i = 0; i < n; i++) {
        r2_header hh;
        CHECK(r2_signed_header(&hh, out, i) == R2_OK, "header %zu", i);
        if (!strcmp(hh.name, "x-amz-content-sha256"))
            saw_sha = !strcmp(hh.value, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        if (!strcmp(hh.name, "X-Amz-Date")) saw_date = 1;
        if (!strcmp(hh.name, "Authorization")) saw_auth = strstr(hh.value, SECRET) == NULL;
    }
    CHECK(saw_sha && saw_date && saw_auth, "GET carries x-amz-content-sha256 (empty hash), X-Amz-Date and Authorization");
    r2_header hh;
    CHECK(r2_signed_header(&hh, out, n) == R2_ERR_INVALID_ARGUMENT, "index out of range");

    /* r2_signed_get: everything at once, the same bytes as the getters. */
    r2_signed_fields f = R2_SIGNED_FIELDS_INIT;
    CHECK(r2_signed_get(&f, out) == R2_OK, "r2_signed_get: %s", last_message());
    CHECK(f.authorization == r2_signed_authorization(out) && strlen(f.authorization) == f.authorization_len &&
          f.canonical_request == r2_signed_canonical_request(out) && strlen(f.canonical_request) == f.canonical_request_len &&
          f.string_to_sign == r2_signed_string_to_sign(out) && strlen(f.string_to_sign) == f.string_to_sign_len &&
          f.signature == r2_signed_signature(out) && f.signature_len == 64 &&
          f.query == r2_signed_query(out) && strlen(f.query) == f.query_len && f.header_count == n,
          "r2_signed_fields matches the getters");
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(r2_signed_header(&hh, out, i) == R2_OK && !strcmp(f.headers[i].name, hh.name) && !strcmp(f.headers[i].value, hh.value),
              "header table %zu", i);
        const char *block = (const char *)f.header_block;
        CHECK(at < f.header_block_len && !strcmp(block + at, hh.name), "header block name %zu", i);
        at += strlen(hh.name) + 1;
        CHECK(at < f.header_block_len && !strcmp(block + at, hh.value), "header block value %zu", i);
        at += strlen(hh.value) + 1;
    }
    CHECK(at == f.header_block_len, "header block length %zu, walked %zu", f.header_block_len, at);
    CHECK(r2_signed_get(NULL, out) == R2_ERR_INVALID_ARGUMENT, "r2_signed_get NULL out");
    CHECK(r2_signed_get(&f, NULL) == R2_ERR_INVALID_ARGUMENT, "r2_signed_get NULL result");
    f.version = 0;
    CHECK(r2_signed_get(&f, out) == R2_ERR_INVALID_ARGUMENT, "r2_signed_get version 0");
    f.version = R2_SIGNED_FIELDS_VERSION + 1;
    CHECK(r2_signed_get(&f, out) == R2_ERR_INVALID_ARGUMENT, "r2_signed_get future version");
    r2_signed_free(out);
    f.version = R2_SIGNED_FIELDS_VERSION;
    CHECK(r2_signed_get(&f, out) == R2_ERR_INVALID_ARGUMENT, "r2_signed_get on a freed result is refused");
    CHECK(r2_signer_presign(&out, s, &r, 60) == R2_OK, "presign: %s", last_message());
    CHECK(r2_signed_get(&f, out) == R2_OK && f.authorization_len == 0 && strstr(f.query, "X-Amz-Signature=") != NULL,
          "presigned fields: empty Authorization, signature in the query");
    r2_signed_free(out);
    r2_signer_free(s);
}

static void test_from_env(void) {
    r2_client *c = NULL;
    unsetenv("R2_ACCOUNT_ID");
    unsetenv("R2_ENDPOINT");
    setenv("R2_ACCESS_KEY_ID", ACCESS, 1);
    setenv("R2_SECRET_ACCESS_KEY", SECRET, 1);
    CHECK(r2_client_new_from_env(&c) == R2_ERR_CONFIG, "no account id");
    CHECK(strstr(last_message(), "R2_ACCOUNT_ID") != NULL, "names the variable: %s", last_message());
    setenv("R2_ENDPOINT", "http://127.0.0.1:8333", 1);
    CHECK(r2_client_new_from_env(&c) == R2_ERR_CONFIG, "http endpoint without R2_ALLOW_HTTP");
    CHECK(strstr(last_message(), "R2_ALLOW_HTTP") != NULL, "%s", last_message());
    setenv("R2_ALLOW_HTTP", "1", 1);
    setenv("R2_MULTIPART_CONCURRENCY", "many", 1);
    CHECK(r2_client_new_from_env(&c) == R2_ERR_CONFIG, "bad concurrency");
    CHECK(strstr(last_message(), "R2_MULTIPART_CONCURRENCY") != NULL, "%s", last_message());
    setenv("R2_MULTIPART_CONCURRENCY", "8", 1);
    setenv("R2_TIMEOUT_SECONDS", "0", 1);
    CHECK(r2_client_new_from_env(&c) == R2_ERR_CONFIG, "timeout 0");
    CHECK(strstr(last_message(), "R2_TIMEOUT_SECONDS") != NULL, "%s", last_message());
    unsetenv("R2_TIMEOUT_SECONDS");
    CHECK(r2_client_new_from_env(&c) == R2_OK, "complete environment: %s", last_message());
    r2_client_free(c);
    unsetenv("R2_SECRET_ACCESS_KEY");
    CHECK(r2_client_new_from_env(&c) == R2_ERR_CONFIG, "no secret");
    CHECK(strstr(last_message(), "R2_SECRET_ACCESS_KEY") != NULL, "%s", last_message());
    check_no_secret("from_env");
    unsetenv("R2_ENDPOINT");
    unsetenv("R2_ALLOW_HTTP");
    unsetenv("R2_MULTIPART_CONCURRENCY");
    unsetenv("R2_ACCESS_KEY_ID");
}

/* One client, many threads: every thread gets the same URL, and its own
 * last-error record. */
static r2_client *shared_client;
static void *presign_thread(void *arg) {
    long bad = 0;
    (void)arg;
    r2_presign_options po = R2_PRESIGN_OPTIONS_INIT;
    po.unix_time = 1765713600;
    for (int i = 0; i < 2000; i++) {
        r2_buf url = {NULL, 0};
        if (r2_client_presign(&url, shared_client, "GET", "my-bucket", "hello.txt", 1, &po) != R2_OK ||
            !strstr(url.ptr, "f51e75b8138d0d6d9b4b0876f167727d3836ccdd08af3965f55e9a2127cc5f94"))
            bad++;
        r2_buf_dispose(&url);
        r2_buf none = {NULL, 0};
        if (r2_client_presign(&none, shared_client, "GET", "BAD", "k", 1, &po) != R2_ERR_INVALID_BUCKET_NAME ||
            strstr(r2_error_last()->message, "BAD") == NULL)
            bad++;
    }
    return (void *)bad;
}

static void test_threads(void) {
    shared_client = new_client();
    pthread_t t[8];
    for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, presign_thread, NULL);
    long bad = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)r;
    }
    CHECK(bad == 0, "%ld bad results from 8 threads", bad);
    r2_client_free(shared_client);
}

/* Issue 15, item 8: sizes and counts at or above 2^63 read as negative in
 * Swift's Int; they must be refused, never taken as "none". */
static void test_huge_counts(void) {
    r2_client *c = new_client();
    r2_header h[1] = {{"Content-Type", "text/plain"}};
    r2_presign_options po = R2_PRESIGN_OPTIONS_INIT;
    r2_buf url = {NULL, 0};
    po.headers = h;
    po.header_count = (size_t)1 << 63;
    CHECK(r2_client_presign(&url, c, "PUT", "my-bucket", "k", 60, &po) == R2_ERR_INVALID_ARGUMENT, "header_count 2^63: %s", last_message());
    po.header_count = SIZE_MAX;
    CHECK(r2_client_presign(&url, c, "PUT", "my-bucket", "k", 60, &po) == R2_ERR_INVALID_ARGUMENT, "header_count SIZE_MAX");
    po.header_count = 1;
    po.query = h;
    po.query_count = (size_t)1 << 63;
    CHECK(r2_client_presign(&url, c, "PUT", "my-bucket", "k", 60, &po) == R2_ERR_INVALID_ARGUMENT, "query_count 2^63");
    po.query_count = 0;
    po.unix_time = INT64_MAX;
    CHECK(r2_client_presign(&url, c, "GET", "my-bucket", "k", 60, &po) == R2_ERR_INVALID_ARGUMENT, "unix_time INT64_MAX: %s", last_message());
    po.unix_time = INT64_MIN;
    CHECK(r2_client_presign(&url, c, "GET", "my-bucket", "k", 60, &po) == R2_ERR_INVALID_ARGUMENT, "unix_time INT64_MIN");
    po.unix_time = 253402300800;  /* year 10000 */
    CHECK(r2_client_presign(&url, c, "GET", "my-bucket", "k", 60, &po) == R2_ERR_INVALID_ARGUMENT, "unix_time in year 10000");
    po.unix_time = 253402300799;
    CHECK(r2_client_presign(&url, c, "GET", "my-bucket", "k", 60, &po) == R2_OK, "unix_time in year 9999: %s", last_message());
    CHECK(url.ptr && strstr(url.ptr, "X-Amz-Date=99991231T235959Z"), "year 9999 date: %s", url.ptr ? url.ptr : "");
    r2_buf_dispose(&url);
    r2_put_options put = R2_PUT_OPTIONS_INIT;
    put.metadata = h;
    put.metadata_count = (size_t)1 << 63;
    r2_object_info info = R2_OBJECT_INFO_INIT;
    CHECK(r2_object_put(&info, c, "my-bucket", "k", (const uint8_t *)"x", 1, &put) == R2_ERR_INVALID_ARGUMENT,
          "metadata_count 2^63: %s", last_message());
    CHECK(r2_object_put(&info, c, "my-bucket", "k", (const uint8_t *)"x", SIZE_MAX, NULL) == R2_ERR_INVALID_ARGUMENT, "put len SIZE_MAX");
    r2_client_free(c);

    r2_signer_options so = R2_SIGNER_OPTIONS_INIT;
    so.access_key_id = ACCESS;
    so.secret_access_key = SECRET;
    r2_signer *s = NULL;
    CHECK(r2_signer_new(&s, &so) == R2_OK, "signer");
    r2_header host[1] = {{"Host", "example.com"}};
    r2_sign_request r = R2_SIGN_REQUEST_INIT;
    r2_signed *out = NULL;
    r.method = "PUT";
    r.path = "/b/k";
    r.headers = host;
    r.header_count = (size_t)1 << 63;
    CHECK(r2_signer_sign(&out, s, &r) == R2_ERR_INVALID_ARGUMENT, "sign header_count 2^63: %s", last_message());
    r.header_count = 1;
    r.body = (const uint8_t *)"abc";
    r.body_len = SIZE_MAX;
    CHECK(r2_signer_sign(&out, s, &r) == R2_ERR_INVALID_ARGUMENT, "sign body_len SIZE_MAX: %s", last_message());
    r.body_len = 3;
    r.unix_time = INT64_MIN;
    CHECK(r2_signer_sign(&out, s, &r) == R2_ERR_INVALID_ARGUMENT, "sign unix_time INT64_MIN");
    r.unix_time = INT64_MAX;
    CHECK(r2_signer_sign(&out, s, &r) == R2_ERR_INVALID_ARGUMENT, "sign unix_time INT64_MAX");
    r.unix_time = 0;
    CHECK(r2_signer_sign(&out, s, &r) == R2_OK, "sign: %s", last_message());
    r2_signed_free(out);
    r2_signer_free(s);
}

/* Issue 15, item 6: a tiny rate limit is a config error, not a crash. */
static void test_tiny_rate_limit(void) {
    const double rates[] = {5e-11, 1e-300, 4.9e-324, -1.0, 0.0009};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        r2_client_options o = R2_CLIENT_OPTIONS_INIT;
        o.account_id = ACCOUNT;
        o.access_key_id = ACCESS;
        o.secret_access_key = SECRET;
        o.rate_limit = rates[i];
        r2_client *c = NULL;
        CHECK(r2_client_new(&c, &o) == R2_ERR_CONFIG && c == NULL, "rate_limit %g is refused", rates[i]);
    }
}

/* Issue 15, item 7: r2_client_free racing calls that are entering the
 * library: each call either runs on a reference of its own or fails with
 * R2_ERR_INVALID_ARGUMENT; nothing crashes. */
static r2_client *volatile racing_client;
static void *racing_caller(void *arg) {
    long bad = 0;
    (void)arg;
    r2_presign_options po = R2_PRESIGN_OPTIONS_INIT;
    po.unix_time = 1765713600;
    for (int i = 0; i < 200000 && racing_client; i++) {
        r2_buf url = {NULL, 0};
        int rc = r2_client_presign(&url, racing_client, "GET", "my-bucket", "hello.txt", 1, &po);
        if (rc != R2_OK && rc != R2_ERR_INVALID_ARGUMENT) bad++;
        if (rc == R2_OK && !strstr(url.ptr, "X-Amz-Signature=")) bad++;
        r2_buf_dispose(&url);
        if (rc == R2_ERR_INVALID_ARGUMENT) break;  /* freed: later calls would only say so again */
    }
    return (void *)bad;
}

static void test_free_race(void) {
    long bad = 0;
    for (int round = 0; round < 20; round++) {
        racing_client = new_client();
        pthread_t t[4];
        for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, racing_caller, NULL);
        for (volatile int spin = 0; spin < 20000 * (round + 1); spin++) {}
        r2_client *c = racing_client;
        r2_client_free(c);  /* while the threads are inside r2_client_presign */
        for (int i = 0; i < 4; i++) {
            void *r;
            pthread_join(t[i], &r);
            bad += (long)r;
        }
        racing_client = NULL;
    }
    CHECK(bad == 0, "%ld calls racing r2_client_free gave something other than OK or INVALID_ARGUMENT", bad);
}

int main(void) {
    test_version();
    test_client_options();
    test_handles();
    test_presign_validation();
    test_presign_into();
    test_presign_matches_botocore();
    test_signer_validation();
    test_from_env();
    test_threads();
    test_huge_counts();
    test_tiny_rate_limit();
    test_free_race();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
