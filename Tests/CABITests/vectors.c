/* Runs a SigV4 test-vector file (the format of Tests/Fixtures/testdata/sigv4) through
 * the r2 C ABI and prints one line per case:
 *   PASS name | FAIL name: why | SKIP name: not S3-applicable
 * and last "N passed, M failed, K skipped". Exit status 1 if any case failed.
 *
 * How a case becomes a request:
 * - header cases: the request's headers up to the Authorization header are
 *   signed (headers listed after it were added by the HTTP layer after
 *   signing, e.g. Content-Length in botocore captures); an
 *   x-amz-content-sha256 header gives the payload hash, else the body is
 *   hashed; the signer adds x-amz-content-sha256 for service "s3" (and for
 *   suite cases with sign_body); a session token not signed in the case
 *   (session_token_signed=false / omit_session_token) is left out.
 * - presigned cases: request.headers or headers_client_must_send are signed;
 *   the query comes from request.query or, for botocore captures, from the
 *   boto3 parameters that become query parameters (VersionId, Response*).
 * - the Authorization header may differ only in the space after its commas
 *   (the AWS documentation writes none; S3 accepts both).
 * - suite cases carrying expected_presigned are presigned as well and both
 *   results must match.
 */
#define _DEFAULT_SOURCE
#include "r2.h"
#include "json.h"

#include <time.h>

static int failed_reason(const char *name, const char *what, const char *got, const char *want) {
    printf("FAIL %s: %s differs\n  got:  ", name, what);
    for (const char *p = got ? got : "(null)"; *p; p++) putchar(*p == '\n' ? '|' : *p);
    printf("\n  want: ");
    for (const char *p = want; *p; p++) putchar(*p == '\n' ? '|' : *p);
    printf("\n");
    return 1;
}

static int64_t parse_time(const char *iso) {
    struct tm tmv;
    memset(&tmv, 0, sizeof tmv);
    if (sscanf(iso, "%d-%d-%dT%d:%d:%d", &tmv.tm_year, &tmv.tm_mon, &tmv.tm_mday, &tmv.tm_hour, &tmv.tm_min, &tmv.tm_sec) != 6)
        return -1;
    tmv.tm_year -= 1900;
    tmv.tm_mon -= 1;
    return (int64_t)timegm(&tmv);
}

static uint8_t *base64_decode(const char *s, size_t *out_len) {
    size_t n = strlen(s), o = 0;
    uint8_t *out = malloc(n * 3 / 4 + 3);
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; out[o++] = (uint8_t)(acc >> bits); }
    }
    *out_len = o;
    return out;
}

/* Appends s percent-encoding only the bytes that would break a raw query. */
static void append_query_part(char *buf, size_t cap, const char *s) {
    size_t n = strlen(buf);
    for (; *s && n + 4 < cap; s++) {
        if (*s == '%' || *s == '&' || *s == '=' || *s == '#' || *s == '+') n += (size_t)snprintf(buf + n, cap - n, "%%%02X", (unsigned char)*s);
        else buf[n++] = *s;
    }
    buf[n] = 0;
}

static const struct { const char *param, *query; } PARAM_QUERY[] = {
    {"VersionId", "versionId"}, {"PartNumber", "partNumber"}, {"UploadId", "uploadId"},
    {"ResponseCacheControl", "response-cache-control"}, {"ResponseContentDisposition", "response-content-disposition"},
    {"ResponseContentEncoding", "response-content-encoding"}, {"ResponseContentLanguage", "response-content-language"},
    {"ResponseContentType", "response-content-type"}, {"ResponseExpires", "response-expires"},
    /* listings and multipart (bucket-level and subresource operations) */
    {"Prefix", "prefix"}, {"Delimiter", "delimiter"}, {"ContinuationToken", "continuation-token"},
    {"EncodingType", "encoding-type"}, {"MaxKeys", "max-keys"}, {"StartAfter", "start-after"},
    {"FetchOwner", "fetch-owner"}, {"Marker", "marker"}, {"MaxParts", "max-parts"},
    {"PartNumberMarker", "part-number-marker"}, {"KeyMarker", "key-marker"}, {"UploadIdMarker", "upload-id-marker"},
    {"MaxUploads", "max-uploads"},
};

