/* One multipart transfer through r2.h, measured: scripts/bench_transfers.py
 * runs it once per case, in a fresh process.
 *
 * usage: bench_multipart ENDPOINT upload|download FILE KEY CONCURRENCY PART_MIB
 * env:   R2_TEST_ACCESS_KEY_ID, R2_TEST_SECRET_ACCESS_KEY, R2_TEST_BUCKET
 *
 * The threshold is the part size, so the transfer is always multipart; the
 * client sends UNSIGNED-PAYLOAD with no checksum (R2_BENCH_SIGNED=1: a signed
 * payload hash). Downloads fsync the file before the rename (R2_BENCH_NO_FSYNC=1:
 * not). Prints one JSON line: wall seconds, this process's CPU (user + sys,
 * getrusage) and peak RSS (VmHWM). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "r2.h"
#include "measure.h"

static double tv(struct timeval t) { return t.tv_sec + t.tv_usec / 1e6; }

/* An environment switch: set and not empty. */
static int flag(const char *name) {
    const char *v = getenv(name);
    return v != NULL && *v != 0;
}

static void die(const char *what) {
    fprintf(stderr, "bench_multipart: %s: %s (%s)\n", what, r2_error_last()->message,
            r2_status_string(r2_error_last()->code));
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 7 || (strcmp(argv[2], "upload") != 0 && strcmp(argv[2], "download") != 0)) {
        fprintf(stderr, "usage: bench_multipart ENDPOINT upload|download FILE KEY CONCURRENCY PART_MIB\n");
        return 2;
    }
    const char *endpoint = argv[1], *path = argv[3], *key = argv[4], *bucket = getenv("R2_TEST_BUCKET");
    int upload = strcmp(argv[2], "upload") == 0;
    unsigned concurrency = (unsigned)atoi(argv[5]);
    uint64_t part = strtoull(argv[6], NULL, 10) << 20;
    if (!bucket) bucket = "r2-test";

    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = endpoint;
    o.allow_http = strncmp(endpoint, "http://", 7) == 0;
    o.access_key_id = getenv("R2_TEST_ACCESS_KEY_ID");
    o.secret_access_key = getenv("R2_TEST_SECRET_ACCESS_KEY");
    int signed_payload = flag("R2_BENCH_SIGNED");
    o.payload_mode = signed_payload ? R2_PAYLOAD_SIGNED : R2_PAYLOAD_UNSIGNED;
    r2_client *client = NULL;
    if (r2_client_new(&client, &o) != R2_OK) die("client");

    r2_transfer_options t = R2_TRANSFER_OPTIONS_INIT;
    t.threshold = part;
    t.part_size = part;
    t.concurrency = concurrency;
    int no_fsync = flag("R2_BENCH_NO_FSYNC");
    if (no_fsync) t.skip_fsync = 1;
    else t.version = 2;  /* the fields of version 2 only: the same program runs against an older libr2 (A/B) */

    double t0 = now_s();
    int32_t rc = upload ? r2_transfer_upload_file(NULL, client, bucket, key, path, &t)
                        : r2_transfer_download_file(NULL, client, bucket, key, path, &t);
    double wall = now_s() - t0;
    if (rc != R2_OK) die(argv[2]);
    r2_client_free(client);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"tool\": \"r2\", \"direction\": \"%s\", \"concurrency\": %u, \"part_mib\": %s, "
           "\"wall_s\": %.3f, \"cpu_user_s\": %.3f, \"cpu_sys_s\": %.3f, \"cpu_s\": %.3f, "
           "\"peak_rss_mib\": %.1f, \"mode\": \"%s, no checksum%s\"}\n",
           argv[2], concurrency, argv[6], wall, tv(ru.ru_utime), tv(ru.ru_stime),
           tv(ru.ru_utime) + tv(ru.ru_stime), status_kib("VmHWM:") / 1024.0,
           signed_payload ? "signed payload" : "UNSIGNED-PAYLOAD", upload ? "" : no_fsync ? ", no fsync" : ", fsync");
    return 0;
}
