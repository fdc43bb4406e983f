/* R2's rules through r2.h, behind the R2 rules checker
 * (Tests/RulesChecker/rules_checker.py), which fails the run on any request R2
 * would refuse and injects answers SeaweedFS does not give.
 *
 * usage: rules_checker.py --upstream HOST:PORT run -- test_rules
 * env:   R2_TEST_ENDPOINT (the checker's), R2_RULES_CONTROL_PORT,
 *        R2_TEST_ACCESS_KEY_ID, R2_TEST_SECRET_ACCESS_KEY, R2_TEST_BUCKET */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "r2.h"

#include "check.h"
#include "control.h"
#define MiB (1024u * 1024u)

static const char *bucket;
static int control_port;
static char prefix[64];

/* One control line to the checker; the answer in a static buffer. */
static const char *rules(const char *line) { return control_line(control_port, line); }

static int seen(const char *op) {
    char line[128];
    snprintf(line, sizeof line, "seen %s", op);
    return atoi(rules(line));
}

static const char *key(const char *name) {
    static char k[256];
    snprintf(k, sizeof k, "%s%s", prefix, name);
    return k;
}

/* Writes `len` bytes of `data` to a new file named from `path` (a mkstemp template). */
static void temp_file(char *path, const uint8_t *data, size_t len) {
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, data, len) == (ssize_t)len, "temp file %s", path);
    if (fd >= 0) close(fd);
}

static r2_client *make_client(void) {
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = getenv("R2_TEST_ENDPOINT");
    o.allow_http = true;
    o.access_key_id = getenv("R2_TEST_ACCESS_KEY_ID");
    o.secret_access_key = getenv("R2_TEST_SECRET_ACCESS_KEY");
    return client_or_exit(&o);
}

/* A body read from memory through r2_read_cb, rewindable or not. */
typedef struct { const uint8_t *data; size_t len, at; int rewinds; } source;
static int64_t read_source(uint8_t *buf, size_t cap, void *ud) {
    source *s = ud;
    size_t n = s->len - s->at < cap ? s->len - s->at : cap;
    memcpy(buf, s->data + s->at, n);
    s->at += n;
    return (int64_t)n;
}
static int rewind_source(void *ud) { source *s = ud; s->at = 0; s->rewinds++; return 0; }

static int body_is(r2_client *c, const char *k, const uint8_t *data, size_t len) {
    r2_buf got = {0};
    if (r2_object_get(&got, NULL, c, bucket, k, NULL) != R2_OK) return 0;
    int same = got.size == len && memcmp(got.ptr, data, len) == 0;
    r2_buf_dispose(&got);
    return same;
}

/* 1. A streamed PUT is re-sent when the source can be rewound; a one-shot one is not. */
static void test_streamed_put_retries(r2_client *c, const uint8_t *data) {
    rules("clear");
    rules("write_limit on");
    CHECK_OK(r2_object_put(NULL, c, bucket, key("twice"), (const uint8_t *)"first", 5, NULL), "first put");
    source s = {data, 300000, 0, 0};
    r2_put_options po = R2_PUT_OPTIONS_INIT;
    po.rewind = rewind_source;
    CHECK_OK(r2_object_put_stream(NULL, c, bucket, key("twice"), s.len, read_source, &s, &po), "put within a second, rewindable");
    CHECK(s.rewinds == 1 && seen("PutObject") == 3, "429 then re-sent once: rewinds %d, PUTs %d", s.rewinds, seen("PutObject"));
    CHECK(body_is(c, key("twice"), data, s.len), "the re-sent body is stored");

    rules("clear");
    rules("inject PutObject status=500");
    source once = {data, 100000, 0, 0};
    int32_t rc = r2_object_put_stream(NULL, c, bucket, key("once"), once.len, read_source, &once, NULL);
    CHECK(rc == R2_ERR_SERVER_INTERNAL && strstr(r2_error_last()->message, "one-shot stream") && seen("PutObject") == 1,
          "a one-shot stream is not re-sent and the error says why: %s (%s)", r2_error_last()->message, r2_status_string(rc));

    /* The transfer manager's one PUT from a file is re-sent too. */
    rules("clear");
    rules("inject PutObject status=503");
    char path[] = "/tmp/r2-rules-XXXXXX";
    temp_file(path, data, 200000);
    CHECK_OK(r2_transfer_upload_file(NULL, c, bucket, key("file"), path, NULL), "upload_file through a 503");
    CHECK(seen("PutObject") == 2 && body_is(c, key("file"), data, 200000), "upload_file re-sent its PUT");
    unlink(path);
}

