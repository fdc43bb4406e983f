/* Integration tests of multipart uploads and the transfer manager through
 * r2.h against a real S3 server (SeaweedFS).
 *
 * usage: test_transfer ENDPOINT [CA_BUNDLE]
 *        test_transfer --child-upload ENDPOINT FILE KEY STATE   (used by the kill -9 test)
 * env:   R2_TEST_ACCESS_KEY_ID, R2_TEST_SECRET_ACCESS_KEY, R2_TEST_BUCKET,
 *        R2_TEST_BIG_MIB (size of the big file tests, default 1024) */
#define _GNU_SOURCE
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* the one-shot SHA256_* API is all a test needs */
#include <openssl/sha.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "r2.h"

#include "check.h"

static const char *endpoint, *ca, *bucket;
static char workdir[256];

static r2_client *make_client(const char *record) {
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = endpoint;
    o.allow_http = strncmp(endpoint, "http://", 7) == 0;
    o.ca_bundle_path = ca;
    o.access_key_id = getenv("R2_TEST_ACCESS_KEY_ID");
    o.secret_access_key = getenv("R2_TEST_SECRET_ACCESS_KEY");
    o.record_path = record;
    return client_or_exit(&o);
}

/* Deterministic content: byte i of a file is a function of (seed, i). */
static void fill(uint8_t *buf, size_t n, uint64_t offset, uint32_t seed) {
    for (size_t i = 0; i < n; i++) {
        uint64_t x = (offset + i) * 0x9E3779B97F4A7C15ull ^ seed;
        buf[i] = (uint8_t)(x >> 29);
    }
}

static void make_file(const char *path, uint64_t size, uint32_t seed, uint8_t digest[32]) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint8_t *buf = malloc(1 << 20);
    SHA256_CTX sha;
    SHA256_Init(&sha);
    for (uint64_t off = 0; off < size; off += 1 << 20) {
        size_t n = size - off < (1 << 20) ? (size_t)(size - off) : 1 << 20;
        fill(buf, n, off, seed);
        SHA256_Update(&sha, buf, n);
        if (write(fd, buf, n) != (ssize_t)n) { perror("write"); exit(2); }
    }
    SHA256_Final(digest, &sha);
    free(buf);
    close(fd);
}

static int file_sha(const char *path, uint8_t digest[32]) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    uint8_t *buf = malloc(1 << 20);
    SHA256_CTX sha;
    SHA256_Init(&sha);
    for (ssize_t n; (n = read(fd, buf, 1 << 20)) > 0;) SHA256_Update(&sha, buf, (size_t)n);
    SHA256_Final(digest, &sha);
    free(buf);
    close(fd);
    return 0;
}

static size_t uploads_left(r2_client *c, const char *prefix) {
    r2_multipart_upload_list l = R2_MULTIPART_UPLOAD_LIST_INIT;
    if (r2_multipart_list_uploads(&l, c, bucket, &(r2_list_uploads_options){R2_LIST_UPLOADS_OPTIONS_VERSION, prefix}) != R2_OK) return (size_t)-1;
    size_t n = l.count;
    r2_multipart_upload_list_dispose(&l);
    return n;
}

static int exists(const char *path) { struct stat st; return stat(path, &st) == 0; }

