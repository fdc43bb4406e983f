/* Transfer benchmarks through r2.h against a local S3 server.
 *
 * usage: bench_transfer ENDPOINT [CA_BUNDLE]   (R2_TEST_* env as for test_objects)
 * env:   BENCH_MIB (default 1024), BENCH_SMALL_OPS (default 2000), BENCH_THREADS (16)
 *
 * Client CPU is this process's user + system time (getrusage): the server runs
 * in another process. Peak memory is VmHWM. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "r2.h"
#include "measure.h"

static const char *bucket;
static r2_client *client;

static void die(const char *what) {
    fprintf(stderr, "%s: %s (%s)\n", what, r2_error_last()->message, r2_status_string(r2_error_last()->code));
    exit(1);
}

/* The upload source copies from one precomputed block: generating the bytes costs next to nothing. */
static uint8_t block[1 << 20];
typedef struct { uint64_t left; } source;

static int64_t read_source(uint8_t *buf, size_t cap, void *userdata) {
    source *s = userdata;
    size_t n = s->left < cap ? (size_t)s->left : cap;
    for (size_t off = 0; off < n;) {
        size_t k = n - off < sizeof block ? n - off : sizeof block;
        memcpy(buf + off, block, k);
        off += k;
    }
    s->left -= n;
    return (int64_t)n;
}

static int discard(const uint8_t *chunk, size_t len, void *userdata) {
    (void)chunk;
    *(uint64_t *)userdata += len;
    return 0;
}

static void big(uint64_t mib, int unsigned_payload) {
    uint64_t size = mib << 20;
    for (size_t i = 0; i < sizeof block; i++) block[i] = (uint8_t)(i * 2654435761u >> 24);
    source s = {size};
    r2_put_options p = R2_PUT_OPTIONS_INIT;
    p.payload_mode = unsigned_payload ? R2_PAYLOAD_UNSIGNED : R2_PAYLOAD_SIGNED;
    long hwm0 = status_kib("VmHWM:");
    double t0 = now_s(), c0 = cpu_s();
    if (r2_object_put_stream(NULL, client, bucket, "bench/big", size, read_source, &s, &p) != R2_OK) die("put");
    double t1 = now_s(), c1 = cpu_s();
    long hwm1 = status_kib("VmHWM:");
    uint64_t got = 0;
    if (r2_object_get_stream(NULL, client, bucket, "bench/big", discard, &got, NULL) != R2_OK) die("get");
    double t2 = now_s(), c2 = cpu_s();
    long hwm2 = status_kib("VmHWM:");
    if (got != size) { fprintf(stderr, "get returned %llu bytes\n", (unsigned long long)got); exit(1); }
    double gib = size / 1073741824.0;
    printf("PUT %llu MiB streamed: wall %.2f s (%.0f MiB/s), client CPU %.3f s/GiB, peak RSS %ld MiB (+%ld KiB)\n",
           (unsigned long long)mib, t1 - t0, mib / (t1 - t0), (c1 - c0) / gib, hwm1 / 1024, hwm1 - hwm0);
    printf("GET %llu MiB streamed: wall %.2f s (%.0f MiB/s), client CPU %.3f s/GiB, peak RSS %ld MiB (+%ld KiB)\n",
           (unsigned long long)mib, t2 - t1, mib / (t2 - t1), (c2 - c1) / gib, hwm2 / 1024, hwm2 - hwm1);
    r2_object_delete(client, bucket, "bench/big");
}

typedef struct { int first, count, get; } job;
static uint8_t small_body[4096];

static void *small_worker(void *arg) {
    job *j = arg;
    char key[64];
    for (int i = j->first; i < j->first + j->count; i++) {
        snprintf(key, sizeof key, "bench/small/%05d", i);
        if (j->get) {
            r2_buf b = {0};
            if (r2_object_get(&b, NULL, client, bucket, key, NULL) != R2_OK || b.size != sizeof small_body) die("small get");
            r2_buf_dispose(&b);
        } else if (r2_object_put(NULL, client, bucket, key, small_body, sizeof small_body, NULL) != R2_OK) {
            die("small put");
        }
    }
    return NULL;
}

static void small(int ops, int threads, int get) {
    pthread_t t[256];
    job jobs[256];
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){ops / threads * i, ops / threads, get};
        pthread_create(&t[i], NULL, small_worker, &jobs[i]);
    }
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    double wall = now_s() - t0, used = cpu_s() - c0;
    int done = ops / threads * threads;
    printf("%d x 4 KiB %s, %d threads: %.0f ops/s, client CPU %.0f us/op\n", done, get ? "GET" : "PUT", threads,
           done / wall, used / done * 1e6);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: bench_transfer ENDPOINT [CA_BUNDLE]\n"); return 2; }
    bucket = getenv("R2_TEST_BUCKET");
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = argv[1];
    o.allow_http = strncmp(argv[1], "http://", 7) == 0;
    o.ca_bundle_path = argc > 2 ? argv[2] : NULL;
    o.access_key_id = getenv("R2_TEST_ACCESS_KEY_ID");
    o.secret_access_key = getenv("R2_TEST_SECRET_ACCESS_KEY");
    if (!bucket || r2_client_new(&client, &o) != R2_OK) die("client");
    const char *m = getenv("BENCH_MIB"), *n = getenv("BENCH_SMALL_OPS"), *th = getenv("BENCH_THREADS");
    int threads = th ? atoi(th) : 16;
    if (threads < 1 || threads > 256) threads = 16;
    printf("endpoint %s\n", argv[1]);
    uint64_t mib = m ? strtoull(m, NULL, 10) : 1024;
    if (mib) big(mib, 1);
    int ops = n ? atoi(n) : 2000;
    small(ops, threads, 0);
    small(ops, threads, 1);
    r2_client_free(client);
    return 0;
}