/* An async call's end, waited for on the calling thread. */
typedef struct { pthread_mutex_t mu; pthread_cond_t cv; int done; int32_t status; } waiter;
static void waiter_done(r2_op *op, int32_t status, void *ud) {
    (void)op;
    waiter *w = ud;
    pthread_mutex_lock(&w->mu);
    w->status = status;
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}
static int32_t waited(waiter *w) {
    pthread_mutex_lock(&w->mu);
    while (!w->done) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    return w->status;
}

/* A conditional PUT whose answer is lost is sent again, and fails its
 * condition on its own first write: r2 finds the object's ETag is the body's
 * MD5 and reports the PUT's success; when it is not (another writer's object),
 * the PreconditionFailed stands and says so. Blocking and on the engine. */
static void test_conditional_put_lost(r2_client *c) {
    r2_put_options po = R2_PUT_OPTIONS_INIT;
    po.if_none_match = "*";
    r2_object_info info = R2_OBJECT_INFO_INIT;
    const char *mine = "created by this PUT";

    rules("clear");
    rules("inject PutObject lose");
    CHECK_OK(r2_object_put(&info, c, bucket, key("create-once"), (const uint8_t *)mine, strlen(mine), &po),
             "If-None-Match: * with a lost answer");
    CHECK(seen("PutObject") == 2 && seen("HeadObject") == 1 && info.etag && strstr(info.etag, "d47c8eb1ccae05f3d1c7cbe5c2023c8f"),
          "sent twice, then one HEAD: PUTs %d, HEADs %d, ETag %s", seen("PutObject"), seen("HeadObject"), info.etag);
    CHECK(body_is(c, key("create-once"), (const uint8_t *)mine, strlen(mine)), "the object is this PUT's body");
    r2_object_info_dispose(&info);

    rules("clear");
    CHECK_OK(r2_object_put(NULL, c, bucket, key("taken"), (const uint8_t *)"theirs", 6, NULL), "another writer's object");
    rules("inject PutObject lose");
    int32_t rc = r2_object_put(NULL, c, bucket, key("taken"), (const uint8_t *)mine, strlen(mine), &po);
    CHECK(rc == R2_ERR_PRECONDITION_FAILED && strstr(r2_error_last()->message, "did not write it"),
          "another writer's object: %s (%s)", r2_status_string(rc), rc ? r2_error_last()->message : "");
    CHECK(body_is(c, key("taken"), (const uint8_t *)"theirs", 6), "their object is untouched");

    rules("clear");
    rules("inject PutObject lose");
    waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    r2_op *op = NULL;
    r2_object_info ainfo = R2_OBJECT_INFO_INIT;
    CHECK_OK(r2_object_put_async(&op, &ainfo, c, bucket, key("create-once-async"), (const uint8_t *)mine, strlen(mine), &po,
                                 waiter_done, &w, NULL), "start the async PUT");
    CHECK(waited(&w) == R2_OK && seen("PutObject") == 2 && seen("HeadObject") == 1 && ainfo.etag && *ainfo.etag,
          "on the engine too: %s, PUTs %d, HEADs %d", r2_status_string(w.status), seen("PutObject"), seen("HeadObject"));
    r2_op_free(op);
    r2_object_info_dispose(&ainfo);
}