/* 1 GiB file up and down at several concurrencies, byte-exact. */
static void test_big_file(r2_client *c, uint64_t size) {
    char src[300], dst[300];
    snprintf(src, sizeof src, "%s/big.bin", workdir);
    snprintf(dst, sizeof dst, "%s/big.out", workdir);
    uint8_t want[32], got[32];
    make_file(src, size, 42, want);
    int levels[] = {1, 4, 16};
    for (size_t i = 0; i < 3; i++) {
        r2_transfer_options t = R2_TRANSFER_OPTIONS_INIT;
        t.concurrency = (uint32_t)levels[i];
        t.part_size = 16 << 20;
        t.threshold = 8 << 20;
        t.skip_fsync = i == 2;  /* the download without the final fsync is as exact */
        r2_object_info info = R2_OBJECT_INFO_INIT;
        CHECK_OK(r2_transfer_upload_file(&info, c, bucket, "transfer/big", src, &t), "upload file");
        CHECK(strchr(info.etag, '-') != NULL, "concurrency %d: a multipart ETag, got %s", levels[i], info.etag);
        r2_object_info_dispose(&info);
        CHECK_OK(r2_transfer_download_file(&info, c, bucket, "transfer/big", dst, &t), "download file");
        CHECK(info.content_length == (int64_t)size, "downloaded object size %lld", (long long)info.content_length);
        r2_object_info_dispose(&info);
        CHECK(file_sha(dst, got) == 0 && memcmp(want, got, 32) == 0, "concurrency %d: SHA-256 of the download equals the file's", levels[i]);
        unlink(dst);
    }
    CHECK(r2_transfer_download_stream(NULL, c, bucket, "transfer/big", NULL, NULL, NULL) == R2_ERR_INVALID_ARGUMENT,
          "download_stream without a callback is refused");
    unlink(src);
    r2_object_delete(c, bucket, "transfer/big");
}

static int sha_sink(const uint8_t *chunk, size_t len, void *userdata) {
    SHA256_Update(userdata, chunk, len);
    return 0;
}

typedef struct { uint64_t produced, total; uint32_t seed; int fail_at_mib; } gen;

static int64_t gen_read(uint8_t *buf, size_t cap, void *userdata) {
    gen *g = userdata;
    if (g->fail_at_mib && g->produced >= (uint64_t)g->fail_at_mib << 20) return -1;
    uint64_t left = g->total - g->produced;
    size_t n = left < cap ? (size_t)left : cap;
    if (n > 1 << 20) n = 1 << 20;  /* a stream gives small pieces */
    fill(buf, n, g->produced, g->seed);
    g->produced += n;
    return (int64_t)n;
}

static void test_streams(r2_client *c) {
    /* Unknown length: always multipart; parts are read in order. */
    gen g = {0, 23 * 1024 * 1024 + 5, 7, 0};
    r2_transfer_options t = R2_TRANSFER_OPTIONS_INIT;
    t.part_size = 5 << 20;
    t.concurrency = 3;
    r2_object_info info = R2_OBJECT_INFO_INIT;
    CHECK_OK(r2_transfer_upload_stream(&info, c, bucket, "transfer/stream", -1, gen_read, &g, &t), "unknown-length stream upload");
    CHECK(strchr(info.etag, '-') != NULL, "unknown length goes multipart, etag %s", info.etag);
    r2_object_info_dispose(&info);
    uint8_t *want = malloc(g.total);
    fill(want, g.total, 0, 7);
    uint8_t wd[32], gd[32];
    SHA256(want, g.total, wd);
    free(want);
    SHA256_CTX sha;
    SHA256_Init(&sha);
    r2_transfer_options d = R2_TRANSFER_OPTIONS_INIT;
    d.part_size = 5 << 20;
    d.threshold = 5 << 20;
    d.concurrency = 4;
    CHECK_OK(r2_transfer_download_stream(&info, c, bucket, "transfer/stream", sha_sink, &sha, &d), "parallel in-order stream download");
    SHA256_Final(gd, &sha);
    CHECK(memcmp(wd, gd, 32) == 0 && info.content_length == (int64_t)g.total, "stream round trip is byte-exact");
    r2_object_info_dispose(&info);

    /* Known length below the threshold: one PUT. */
    gen small = {0, 3000, 9, 0};
    CHECK_OK(r2_transfer_upload_stream(&info, c, bucket, "transfer/small-stream", 3000, gen_read, &small, NULL), "small known-length stream");
    CHECK(strchr(info.etag, '-') == NULL, "small stream is a single PUT, etag %s", info.etag);
    r2_object_info_dispose(&info);

    /* The caller's callback fails mid-way: the upload is aborted, nothing is left. */
    gen bad = {0, 40u << 20, 3, 12};
    int32_t rc = r2_transfer_upload_stream(NULL, c, bucket, "transfer/failing", -1, gen_read, &bad, &t);
    CHECK(rc == R2_ERR_ABORTED, "a failing read callback: Aborted, got %s", r2_status_string(rc));
    CHECK(uploads_left(c, "transfer/failing") == 0, "the failed upload was aborted on the server");
    r2_buf body = {0};
    CHECK(r2_object_get(&body, NULL, c, bucket, "transfer/failing", NULL) == R2_ERR_NO_SUCH_KEY, "no object after a failed upload");

    /* A buffer upload, multipart without copying. */
    size_t n = 12u << 20;
    uint8_t *buf = malloc(n);
    fill(buf, n, 0, 11);
    t = (r2_transfer_options)R2_TRANSFER_OPTIONS_INIT;
    t.threshold = 5 << 20;
    t.part_size = 5 << 20;
    t.part_checksum = R2_CHECKSUM_CRC32C;
    CHECK_OK(r2_transfer_upload_buffer(&info, c, bucket, "transfer/buffer", buf, n, &t), "buffer upload with CRC32C parts");
    r2_object_info_dispose(&info);
    CHECK_OK(r2_object_get(&body, NULL, c, bucket, "transfer/buffer", NULL), "get buffer upload");
    CHECK(body.size == n && memcmp(body.ptr, buf, n) == 0, "buffer upload is byte-exact");
    r2_buf_dispose(&body);
    t.part_checksum = R2_CHECKSUM_SHA256;
    rc = r2_transfer_upload_buffer(NULL, c, bucket, "transfer/buffer", buf, n, &t);
    CHECK(rc == R2_ERR_UNSUPPORTED, "SHA-256 part checksums are refused before sending, got %s", r2_status_string(rc));
    r2_put_options whole = R2_PUT_OPTIONS_INIT;
    whole.checksum = R2_CHECKSUM_SHA256;
    t.part_checksum = R2_CHECKSUM_NONE;
    t.put = &whole;
    rc = r2_transfer_upload_buffer(NULL, c, bucket, "transfer/buffer", buf, 100, &t);
    CHECK(rc == R2_ERR_UNSUPPORTED, "a whole-object checksum is refused for transfers of any size, got %s", r2_status_string(rc));
    free(buf);
    const char *keys[] = {"transfer/stream", "transfer/small-stream", "transfer/buffer"};
    r2_delete_result del = R2_DELETE_RESULT_INIT;
    r2_object_delete_many(&del, c, bucket, keys, 3, &(r2_delete_many_options){R2_DELETE_MANY_OPTIONS_VERSION, true});
    r2_delete_result_dispose(&del);
}

