/* The C tests' one assertion: counts passes, prints each failure with its
 * place, condition and a message (on stderr). Each test prints "N passed, M failed" last. */
#ifndef R2_TEST_CHECK_H
#define R2_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int passed, failed;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
        }                                                                      \
    } while (0)

/* A call that must succeed; the failure names r2's last error. */
#define CHECK_OK(call, what)                                                   \
    do {                                                                       \
        int32_t rc_ = (call);                                                  \
        CHECK(rc_ == R2_OK, "%s: %s (%s)", what, r2_error_last()->message,     \
              r2_status_string(rc_));                                          \
    } while (0)

/* A client the test cannot run without: exits 2 (the test cannot start) when r2_client_new refuses the options. */
static inline r2_client *client_or_exit(const r2_client_options *o) {
    r2_client *c = NULL;
    if (r2_client_new(&c, o) != R2_OK) {
        fprintf(stderr, "r2_client_new: %s\n", r2_error_last()->message);
        exit(2);
    }
    return c;
}

#endif