/* Parts 1 (5 MiB) and 2 (1000 bytes) of a new upload of `k`. */
static void two_parts(r2_client *c, const char *k, const uint8_t *data, r2_buf *id, r2_buf etags[2], r2_completed_part parts[2]) {
    CHECK_OK(r2_multipart_create(id, c, bucket, k, NULL), "create");
    CHECK_OK(r2_multipart_upload_part(&etags[0], c, bucket, k, id->ptr, 1, data, 5 * MiB, NULL), "part 1");
    CHECK_OK(r2_multipart_upload_part(&etags[1], c, bucket, k, id->ptr, 2, data, 1000, NULL), "part 2");
    parts[0] = (r2_completed_part){1, etags[0].ptr};
    parts[1] = (r2_completed_part){2, etags[1].ptr};
}

static void dispose3(r2_buf *id, r2_buf etags[2]) { r2_buf_dispose(id); r2_buf_dispose(&etags[0]); r2_buf_dispose(&etags[1]); }

/* 2-4. Complete: resolved after ambiguous failures, conditions, the multipart ETag. */
static void test_complete(r2_client *c, const uint8_t *data) {
    r2_buf id = {0}, etags[2] = {{0}};
    r2_completed_part parts[2];
    r2_object_info info = R2_OBJECT_INFO_INIT;

    rules("clear");
    two_parts(c, key("lost"), data, &id, etags, parts);
    rules("inject CompleteMultipartUpload lose");
    r2_complete_options co = R2_COMPLETE_OPTIONS_INIT;
    co.if_none_match = "*";
    CHECK_OK(r2_multipart_complete(&info, c, bucket, key("lost"), id.ptr, parts, 2, &co), "complete with a lost answer");
    CHECK(seen("CompleteMultipartUpload") == 1 && info.etag && strstr(info.etag, "-2"),
          "resolved by the object's ETag, never re-sent: %d Completes, ETag %s", seen("CompleteMultipartUpload"), info.etag);
    r2_object_info_dispose(&info);
    dispose3(&id, etags);

    rules("clear");
    two_parts(c, key("error200"), data, &id, etags, parts);
    rules("inject CompleteMultipartUpload error200");
    CHECK_OK(r2_multipart_complete(NULL, c, bucket, key("error200"), id.ptr, parts, 2, NULL), "complete after an Error in a 200");
    CHECK(seen("CompleteMultipartUpload") == 2 && seen("ListParts") == 1, "re-sent once ListParts showed the upload open");
    dispose3(&id, etags);

    rules("clear");
    CHECK_OK(r2_object_put(NULL, c, bucket, key("exists"), (const uint8_t *)"old", 3, NULL), "put");
    two_parts(c, key("exists"), data, &id, etags, parts);
    int32_t rc = r2_multipart_complete(NULL, c, bucket, key("exists"), id.ptr, parts, 2, &co);
    CHECK(rc == R2_ERR_PRECONDITION_FAILED && seen("CompleteMultipartUpload") == 1,
          "If-None-Match: * on an existing key fails once, for good: %s", r2_status_string(rc));
    r2_multipart_abort(c, bucket, key("exists"), id.ptr);
    dispose3(&id, etags);

    rules("clear");
    two_parts(c, key("etag"), data, &id, etags, parts);
    rules("inject CompleteMultipartUpload bad_etag");
    rc = r2_multipart_complete(NULL, c, bucket, key("etag"), id.ptr, parts, 2, NULL);
    CHECK(rc == R2_ERR_CHECKSUM_MISMATCH, "a wrong multipart ETag is an integrity error: %s", r2_status_string(rc));
    dispose3(&id, etags);
    two_parts(c, key("odd"), data, &id, etags, parts);
    rules("inject CompleteMultipartUpload odd_etag");
    CHECK_OK(r2_multipart_complete(NULL, c, bucket, key("odd"), id.ptr, parts, 2, NULL), "an ETag of another form is not an error");
    dispose3(&id, etags);

    /* The transfer manager: create-only multipart upload. */
    rules("clear");
    char path[] = "/tmp/r2-rules-XXXXXX";
    temp_file(path, data, 11 * MiB);
    r2_put_options po = R2_PUT_OPTIONS_INIT;
    po.if_none_match = "*";
    r2_transfer_options to = R2_TRANSFER_OPTIONS_INIT;
    to.threshold = 5 * MiB;
    to.part_size = 5 * MiB;
    to.put = &po;
    CHECK_OK(r2_transfer_upload_file(NULL, c, bucket, key("create-only"), path, &to), "create-only multipart upload");
    CHECK(strstr(rules("headers CompleteMultipartUpload"), "If-None-Match: *") != NULL, "the condition went on Complete");
    rc = r2_transfer_upload_file(NULL, c, bucket, key("create-only"), path, &to);
    CHECK(rc == R2_ERR_PRECONDITION_FAILED, "the second create-only upload fails: %s", r2_status_string(rc));
    unlink(path);
}

