/* The asynchronous C ABI (issue 12) against a local server (SeaweedFS) and
 * through the fault-injecting proxy (Tests/FaultProxy/fault_proxy.py):
 * every `_async` operation gives the same result as its blocking form; done
 * runs exactly once, on an r2 engine thread, then the finalizer once;
 * cancel; pause and resume of a streamed get and put; a download resumed
 * through connection resets, SlowDown with Retry-After, and a stall.
 *
 * usage: test_async ENDPOINT   (R2_TEST_ACCESS_KEY_ID, R2_TEST_SECRET_ACCESS_KEY, R2_TEST_BUCKET) */
#define _GNU_SOURCE
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "r2.h"

#include "check.h"
#include "fault_proxy.h"

static const char *endpoint, *bucket, *access_key, *secret_key;

/* --- waiting for an operation --- */

/* What one operation's callbacks saw. */
struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    int done_calls, free_calls;
    int32_t status;
    int on_engine_thread;   /* done ran on a thread named r2-engine-N */
    int not_caller_thread;  /* ... which is not the thread that started the op */
    pthread_t caller;
    char message[512];
};

static void waiter_init(struct waiter *w) {
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->c, NULL);
    w->caller = pthread_self();
}

static void on_done(r2_op *op, int32_t status, void *userdata) {
    (void)op;
    struct waiter *w = userdata;
    char name[32] = "";
    pthread_getname_np(pthread_self(), name, sizeof name);
    pthread_mutex_lock(&w->m);
    w->done_calls++;
    w->status = status;
    w->on_engine_thread = strncmp(name, "r2-engine-", 10) == 0;
    w->not_caller_thread = !pthread_equal(pthread_self(), w->caller);
    snprintf(w->message, sizeof w->message, "%s", status == R2_OK ? "" : r2_error_last()->message);
    pthread_mutex_unlock(&w->m);
}

static void on_free(void *userdata) {
    struct waiter *w = userdata;
    pthread_mutex_lock(&w->m);
    w->free_calls++;
    pthread_cond_broadcast(&w->c);
    pthread_mutex_unlock(&w->m);
}

/* Waits (at most 120 s) for done and the finalizer; returns done's status. */
static int32_t wait_for(struct waiter *w, const char *what) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 120;
    pthread_mutex_lock(&w->m);
    while (w->free_calls == 0) {
        if (pthread_cond_timedwait(&w->c, &w->m, &until) != 0) break;
    }
    pthread_mutex_unlock(&w->m);
    usleep(20000);  /* a second (wrong) call of either would show up in the counts by now */
    CHECK(w->done_calls == 1 && w->free_calls == 1, "%s: done ran %d times, the finalizer %d times", what, w->done_calls, w->free_calls);
    CHECK(w->on_engine_thread && w->not_caller_thread, "%s: done ran on an r2 engine thread", what);
    return w->status;
}

/* Starts an operation (the call's `started` status), then waits for it. */
#define RUN_ASYNC(w, what, call)                                                              \
    do {                                                                                      \
        waiter_init(&(w));                                                                    \
        int32_t started_ = (call);                                                            \
        CHECK(started_ == R2_OK, "%s: not started: %s", what, r2_error_last()->message);      \
        if (started_ == R2_OK) wait_for(&(w), what);                                          \
    } while (0)

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* --- clients and bodies --- */

static r2_client *make_client(const char *ep, uint32_t stall_ms, struct trace_seen *seen) {
    return traced_client(ep, access_key, secret_key, stall_ms, seen);
}

static uint8_t *pattern(size_t n, uint32_t seed) {
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
    return p;
}

/* A sink that can pause: it takes `pause_every` bytes, then pauses once per chunk boundary. */
struct stream_sink {
    uint8_t *data;
    size_t size, cap;
    int pause_next;  /* pause (once) on the next chunk */
    int pauses;
    int on_engine;
};

static int write_stream(const uint8_t *chunk, size_t len, void *userdata) {
    struct stream_sink *k = userdata;
    char name[32] = "";
    pthread_getname_np(pthread_self(), name, sizeof name);
    k->on_engine = strncmp(name, "r2-engine-", 10) == 0;
    if (k->pause_next) {
        k->pause_next = 0;
        k->pauses++;
        return R2_WRITE_PAUSE;
    }
    if (k->size + len > k->cap) return 1;
    memcpy(k->data + k->size, chunk, len);
    k->size += len;
    return 0;
}

/* A sink that notes what the caller's info holds when the first chunk comes. */
struct info_sink {
    const r2_object_info *info;
    int writes;
    char etag[128];
    int64_t length;
};

static int write_noting_info(const uint8_t *chunk, size_t len, void *userdata) {
    struct info_sink *k = userdata;
    (void)chunk;
    (void)len;
    if (k->writes++ == 0) {
        snprintf(k->etag, sizeof k->etag, "%s", k->info->etag ? k->info->etag : "(null)");
        k->length = k->info->content_length;
    }
    return 0;
}

/* A source that says "no data yet" every other call until resumed. */
struct stream_source {
    const uint8_t *data;
    size_t size, at;
    int pause_next, pauses;
};

/* Cancels a transfer once `after` bytes are through and some are still to go,
 * from its progress report (an engine thread); `op` is set once the start
 * call has returned. */
typedef struct { r2_op *op; uint64_t after; int cancels; } canceller;
static int cancel_midway(uint64_t done, int64_t total, void *ud) {
    canceller *k = ud;
    r2_op *op = __atomic_load_n(&k->op, __ATOMIC_ACQUIRE);
    if (op && done >= k->after && (int64_t)done < total && __atomic_load_n(&k->cancels, __ATOMIC_ACQUIRE) == 0) {
        __atomic_store_n(&k->cancels, 1, __ATOMIC_RELEASE);
        r2_op_cancel(op);
    }
    return 0;
}

