/* C tests of the resilience and observability ABI, without a server: the
 * version 2 client options (and an old caller's shorter version 1 struct),
 * log and trace callbacks with their userdata, retries, the circuit breaker
 * and the metrics, driven by replay cassettes written here.
 * Prints one line per failed check and "N passed, M failed" last. */
#define _DEFAULT_SOURCE
#include "r2.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

#define SECRET "9c1e3d5b7f3b0f9c6a2e4d8b1f7a5c9e3d2b6f8a0c4e1d7b9f3a5c2e8d6b4f0a"

static char dir[64];

/* A cassette answering GET /bkt/k with the given statuses, in order. */
static const char *cassette(const char *name, const int *statuses, int n) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"format\":\"r2-cassette/1\",\"interactions\":[");
    for (int i = 0; i < n; i++) {
        const char *body = statuses[i] == 200 ? "aGVsbG8=" /* hello */
            : "PEVycm9yPjxDb2RlPkludGVybmFsRXJyb3I8L0NvZGU+PE1lc3NhZ2U+b29wczwvTWVzc2FnZT48L0Vycm9yPg=="; /* InternalError */
        fprintf(f, "%s{\"operation\":\"GetObject\",\"request\":{\"method\":\"GET\",\"path\":\"/bkt/k\",\"headers\":[],\"body_size\":0},"
                   "\"response\":{\"status\":%d,\"headers\":[[\"x-amz-request-id\",\"req-%d\"]],\"body_base64\":\"%s\"},\"latency_ms\":0}",
                i ? "," : "", statuses[i], i, body);
    }
    fprintf(f, "]}\n");
    fclose(f);
    return path;
}

static r2_client_options replay_options(const char *path) {
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = "http://127.0.0.1:9";
    o.allow_http = true;
    o.access_key_id = "AKIDRESILIENCEC";
    o.secret_access_key = SECRET;
    o.session_token = "SESSIONTOKENVALUE0123456789";
    o.replay_path = path;
    return o;
}

/* Log and trace records, checked as they arrive (their strings die after the call). */
struct seen {
    int logs, by_level[6], leaks, traces, frees;
    int warn_attempt, warn_status, trace_retries, trace_status, traceparent_len;
    char warn_request_id[32];
};

static int leaks(const char *s) {
    return s && (strstr(s, SECRET) || strstr(s, "Signature=") || strstr(s, "SESSIONTOKENVALUE0123456789"));
}

static void on_log(const r2_log_record *r, void *userdata) {
    struct seen *s = userdata;
    s->logs++;
    if (r->level >= 0 && r->level <= 5) s->by_level[r->level]++;
    if (leaks(r->message) || leaks(r->operation) || leaks(r->bucket) || leaks(r->key) || leaks(r->request_id)) s->leaks++;
    if (r->level == R2_LOG_WARN && s->warn_attempt == 0) {
        s->warn_attempt = (int)r->attempt;
        s->warn_status = r->http_status;
        snprintf(s->warn_request_id, sizeof s->warn_request_id, "%s", r->request_id);
    }
}

static void on_trace(const r2_trace_record *t, void *userdata) {
    struct seen *s = userdata;
    s->traces++;
    s->trace_retries = (int)t->retries;
    s->trace_status = t->http_status;
    s->traceparent_len = (int)strlen(t->traceparent);
    if (leaks(t->error_message) || leaks(t->request_id)) s->leaks++;
}

static void free_seen(void *userdata) { ((struct seen *)userdata)->frees++; }

/* Zero means the default: the _INIT macro and r2_client_options_init() set
 * the version and nothing else; the defaults live in the library (see
 * test_breaker_defaults for one of them at work). */
static void test_option_defaults(void) {
    r2_client_options a = R2_CLIENT_OPTIONS_INIT, b, zero;
    memset(&b, 0xA5, sizeof b);
    CHECK(r2_client_options_init(&b, R2_CLIENT_OPTIONS_VERSION) == R2_OK, "init v3");
    CHECK(R2_CLIENT_OPTIONS_VERSION == 3, "version %d", R2_CLIENT_OPTIONS_VERSION);
    memset(&zero, 0, sizeof zero);
    zero.version = R2_CLIENT_OPTIONS_VERSION;
    CHECK(memcmp(&b, &zero, sizeof zero) == 0, "_init writes the version, then zero bytes only");
    CHECK(a.version == 3 && a.account_id == NULL && a.connect_timeout_ms == 0 && a.pool_size == 0 && a.payload_mode == R2_PAYLOAD_DEFAULT
          && a.retry_slow_down.max_attempts == 0 && a.retry_jitter == 0 && a.list_timeout_ms == 0
          && a.breaker_failure_threshold == 0 && a.log_level == R2_LOG_OFF && a.log_cb == NULL
          && a.max_get_bytes == 0 && a.stall_min_bytes_per_s == 0 && !a.virtual_hosted_style && a.region == NULL,
          "the macro: the version, zero elsewhere");
}

/* A caller built against the version 1 header passes a shorter struct: r2
 * must neither write nor read past it. The struct ends at a page that
 * faults on any access. */
