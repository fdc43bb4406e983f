/* r2 demo: one round trip through the C ABI against any S3-compatible endpoint.
 *
 * Reads R2_ENDPOINT, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY (and R2_ACCOUNT_ID,
 * R2_ALLOW_HTTP=1, R2_CA_BUNDLE as needed) and R2_DEMO_BUCKET. `make demo` starts
 * a local SeaweedFS and sets them. Without R2_DEMO_BUCKET it only signs and presigns.
 * Build: cc demo.c $(pkg-config --cflags --libs r2 libcurl) */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "r2.h"

static int fail(const char *what) {
    const r2_error *e = r2_error_last();
    fprintf(stderr, "%s failed: %s [%s, HTTP %d%s%s]\n", what, e->message, r2_status_string(e->code), e->http_status,
            e->request_id[0] ? ", request id " : "", e->request_id);
    return 1;
}

static size_t collect(char *p, size_t size, size_t n, void *userdata) {
    r2_buf *b = userdata;
    char *grown = realloc(b->ptr, b->size + size * n + 1);
    if (!grown) return 0;
    memcpy(grown + b->size, p, size * n);
    b->ptr = grown;
    b->size += size * n;
    b->ptr[b->size] = 0;
    return size * n;
}

/* Fetches a presigned URL with plain libcurl: no r2, no credentials. */
static long fetch(const char *url, r2_buf *body) {
    CURL *h = curl_easy_init();
    long status = 0;
    const char *ca = getenv("R2_CA_BUNDLE");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    if (ca && *ca) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    return status;
}

static int sign_only(void) {
    r2_client_options opts = R2_CLIENT_OPTIONS_INIT;
    opts.account_id = "0123456789abcdef0123456789abcdef";
    opts.access_key_id = "AKIDEXAMPLE";
    opts.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    r2_client *client = NULL;
    if (r2_client_new(&client, &opts) != R2_OK) return fail("r2_client_new");
    r2_buf url = {0};
    if (r2_client_presign(&url, client, "GET", "my-bucket", "photos/2026/cat.jpg", 3600, NULL) != R2_OK)
        return fail("r2_client_presign");
    printf("presigned GET (no network): %s\n", url.ptr);
    r2_buf_dispose(&url);
    r2_client_free(client);
    return 0;
}

int main(void) {
    printf("libr2 %s\n", r2_version_string());
    const char *bucket = getenv("R2_DEMO_BUCKET");
    if (!bucket || !*bucket) return sign_only();

    r2_client *client = NULL;
    if (r2_client_new_from_env(&client) != R2_OK) return fail("r2_client_new_from_env");
    printf("endpoint %s, bucket %s\n", getenv("R2_ENDPOINT"), bucket);
    const char *key = "demo/hello world+ünïcode.txt";
    const char *text = "Hello from r2: one core, many languages.\n";

    /* Put, with a content type and user metadata. */
    r2_header meta[] = {{"origin", "examples/c/demo.c"}};
    r2_put_options put = R2_PUT_OPTIONS_INIT;
    put.content_type = "text/plain; charset=utf-8";
    put.metadata = meta;
    put.metadata_count = 1;
    put.checksum = R2_CHECKSUM_SHA256;
    r2_object_info info = R2_OBJECT_INFO_INIT;
    if (r2_object_put(&info, client, bucket, key, (const uint8_t *)text, strlen(text), &put) != R2_OK)
        return fail("put");
    printf("put    %s: %zu bytes, etag %s\n", key, strlen(text), info.etag);
    r2_object_info_dispose(&info);

    /* Head. */
    if (r2_object_head(&info, client, bucket, key, NULL) != R2_OK) return fail("head");
    printf("head   %s: %lld bytes, %s, last modified %s, origin=%s\n", key, (long long)info.content_length,
           info.content_type, info.last_modified, info.metadata_count ? info.metadata[0].value : "?");
    r2_object_info_dispose(&info);

    /* Get a range. */
    r2_get_options get = R2_GET_OPTIONS_INIT;
    get.range = "bytes=0-15";
    r2_buf body = {0};
    if (r2_object_get(&body, &info, client, bucket, key, &get) != R2_OK) return fail("get range");
    printf("get    %s (%s): \"%s\" [%s]\n", key, get.range, body.ptr, info.content_range);
    r2_buf_dispose(&body);
    r2_object_info_dispose(&info);

    /* Copy. */
    const char *copy_key = "demo/copy of hello.txt";
    if (r2_object_copy(&info, client, bucket, key, bucket, copy_key, NULL) != R2_OK) return fail("copy");
    printf("copy   %s -> %s: etag %s\n", key, copy_key, info.etag);
    r2_object_info_dispose(&info);

    /* List. */
    r2_list_options list = R2_LIST_OPTIONS_INIT;
    list.prefix = "demo/";
    r2_list_result page = R2_LIST_RESULT_INIT;
    if (r2_list_objects(&page, client, bucket, &list) != R2_OK) return fail("list");
    printf("list   prefix %s: %zu objects\n", list.prefix, page.object_count);
    for (size_t i = 0; i < page.object_count; i++)
        printf("         %-32s %6llu bytes\n", page.objects[i].key, (unsigned long long)page.objects[i].size);
    r2_list_result_dispose(&page);

    /* Presign a GET and fetch it with plain HTTP, no r2 involved. */
    r2_buf url = {0};
    if (r2_client_presign(&url, client, "GET", bucket, key, 300, NULL) != R2_OK) return fail("presign");
    r2_buf fetched = {0};
    long status = fetch(url.ptr, &fetched);
    printf("fetch  presigned URL (300 s): HTTP %ld, %zu bytes, %s\n", status, fetched.size,
           fetched.ptr && strcmp(fetched.ptr, text) == 0 ? "same bytes" : "DIFFERENT BYTES");
    int ok = status == 200 && fetched.ptr && strcmp(fetched.ptr, text) == 0;
    free(fetched.ptr);
    r2_buf_dispose(&url);

    /* Delete both. */
    const char *keys[] = {key, copy_key};
    r2_delete_result deleted = R2_DELETE_RESULT_INIT;
    if (r2_object_delete_many(&deleted, client, bucket, keys, 2, NULL) != R2_OK) return fail("delete");
    printf("delete %zu deleted, %zu failed\n", deleted.deleted_count, deleted.error_count);
    r2_delete_result_dispose(&deleted);

    /* A missing object is a typed error, never a crash. */
    if (r2_object_head(&info, client, bucket, key, NULL) == R2_ERR_NO_SUCH_KEY)
        printf("head   after delete: %s (HTTP %d)\n", r2_status_string(r2_error_last()->code), r2_error_last()->http_status);
    r2_client_free(client);
    return ok ? 0 : 1;
}