typedef struct { r2_cancel *cancel; uint64_t at; uint64_t first_seen; int calls; } canceller;

static int cancel_progress(uint64_t done, int64_t total, void *userdata) {
    canceller *k = userdata;
    (void)total;
    if (k->calls++ == 0) k->first_seen = done;
    if (k->at && done >= k->at) {
        if (k->cancel) r2_cancel_signal(k->cancel);
        else return 1;
    }
    return 0;
}

typedef struct { r2_client *c; int done; } overwrite_ctx;

static int overwrite_on_first_chunk(const uint8_t *chunk, size_t len, void *userdata) {
    overwrite_ctx *o = userdata;
    (void)chunk; (void)len;
    if (!o->done++) r2_object_put(NULL, o->c, bucket, "transfer/cancel", (const uint8_t *)"new", 3, NULL);
    return 0;
}

static void test_cancel_and_resume(r2_client *c) {
    char src[300], dst[300], state[300], partial[320];
    snprintf(src, sizeof src, "%s/cancel.bin", workdir);
    snprintf(dst, sizeof dst, "%s/cancel.out", workdir);
    snprintf(state, sizeof state, "%s/download.state", workdir);
    snprintf(partial, sizeof partial, "%s.r2-partial", dst);
    uint8_t want[32], got[32];
    uint64_t size = 96u << 20;
    make_file(src, size, 5, want);

    /* Cancel an upload from another "thread" (the progress callback here). */
    r2_cancel *cancel = NULL;
    CHECK_OK(r2_cancel_new(&cancel), "cancel new");
    canceller k = {cancel, 20u << 20, 0, 0};
    r2_transfer_options t = R2_TRANSFER_OPTIONS_INIT;
    t.threshold = 5 << 20;
    t.part_size = 8 << 20;
    t.concurrency = 2;
    t.cancel = cancel;
    t.progress = cancel_progress;
    t.progress_userdata = &k;
    t.progress_interval_ms = 10;
    int32_t rc = r2_transfer_upload_file(NULL, c, bucket, "transfer/cancel", src, &t);
    CHECK(rc == R2_ERR_CANCELLED, "cancelled upload: Cancelled, got %s (%s)", r2_status_string(rc), r2_error_last()->message);
    CHECK(uploads_left(c, "transfer/cancel") == 0, "the cancelled upload was aborted");
    r2_cancel_free(cancel);

    /* Upload it for real, then cancel a download by returning non-zero from progress. */
    t = (r2_transfer_options)R2_TRANSFER_OPTIONS_INIT;
    t.threshold = 5 << 20;
    t.part_size = 8 << 20;
    CHECK_OK(r2_transfer_upload_file(NULL, c, bucket, "transfer/cancel", src, &t), "upload");
    k = (canceller){NULL, 30u << 20, 0, 0};
    t.concurrency = 2;
    t.progress = cancel_progress;
    t.progress_userdata = &k;
    t.progress_interval_ms = 10;
    rc = r2_transfer_download_file(NULL, c, bucket, "transfer/cancel", dst, &t);
    CHECK(rc == R2_ERR_CANCELLED, "cancelled download: Cancelled, got %s", r2_status_string(rc));
    CHECK(!exists(dst) && !exists(partial), "a cancelled download leaves no file at the destination (nor a partial one)");

    /* With a state file the partial download is kept, and the next call resumes it. */
    k = (canceller){NULL, 40u << 20, 0, 0};
    t.state_path = state;
    rc = r2_transfer_download_file(NULL, c, bucket, "transfer/cancel", dst, &t);
    CHECK(rc == R2_ERR_CANCELLED && !exists(dst) && exists(partial) && exists(state), "interrupted resumable download keeps its state");
    k = (canceller){NULL, 0, 0, 0};
    CHECK_OK(r2_transfer_download_file(NULL, c, bucket, "transfer/cancel", dst, &t), "resumed download");
    CHECK(k.first_seen >= (24u << 20), "the resumed download started from what was on disk (%llu bytes)", (unsigned long long)k.first_seen);
    CHECK(file_sha(dst, got) == 0 && memcmp(want, got, 32) == 0, "resumed download is byte-exact");
    CHECK(!exists(state) && !exists(partial), "state and partial file are gone after success");
    unlink(dst);

    /* An object overwritten between ranges is detected (If-Match), not mixed. */
    overwrite_ctx o = {c, 0};
    r2_transfer_options d = R2_TRANSFER_OPTIONS_INIT;
    d.threshold = 5 << 20;
    d.part_size = 5 << 20;
    d.concurrency = 2;
    rc = r2_transfer_download_stream(NULL, c, bucket, "transfer/cancel", overwrite_on_first_chunk, &o, &d);
    CHECK(rc == R2_ERR_PRECONDITION_FAILED && strstr(r2_error_last()->message, "changed") != NULL,
          "an overwrite mid-download is detected: %s (%s)", r2_status_string(rc), r2_error_last()->message);
    unlink(src);
    r2_object_delete(c, bucket, "transfer/cancel");
}

