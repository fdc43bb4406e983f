/* Signing benchmarks through the C ABI: sign with the cached signing key,
 * sign with a freshly derived key (a new signer each time, so the per-day
 * derivation runs), and presign. Prints median and p99 in nanoseconds.
 * Beside them, the crypto floor: what one cached-key signature must cost in
 * OpenSSL alone (SHA-256 of the same canonical request, then HMAC-SHA256 of
 * the same string to sign with the key's pad states prepared once). */
#define _POSIX_C_SOURCE 200809L
#define OPENSSL_SUPPRESS_DEPRECATED /* the low-level SHA256_* API: the fastest path */
#include "r2.h"

#include <openssl/sha.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 20000

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, int64_t *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp);
    printf("%-28s median %6lld ns   p99 %6lld ns   (n=%d)\n", name, (long long)t[n / 2], (long long)t[n * 99 / 100], n);
}

int main(void) {
    static int64_t t[N];
    r2_signer_options so = R2_SIGNER_OPTIONS_INIT;
    so.access_key_id = "e8b8f6d1c2a34f5b9d7e0a1b2c3d4e5f";
    so.secret_access_key = "3b0f9c6a2e4d8b1f7a5c9e3d2b6f8a0c4e1d7b9f3a5c2e8d6b4f0a9c1e3d5b7f";
    r2_signer *signer;
    if (r2_signer_new(&signer, &so) != R2_OK) return 1;

    r2_header headers[] = {{"Host", "023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com"}};
    r2_sign_request req = R2_SIGN_REQUEST_INIT;
    req.method = "GET";
    req.path = "/my-bucket/photos/2025/12/cat.jpg";
    req.headers = headers;
    req.header_count = 1;
    req.payload_hash = "UNSIGNED-PAYLOAD";
    req.unix_time = 1765713600;

    for (int i = 0; i < 2000; i++) { r2_signed *s; r2_signer_sign(&s, signer, &req); r2_signed_free(s); }
    for (int i = 0; i < N; i++) {
        r2_signed *s;
        int64_t a = now_ns();
        int rc = r2_signer_sign(&s, signer, &req);
        t[i] = now_ns() - a;
        if (rc != R2_OK) return 1;
        r2_signed_free(s);
    }
    report("sign (cached key)", t, N);

    {   /* The crypto floor on this signature's own canonical request and string to sign. */
        r2_signed *s;
        if (r2_signer_sign(&s, signer, &req) != R2_OK) return 1;
        const char *canonical = r2_signed_canonical_request(s), *sts_template = r2_signed_string_to_sign(s);
        size_t canonical_len = strlen(canonical), sts_len = strlen(sts_template);
        char sts[512];
        if (sts_len >= sizeof sts) return 1;
        memcpy(sts, sts_template, sts_len);
        unsigned char key[32], pad[64], digest[32];
        memset(key, 0x5a, sizeof key);
        SHA256_CTX inner, outer, c;
        for (int k = 0; k < 64; k++) pad[k] = (unsigned char)((k < 32 ? key[k] : 0) ^ 0x36);
        SHA256_Init(&inner); SHA256_Update(&inner, pad, 64);
        for (int k = 0; k < 64; k++) pad[k] = (unsigned char)((k < 32 ? key[k] : 0) ^ 0x5c);
        SHA256_Init(&outer); SHA256_Update(&outer, pad, 64);
        static const char hex[] = "0123456789abcdef";
        unsigned sink = 0;
        for (int i = 0; i < N + 2000; i++) {
            int64_t a = now_ns();
            SHA256_Init(&c); SHA256_Update(&c, canonical, canonical_len); SHA256_Final(digest, &c);
            for (int k = 0; k < 32; k++) { sts[sts_len - 64 + 2 * k] = hex[digest[k] >> 4]; sts[sts_len - 63 + 2 * k] = hex[digest[k] & 15]; }
            c = inner; SHA256_Update(&c, sts, sts_len); SHA256_Final(digest, &c);
            c = outer; SHA256_Update(&c, digest, 32); SHA256_Final(digest, &c);
            if (i >= 2000) t[i - 2000] = now_ns() - a;
            sink += digest[0];
        }
        report(sink == 0xffffffffu ? "" : "  crypto floor (OpenSSL)", t, N);
        r2_signed_free(s);
    }

    for (int i = 0; i < N; i++) {
        r2_signed *s;
        int64_t a = now_ns();
        int rc = r2_signer_presign(&s, signer, &req, 3600);
        t[i] = now_ns() - a;
        if (rc != R2_OK) return 1;
        r2_signed_free(s);
    }
    report("presign (signer)", t, N);

    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.account_id = "023e105f4ecef8ad9ca31a8372d0c353";
    o.access_key_id = so.access_key_id;
    o.secret_access_key = so.secret_access_key;
    r2_client *client;
    if (r2_client_new(&client, &o) != R2_OK) return 1;
    for (int i = 0; i < N; i++) {
        r2_buf url;
        int64_t a = now_ns();
        int rc = r2_client_presign(&url, client, "GET", "my-bucket", "photos/2025/12/cat.jpg", 3600, NULL);
        t[i] = now_ns() - a;
        if (rc != R2_OK) return 1;
        r2_buf_dispose(&url);
    }
    report("presign (client URL)", t, N);

    /* Key derivation: a new signing day each call defeats the cache. */
    for (int i = 0; i < N; i++) {
        r2_signed *s;
        req.unix_time = 1765713600 + (int64_t)(i + 1) * 86400;
        int64_t a = now_ns();
        int rc = r2_signer_sign(&s, signer, &req);
        t[i] = now_ns() - a;
        if (rc != R2_OK) return 1;
        r2_signed_free(s);
    }
    report("sign (new key each call)", t, N);

    r2_client_free(client);
    r2_signer_free(signer);
    return 0;
}
