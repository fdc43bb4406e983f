/* The fault-injecting proxy (Tests/FaultProxy/fault_proxy.py) in front of the
 * local server: started as a child process that prints its two ports, then
 * steered through its control port (plans, stats, quit); the clients that go
 * through it, with the retries their trace reports. Include after check.h. */
#ifndef R2_TEST_FAULT_PROXY_H
#define R2_TEST_FAULT_PROXY_H

#include <stdlib.h>

#include "control.h"

static int proxy_port, control_port;

/* The local server from argv[1] (http://, which the proxy speaks) and R2_TEST_ACCESS_KEY_ID,
 * R2_TEST_SECRET_ACCESS_KEY and R2_TEST_BUCKET (default r2-test); exits 2 without them. */
static void http_server_from_env(int argc, char **argv, const char **endpoint, const char **bucket,
                                 const char **access_key, const char **secret_key) {
    if (argc < 2) { fprintf(stderr, "usage: %s ENDPOINT\n", argv[0]); exit(2); }
    *endpoint = argv[1];
    *access_key = getenv("R2_TEST_ACCESS_KEY_ID");
    *secret_key = getenv("R2_TEST_SECRET_ACCESS_KEY");
    *bucket = getenv("R2_TEST_BUCKET") ? getenv("R2_TEST_BUCKET") : "r2-test";
    if (!*access_key || !*secret_key || strncmp(*endpoint, "http://", 7) != 0) {
        fprintf(stderr, "needs an http:// ENDPOINT and R2_TEST_ACCESS_KEY_ID / R2_TEST_SECRET_ACCESS_KEY\n");
        exit(2);
    }
}

static FILE *start_proxy(const char *script, const char *upstream) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "exec python3 '%s' --upstream '%s'", script, upstream);
    FILE *p = popen(cmd, "r");
    if (!p || fscanf(p, "%d %d", &proxy_port, &control_port) != 2) {
        fprintf(stderr, "cannot start the proxy: %s\n", cmd);
        exit(2);
    }
    return p;
}

/* Sends one control line; returns the answer's first line (static buffer). */
static const char *control(const char *line) {
    char *answer = control_line(control_port, line);
    answer[strcspn(answer, "\n")] = 0;
    return answer;
}

static long stat_value(const char *name) {
    const char *s = control("stats");
    char key[64];
    snprintf(key, sizeof key, "%s=", name);
    const char *p = strstr(s, key);
    return p ? atol(p + strlen(key)) : -1;
}

/* What a client's trace callback saw: calls, and the last one's retries and error. */
struct trace_seen { int calls, retries, error; };

static void on_trace(const r2_trace_record *t, void *userdata) {
    struct trace_seen *s = userdata;
    s->calls++;
    s->retries = (int)t->retries;
    s->error = t->error_code;
}

/* A client over plain http (the proxy's side), its trace in *seen when seen is not NULL;
 * stall_ms 0 keeps the default stall timeout. */
static r2_client *traced_client(const char *ep, const char *access_key, const char *secret_key, uint32_t stall_ms,
                                struct trace_seen *seen) {
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = ep;
    o.allow_http = true;
    o.access_key_id = access_key;
    o.secret_access_key = secret_key;
    if (stall_ms) o.stall_timeout_ms = stall_ms;
    if (seen) {
        o.trace_cb = on_trace;
        o.trace_userdata = seen;
    }
    return client_or_exit(&o);
}

#endif