/* 5. Low-level part rules before sending. */
static void test_part_rules(r2_client *c, const uint8_t *data) {
    rules("clear");
    r2_buf id = {0}, e1 = {0}, e2 = {0};
    CHECK_OK(r2_multipart_create(&id, c, bucket, key("unequal"), NULL), "create");
    CHECK_OK(r2_multipart_upload_part(&e1, c, bucket, key("unequal"), id.ptr, 1, data, 5 * MiB, NULL), "part 1");
    int32_t rc = r2_multipart_upload_part(&e2, c, bucket, key("unequal"), id.ptr, 2, data, 5 * MiB + 1, NULL);
    CHECK(rc == R2_ERR_INVALID_PART && seen("UploadPart") == 1, "a larger last part is refused before sending: %s", r2_status_string(rc));
    rc = r2_multipart_upload_part(&e2, c, bucket, key("unequal"), id.ptr, 3, data, (size_t)5 * 1024 * MiB - 5 * MiB + 1, NULL);
    CHECK(rc == R2_ERR_ENTITY_TOO_LARGE && seen("UploadPart") == 1, "a part over 5 GiB - 5 MiB is refused: %s", r2_status_string(rc));

    /* Parts sent by other clients: Complete asks ListParts first. */
    r2_client *a = make_client(), *b = make_client(), *d = make_client();
    r2_buf p1 = {0}, p2 = {0};
    CHECK_OK(r2_multipart_upload_part(&p1, a, bucket, key("unequal"), id.ptr, 1, data, 5 * MiB, NULL), "part 1 (a)");
    CHECK_OK(r2_multipart_upload_part(&p2, b, bucket, key("unequal"), id.ptr, 2, data, 6 * MiB, NULL), "part 2 (b)");
    r2_completed_part parts[2] = {{1, p1.ptr}, {2, p2.ptr}};
    rc = r2_multipart_complete(NULL, d, bucket, key("unequal"), id.ptr, parts, 2, NULL);
    CHECK(rc == R2_ERR_INVALID_PART && seen("CompleteMultipartUpload") == 0 && seen("ListParts") == 1,
          "unequal parts found with ListParts before Complete: %s", r2_status_string(rc));
    r2_multipart_abort(c, bucket, key("unequal"), id.ptr);
    r2_client_free(a); r2_client_free(b); r2_client_free(d);
    r2_buf_dispose(&p1); r2_buf_dispose(&p2); r2_buf_dispose(&id); r2_buf_dispose(&e1); r2_buf_dispose(&e2);
}

