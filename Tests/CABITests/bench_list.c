/* XML benchmark through r2.h: parse a 1000-object ListObjectsV2 body.
 * r2_xml_parse also renders the result as JSON, so this is an upper bound on
 * what a listing call spends in XML. Prints median and p99 in microseconds. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "r2.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
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
    free(xml);
    return 0;
}