/* The child half of the kill -9 test: upload with a state file, slowly. */
static int child_upload(const char *file, const char *key, const char *state) {
    r2_client *c = make_client(NULL);
    r2_transfer_options t = R2_TRANSFER_OPTIONS_INIT;
    t.threshold = 5 << 20;
    t.part_size = 5 << 20;
    t.concurrency = 1;
    t.state_path = state;
    int32_t rc = r2_transfer_upload_file(NULL, c, bucket, key, file, &t);
    r2_client_free(c);
    return rc == R2_OK ? 0 : 1;
}

static int count_in_file(const char *path, const char *needle) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    text[got] = 0;
    fclose(f);
    int count = 0;
    for (char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) count++;
    free(text);
    return count;
}

static void test_resume_after_kill(r2_client *c, const char *self) {
    char src[300], state[300], cassette[300];
    snprintf(src, sizeof src, "%s/resume.bin", workdir);
    snprintf(state, sizeof state, "%s/upload.state", workdir);
    snprintf(cassette, sizeof cassette, "%s/resume-cassette.json", workdir);
    uint8_t want[32], got[32];
    uint64_t size = 200u << 20;  /* 40 parts of 5 MiB */
    make_file(src, size, 99, want);
    pid_t pid = fork();
    if (pid == 0) {
        execl(self, self, "--child-upload", endpoint, src, "transfer/resume", state, (char *)NULL);
        _exit(127);
    }
    /* Wait until the child has finished a few parts, then kill it hard. */
    int parts_seen = 0;
    for (int i = 0; i < 600 && parts_seen < 4; i++) {
        usleep(50 * 1000);
        parts_seen = count_in_file(state, "\"etag\"");
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && parts_seen >= 4, "child killed with -9 after %d parts", parts_seen);
    CHECK(uploads_left(c, "transfer/resume") == 1, "the killed upload is still on the server");

    /* Resume with a recording client: the cassette shows what was sent. */
    r2_client *rec = make_client(cassette);
    r2_transfer_options t = R2_TRANSFER_OPTIONS_INIT;
    t.threshold = 5 << 20;
    t.part_size = 5 << 20;
    t.concurrency = 4;
    t.state_path = state;
    CHECK_OK(r2_transfer_upload_file(NULL, rec, bucket, "transfer/resume", src, &t), "resumed upload");
    r2_client_free(rec);
    int sent = count_in_file(cassette, "\"operation\": \"UploadPart\"");
    int listed = count_in_file(cassette, "\"operation\": \"ListParts\"");
    CHECK(listed == 1 && sent > 0 && sent <= 40 - parts_seen,
          "resume checked ListParts once and sent only the missing parts: %d of 40 (%d were done)", sent, parts_seen);
    CHECK(!exists(state), "the state file is removed after success");
    CHECK(uploads_left(c, "transfer/resume") == 0, "no upload left after resume");
    char dst[300];
    snprintf(dst, sizeof dst, "%s/resume.out", workdir);
    CHECK_OK(r2_transfer_download_file(NULL, c, bucket, "transfer/resume", dst, NULL), "download resumed object");
    CHECK(file_sha(dst, got) == 0 && memcmp(want, got, 32) == 0, "the resumed upload is byte-exact");

    /* A changed source refuses to resume. */
    r2_buf id = {0};
    CHECK_OK(r2_multipart_create(&id, c, bucket, "transfer/resume2", NULL), "create");
    FILE *f = fopen(state, "w");
    fprintf(f, "{\"format\":\"r2-upload-state/1\",\"bucket\":\"%s\",\"key\":\"transfer/resume2\",\"upload_id\":\"%s\","
               "\"size\":%llu,\"part_size\":5242880,\"source\":\"0:0.0\",\"parts\":[]}", bucket, id.ptr, (unsigned long long)size);
    fclose(f);
    int32_t rc = r2_transfer_upload_file(NULL, c, bucket, "transfer/resume2", src, &t);
    CHECK(rc == R2_ERR_INVALID_ARGUMENT && strstr(r2_error_last()->message, "changed") != NULL,
          "a changed source is refused: %s", r2_error_last()->message);
    CHECK_OK(r2_multipart_abort(c, bucket, "transfer/resume2", id.ptr), "abort");
    /* An upload that no longer exists says so. */
    rc = r2_transfer_upload_file(NULL, c, bucket, "transfer/resume2", src, &t);
    CHECK(rc == R2_ERR_INVALID_ARGUMENT || rc == R2_ERR_NO_SUCH_UPLOAD, "resume of a gone upload fails clearly: %s", r2_error_last()->message);
    r2_buf_dispose(&id);
    unlink(state);
    unlink(src);
    unlink(dst);
    r2_object_delete(c, bucket, "transfer/resume");
}