/* 6. Storage class, empty header values; 11. metadata size, ExpiredRequest. */
static void test_headers(r2_client *c) {
    rules("clear");
    r2_put_options po = R2_PUT_OPTIONS_INIT;
    po.storage_class = "GLACIER";
    int32_t rc = r2_object_put(NULL, c, bucket, key("sc"), (const uint8_t *)"x", 1, &po);
    CHECK(rc == R2_ERR_INVALID_ARGUMENT && seen("PutObject") == 0, "GLACIER refused before sending: %s", r2_status_string(rc));
    po.storage_class = "";
    po.content_type = "";
    CHECK_OK(r2_object_put(NULL, c, bucket, key("sc"), (const uint8_t *)"x", 1, &po), "empty storage class means unset");
    CHECK(strstr(rules("headers PutObject"), "x-amz-storage-class") == NULL, "no empty x-amz-storage-class header");
    po.storage_class = "STANDARD_IA";
    CHECK_OK(r2_object_put(NULL, c, bucket, key("sc"), (const uint8_t *)"x", 1, &po), "STANDARD_IA");

    static char big[8300];
    memset(big, 'v', sizeof big - 1);
    r2_header meta = {"big", big};
    r2_put_options pm = R2_PUT_OPTIONS_INIT;
    pm.metadata = &meta;
    pm.metadata_count = 1;
    rc = r2_object_put(NULL, c, bucket, key("meta"), (const uint8_t *)"x", 1, &pm);
    CHECK(rc == R2_ERR_METADATA_TOO_LARGE, "metadata over 8192 bytes: %s", r2_status_string(rc));

    rules("inject GetObject status=400");
    r2_buf got = {0};
    rc = r2_object_get(&got, NULL, c, bucket, key("sc"), NULL);
    CHECK(rc == R2_ERR_EXPIRED_REQUEST, "ExpiredRequest is its own code: %s", r2_status_string(rc));
    r2_buf_dispose(&got);
}

/* 8. A resumed upload whose id is gone starts anew. */
static int stop_after_first_part(uint64_t done, int64_t total, void *ud) { (void)total; (void)ud; return done >= 5 * MiB; }
static void test_expired_resume(r2_client *c, const uint8_t *data) {
    rules("clear");
    char path[] = "/tmp/r2-rules-XXXXXX", state[64];
    temp_file(path, data, 12 * MiB);
    snprintf(state, sizeof state, "%s.state", path);
    r2_transfer_options to = R2_TRANSFER_OPTIONS_INIT;
    to.threshold = 5 * MiB;
    to.part_size = 5 * MiB;
    to.concurrency = 1;
    to.state_path = state;
    to.progress = stop_after_first_part;
    int32_t rc = r2_transfer_upload_file(NULL, c, bucket, key("expired"), path, &to);
    CHECK(rc == R2_ERR_CANCELLED && access(state, F_OK) == 0, "stopped with a state file: %s", r2_status_string(rc));
    r2_multipart_upload_list l = R2_MULTIPART_UPLOAD_LIST_INIT;
    CHECK_OK(r2_multipart_list_uploads(&l, c, bucket, &(r2_list_uploads_options){R2_LIST_UPLOADS_OPTIONS_VERSION, key("expired")}), "list uploads");
    for (size_t i = 0; i < l.count; i++) r2_multipart_abort(c, bucket, key("expired"), l.uploads[i].upload_id);  /* as R2 after 7 days */
    r2_multipart_upload_list_dispose(&l);
    to.progress = NULL;
    CHECK_OK(r2_transfer_upload_file(NULL, c, bucket, key("expired"), path, &to), "resume of an expired upload");
    CHECK(access(state, F_OK) != 0 && body_is(c, key("expired"), data, 12 * MiB), "new upload completed, state removed");
    unlink(path);
}

