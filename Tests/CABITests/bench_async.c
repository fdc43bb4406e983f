/* One thread keeps 10 000 GETs of a 4 KiB object in flight through the
 * asynchronous C ABI (issue 12) and reports: threads in the process (and how
 * many are r2's engine threads), peak resident memory per in-flight request,
 * operations per second and client CPU per operation.
 *
 * usage: bench_async ENDPOINT [IN_FLIGHT [TOTAL [get|put]]]  (put: 4 KiB PUTs to 100 keys instead)
 *        (R2_TEST_ACCESS_KEY_ID, R2_TEST_SECRET_ACCESS_KEY, R2_TEST_BUCKET; `make bench-async`) */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "r2.h"
#include "measure.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static long in_flight, completed, failures, wrong;
static int *free_slots;
static long free_count;
static r2_buf *bodies;
static int max_threads, max_engine_threads, putting;

/* Threads in the process, and how many of them are r2's (named r2-engine-N). */
static void count_threads(int *all, int *engine) {
    *all = *engine = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        (*all)++;
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f && fgets(comm, sizeof comm, f) && strncmp(comm, "r2-engine-", 10) == 0) (*engine)++;
        if (f) fclose(f);
    }
    if (d) closedir(d);
}

static void on_done(r2_op *op, int32_t status, void *userdata) {
    (void)op;
    int slot = (int)(intptr_t)userdata;
    int bad = !putting && status == R2_OK && bodies[slot].size != 4096;
    r2_buf_dispose(&bodies[slot]);
    pthread_mutex_lock(&lock);
    if (status != R2_OK) {
        if (failures++ == 0) fprintf(stderr, "first failure: %s\n", r2_error_last()->message);
    }
    wrong += bad;
    completed++;
    in_flight--;
    free_slots[free_count++] = slot;
    pthread_cond_signal(&changed);
    pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s ENDPOINT [IN_FLIGHT [TOTAL]]\n", argv[0]); return 2; }
    long want = argc > 2 ? atol(argv[2]) : 10000;
    long total = argc > 3 ? atol(argv[3]) : 50000;
    putting = argc > 4 && strcmp(argv[4], "put") == 0;
    static char keys[100][32];
    for (int i = 0; i < 100; i++) snprintf(keys[i], sizeof keys[i], "bench/async-put-%02d", i);
    const char *bucket = getenv("R2_TEST_BUCKET") ? getenv("R2_TEST_BUCKET") : "r2-test";
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = argv[1];
    o.allow_http = strncmp(argv[1], "http://", 7) == 0;
    o.access_key_id = getenv("R2_TEST_ACCESS_KEY_ID");
    o.secret_access_key = getenv("R2_TEST_SECRET_ACCESS_KEY");
    r2_client *c = NULL;
    if (r2_client_new(&c, &o) != R2_OK) { fprintf(stderr, "r2_client_new: %s\n", r2_error_last()->message); return 2; }
    uint8_t object[4096];
    for (int i = 0; i < 4096; i++) object[i] = (uint8_t)i;
    if (r2_object_put(NULL, c, bucket, "bench/async-4k", object, sizeof object, NULL) != R2_OK) {
        fprintf(stderr, "put: %s\n", r2_error_last()->message);
        return 2;
    }
    /* Warm up the engine and its connections, so the baseline includes them. */
    r2_buf warm = {0};
    r2_object_get(&warm, NULL, c, bucket, "bench/async-4k", NULL);
    r2_buf_dispose(&warm);

    bodies = calloc((size_t)want, sizeof *bodies);
    free_slots = malloc((size_t)want * sizeof *free_slots);
    for (long i = 0; i < want; i++) free_slots[free_count++] = (int)(want - 1 - i);
    long rss_before = status_kib("VmRSS:");
    double t0 = now_s(), cpu0 = cpu_s();
    long started = 0, peak_in_flight = 0;

    pthread_mutex_lock(&lock);
    while (completed < total) {
        while (in_flight < want && started < total) {
            int slot = free_slots[--free_count];
            in_flight++;
            pthread_mutex_unlock(&lock);
            int32_t rc = putting
                ? r2_object_put_async(NULL, NULL, c, bucket, keys[started % 100], object, sizeof object, NULL, on_done,
                                      (void *)(intptr_t)slot, NULL)
                : r2_object_get_async(NULL, &bodies[slot], NULL, c, bucket, "bench/async-4k", NULL, on_done,
                                      (void *)(intptr_t)slot, NULL);
            pthread_mutex_lock(&lock);
            if (rc != R2_OK) {
                fprintf(stderr, "not started: %s\n", r2_error_last()->message);
                return 1;
            }
            started++;
            if (in_flight > peak_in_flight) peak_in_flight = in_flight;
        }
        /* Threads are counted from /proc (a dozen syscalls), so only now and then:
         * at the first full window and every 1 000 starts, not per completion. */
        if (in_flight == want && (started == want || started % 1000 == 0)) {
            int all, engine;
            count_threads(&all, &engine);
            if (all > max_threads) max_threads = all;
            if (engine > max_engine_threads) max_engine_threads = engine;
        }
        pthread_cond_wait(&changed, &lock);
    }
    pthread_mutex_unlock(&lock);
    double seconds = now_s() - t0, cpu = cpu_s() - cpu0;
    long hwm = status_kib("VmHWM:");

    printf("bench_async: %ld %ss of 4 KiB, %ld in flight at once from one thread (peak %ld)\n", total, putting ? "PUT" : "GET", want,
           peak_in_flight);
    printf("  threads in the process: %d at most, of which r2 engine threads: %d\n", max_threads, max_engine_threads);
    printf("  peak RSS %.1f MiB (%.1f MiB before the run): %.1f KiB per in-flight request\n", hwm / 1024.0, rss_before / 1024.0,
           (double)(hwm - rss_before) / (double)want);
    printf("  %.0f ops/s, %.1f us client CPU per op (user+sys, all threads), %.2f s\n", total / seconds, cpu / total * 1e6, seconds);
    printf("  failures %ld, wrong bodies %ld\n", failures, wrong);
    /* One line for scripts/bench_peers.py. */
    printf("%ld x 4 KiB %s, %ld in flight (async): %.0f ops/s, client CPU %.0f us/op\n", total, putting ? "PUT" : "GET", want,
           total / seconds, cpu / total * 1e6);
    r2_object_delete(c, bucket, "bench/async-4k");
    r2_client_free(c);
    free(bodies);
    free(free_slots);
    return failures || wrong ? 1 : 0;
}