static void test_low_level(r2_client *c) {
    /* A 12 MiB source, copied as two ranged parts (UploadPartCopy). */
    size_t n = 12u << 20;
    uint8_t *buf = malloc(n);
    fill(buf, n, 0, 21);
    CHECK_OK(r2_object_put(NULL, c, bucket, "transfer/copy-src", buf, n, NULL), "put source");
    r2_buf id = {0}, e1 = {0}, e2 = {0};
    r2_put_options p = R2_PUT_OPTIONS_INIT;
    p.content_type = "application/x-test";
    CHECK_OK(r2_multipart_create(&id, c, bucket, "transfer/copy-dst", &p), "create");
    CHECK_OK(r2_multipart_upload_part_copy(&e1, c, bucket, "transfer/copy-dst", id.ptr, 1, bucket, "transfer/copy-src", 0, (5 << 20) - 1, NULL), "part copy 1");
    CHECK_OK(r2_multipart_upload_part_copy(&e2, c, bucket, "transfer/copy-dst", id.ptr, 2, bucket, "transfer/copy-src", 5 << 20, (6 << 20) - 1, NULL), "part copy 2");
    r2_multipart_part_list parts = R2_MULTIPART_PART_LIST_INIT;
    CHECK_OK(r2_multipart_list_parts(&parts, c, bucket, "transfer/copy-dst", id.ptr, NULL), "list parts");
    CHECK(parts.count == 2 && parts.parts[0].size == (5u << 20) && parts.parts[1].size == (1u << 20), "two parts of 5 MiB and 1 MiB");
    r2_multipart_part_list_dispose(&parts);
    r2_completed_part done[] = {{2, e2.ptr}, {1, e1.ptr}};  /* any order: sorted by r2 */
    CHECK_OK(r2_multipart_complete(NULL, c, bucket, "transfer/copy-dst", id.ptr, done, 2, NULL), "complete");
    r2_buf body = {0};
    r2_object_info info = R2_OBJECT_INFO_INIT;
    CHECK_OK(r2_object_get(&body, &info, c, bucket, "transfer/copy-dst", NULL), "get copy");
    CHECK(body.size == (6u << 20) && memcmp(body.ptr, buf, body.size) == 0, "UploadPartCopy ranges are byte-exact");
    CHECK(strcmp(info.content_type, "application/x-test") == 0, "create's content type kept: %s", info.content_type);
    r2_buf_dispose(&body);
    r2_object_info_dispose(&info);
    r2_buf_dispose(&id);
    r2_buf_dispose(&e1);
    r2_buf_dispose(&e2);

    /* Parts by hand, with Content-MD5, and a listing of unfinished uploads. */
    CHECK_OK(r2_multipart_create(&id, c, bucket, "transfer/manual", NULL), "create manual");
    CHECK_OK(r2_multipart_upload_part(&e1, c, bucket, "transfer/manual", id.ptr, 1, buf, 5 << 20, &(r2_part_options){.version = R2_PART_OPTIONS_VERSION, .checksum = R2_CHECKSUM_MD5}), "part 1");
    CHECK(uploads_left(c, "transfer/manual") == 1, "the unfinished upload is listed");
    int32_t rc = r2_multipart_upload_part(&e2, c, bucket, "transfer/manual", id.ptr, 10001, buf, 10, NULL);
    CHECK(rc == R2_ERR_INVALID_PART, "part number 10001 is refused, got %s", r2_status_string(rc));
    rc = r2_multipart_upload_part(&e2, c, bucket, "transfer/manual", id.ptr, 2, buf, 10, &(r2_part_options){.version = R2_PART_OPTIONS_VERSION, .checksum = R2_CHECKSUM_SHA1});
    CHECK(rc == R2_ERR_UNSUPPORTED, "a SHA-1 part checksum is refused, got %s", r2_status_string(rc));
    CHECK_OK(r2_multipart_abort(c, bucket, "transfer/manual", id.ptr), "abort");
    CHECK(uploads_left(c, "transfer/manual") == 0, "aborted upload is gone");
    r2_multipart_part_list gone = R2_MULTIPART_PART_LIST_INIT;
    rc = r2_multipart_list_parts(&gone, c, bucket, "transfer/manual", id.ptr, NULL);
    CHECK(rc == R2_ERR_NO_SUCH_UPLOAD, "list parts of an aborted upload: NoSuchUpload, got %s", r2_status_string(rc));
    CHECK(strstr(r2_error_last()->message, "7 days") != NULL, "the message says R2 expires uploads: %s", r2_error_last()->message);
    r2_buf_dispose(&id);
    r2_buf_dispose(&e1);

    /* Large-copy orchestration on request (threshold below the size). */
    r2_transfer_options t = R2_TRANSFER_OPTIONS_INIT;
    t.threshold = 5 << 20;
    t.part_size = 5 << 20;
    CHECK_OK(r2_transfer_copy(&info, c, bucket, "transfer/copy-src", bucket, "transfer/copy-large", &t), "copy large");
    CHECK(strchr(info.etag, '-') != NULL, "multipart copy ETag %s", info.etag);
    r2_object_info_dispose(&info);
    CHECK_OK(r2_object_get(&body, NULL, c, bucket, "transfer/copy-large", NULL), "get large copy");
    CHECK(body.size == n && memcmp(body.ptr, buf, n) == 0, "multipart copy is byte-exact");
    r2_buf_dispose(&body);
    free(buf);
    const char *keys[] = {"transfer/copy-src", "transfer/copy-dst", "transfer/copy-large"};
    r2_delete_result del = R2_DELETE_RESULT_INIT;
    r2_object_delete_many(&del, c, bucket, keys, 3, &(r2_delete_many_options){R2_DELETE_MANY_OPTIONS_VERSION, true});
    r2_delete_result_dispose(&del);

    /* Argument checks. */
    CHECK(r2_transfer_upload_file(NULL, c, bucket, "k", "/nonexistent/file", NULL) == R2_ERR_INVALID_ARGUMENT, "missing file");
    CHECK(r2_transfer_upload_stream(NULL, c, bucket, "k", -2, gen_read, NULL, NULL) == R2_ERR_INVALID_ARGUMENT, "length -2");
    t = (r2_transfer_options)R2_TRANSFER_OPTIONS_INIT;
    t.concurrency = 65;
    CHECK(r2_transfer_upload_buffer(NULL, c, bucket, "k", (const uint8_t *)"x", 1, &t) == R2_ERR_INVALID_ARGUMENT, "concurrency 65");
    t.concurrency = 0;
    t.part_size = 1 << 20;
    CHECK(r2_transfer_upload_buffer(NULL, c, bucket, "k", (const uint8_t *)"x", 1, &t) == R2_ERR_INVALID_ARGUMENT, "part size 1 MiB");
    t = (r2_transfer_options)R2_TRANSFER_OPTIONS_INIT;
    t.skip_fsync = 2;
    CHECK(r2_transfer_download_file(NULL, c, bucket, "k", "/tmp/never-written", &t) == R2_ERR_INVALID_ARGUMENT, "skip_fsync 2");
    CHECK(r2_cancel_signal(NULL) == R2_ERR_INVALID_ARGUMENT, "NULL cancel");
}