/* 7. SSE-C on put, get, head and the transfer manager; a GET without the key is a clear error. */
static void test_sse_c(r2_client *c, const uint8_t *data) {
    rules("clear");
    uint8_t key32[32];
    for (int i = 0; i < 32; i++) key32[i] = (uint8_t)(i * 7 + 1);
    r2_put_options po = R2_PUT_OPTIONS_INIT;
    po.sse_customer_key = key32;
    CHECK_OK(r2_object_put(NULL, c, bucket, key("ssec"), (const uint8_t *)"secret", 6, &po), "SSE-C put");
    CHECK(strstr(rules("headers PutObject"), "x-amz-server-side-encryption-customer-algorithm: AES256") != NULL, "SSE-C headers sent");
    r2_buf got = {0};
    int32_t rc = r2_object_get(&got, NULL, c, bucket, key("ssec"), NULL);
    CHECK(rc == R2_ERR_SSE_CUSTOMER_KEY_REQUIRED, "GET without the key: %s (%s)", r2_status_string(rc), r2_error_last()->message);
    r2_get_options go = R2_GET_OPTIONS_INIT;
    go.sse_customer_key = key32;
    CHECK_OK(r2_object_get(&got, NULL, c, bucket, key("ssec"), &go), "GET with the key");
    CHECK(got.size == 6 && memcmp(got.ptr, "secret", 6) == 0, "SSE-C body");
    r2_buf_dispose(&got);
    r2_object_info info = R2_OBJECT_INFO_INIT;
    CHECK_OK(r2_object_head(&info, c, bucket, key("ssec"), &go), "HEAD with the key");
    r2_object_info_dispose(&info);

    char path[] = "/tmp/r2-rules-XXXXXX", out[64];
    temp_file(path, data, 11 * MiB);
    snprintf(out, sizeof out, "%s.out", path);
    r2_transfer_options to = R2_TRANSFER_OPTIONS_INIT;
    to.threshold = 5 * MiB;
    to.part_size = 5 * MiB;
    to.sse_customer_key = key32;
    CHECK_OK(r2_transfer_upload_file(NULL, c, bucket, key("ssec-mp"), path, &to), "SSE-C multipart upload");
    CHECK(strstr(rules("headers UploadPart"), "x-amz-server-side-encryption-customer-key-MD5") != NULL, "parts carry the key");
    CHECK_OK(r2_transfer_download_file(NULL, c, bucket, key("ssec-mp"), out, &to), "SSE-C parallel download");
    struct stat st;
    CHECK(stat(out, &st) == 0 && st.st_size == (off_t)(11 * MiB), "downloaded size");
    unlink(path);
    unlink(out);
}