/* Query parameters an operation always carries (boto3 operation names and S3's). */
static const struct { const char *operation, *query; } OPERATION_QUERY[] = {
    {"list_objects_v2", "list-type=2"}, {"ListObjectsV2", "list-type=2"},
    {"create_multipart_upload", "uploads="}, {"CreateMultipartUpload", "uploads="},
    {"list_multipart_uploads", "uploads="}, {"ListMultipartUploads", "uploads="},
    {"delete_objects", "delete="}, {"DeleteObjects", "delete="},
    {"get_bucket_cors", "cors="}, {"GetBucketCors", "cors="}, {"put_bucket_cors", "cors="}, {"PutBucketCors", "cors="},
    {"get_bucket_lifecycle_configuration", "lifecycle="}, {"GetBucketLifecycleConfiguration", "lifecycle="},
    {"get_bucket_location", "location="}, {"GetBucketLocation", "location="},
    {"get_bucket_encryption", "encryption="}, {"GetBucketEncryption", "encryption="},
};

/* Compares two URLs whose query parameters may come in any order: the parts
 * before '?' must be equal and the '&'-separated parameters the same multiset. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int same_url(const char *a, const char *b) {
    const char *qa = strchr(a, '?'), *qb = strchr(b, '?');
    size_t la = qa ? (size_t)(qa - a) : strlen(a), lb = qb ? (size_t)(qb - b) : strlen(b);
    if (la != lb || strncmp(a, b, la)) return 0;
    if (!qa || !qb) return !qa && !qb;
    char ca[8192], cb[8192];
    snprintf(ca, sizeof ca, "%s", qa + 1);
    snprintf(cb, sizeof cb, "%s", qb + 1);
    char *pa[256], *pb[256];
    size_t na = 0, nb = 0;
    for (char *t = strtok(ca, "&"); t && na < 256; t = strtok(NULL, "&")) pa[na++] = t;
    for (char *t = strtok(cb, "&"); t && nb < 256; t = strtok(NULL, "&")) pb[nb++] = t;
    if (na != nb) return 0;
    qsort(pa, na, sizeof *pa, cmp_str);
    qsort(pb, nb, sizeof *pb, cmp_str);
    for (size_t i = 0; i < na; i++) if (strcmp(pa[i], pb[i])) return 0;
    return 1;
}

static const char *str_or(const jval *v, const char *fallback) { const char *s = j_str(v); return s ? s : fallback; }

typedef struct {
    int pass, fail, skip;
} tally;

/* Builds an r2_header array from [[name, value], ...], stopping at Authorization. */
static size_t collect_headers(const jval *arr, r2_header *out, size_t cap, const char **content_sha) {
    size_t n = 0;
    if (!arr || arr->type != J_ARR) return 0;
    for (size_t i = 0; i < arr->len && n < cap; i++) {
        const jval *pair = arr->items[i];
        const char *name = j_str(pair->items[0]), *value = j_str(pair->items[1]);
        if (!strcasecmp(name, "Authorization")) break;
        if (content_sha && !strcasecmp(name, "x-amz-content-sha256")) *content_sha = value;
        out[n].name = name;
        out[n].value = value;
        n++;
    }
    return n;
}

static int check(const char *name, const char *what, const char *got, const jval *want) {
    if (!j_str(want)) return 0;
    if (got && !strcmp(got, j_str(want))) return 0;
    return failed_reason(name, what, got, j_str(want));
}

/* The AWS documentation writes the Authorization header with no space after
 * its commas, botocore and r2 with one; S3 accepts both. Everything else, the
 * signature included, is compared byte for byte. */
static int same_authorization(const char *a, const char *b) {
    while (*a && *b) {
        if (*a == ',' && *b == ',') {
            a++; b++;
            while (*a == ' ') a++;
            while (*b == ' ') b++;
            continue;
        }
        if (*a++ != *b++) return 0;
    }
    return *a == *b;
}

static int check_authorization(const char *name, const char *got, const jval *want) {
    if (!j_str(want)) return 0;
    if (got && same_authorization(got, j_str(want))) return 0;
    return failed_reason(name, "authorization", got, j_str(want));
}