static void test_version1_caller(void) {
    size_t v1 = offsetof(r2_client_options, retry_slow_down);
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mem != MAP_FAILED, "mmap");
    if (mem == MAP_FAILED) return;
    CHECK(mprotect(mem + page, (size_t)page, PROT_NONE) == 0, "guard page");
    r2_client_options *o = (r2_client_options *)(mem + page - ((v1 + 7) / 8 * 8));
    CHECK(r2_client_options_init(o, 1) == R2_OK, "init version 1 writes only version 1 fields");
    CHECK(o->version == 1 && o->pool_size == 0 && o->connect_timeout_ms == 0, "version 1: zero fields (the defaults)");
    o->endpoint = "http://127.0.0.1:9";
    o->allow_http = true;
    o->access_key_id = "AKID";
    o->secret_access_key = SECRET;
    r2_client *c = NULL;
    CHECK(r2_client_new(&c, o) == R2_OK, "a version 1 struct makes a client: %s", r2_error_last()->message);
    int32_t state = -1;
    CHECK(r2_client_breaker_state(&state, c) == R2_OK && state == R2_BREAKER_CLOSED, "with today's defaults");
    r2_client_free(c);
    munmap(mem, (size_t)page * 2);
}

static void test_arguments(void) {
    r2_client_options o = replay_options(cassette("args.json", (int[]){200}, 1));
    struct seen s = {0};
    o.log_cb = on_log;
    o.log_userdata = &s;
    o.log_userdata_free = free_seen;
    o.log_level = 9;
    r2_client *c = NULL;
    CHECK(r2_client_new(&c, &o) == R2_ERR_INVALID_ARGUMENT && c == NULL, "log level 9");
    CHECK(strstr(r2_error_last()->message, "log_level") != NULL, "%s", r2_error_last()->message);
    CHECK(s.frees == 1, "the userdata is released when r2_client_new fails (%d)", s.frees);
    o.log_level = R2_LOG_OFF;
    o.retry_server.max_attempts = 101;
    CHECK(r2_client_new(&c, &o) == R2_ERR_CONFIG, "101 attempts: %s", r2_error_last()->message);
    o.retry_server.max_attempts = 0;  /* the default */
    o.retry_jitter = 2;
    CHECK(r2_client_new(&c, &o) == R2_ERR_CONFIG, "jitter 2");

    int32_t state;
    r2_buf text = {0};
    CHECK(r2_client_breaker_state(NULL, NULL) == R2_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(r2_client_breaker_state(&state, NULL) == R2_ERR_INVALID_ARGUMENT, "NULL client");
    CHECK(r2_client_metrics_prometheus(NULL, NULL) == R2_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(r2_client_metrics_json(&text, (r2_client *)&state) == R2_ERR_INVALID_ARGUMENT && text.ptr == NULL, "foreign handle");
}

/* One 500, then the object: the call succeeds on its second attempt, and
 * logs, traces and metrics say so, without a secret anywhere. */
static void test_retry_logs_traces_metrics(void) {
    r2_client_options o = replay_options(cassette("retry.json", (int[]){500, 200}, 2));
    struct seen s = {0};
    o.retry_server.base_delay_ms = 1;
    o.log_level = R2_LOG_TRACE;
    o.log_cb = on_log;
    o.log_userdata = &s;
    o.log_userdata_free = free_seen;
    o.trace_cb = on_trace;
    o.trace_userdata = &s;
    o.traceparent = true;
    r2_client *c = NULL;
    CHECK(r2_client_new(&c, &o) == R2_OK, "client: %s", r2_error_last()->message);
    r2_buf body = {0};
    CHECK(r2_object_get(&body, NULL, c, "bkt", "k", NULL) == R2_OK, "get after a retry: %s", r2_error_last()->message);
    CHECK(body.size == 5 && memcmp(body.ptr, "hello", 5) == 0, "body");
    r2_buf_dispose(&body);

    CHECK(s.by_level[R2_LOG_WARN] == 1 && s.warn_attempt == 1 && s.warn_status == 500, "one retry warning for attempt 1 (HTTP 500)");
    CHECK(strcmp(s.warn_request_id, "req-0") == 0, "request id %s", s.warn_request_id);
    CHECK(s.by_level[R2_LOG_INFO] == 1 && s.by_level[R2_LOG_DEBUG] == 2 && s.by_level[R2_LOG_TRACE] == 4 && s.by_level[R2_LOG_ERROR] == 0,
          "levels: info %d debug %d trace %d", s.by_level[R2_LOG_INFO], s.by_level[R2_LOG_DEBUG], s.by_level[R2_LOG_TRACE]);
    CHECK(s.traces == 1 && s.trace_retries == 1 && s.trace_status == 200, "one trace record: %d retries", s.trace_retries);
    CHECK(s.traceparent_len == 55, "a W3C traceparent (%d)", s.traceparent_len);
    CHECK(s.leaks == 0, "no secret, signature or token in %d records", s.leaks);

    r2_buf text = {0};
    CHECK(r2_client_metrics_prometheus(&text, c) == R2_OK, "prometheus");
    CHECK(text.ptr && strstr(text.ptr, "r2_requests_total{operation=\"GetObject\",bucket=\"bkt\",status=\"500\"} 1\n"), "500 counted");
    CHECK(text.ptr && strstr(text.ptr, "r2_requests_total{operation=\"GetObject\",bucket=\"bkt\",status=\"200\"} 1\n"), "200 counted");
    CHECK(text.ptr && strstr(text.ptr, "r2_retries_total{operation=\"GetObject\",attempt=\"2\"} 1\n"), "retry counted");
    CHECK(text.ptr && strstr(text.ptr, "r2_errors_total{operation=\"GetObject\",error_type=\"ServerInternal\"} 1\n"), "error counted");
    CHECK(text.ptr && !leaks(text.ptr), "no secret in metrics");
    r2_buf_dispose(&text);
    CHECK(r2_client_metrics_json(&text, c) == R2_OK && strncmp(text.ptr, "{\"metrics\":[", 12) == 0, "json");
    r2_buf_dispose(&text);

    CHECK(s.frees == 0, "userdata kept while the client lives");
    r2_client_free(c);
    CHECK(s.frees == 1, "log userdata released once by r2_client_free (trace userdata had no free function): %d", s.frees);
}

/* The breaker opens after its threshold of failed calls and then fails fast. */
static void test_breaker(void) {
    r2_client_options o = replay_options(cassette("breaker.json", (int[]){500, 500, 500}, 3));
    o.retry_server.max_attempts = 1;
    o.breaker_failure_threshold = 2;
    r2_client *c = NULL;
    CHECK(r2_client_new(&c, &o) == R2_OK, "client: %s", r2_error_last()->message);
    r2_buf body = {0};
    int32_t state = -1;
    CHECK(r2_object_get(&body, NULL, c, "bkt", "k", NULL) == R2_ERR_SERVER_INTERNAL, "first 500");
    CHECK(r2_error_last()->retryable && r2_error_last()->http_status == 500, "retryable, but retries are off");
    CHECK(r2_client_breaker_state(&state, c) == R2_OK && state == R2_BREAKER_CLOSED, "closed after 1 failure");
    CHECK(r2_object_get(&body, NULL, c, "bkt", "k", NULL) == R2_ERR_SERVER_INTERNAL, "second 500");
    CHECK(r2_client_breaker_state(&state, c) == R2_OK && state == R2_BREAKER_OPEN, "open after 2");
    CHECK(r2_object_get(&body, NULL, c, "bkt", "k", NULL) == R2_ERR_CIRCUIT_OPEN, "fails fast");
    CHECK(r2_error_last()->retry_after_ms > 29000 && r2_error_last()->retry_after_ms <= 30000,
          "says when trials start: %lld ms", (long long)r2_error_last()->retry_after_ms);
    CHECK(strstr(r2_error_last()->message, "circuit breaker is open") != NULL, "%s", r2_error_last()->message);
    r2_buf text = {0};
    CHECK(r2_client_metrics_prometheus(&text, c) == R2_OK && strstr(text.ptr, "r2_circuit_breaker_state 1\n"), "gauge");
    CHECK(strstr(text.ptr, "error_type=\"CircuitOpen\"} 1\n") != NULL, "fail-fast counted as an error, not a request");
    r2_buf_dispose(&text);
    r2_client_free(c);
}

/* Zero is the library's default threshold (5 failed calls open the breaker);
 * R2_OFF turns the breaker off. */
static void test_breaker_defaults(void) {
    static const int fails[6] = {500, 500, 500, 500, 500, 500};
    for (int off = 0; off <= 1; off++) {
        r2_client_options o = replay_options(cassette("breaker-default.json", fails, 6));
        o.retry_server.max_attempts = 1;
        o.breaker_failure_threshold = off ? R2_OFF : 0;
        r2_client *c = NULL;
        CHECK(r2_client_new(&c, &o) == R2_OK, "client: %s", r2_error_last()->message);
        r2_buf body = {0};
        int32_t state = -1;
        for (int i = 0; i < 4; i++) r2_object_get(&body, NULL, c, "bkt", "k", NULL);
        CHECK(r2_client_breaker_state(&state, c) == R2_OK && state == R2_BREAKER_CLOSED, "threshold %s: closed after 4 failures",
              off ? "R2_OFF" : "0");
        r2_object_get(&body, NULL, c, "bkt", "k", NULL);
        r2_object_get(&body, NULL, c, "bkt", "k", NULL);
        CHECK(r2_client_breaker_state(&state, c) == R2_OK && state == (off ? R2_BREAKER_CLOSED : R2_BREAKER_OPEN),
              "threshold %s: %s after 6", off ? "R2_OFF" : "0 (default 5)", off ? "still closed" : "open");
        r2_client_free(c);
    }
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/r2-resilience-XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
    test_option_defaults();
    test_version1_caller();
    test_arguments();
    test_retry_logs_traces_metrics();
    test_breaker();
    test_breaker_defaults();
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("could not remove %s\n", dir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