/* 9. Virtual-hosted style and the signing region; 10. auth-failure diagnostics in the debug log only. */
static char logged[8192];
static void on_log(const r2_log_record *r, void *ud) {
    (void)ud;
    if (strlen(logged) + strlen(r->message) + 2 < sizeof logged) { strcat(logged, r->message); strcat(logged, "\n"); }
}
static void test_addressing_and_auth(void) {
    rules("clear");
    const char *endpoint = getenv("R2_TEST_ENDPOINT");
    char local[128];
    snprintf(local, sizeof local, "http://localhost:%s", strrchr(endpoint, ':') + 1);
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = local;
    o.allow_http = true;
    o.access_key_id = getenv("R2_TEST_ACCESS_KEY_ID");
    o.secret_access_key = getenv("R2_TEST_SECRET_ACCESS_KEY");
    o.virtual_hosted_style = true;
    r2_client *vh = NULL;
    CHECK_OK(r2_client_new(&vh, &o), "virtual-hosted client");
    CHECK_OK(r2_object_put(NULL, vh, bucket, key("vh"), (const uint8_t *)"hosted", 6, NULL), "virtual-hosted put");
    char host[160];
    snprintf(host, sizeof host, "Host: %s.localhost:%s", bucket, strrchr(endpoint, ':') + 1);
    CHECK(strstr(rules("headers PutObject"), host) != NULL, "sent to %s", host);
    CHECK(body_is(vh, key("vh"), (const uint8_t *)"hosted", 6), "virtual-hosted get");
    r2_client_free(vh);

    o.virtual_hosted_style = false;
    o.endpoint = endpoint;
    o.region = "eu-west-1";
    CHECK(r2_client_new(&vh, &o) == R2_ERR_CONFIG && strstr(r2_error_last()->message, "auto"), "region eu-west-1 refused");
    o.region = "us-east-1";
    CHECK_OK(r2_client_new(&vh, &o), "region us-east-1");
    CHECK(body_is(vh, key("vh"), (const uint8_t *)"hosted", 6), "signed for us-east-1");
    r2_client_free(vh);

    o.region = NULL;
    o.secret_access_key = "wrong-secret-wrong-secret-wrong-secret";
    o.log_level = R2_LOG_DEBUG;
    o.log_cb = on_log;
    CHECK_OK(r2_client_new(&vh, &o), "client with a wrong secret");
    int32_t rc = r2_object_put(NULL, vh, bucket, key("auth"), (const uint8_t *)"x", 1, NULL);
    CHECK(rc == R2_ERR_SIGNATURE_MISMATCH || rc == R2_ERR_ACCESS_DENIED || rc == R2_ERR_INVALID_ACCESS_KEY, "auth failure: %s", r2_status_string(rc));
    CHECK(rc != R2_ERR_SIGNATURE_MISMATCH || (strstr(logged, "auth failure diagnostics: PUT") && strstr(logged, "signed headers [host;")
          && strstr(logged, "payload hash signed SHA-256")), "diagnostics in the debug log: %s", logged);
    CHECK(strstr(logged, "wrong-secret") == NULL && strstr(logged, "Signature=") == NULL, "no secret or signature in the log");
    CHECK(strstr(r2_error_last()->message, "diagnostics") == NULL, "not in the error message");
    r2_client_free(vh);

    /* 11. A 304 for a conditional GET is a result: R2_ERR_NOT_MODIFIED, not logged or counted as a failure. */
    o.secret_access_key = getenv("R2_TEST_SECRET_ACCESS_KEY");
    o.log_level = R2_LOG_ERROR;
    CHECK_OK(r2_client_new(&vh, &o), "client logging errors");
    logged[0] = 0;
    rules("inject GetObject status=304");
    r2_get_options go = R2_GET_OPTIONS_INIT;
    go.if_none_match = "\"abc\"";
    r2_buf got = {0};
    rc = r2_object_get(&got, NULL, vh, bucket, key("vh"), &go);
    r2_buf metrics = {0};
    CHECK_OK(r2_client_metrics_prometheus(&metrics, vh), "metrics");
    CHECK(rc == R2_ERR_NOT_MODIFIED && logged[0] == 0 && metrics.ptr && strstr(metrics.ptr, "error_type=\"NotModified\"") == NULL,
          "304: %s, error log [%s]", r2_status_string(rc), logged);
    r2_buf_dispose(&metrics);
    r2_client_free(vh);

    /* A bucket-level presigned ListObjectsV2 URL (NULL key). */
    r2_client *c = make_client();
    r2_header q[3] = {{"list-type", "2"}, {"prefix", prefix}, {"encoding-type", "url"}};
    r2_presign_options po = R2_PRESIGN_OPTIONS_INIT;
    po.query = q;
    po.query_count = 3;
    r2_buf url = {0};
    CHECK_OK(r2_client_presign(&url, c, "GET", bucket, NULL, 60, &po), "presign ListObjectsV2");
    CHECK(url.ptr && strstr(url.ptr, "list-type=2") && strstr(url.ptr, "X-Amz-Signature="), "bucket-level URL: %s", url.ptr);
    r2_buf_dispose(&url);
    r2_client_free(c);
}

int main(void) {
    bucket = getenv("R2_TEST_BUCKET");
    const char *port = getenv("R2_RULES_CONTROL_PORT");
    if (!bucket || !port || !getenv("R2_TEST_ENDPOINT")) {
        fprintf(stderr, "usage: rules_checker.py --upstream HOST:PORT run -- test_rules (with R2_TEST_* set)\n");
        return 2;
    }
    control_port = atoi(port);
    snprintf(prefix, sizeof prefix, "rules/%ld/", (long)getpid());
    uint8_t *data = malloc(12 * MiB);
    for (size_t i = 0; i < 12 * MiB; i++) data[i] = (uint8_t)(i * 2654435761u >> 13);
    r2_client *c = make_client();
    test_streamed_put_retries(c, data);
    test_conditional_put_lost(c);
    test_complete(c, data);
    test_part_rules(c, data);
    test_headers(c);
    test_expired_resume(c, data);
    test_sse_c(c, data);
    test_addressing_and_auth();
    rules("clear");
    r2_client_free(c);
    free(data);
    printf("test_rules: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
