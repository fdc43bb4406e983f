/* Parses one S3 response body through the r2 C ABI and prints the result.
 *
 *   parse_xml TYPE FILE
 *
 * TYPE is a document type r2_xml_parse() knows (ListObjectsV2, Error,
 * InitiateMultipartUpload, CompleteMultipartUpload, ListParts,
 * ListMultipartUploads, CopyObject, DeleteResult); FILE is the raw body.
 * On success prints the JSON rendering to stdout and exits 0; on failure
 * prints one line "parse_xml: FILE: STATUS: message" to stderr and exits 1
 * (2 for a usage or I/O error).
 */
#define R2_EXPERIMENTAL /* r2_xml_parse */
#include "r2.h"

#include <stdio.h>
#include <stdlib.h>

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) { free(buf); fclose(f); return NULL; }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); return NULL; }
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: parse_xml TYPE FILE\n");
        return 2;
    }
    size_t len = 0;
    uint8_t *data = read_file(argv[2], &len);
    if (!data) {
        fprintf(stderr, "parse_xml: cannot read %s\n", argv[2]);
        return 2;
    }
    r2_buf json = { NULL, 0 };
    int rc = r2_xml_parse(&json, argv[1], data, len);
    free(data);
    if (rc != R2_OK) {
        const r2_error *e = r2_error_last();
        fprintf(stderr, "parse_xml: %s: %s: %s\n", argv[2], r2_status_string(rc), e->message);
        return 1;
    }
    fwrite(json.ptr, 1, json.size, stdout);
    putchar('\n');
    r2_buf_dispose(&json);
    return 0;
}
