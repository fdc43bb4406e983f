/* r2 asynchronous example: an event loop (poll) that keeps many requests in
 * flight from one thread, the way a Node, asyncio or libuv program would.
 *
 * r2 runs the requests on its own engine threads and calls `done` there; done
 * only queues the outcome and writes a byte to a pipe, so every result is
 * handled on the event loop's thread. A streamed download shows backpressure:
 * its write callback returns R2_WRITE_PAUSE when the loop's buffer is full,
 * and the loop calls r2_op_resume() once it has drained it.
 *
 * Reads R2_ENDPOINT, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY (and R2_ACCOUNT_ID,
 * R2_ALLOW_HTTP=1, R2_CA_BUNDLE as needed) and R2_DEMO_BUCKET.
 * Build: cc async.c $(pkg-config --cflags --libs r2) -pthread */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "r2.h"

enum { GETS = 100 };

/* What the engine threads hand to the loop: finished operations, through a pipe. */
struct completion { int id; int32_t status; char message[160]; };
static struct completion queue[GETS + 2];
static int queued;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int wake[2];

/* Runs on an r2 engine thread: queue the outcome, wake the loop, return at once. */
static void on_done(r2_op *op, int32_t status, void *userdata) {
    (void)op;
    pthread_mutex_lock(&lock);
    struct completion *c = &queue[queued++];
    c->id = (int)(intptr_t)userdata;
    c->status = status;
    snprintf(c->message, sizeof c->message, "%s", status == R2_OK ? "" : r2_error_last()->message);
    pthread_mutex_unlock(&lock);
    (void)!write(wake[1], "x", 1);
}

/* The streamed download: a small buffer the loop drains; full means "pause". */
static struct { char data[64 * 1024]; size_t used; size_t total; int paused; } stream;

static int on_chunk(const uint8_t *chunk, size_t len, void *userdata) {
    (void)userdata;
    pthread_mutex_lock(&lock);
    int full = stream.used + len > sizeof stream.data;
    if (full) {
        stream.paused = 1;
    } else {
        memcpy(stream.data + stream.used, chunk, len);
        stream.used += len;
    }
    pthread_mutex_unlock(&lock);
    if (full) (void)!write(wake[1], "p", 1);
    return full ? R2_WRITE_PAUSE : 0;  /* a paused chunk comes again after r2_op_resume() */
}

static int fail(const char *what) {
    fprintf(stderr, "%s failed: %s\n", what, r2_error_last()->message);
    return 1;
}

int main(void) {
    const char *bucket = getenv("R2_DEMO_BUCKET");
    if (!bucket) { fprintf(stderr, "set R2_DEMO_BUCKET (and the R2_* credentials)\n"); return 2; }
    r2_client *client = NULL;
    if (r2_client_new_from_env(&client) != R2_OK) return fail("r2_client_new_from_env");
    if (pipe(wake) != 0) return 1;

    static uint8_t object[1 << 20];
    for (size_t i = 0; i < sizeof object; i++) object[i] = (uint8_t)(i * 7);
    if (r2_object_put(NULL, client, bucket, "examples/async.bin", object, sizeof object, NULL) != R2_OK) return fail("put");

    /* Start everything from this thread: 100 GETs and one streamed GET. */
    static r2_buf bodies[GETS];
    for (int i = 0; i < GETS; i++)
        if (r2_object_get_async(NULL, &bodies[i], NULL, client, bucket, "examples/async.bin", NULL, on_done, (void *)(intptr_t)i, NULL) != R2_OK)
            return fail("r2_object_get_async");
    r2_op *streaming = NULL;
    if (r2_object_get_stream_async(&streaming, NULL, client, bucket, "examples/async.bin", on_chunk, NULL, NULL, on_done,
                                   (void *)(intptr_t)GETS, NULL) != R2_OK)
        return fail("r2_object_get_stream_async");

    /* The event loop: sleep in poll() until r2 wakes it, handle what arrived. */
    int finished = 0, ok = 0, pauses = 0;
    while (finished < GETS + 1) {
        struct pollfd p = {wake[0], POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0) { fprintf(stderr, "timed out\n"); return 1; }
        char drain[64];
        (void)!read(wake[0], drain, sizeof drain);
        pthread_mutex_lock(&lock);
        /* Drain the stream's buffer (a real program would write it somewhere), then let it go on. */
        stream.total += stream.used;
        stream.used = 0;
        int resume = stream.paused;
        stream.paused = 0;
        struct completion done[GETS + 2];
        int n = queued;
        memcpy(done, queue, sizeof done[0] * (size_t)n);
        queued = 0;
        pthread_mutex_unlock(&lock);
        if (resume) {
            pauses++;
            r2_op_resume(streaming);
        }
        for (int i = 0; i < n; i++) {
            finished++;
            if (done[i].status != R2_OK) {
                fprintf(stderr, "operation %d: %s\n", done[i].id, done[i].message);
                continue;
            }
            if (done[i].id < GETS) ok += bodies[done[i].id].size == sizeof object;
            else ok++;
        }
    }
    stream.total += stream.used;
    printf("%d of %d operations done on one event loop; the stream delivered %zu bytes through %d pauses\n", ok, GETS + 1,
           stream.total, pauses);
    for (int i = 0; i < GETS; i++) r2_buf_dispose(&bodies[i]);
    r2_op_free(streaming);
    r2_object_delete(client, bucket, "examples/async.bin");
    r2_client_free(client);
    return ok == GETS + 1 && stream.total == sizeof object ? 0 : 1;
}
