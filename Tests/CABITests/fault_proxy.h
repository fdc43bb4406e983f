/* The fault-injecting proxy (Tests/FaultProxy/fault_proxy.py) in front of the
 * local server: started as a child process that prints its two ports, then
 * steered through its control port (plans, stats, quit). */
#ifndef R2_TEST_FAULT_PROXY_H
#define R2_TEST_FAULT_PROXY_H

#include <stdlib.h>

#include "control.h"

static int proxy_port, control_port;

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

#endif
