/* XML benchmark through r2.h: parse a 1000-object ListObjectsV2 body.
 * r2_xml_parse also renders the result as JSON, so this is an upper bound on
 * what a listing call spends in XML; then the whole r2_list_objects call with
 * its floor (expat alone) timed in the same rounds. Prints median and p99 in
 * microseconds. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define R2_EXPERIMENTAL /* r2_xml_parse */
#include "r2.h"

#include <expat.h>

static int cmp(const void *a, const void *b);

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static char *base64(const char *in, size_t n) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    const unsigned char *p = (const unsigned char *)in;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *o++ = a[v >> 18 & 63];
        *o++ = a[v >> 12 & 63];
        *o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? a[v & 63] : '=';
    }
    *o = 0;
    return out;
}

static double cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts);
static void on_end(void *ud, const XML_Char *name);
static void on_text(void *ud, const XML_Char *s, int len);

/* expat alone on the body: the floor of any listing (see bench_expat_floor). */
static void expat_once(const char *xml, size_t n) {
    XML_Parser p = XML_ParserCreate("UTF-8");
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    if (XML_Parse(p, xml, (int)n, 1) != XML_STATUS_OK) { fprintf(stderr, "expat failed\n"); exit(1); }
    XML_ParserFree(p);
}

/* The whole r2_list_objects call (replay transport, parse, C result) on one
 * recorded 1000-object page, served again and again. Each round also runs the
 * floor (expat alone) on the same body, so both see the same machine load;
 * both are timed in this thread's CPU time (the replay runs on the caller's
 * thread), so time the machine gives other processes does not count. */
static void bench_list_call(const char *xml, size_t n) {
    enum { RUNS = 200 };
    const char *path = "/tmp/r2-bench-list.json";
    FILE *f = fopen(path, "w");
    char *b64 = base64(xml, n);
    fprintf(f, "{\"format\":\"r2-cassette/1\",\"interactions\":[");
    for (int i = 0; i < RUNS + 10; i++)
        fprintf(f, "%s{\"operation\":\"ListObjectsV2\",\"request\":{\"method\":\"GET\",\"path\":\"/bench\","
                "\"query\":\"encoding-type=url&list-type=2\",\"headers\":[],\"body_size\":0},\"response\":{\"status\":200,"
                "\"headers\":[[\"Content-Type\",\"application/xml\"]],\"body_base64\":\"%s\",\"body_size\":%zu},\"latency_ms\":0}",
                i ? "," : "", b64, n);
    fprintf(f, "]}");
    fclose(f);
    free(b64);
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = "http://127.0.0.1:9";
    o.allow_http = true;
    o.access_key_id = "AKIDBENCH";
    o.secret_access_key = "bench";
    o.replay_path = path;
    r2_client *c = NULL;
    if (r2_client_new(&c, &o) != R2_OK) { fprintf(stderr, "client: %s\n", r2_error_last()->message); exit(1); }
    double t[RUNS], expat[RUNS];
    r2_list_result page = R2_LIST_RESULT_INIT;
    for (int i = 0; i < 10; i++) { r2_list_objects(&page, c, "bench", NULL); r2_list_result_dispose(&page); }
    for (int i = 0; i < RUNS; i++) {
        double t0 = cpu_us();
        expat_once(xml, n);
        expat[i] = cpu_us() - t0;
        t0 = cpu_us();
        if (r2_list_objects(&page, c, "bench", NULL) != R2_OK || page.object_count != 1000) {
            fprintf(stderr, "list: %s\n", r2_error_last()->message);
            exit(1);
        }
        t[i] = cpu_us() - t0;
        r2_list_result_dispose(&page);
    }
    qsort(t, RUNS, sizeof t[0], cmp);
    qsort(expat, RUNS, sizeof expat[0], cmp);
    printf("r2_list_objects on a replayed 1000-object page (sign, replay, parse, C result): median %.0f us, p99 %.0f us "
           "(thread CPU)\n", t[RUNS / 2], t[RUNS * 99 / 100]);
    printf("  floor, same rounds: expat alone, empty handlers: median %.0f us, p99 %.0f us (thread CPU); "
           "r2_list_objects / floor = %.2f\n", expat[RUNS / 2], expat[RUNS * 99 / 100], t[RUNS / 2] / expat[RUNS / 2]);
    r2_client_free(c);
    remove(path);
}