int main(int argc, char **argv) {
    bucket = getenv("R2_TEST_BUCKET");
    if (argc == 6 && strcmp(argv[1], "--child-upload") == 0) {
        endpoint = argv[2];
        return child_upload(argv[3], argv[4], argv[5]);
    }
    if (argc < 2 || !bucket) { fprintf(stderr, "usage: test_transfer ENDPOINT [CA_BUNDLE] (with R2_TEST_* set)\n"); return 2; }
    endpoint = argv[1];
    ca = argc > 2 && argv[2][0] ? argv[2] : NULL;
    const char *big = getenv("R2_TEST_BIG_MIB");
    snprintf(workdir, sizeof workdir, "/tmp/r2-transfer-%ld", (long)getpid());
    mkdir(workdir, 0700);
    r2_client *c = make_client(NULL);
    test_low_level(c);
    test_streams(c);
    test_cancel_and_resume(c);
    test_resume_after_kill(c, argv[0]);
    test_big_file(c, (big ? strtoull(big, NULL, 10) : 1024) << 20);
    CHECK(uploads_left(c, "transfer/") == 0, "no unfinished upload is left under transfer/");
    r2_client_free(c);
    rmdir(workdir);
    printf("%s: %d passed, %d failed\n", endpoint, passed, failed);
    return failed ? 1 : 0;
}