static int64_t read_stream(uint8_t *buf, size_t cap, void *userdata) {
    struct stream_source *s = userdata;
    if (s->pause_next) {
        s->pause_next = 0;
        s->pauses++;
        return R2_READ_PAUSE;
    }
    size_t n = s->size - s->at < cap ? s->size - s->at : cap;
    if (n > 16384) n = 16384;
    memcpy(buf, s->data + s->at, n);
    s->at += n;
    return (int64_t)n;
}

/* --- the operations, each beside its blocking form --- */

static void test_objects(r2_client *c) {
    struct waiter w;
    size_t size = 300000;
    uint8_t *data = pattern(size, 7);
    r2_put_options put = R2_PUT_OPTIONS_INIT;
    put.content_type = "application/x-test";
    r2_header meta[] = {{"color", "blue"}};
    put.metadata = meta;
    put.metadata_count = 1;

    /* put: the same ETag as the blocking put of the same bytes */
    r2_object_info sync_info = R2_OBJECT_INFO_INIT, info = R2_OBJECT_INFO_INIT;
    CHECK_OK(r2_object_put(&sync_info, c, bucket, "async/blocking", data, size, &put), "blocking put");
    r2_op *op = NULL;
    RUN_ASYNC(w, "put", r2_object_put_async(&op, &info, c, bucket, "async/a", data, size, &put, on_done, &w, on_free));
    CHECK(w.status == R2_OK, "put: %s", w.message);
    CHECK(info.etag && strcmp(info.etag, sync_info.etag) == 0, "put_async ETag %s == put ETag %s", info.etag, sync_info.etag);
    r2_op_free(op);
    r2_object_info_dispose(&info);
    r2_object_info_dispose(&sync_info);

    /* get: same bytes and metadata as the blocking get */
    r2_buf body = {0}, sync_body = {0};
    CHECK_OK(r2_object_get(&sync_body, &sync_info, c, bucket, "async/a", NULL), "blocking get");
    RUN_ASYNC(w, "get", r2_object_get_async(NULL, &body, &info, c, bucket, "async/a", NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK, "get: %s", w.message);
    CHECK(body.size == size && memcmp(body.ptr, data, size) == 0, "get_async returns the bytes (%zu)", body.size);
    CHECK(body.size == sync_body.size && memcmp(body.ptr, sync_body.ptr, body.size) == 0, "same bytes as the blocking get");
    CHECK(strcmp(info.etag, sync_info.etag) == 0 && strcmp(info.content_type, "application/x-test") == 0
          && info.metadata_count == 1 && strcmp(info.metadata[0].value, "blue") == 0, "same metadata as the blocking get");
    r2_buf_dispose(&body);
    r2_buf_dispose(&sync_body);
    r2_object_info_dispose(&info);
    r2_object_info_dispose(&sync_info);

    /* get with a range */
    r2_get_options range = R2_GET_OPTIONS_INIT;
    range.range = "bytes=1000-1999";
    RUN_ASYNC(w, "ranged get", r2_object_get_async(NULL, &body, &info, c, bucket, "async/a", &range, on_done, &w, on_free));
    CHECK(w.status == R2_OK && body.size == 1000 && memcmp(body.ptr, data + 1000, 1000) == 0, "ranged get_async");
    CHECK(info.http_status == 206, "206, got %d", info.http_status);
    r2_buf_dispose(&body);
    r2_object_info_dispose(&info);

    /* errors: the same status and message shape as the blocking call; r2_error_last() inside done */
    int32_t sync_rc = r2_object_get(&body, NULL, c, bucket, "async/missing", NULL);
    RUN_ASYNC(w, "get missing", r2_object_get_async(NULL, &body, NULL, c, bucket, "async/missing", NULL, on_done, &w, on_free));
    CHECK(w.status == R2_ERR_NO_SUCH_KEY && sync_rc == R2_ERR_NO_SUCH_KEY, "missing key: async %s, blocking %s",
          r2_status_string(w.status), r2_status_string(sync_rc));
    CHECK(w.message[0] != 0, "r2_error_last() in done describes it: %s", w.message);
    CHECK(body.ptr == NULL, "no body on failure");

    /* head */
    CHECK_OK(r2_object_head(&sync_info, c, bucket, "async/a", NULL), "blocking head");
    RUN_ASYNC(w, "head", r2_object_head_async(NULL, &info, c, bucket, "async/a", NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && info.content_length == (int64_t)size && strcmp(info.etag, sync_info.etag) == 0,
          "head_async: size %lld", (long long)info.content_length);
    r2_object_info_dispose(&info);
    r2_object_info_dispose(&sync_info);

    /* copy */
    r2_object_info copied = R2_OBJECT_INFO_INIT;
    CHECK_OK(r2_object_copy(&sync_info, c, bucket, "async/a", bucket, "async/c", NULL), "blocking copy");
    RUN_ASYNC(w, "copy", r2_object_copy_async(NULL, &copied, c, bucket, "async/a", bucket, "async/b", NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && copied.etag && strcmp(copied.etag, sync_info.etag) == 0, "copy_async ETag %s == copy ETag %s: %s",
          copied.etag, sync_info.etag, w.message);
    r2_object_info_dispose(&sync_info);
    CHECK_OK(r2_object_get(&body, NULL, c, bucket, "async/b", NULL), "get the copy");
    CHECK(body.size == size && memcmp(body.ptr, data, size) == 0, "the copy has the bytes");
    r2_buf_dispose(&body);
    r2_object_info_dispose(&copied);

    /* list: the same page as the blocking list */
    r2_list_options lo = R2_LIST_OPTIONS_INIT;
    lo.prefix = "async/";
    r2_list_result page = R2_LIST_RESULT_INIT, sync_page = R2_LIST_RESULT_INIT;
    CHECK_OK(r2_list_objects(&sync_page, c, bucket, &lo), "blocking list");
    RUN_ASYNC(w, "list", r2_list_objects_async(NULL, &page, c, bucket, &lo, on_done, &w, on_free));
    CHECK(w.status == R2_OK && page.object_count == sync_page.object_count && page.object_count >= 3, "list_async: %zu objects",
          page.object_count);
    for (size_t i = 0; i < page.object_count && i < sync_page.object_count; i++)
        CHECK(strcmp(page.objects[i].key, sync_page.objects[i].key) == 0 && page.objects[i].size == sync_page.objects[i].size,
              "entry %zu: %s", i, page.objects[i].key);
    r2_list_result_dispose(&page);
    r2_list_result_dispose(&sync_page);

    /* delete many: 1500 keys (two batches, in order), as the blocking call reports them */
    enum { MANY = 1500 };
    static char names[MANY][32];
    static const char *keys[MANY];
    for (int i = 0; i < MANY; i++) {
        snprintf(names[i], sizeof names[i], "async/many/%04d", i);
        keys[i] = names[i];
    }
    CHECK_OK(r2_object_put(NULL, c, bucket, keys[0], (const uint8_t *)"x", 1, NULL), "put one of many");
    CHECK_OK(r2_object_put(NULL, c, bucket, keys[MANY - 1], (const uint8_t *)"x", 1, NULL), "put the last of many");
    r2_delete_result del = R2_DELETE_RESULT_INIT;
    RUN_ASYNC(w, "delete many", r2_object_delete_many_async(NULL, &del, c, bucket, keys, MANY, NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && del.deleted_count == MANY && del.error_count == 0, "delete_many_async: %zu deleted, %zu errors: %s",
          del.deleted_count, del.error_count, w.message);
    CHECK(del.deleted_count == MANY && strcmp(del.deleted[0], keys[0]) == 0 && strcmp(del.deleted[MANY - 1], keys[MANY - 1]) == 0,
          "in order across batches");
    r2_delete_result_dispose(&del);
    CHECK(r2_object_head(&info, c, bucket, keys[MANY - 1], NULL) == R2_ERR_NO_SUCH_KEY, "the last batch was deleted");

    /* delete, then the object is gone */
    RUN_ASYNC(w, "delete", r2_object_delete_async(NULL, c, bucket, "async/b", on_done, &w, on_free));
    CHECK(w.status == R2_OK, "delete_async: %s", w.message);
    CHECK(r2_object_head(&info, c, bucket, "async/b", NULL) == R2_ERR_NO_SUCH_KEY, "deleted");

    /* argument errors: returned at once, and neither done nor the finalizer runs */
    waiter_init(&w);
    CHECK(r2_object_get_async(NULL, NULL, NULL, c, bucket, "k", NULL, on_done, &w, on_free) == R2_ERR_INVALID_ARGUMENT, "NULL body");
    CHECK(r2_object_get_async(NULL, &body, NULL, c, "Bad_Bucket", "k", NULL, on_done, &w, on_free) == R2_ERR_INVALID_BUCKET_NAME,
          "bad bucket");
    CHECK(r2_object_get_async(NULL, &body, NULL, c, bucket, "k", NULL, NULL, &w, on_free) == R2_ERR_INVALID_ARGUMENT, "NULL done");
    CHECK(r2_object_get_async(NULL, &body, NULL, NULL, bucket, "k", NULL, on_done, &w, on_free) == R2_ERR_INVALID_ARGUMENT, "NULL client");
    r2_op *none = (r2_op *)&w;
    CHECK(r2_object_head_async(&none, &info, c, bucket, "", NULL, on_done, &w, on_free) == R2_ERR_INVALID_OBJECT_NAME && none == NULL,
          "an operation that did not start hands back no op");
    usleep(50000);
    CHECK(w.done_calls == 0 && w.free_calls == 0, "no callback for a call that did not start");
    CHECK(r2_op_cancel(NULL) == R2_ERR_INVALID_ARGUMENT && r2_op_resume((r2_op *)c) == R2_ERR_INVALID_ARGUMENT, "op checks");
    r2_op_free(NULL);
    free(data);
}

static void test_streams(r2_client *c) {
    struct waiter w;
    size_t size = 3u << 20;
    uint8_t *data = pattern(size, 11);

    /* put_stream pausing its source: the pauses are resumed from another thread */
    struct stream_source src = {data, size, 0, 1, 0};
    r2_op *op = NULL;
    r2_object_info info = R2_OBJECT_INFO_INIT;
    waiter_init(&w);
    CHECK_OK(r2_object_put_stream_async(&op, &info, c, bucket, "async/stream", size, read_stream, &src, NULL, on_done, &w, on_free),
             "put_stream_async");
    for (int i = 0; i < 200 && w.free_calls == 0; i++) {
        usleep(10000);
        if (src.pauses < 5 && !src.pause_next) src.pause_next = 1;  /* racy on purpose: a pause may come at any read */
        r2_op_resume(op);
    }
    wait_for(&w, "put_stream_async");
    CHECK(w.status == R2_OK, "put_stream_async with pauses: %s", w.message);
    CHECK(src.pauses >= 1, "the source paused %d times", src.pauses);
    r2_op_free(op);
    r2_object_info_dispose(&info);

    /* get_stream pausing its sink; resumed 50 ms later each time */
    struct stream_sink sink = {malloc(size), 0, size, 1, 0, 0};
    waiter_init(&w);
    CHECK_OK(r2_object_get_stream_async(&op, &info, c, bucket, "async/stream", write_stream, &sink, NULL, on_done, &w, on_free),
             "get_stream_async");
    for (int i = 0; i < 400 && w.free_calls == 0; i++) {
        usleep(50000);
        if (sink.pauses < 4) sink.pause_next = 1;
        r2_op_resume(op);
    }
    wait_for(&w, "get_stream_async");
    CHECK(w.status == R2_OK, "get_stream_async with pauses: %s", w.message);
    CHECK(sink.pauses >= 2, "the sink paused %d times", sink.pauses);
    CHECK(sink.size == size && memcmp(sink.data, data, size) == 0, "the streamed body is whole and in order (%zu bytes)", sink.size);
    CHECK(sink.on_engine, "write ran on an engine thread");
    CHECK(info.content_length == (int64_t)size, "info: %lld", (long long)info.content_length);
    r2_op_free(op);
    r2_object_info_dispose(&info);

    /* the info is filled when the head arrives: already set inside the first write, as HEAD has it */
    r2_object_info headed = R2_OBJECT_INFO_INIT;
    CHECK_OK(r2_object_head(&headed, c, bucket, "async/stream", NULL), "head async/stream");
    struct info_sink noted = {&info, 0, "", -1};
    RUN_ASYNC(w, "get_stream_async noting info",
              r2_object_get_stream_async(NULL, &info, c, bucket, "async/stream", write_noting_info, &noted, NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && noted.writes > 0, "get_stream_async noting info: %d writes: %s", noted.writes, w.message);
    CHECK(headed.etag[0] && strcmp(noted.etag, headed.etag) == 0, "etag in the first write %s, HEAD says %s", noted.etag, headed.etag);
    CHECK(noted.length == headed.content_length && noted.length == (int64_t)size, "content_length in the first write %lld, HEAD says %lld",
          (long long)noted.length, (long long)headed.content_length);
    r2_object_info_dispose(&headed);
    r2_object_info_dispose(&info);

    /* cancel a paused stream: done comes with R2_ERR_CANCELLED */
    sink.size = 0;
    sink.pause_next = 1;
    sink.pauses = 0;
    waiter_init(&w);
    CHECK_OK(r2_object_get_stream_async(&op, NULL, c, bucket, "async/stream", write_stream, &sink, NULL, on_done, &w, on_free),
             "get_stream_async to cancel");
    for (int i = 0; i < 100 && sink.pauses == 0; i++) usleep(10000);
    double t0 = now_ms();
    CHECK_OK(r2_op_cancel(op), "cancel");
    wait_for(&w, "cancelled get");
    CHECK(w.status == R2_ERR_CANCELLED, "cancelled: %s (%s)", r2_status_string(w.status), w.message);
    CHECK(now_ms() - t0 < 2000, "cancel took %.0f ms", now_ms() - t0);
    r2_op_free(op);

    /* r2_op_free before the end: the operation still completes */
    r2_buf body = {0};
    waiter_init(&w);
    CHECK_OK(r2_object_get_async(&op, &body, NULL, c, bucket, "async/stream", NULL, on_done, &w, on_free), "get then free op");
    r2_op_free(op);
    wait_for(&w, "get with the op freed early");
    CHECK(w.status == R2_OK && body.size == size, "completed: %zu bytes", body.size);
    r2_buf_dispose(&body);
    free(sink.data);
    free(data);
}

static void test_multipart(r2_client *c) {
    struct waiter w;
    size_t part = 5u << 20, tail = 1u << 20, size = part + tail;
    uint8_t *data = pattern(size, 3);
    r2_buf id = {0}, etag1 = {0}, etag2 = {0}, etag3 = {0};
    RUN_ASYNC(w, "multipart create", r2_multipart_create_async(NULL, &id, c, bucket, "async/mp", NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && id.size > 0, "create_async: %s", w.message);
    RUN_ASYNC(w, "upload part 1", r2_multipart_upload_part_async(NULL, &etag1, c, bucket, "async/mp", id.ptr, 1, data, part, NULL,
                                                                   on_done, &w, on_free));
    CHECK(w.status == R2_OK && etag1.size > 0, "upload_part_async 1: %s", w.message);
    RUN_ASYNC(w, "upload part 2", r2_multipart_upload_part_async(NULL, &etag2, c, bucket, "async/mp", id.ptr, 2, data + part, tail, NULL,
                                                                   on_done, &w, on_free));
    CHECK(w.status == R2_OK && etag2.size > 0, "upload_part_async 2: %s", w.message);

    r2_multipart_part_list parts = R2_MULTIPART_PART_LIST_INIT;
    RUN_ASYNC(w, "list parts", r2_multipart_list_parts_async(NULL, &parts, c, bucket, "async/mp", id.ptr, NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && parts.count == 2 && parts.parts[0].size == part && parts.parts[1].size == tail,
          "list_parts_async: %zu parts: %s", parts.count, w.message);
    r2_multipart_part_list_dispose(&parts);
    r2_multipart_upload_list uploads = R2_MULTIPART_UPLOAD_LIST_INIT, sync_uploads = R2_MULTIPART_UPLOAD_LIST_INIT;
    r2_list_uploads_options lu = R2_LIST_UPLOADS_OPTIONS_INIT;
    lu.prefix = "async/mp";
    CHECK_OK(r2_multipart_list_uploads(&sync_uploads, c, bucket, &lu), "blocking list uploads");
    RUN_ASYNC(w, "list uploads", r2_multipart_list_uploads_async(NULL, &uploads, c, bucket, &lu, on_done, &w, on_free));
    CHECK(w.status == R2_OK && uploads.count == sync_uploads.count && uploads.count >= 1, "list_uploads_async: %zu (blocking %zu)",
          uploads.count, sync_uploads.count);
    r2_multipart_upload_list_dispose(&uploads);
    r2_multipart_upload_list_dispose(&sync_uploads);

    r2_completed_part done_parts[] = {{2, etag2.ptr}, {1, etag1.ptr}};
    r2_object_info info = R2_OBJECT_INFO_INIT;
    RUN_ASYNC(w, "complete", r2_multipart_complete_async(NULL, &info, c, bucket, "async/mp", id.ptr, done_parts, 2, NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && info.etag && strchr(info.etag, '-') != NULL, "complete_async: ETag %s: %s", info.etag, w.message);
    r2_object_info_dispose(&info);
    r2_buf body = {0};
    CHECK_OK(r2_object_get(&body, NULL, c, bucket, "async/mp", NULL), "get the multipart object");
    CHECK(body.size == size && memcmp(body.ptr, data, size) == 0, "the multipart object is whole");
    r2_buf_dispose(&body);

    /* a part copied from a whole object (a HEAD first, as the blocking call), then the upload aborted */
    r2_buf id2 = {0};
    CHECK_OK(r2_multipart_create(&id2, c, bucket, "async/mp2", NULL), "create 2");
    RUN_ASYNC(w, "upload part copy", r2_multipart_upload_part_copy_async(NULL, &etag3, c, bucket, "async/mp2", id2.ptr, 1, bucket, "async/mp",
                                                                          -1, -1, NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && etag3.size > 0, "upload_part_copy_async: %s", w.message);
    RUN_ASYNC(w, "abort", r2_multipart_abort_async(NULL, c, bucket, "async/mp2", id2.ptr, on_done, &w, on_free));
    CHECK(w.status == R2_OK, "abort_async: %s", w.message);
    RUN_ASYNC(w, "list parts of an aborted upload",
              r2_multipart_list_parts_async(NULL, &parts, c, bucket, "async/mp2", id2.ptr, NULL, on_done, &w, on_free));
    CHECK(w.status == R2_ERR_NO_SUCH_UPLOAD, "the upload is gone: %s", r2_status_string(w.status));
    r2_buf_dispose(&id);
    r2_buf_dispose(&id2);
    r2_buf_dispose(&etag1);
    r2_buf_dispose(&etag2);
    r2_buf_dispose(&etag3);
    free(data);
}

static int progress_calls, progress_on_engine;

static int on_progress(uint64_t done, int64_t total, void *userdata) {
    (void)done; (void)total; (void)userdata;
    char name[32] = "";
    pthread_getname_np(pthread_self(), name, sizeof name);
    progress_calls++;
    progress_on_engine += strncmp(name, "r2-engine-", 10) == 0;
    return 0;
}

static void test_transfers(r2_client *c) {
    struct waiter w;
    size_t size = (12u << 20) + 12345;
    uint8_t *data = pattern(size, 9);
    r2_transfer_options t = R2_TRANSFER_OPTIONS_INIT;
    t.threshold = 5u << 20;
    t.part_size = 5u << 20;
    t.concurrency = 3;
    t.progress = on_progress;
    t.progress_interval_ms = 1;

    /* a buffer in 3 parts, in flight at once on the engine */
    r2_object_info info = R2_OBJECT_INFO_INIT;
    RUN_ASYNC(w, "upload buffer", r2_transfer_upload_buffer_async(NULL, &info, c, bucket, "async/tm-buffer", data, size, &t, on_done, &w, on_free));
    CHECK(w.status == R2_OK && info.content_length == (int64_t)size && strstr(info.etag, "-3") != NULL,
          "upload_buffer_async: ETag %s, %lld bytes: %s", info.etag, (long long)info.content_length, w.message);
    CHECK(progress_calls > 0 && progress_on_engine == progress_calls, "progress on the engine: %d of %d", progress_on_engine, progress_calls);
    r2_object_info_dispose(&info);
    r2_buf body = {0};
    CHECK_OK(r2_object_get(&body, NULL, c, bucket, "async/tm-buffer", NULL), "get the uploaded buffer");
    CHECK(body.size == size && memcmp(body.ptr, data, size) == 0, "the buffer's object is whole");
    r2_buf_dispose(&body);

    /* a file, the same way; and below the threshold one PUT */
    char path[] = "/tmp/r2-test-async-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size, "temp file");
    close(fd);
    RUN_ASYNC(w, "upload file", r2_transfer_upload_file_async(NULL, &info, c, bucket, "async/tm-file", path, &t, on_done, &w, on_free));
    CHECK(w.status == R2_OK && strstr(info.etag, "-3") != NULL, "upload_file_async: ETag %s: %s", info.etag, w.message);
    r2_object_info_dispose(&info);
    CHECK_OK(r2_object_get(&body, NULL, c, bucket, "async/tm-file", NULL), "get the uploaded file");
    CHECK(body.size == size && memcmp(body.ptr, data, size) == 0, "the file's object is whole");
    r2_buf_dispose(&body);
    t.threshold = 64u << 20;
    RUN_ASYNC(w, "upload small file", r2_transfer_upload_file_async(NULL, &info, c, bucket, "async/tm-small", path, &t, on_done, &w, on_free));
    CHECK(w.status == R2_OK && strchr(info.etag, '-') == NULL, "one PUT below the threshold: ETag %s: %s", info.etag, w.message);
    r2_object_info_dispose(&info);
    unlink(path);

    /* downloads to a file: ranged parts on the engine, and one GET below the threshold */
    char out[] = "/tmp/r2-test-async-out-XXXXXX";
    close(mkstemp(out));
    for (int small = 0; small < 2; small++) {
        t.threshold = small ? 64u << 20 : 5u << 20;
        RUN_ASYNC(w, "download file", r2_transfer_download_file_async(NULL, &info, c, bucket, "async/tm-buffer", out, &t, on_done, &w, on_free));
        CHECK(w.status == R2_OK && info.content_length == (int64_t)size, "download_file_async (%s): %s", small ? "one GET" : "parts", w.message);
        r2_object_info_dispose(&info);
        FILE *f = fopen(out, "rb");
        uint8_t *back = malloc(size + 1);
        size_t got = f ? fread(back, 1, size + 1, f) : 0;
        if (f) fclose(f);
        CHECK(got == size && memcmp(back, data, size) == 0, "the downloaded file is the object (%zu bytes)", got);
        free(back);
    }
    RUN_ASYNC(w, "download missing", r2_transfer_download_file_async(NULL, &info, c, bucket, "async/none", out, &t, on_done, &w, on_free));
    CHECK(w.status == R2_ERR_NO_SUCH_KEY, "download of a missing key: %s", r2_status_string(w.status));
    unlink(out);

    /* a large copy: 3 UploadPartCopy parts on the engine; and one CopyObject below the threshold */
    for (int small = 0; small < 2; small++) {
        t.threshold = small ? 64u << 20 : 5u << 20;
        const char *dest = small ? "async/tm-copy-small" : "async/tm-copy";
        r2_object_info sync_copy = R2_OBJECT_INFO_INIT;
        CHECK_OK(r2_transfer_copy(&sync_copy, c, bucket, "async/tm-buffer", bucket, "async/tm-copy-blocking", &t), "blocking transfer copy");
        RUN_ASYNC(w, "transfer copy", r2_transfer_copy_async(NULL, &info, c, bucket, "async/tm-buffer", bucket, dest, &t, on_done, &w, on_free));
        CHECK(w.status == R2_OK && info.content_length == (int64_t)size && strcmp(info.etag, sync_copy.etag) == 0
              && (small || strstr(info.etag, "-3") != NULL),
              "transfer_copy_async (%s): ETag %s, blocking %s: %s", small ? "one copy" : "parts", info.etag, sync_copy.etag, w.message);
        r2_object_info_dispose(&info);
        r2_object_info_dispose(&sync_copy);
        CHECK_OK(r2_object_get(&body, NULL, c, bucket, dest, NULL), "get the copy");
        CHECK(body.size == size && memcmp(body.ptr, data, size) == 0, "the copy is whole");
        r2_buf_dispose(&body);
    }

    /* a streamed download: parts in parallel, delivered in order, the sink pausing now and then */
    for (int small = 0; small < 2; small++) {
        t.threshold = small ? 64u << 20 : 5u << 20;
        t.concurrency = 3;
        struct stream_sink sink = {malloc(size), 0, size, 1, 0, 0};
        r2_op *dop = NULL;
        waiter_init(&w);
        CHECK_OK(r2_transfer_download_stream_async(&dop, &info, c, bucket, "async/tm-buffer", write_stream, &sink, &t, on_done, &w, on_free),
                 "download_stream_async");
        for (int i = 0; i < 1000 && w.free_calls == 0; i++) {
            usleep(5000);
            if (sink.pauses < 3 && !sink.pause_next) sink.pause_next = 1;
            r2_op_resume(dop);
        }
        wait_for(&w, "download_stream_async");
        CHECK(w.status == R2_OK && sink.pauses >= 1 && sink.size == size && memcmp(sink.data, data, size) == 0,
              "download_stream_async (%s): %zu bytes in order, %d pauses: %s", small ? "one GET" : "parts", sink.size, sink.pauses, w.message);
        r2_op_free(dop);
        r2_object_info_dispose(&info);
        free(sink.data);
    }

    /* a stream of unknown length, its source pausing now and then: parts read in order and sent on the engine */
    for (int small = 0; small < 2; small++) {
        t.threshold = 5u << 20;
        size_t n = small ? 100000 : size;
        struct stream_source src = {data, n, 0, 1, 0};
        r2_op *sop = NULL;
        waiter_init(&w);
        CHECK_OK(r2_transfer_upload_stream_async(&sop, &info, c, bucket, "async/tm-stream", small ? (int64_t)n : -1, read_stream, &src, &t,
                                                 on_done, &w, on_free), "upload_stream_async");
        for (int i = 0; i < 1000 && w.free_calls == 0; i++) {
            usleep(5000);
            if (src.pauses < 5 && !src.pause_next) src.pause_next = 1;
            r2_op_resume(sop);
        }
        wait_for(&w, "upload_stream_async");
        CHECK(w.status == R2_OK && (small || info.content_length == (int64_t)n) && src.pauses >= 1
              && (small ? strchr(info.etag, '-') == NULL : strstr(info.etag, "-3") != NULL),
              "upload_stream_async (%s): ETag %s, %d pauses: %s", small ? "one PUT" : "parts", info.etag, src.pauses, w.message);
        r2_op_free(sop);
        r2_object_info_dispose(&info);
        CHECK_OK(r2_object_get(&body, NULL, c, bucket, "async/tm-stream", NULL), "get the streamed upload");
        CHECK(body.size == n && memcmp(body.ptr, data, n) == 0, "the streamed object is whole");
        r2_buf_dispose(&body);
    }

    /* cancelled while its parts are in flight: R2_ERR_CANCELLED, and the upload is aborted. The
     * cancel comes from the progress report once the first part is through (a fixed sleep lost
     * the race when the whole upload took less). */
    t.threshold = 5u << 20;
    t.concurrency = 1;
    t.progress = cancel_midway;
    t.progress_interval_ms = 1;
    canceller k = {NULL, t.part_size, 0};
    t.progress_userdata = &k;
    r2_op *op = NULL;
    waiter_init(&w);
    CHECK_OK(r2_transfer_upload_buffer_async(&op, &info, c, bucket, "async/tm-cancel", data, size, &t, on_done, &w, on_free),
             "upload to cancel");
    __atomic_store_n(&k.op, op, __ATOMIC_RELEASE);
    wait_for(&w, "cancelled upload");
    t.progress = NULL;
    CHECK(__atomic_load_n(&k.cancels, __ATOMIC_ACQUIRE) == 1, "cancelled from the progress report after %llu bytes", (unsigned long long)k.after);
    CHECK(w.status == R2_ERR_CANCELLED, "cancelled: %s (%s)", r2_status_string(w.status), w.message);
    r2_op_free(op);
    r2_multipart_upload_list left = R2_MULTIPART_UPLOAD_LIST_INIT;
    r2_list_uploads_options lu = R2_LIST_UPLOADS_OPTIONS_INIT;
    lu.prefix = "async/tm-cancel";
    CHECK_OK(r2_multipart_list_uploads(&left, c, bucket, &lu), "list uploads");
    CHECK(left.count == 0, "no unfinished upload is left after the cancel (%zu)", left.count);
    r2_multipart_upload_list_dispose(&left);
    free(data);
}

static r2_client *make_cassette_client(const char *ep, const char *record, const char *replay) {
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = ep;
    o.allow_http = true;
    o.access_key_id = access_key;
    o.secret_access_key = secret_key;
    o.record_path = record;
    o.replay_path = replay;
    return client_or_exit(&o);
}

/* Recorded in asynchronous mode, replayed in asynchronous mode (a paused stream too) and in blocking mode. */
static void test_record_replay(void) {
    struct waiter w;
    char dir[] = "/tmp/r2-test-async-cassette-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "temp dir");
    char path[128];
    snprintf(path, sizeof path, "%s/async.json", dir);
    size_t size = 200000;  /* over the inline limit: a side file */
    uint8_t *data = pattern(size, 13);
    r2_client *rec = make_cassette_client(endpoint, path, NULL);
    RUN_ASYNC(w, "recorded put", r2_object_put_async(NULL, NULL, rec, bucket, "async/cassette", data, size, NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK, "recorded put: %s", w.message);
    r2_buf body = {0};
    for (int i = 0; i < 2; i++) {  /* one for a get, one for a paused stream */
        RUN_ASYNC(w, "recorded get", r2_object_get_async(NULL, &body, NULL, rec, bucket, "async/cassette", NULL, on_done, &w, on_free));
        CHECK(w.status == R2_OK && body.size == size, "recorded get %d: %s", i, w.message);
        r2_buf_dispose(&body);
    }
    RUN_ASYNC(w, "recorded miss", r2_object_get_async(NULL, &body, NULL, rec, bucket, "async/cassette-missing", NULL, on_done, &w, on_free));
    CHECK(w.status == R2_ERR_NO_SUCH_KEY, "recorded error: %s", r2_status_string(w.status));
    r2_client_free(rec);

    /* replay, with an unreachable endpoint */
    r2_client *rep = make_cassette_client("http://127.0.0.1:9", NULL, path);
    RUN_ASYNC(w, "replayed put", r2_object_put_async(NULL, NULL, rep, bucket, "async/cassette", data, size, NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK, "replayed put: %s", w.message);
    RUN_ASYNC(w, "replayed get", r2_object_get_async(NULL, &body, NULL, rep, bucket, "async/cassette", NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && body.size == size && memcmp(body.ptr, data, size) == 0, "replayed get: %s", w.message);
    r2_buf_dispose(&body);
    struct stream_sink sink = {malloc(size), 0, size, 1, 0, 0};
    r2_op *op = NULL;
    waiter_init(&w);
    CHECK_OK(r2_object_get_stream_async(&op, NULL, rep, bucket, "async/cassette", write_stream, &sink, NULL, on_done, &w, on_free),
             "replayed stream");
    for (int i = 0; i < 200 && w.free_calls == 0; i++) {
        usleep(10000);
        r2_op_resume(op);
    }
    wait_for(&w, "replayed stream");
    CHECK(w.status == R2_OK && sink.pauses == 1 && sink.size == size && memcmp(sink.data, data, size) == 0,
          "replayed stream paused %d time(s) and resumed: %s", sink.pauses, w.message);
    r2_op_free(op);
    free(sink.data);
    RUN_ASYNC(w, "replayed miss", r2_object_get_async(NULL, &body, NULL, rep, bucket, "async/cassette-missing", NULL, on_done, &w, on_free));
    CHECK(w.status == R2_ERR_NO_SUCH_KEY, "replayed error: %s", r2_status_string(w.status));
    RUN_ASYNC(w, "unmatched", r2_object_get_async(NULL, &body, NULL, rep, bucket, "async/cassette", NULL, on_done, &w, on_free));
    CHECK(w.status == R2_ERR_REPLAY_UNMATCHED, "a third get is not in the cassette: %s", r2_status_string(w.status));
    r2_client_free(rep);

    /* the same cassette, replayed by the blocking calls */
    rep = make_cassette_client("http://127.0.0.1:9", NULL, path);
    CHECK_OK(r2_object_put(NULL, rep, bucket, "async/cassette", data, size, NULL), "blocking replayed put");
    CHECK_OK(r2_object_get(&body, NULL, rep, bucket, "async/cassette", NULL), "blocking replayed get");
    CHECK(body.size == size && memcmp(body.ptr, data, size) == 0, "blocking replayed body");
    r2_buf_dispose(&body);
    r2_client_free(rep);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "clean up");
    free(data);
}

/* Many operations at once from one thread, each completing once. */
struct counter { pthread_mutex_t m; pthread_cond_t c; int done, ok, freed; };

static void count_done(r2_op *op, int32_t status, void *userdata) {
    (void)op;
    struct counter *k = userdata;
    pthread_mutex_lock(&k->m);
    k->done++;
    if (status == R2_OK) k->ok++;
    pthread_mutex_unlock(&k->m);
}

static void count_free(void *userdata) {
    struct counter *k = userdata;
    pthread_mutex_lock(&k->m);
    k->freed++;
    pthread_cond_broadcast(&k->c);
    pthread_mutex_unlock(&k->m);
}

static void test_many(r2_client *c) {
    enum { N = 500 };
    struct counter k = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    static r2_buf bodies[N];
    CHECK_OK(r2_object_put(NULL, c, bucket, "async/small", (const uint8_t *)"0123456789", 10, NULL), "put small");
    int started = 0;
    for (int i = 0; i < N; i++)
        started += r2_object_get_async(NULL, &bodies[i], NULL, c, bucket, "async/small", NULL, count_done, &k, count_free) == R2_OK;
    pthread_mutex_lock(&k.m);
    while (k.freed < started) pthread_cond_wait(&k.c, &k.m);
    pthread_mutex_unlock(&k.m);
    CHECK(started == N && k.done == N && k.ok == N, "%d gets in flight at once: %d done, %d ok", started, k.done, k.ok);
    int right = 0;
    for (int i = 0; i < N; i++) {
        right += bodies[i].size == 10 && memcmp(bodies[i].ptr, "0123456789", 10) == 0;
        r2_buf_dispose(&bodies[i]);
    }
    CHECK(right == N, "%d of %d bodies right", right, N);
}

/* --- through the fault proxy --- */

static void test_faults(r2_client *direct) {
    const char *script = getenv("R2_FAULT_PROXY") ? getenv("R2_FAULT_PROXY") : "Tests/FaultProxy/fault_proxy.py";
    FILE *proxy = start_proxy(script, endpoint + 7);
    char via[64];
    snprintf(via, sizeof via, "http://127.0.0.1:%d", proxy_port);
    struct waiter w;
    size_t size = 24u << 20;
    uint8_t *data = pattern(size, 5);
    CHECK_OK(r2_object_put(NULL, direct, bucket, "async/faults", data, size, NULL), "put the object");

    /* 1. resets mid-body: the download resumes (Range + If-Match) and is whole */
    control("plan reset_down=4194304 resets=3");
    struct trace_seen seen = {0};
    r2_client *c = make_client(via, 0, &seen);
    r2_buf body = {0};
    RUN_ASYNC(w, "get through resets", r2_object_get_async(NULL, &body, NULL, c, bucket, "async/faults", NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && body.size == size && memcmp(body.ptr, data, size) == 0, "whole through %ld resets: %s",
          stat_value("resets"), w.message);
    CHECK(seen.calls == 1 && seen.retries == 3, "one call, one resume per reset: %d calls, %d retries", seen.calls, seen.retries);
    r2_buf_dispose(&body);
    r2_client_free(c);

    /* 2. SlowDown twice with Retry-After: 1: waited out on the engine's timers */
    control("plan slowdown=2 retry_after=1");
    memset(&seen, 0, sizeof seen);
    c = make_client(via, 0, &seen);
    r2_get_options range = R2_GET_OPTIONS_INIT;
    range.range = "bytes=0-99";
    double t0 = now_ms();
    RUN_ASYNC(w, "get after SlowDown", r2_object_get_async(NULL, &body, NULL, c, bucket, "async/faults", &range, on_done, &w, on_free));
    double waited = now_ms() - t0;
    CHECK(w.status == R2_OK && body.size == 100 && memcmp(body.ptr, data, 100) == 0, "ranged get after 2 SlowDowns: %s", w.message);
    CHECK(seen.retries == 2 && stat_value("slowdowns") == 2, "2 retries: %d", seen.retries);
    CHECK(waited >= 2000, "Retry-After honoured: %.0f ms", waited);
    r2_buf_dispose(&body);
    r2_client_free(c);

    /* 3. a stall of 4 s after 8 MiB, stall timeout 1 s: the attempt fails and the stream resumes */
    control("plan stall_down=8388608 stall_ms=4000 stalls=1");
    memset(&seen, 0, sizeof seen);
    c = make_client(via, 1000, &seen);
    struct stream_sink sink = {malloc(size), 0, size, 0, 0, 0};
    RUN_ASYNC(w, "stream through a stall",
              r2_object_get_stream_async(NULL, NULL, c, bucket, "async/faults", write_stream, &sink, NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && sink.size == size && memcmp(sink.data, data, size) == 0, "whole through a stall: %s", w.message);
    CHECK(stat_value("stalls") == 1 && seen.retries == 1, "one stall, one resume: %d retries", seen.retries);
    free(sink.data);

    /* 4. an upload of bytes through a reset is sent again */
    control("plan reset_up=4194304 resets=1");
    memset(&seen, 0, sizeof seen);
    RUN_ASYNC(w, "put through a reset", r2_object_put_async(NULL, NULL, c, bucket, "async/faults-up", data, 8u << 20, NULL, on_done, &w, on_free));
    CHECK(w.status == R2_OK && seen.retries == 1, "put retried once: %s, %d retries", w.message, seen.retries);
    r2_client_free(c);

    control("quit");
    pclose(proxy);
    free(data);
}

int main(int argc, char **argv) {
    http_server_from_env(argc, argv, &endpoint, &bucket, &access_key, &secret_key);
    r2_client *c = make_client(endpoint, 0, NULL);
    test_objects(c);
    test_streams(c);
    test_multipart(c);
    test_transfers(c);
    test_record_replay();
    test_many(c);
    if (!getenv("R2_TEST_ASYNC_NO_PROXY")) test_faults(c);
    r2_client_free(c);
    printf("test_async: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