/* The floor: expat alone on the same body (empty handlers, one XML_Parse),
 * without and with namespace processing. */
static void on_start(void *ud, const XML_Char *name, const XML_Char **atts) { (void)ud; (void)name; (void)atts; }
static void on_end(void *ud, const XML_Char *name) { (void)ud; (void)name; }
static void on_text(void *ud, const XML_Char *s, int len) { (void)ud; (void)s; (void)len; }

static void bench_expat_floor(const char *xml, size_t n, int ns) {
    enum { RUNS = 300 };
    double t[RUNS];
    for (int i = 0; i < RUNS + 20; i++) {
        double t0 = now_us();
        XML_Parser p = ns ? XML_ParserCreateNS("UTF-8", ':') : XML_ParserCreate("UTF-8");
        XML_SetElementHandler(p, on_start, on_end);
        XML_SetCharacterDataHandler(p, on_text);
        if (XML_Parse(p, xml, (int)n, 1) != XML_STATUS_OK) { fprintf(stderr, "expat failed\n"); exit(1); }
        XML_ParserFree(p);
        if (i >= 20) t[i - 20] = now_us() - t0;
    }
    qsort(t, RUNS, sizeof t[0], cmp);
    printf("  floor: expat alone, empty handlers%s: median %.0f us, p99 %.0f us\n", ns ? ", namespaces" : "",
           t[RUNS / 2], t[RUNS * 99 / 100]);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void) {
    size_t cap = 1 << 20, n = 0;
    char *xml = malloc(cap);
    n += (size_t)sprintf(xml + n, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                         "<Name>bench</Name><Prefix>photos/</Prefix><MaxKeys>1000</MaxKeys><KeyCount>1000</KeyCount>"
                         "<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
                         "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>");
    for (int i = 0; i < 1000; i++)
        n += (size_t)sprintf(xml + n, "<Contents><Key>photos/2026/11/IMG%%20%05d%%2B%%C3%%A9.jpg</Key>"
                             "<LastModified>2026-11-29T12:%02d:%02d.000Z</LastModified>"
                             "<ETag>&quot;%032x&quot;</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>",
                             i, i / 60 % 60, i % 60, (unsigned)i * 2654435761u, 1000 + i * 37);
    n += (size_t)sprintf(xml + n, "</ListBucketResult>");

    enum { RUNS = 300 };
    double t[RUNS];
    r2_buf out = {0};
    for (int i = 0; i < 20; i++) {  /* warm up */
        if (r2_xml_parse(&out, "ListObjectsV2", (const uint8_t *)xml, n) != R2_OK) {
            fprintf(stderr, "parse: %s\n", r2_error_last()->message);
            return 1;
        }
        r2_buf_dispose(&out);
    }
    for (int i = 0; i < RUNS; i++) {
        double t0 = now_us();
        r2_xml_parse(&out, "ListObjectsV2", (const uint8_t *)xml, n);
        t[i] = now_us() - t0;
        r2_buf_dispose(&out);
    }
    qsort(t, RUNS, sizeof t[0], cmp);
    printf("parse ListObjectsV2, 1000 objects (%zu KiB) + JSON: median %.0f us, p99 %.0f us\n", n / 1024, t[RUNS / 2],
           t[RUNS * 99 / 100]);
    bench_list_call(xml, n);
    bench_expat_floor(xml, n, 0);
    bench_expat_floor(xml, n, 1);
    free(xml);
    return 0;
}