static int run_case(const jval *file, const jval *c, tally *t) {
    const char *name = str_or(j_get(c, "name"), "?");
    const jval *applicable = j_get(c, "s3_applicable");
    if (applicable && applicable->type == J_BOOL && !applicable->boolean) {
        printf("SKIP %s: not S3-applicable\n", name);
        t->skip++;
        return 0;
    }
    const jval *req = j_get(c, "request"), *creds = j_get(c, "credentials"), *opts = j_get(c, "options");
    const jval *expected = j_get(c, "expected");
    const char *kind = str_or(j_get(c, "kind"), "header");
    const char *service = str_or(j_get(c, "service"), str_or(j_get(file, "service"), "s3"));
    const char *region = str_or(j_get(c, "region"), str_or(j_get(file, "region"), "auto"));
    const char *ts = str_or(j_get(c, "timestamp"), str_or(j_get(file, "timestamp"), ""));

    int omit_token = 0, sign_body = 0;
    if (opts) {
        const jval *v = j_get(opts, "session_token_signed");
        if (v && v->type == J_BOOL && !v->boolean) omit_token = 1;
        v = j_get(opts, "omit_session_token");
        if (v && v->type == J_BOOL && v->boolean) omit_token = 1;
        v = j_get(opts, "sign_body");
        if (v && v->type == J_BOOL && v->boolean) sign_body = 1;
    }

    r2_signer_options so = R2_SIGNER_OPTIONS_INIT;
    so.access_key_id = j_str(j_get(creds, "access_key"));
    so.secret_access_key = j_str(j_get(creds, "secret_key"));
    so.session_token = j_str(j_get(creds, "session_token"));
    so.region = region;
    so.service = service;
    r2_signer *signer = NULL;
    if (r2_signer_new(&signer, &so) != R2_OK) {
        printf("FAIL %s: r2_signer_new: %s\n", name, r2_error_last()->message);
        t->fail++;
        return 1;
    }

    r2_header headers[64];
    const char *content_sha = NULL;
    const jval *hdr_list = j_get(req, "headers");
    if (!hdr_list) hdr_list = j_get(req, "headers_client_must_send");
    size_t header_count = collect_headers(hdr_list, headers, 64, strcmp(kind, "presigned") ? &content_sha : NULL);

    const char *body_s = str_or(j_get(req, "body"), "");
    size_t body_len = strlen(body_s);
    uint8_t *body = (uint8_t *)body_s;
    if (!strcmp(str_or(j_get(req, "body_encoding"), "utf-8"), "base64")) body = base64_decode(body_s, &body_len);

    char query[4096] = "";
    const char *q = j_str(j_get(req, "query"));
    if (q) {
        snprintf(query, sizeof query, "%s", q);
    } else if (!strcmp(kind, "presigned")) {
        const char *operation = str_or(j_get(c, "operation"), "");
        for (size_t i = 0; i < sizeof OPERATION_QUERY / sizeof OPERATION_QUERY[0]; i++)
            if (!strcmp(operation, OPERATION_QUERY[i].operation)) snprintf(query, sizeof query, "%s", OPERATION_QUERY[i].query);
        const jval *params = j_get(c, "params");
        for (size_t i = 0; params && i < sizeof PARAM_QUERY / sizeof PARAM_QUERY[0]; i++) {
            const jval *v = j_get(params, PARAM_QUERY[i].param);
            char num[32];
            const char *value = j_str(v);
            if (v && v->type == J_NUM) { snprintf(num, sizeof num, "%.0f", v->num); value = num; }
            if (v && v->type == J_BOOL) value = v->boolean ? "true" : "false";
            if (!value) continue;
            if (query[0]) strcat(query, "&");
            append_query_part(query, sizeof query, PARAM_QUERY[i].query);
            strcat(query, "=");
            append_query_part(query, sizeof query, value);
        }
    }

    r2_sign_request sr = R2_SIGN_REQUEST_INIT;
    sr.method = j_str(j_get(req, "method"));
    sr.path = j_str(j_get(req, "path"));
    sr.query = query[0] ? query : NULL;
    sr.headers = headers;
    sr.header_count = header_count;
    sr.body = body;
    sr.body_len = body_len;
    sr.payload_hash = content_sha;
    sr.unix_time = parse_time(ts);
    sr.omit_content_sha256_header = !(!strcmp(service, "s3") || sign_body);
    sr.omit_session_token = omit_token;

    int bad = 0;
    r2_signed *result = NULL;
    if (!strcmp(kind, "presigned")) {
        const jval *exp_in = j_get(c, "expires_in");
        int rc = r2_signer_presign(&result, signer, &sr, exp_in ? (int64_t)exp_in->num : 3600);
        if (rc != R2_OK) {
            printf("FAIL %s: r2_signer_presign: %s\n", name, r2_error_last()->message);
            bad = 1;
        } else {
            bad |= check(name, "canonical request", r2_signed_canonical_request(result), j_get(expected, "canonical_request"));
            bad |= !bad && check(name, "string to sign", r2_signed_string_to_sign(result), j_get(expected, "string_to_sign"));
            bad |= !bad && check(name, "signature", r2_signed_signature(result), j_get(expected, "signature"));
            const char *want_url = j_str(j_get(expected, "url"));
            if (!bad && want_url) {
                const char *base = j_str(j_get(req, "url_unsigned_base"));
                char url[8192];
                if (base) {
                    snprintf(url, sizeof url, "%s?%s", base, r2_signed_query(result));
                } else {
                    const char *host = "";
                    for (size_t i = 0; i < header_count; i++)
                        if (!strcasecmp(headers[i].name, "host")) host = headers[i].value;
                    snprintf(url, sizeof url, "https://%s%s?%s", host, sr.path, r2_signed_query(result));
                }
                if (!same_url(url, want_url)) bad |= failed_reason(name, "url", url, want_url);
            }
        }
    } else {
        int rc = r2_signer_sign(&result, signer, &sr);
        if (rc != R2_OK) {
            printf("FAIL %s: r2_signer_sign: %s\n", name, r2_error_last()->message);
            bad = 1;
        } else {
            bad |= check(name, "canonical request", r2_signed_canonical_request(result), j_get(expected, "canonical_request"));
            bad |= !bad && check(name, "string to sign", r2_signed_string_to_sign(result), j_get(expected, "string_to_sign"));
            bad |= !bad && check_authorization(name, r2_signed_authorization(result), j_get(expected, "authorization"));
            bad |= !bad && check(name, "signature", r2_signed_signature(result), j_get(expected, "signature"));
        }
        const jval *ep = j_get(c, "expected_presigned");
        if (!bad && ep) {
            r2_signed *pre = NULL;
            const jval *exp_in = j_get(c, "expires_in");
            /* A presigned request carries no X-Amz-Date header; the suite's
               request lists none either. */
            if (r2_signer_presign(&pre, signer, &sr, exp_in ? (int64_t)exp_in->num : 3600) != R2_OK) {
                printf("FAIL %s: r2_signer_presign: %s\n", name, r2_error_last()->message);
                bad = 1;
            } else {
                bad |= check(name, "presigned canonical request", r2_signed_canonical_request(pre), j_get(ep, "canonical_request"));
                bad |= !bad && check(name, "presigned string to sign", r2_signed_string_to_sign(pre), j_get(ep, "string_to_sign"));
                bad |= !bad && check(name, "presigned signature", r2_signed_signature(pre), j_get(ep, "signature"));
            }
            r2_signed_free(pre);
        }
    }
    r2_signed_free(result);
    r2_signer_free(signer);
    if (body != (uint8_t *)body_s) free(body);
    if (bad) {
        t->fail++;
        return 1;
    }
    printf("PASS %s\n", name);
    t->pass++;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s VECTORS.json\n", argv[0]);
        return 2;
    }
    if (r2_version_number() != R2_VERSION_NUMBER) {
        fprintf(stderr, "header version %d but library version %u\n", R2_VERSION_NUMBER, r2_version_number());
        return 2;
    }
    const char *err = NULL;
    jval *file = j_parse_file(argv[1], &err);
    if (!file) {
        fprintf(stderr, "%s: %s\n", argv[1], err ? err : "parse error");
        return 2;
    }
    const jval *cases = j_get(file, "cases");
    if (!cases || cases->type != J_ARR) {
        fprintf(stderr, "%s: no \"cases\" array\n", argv[1]);
        return 2;
    }
    tally t = {0, 0, 0};
    for (size_t i = 0; i < cases->len; i++) run_case(file, cases->items[i], &t);
    printf("%d passed, %d failed, %d skipped\n", t.pass, t.fail, t.skip);
    return t.fail ? 1 : 0;
}
