/* The C ABI under misuse (issue 15): every entry point that takes a handle,
 * given NULL, a freed handle, a handle of another type and a pointer r2 never
 * handed out; invalid UTF-8 in every string; sizes at SIZE_MAX; option structs
 * of version 0 and 999. Each must be a clean R2_ERR_INVALID_ARGUMENT (or the
 * documented no-op), never a crash and never a request: the client points at
 * 127.0.0.1:9, so anything that got as far as the network would fail with
 * another code. Prints "N passed, M failed"; exits 1 on any failure. */
#define _DEFAULT_SOURCE
#define R2_EXPERIMENTAL /* r2_xml_parse */
#include "r2.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define INVALID(call, what)                                                                              \
    do {                                                                                                 \
        int32_t rc_ = (call);                                                                            \
        CHECK(rc_ == R2_ERR_INVALID_ARGUMENT && r2_error_last()->message[0] != '\0',                     \
              "%s: %s (%s)", what, r2_status_string(rc_), r2_error_last()->message);                     \
    } while (0)

static const char *BAD_UTF8 = "bad\xff\xfe" "utf8";
static const char *OVERLONG = "\xc0\xaf";  /* an overlong "/" */
static const char *SURROGATE = "\xed\xa0\x80";

static int32_t write_nothing(const uint8_t *d, size_t n, void *u) { (void)d; (void)n; (void)u; return 0; }
static int64_t read_nothing(uint8_t *d, size_t n, void *u) { (void)d; (void)n; (void)u; return 0; }

/* Every call that takes an r2_client, with `c` as the client. */
static void client_calls(r2_client *c, const char *what) {
    char label[128];
#define CALL(expr, name) do { snprintf(label, sizeof label, "%s: %s", name, what); INVALID(expr, label); } while (0)
    r2_buf buf = {NULL, 0};
    r2_object_info info = R2_OBJECT_INFO_INIT;
    r2_list_result list = R2_LIST_RESULT_INIT;
    r2_delete_result del = R2_DELETE_RESULT_INIT;
    r2_multipart_part_list parts = R2_MULTIPART_PART_LIST_INIT;
    r2_multipart_upload_list uploads = R2_MULTIPART_UPLOAD_LIST_INIT;
    r2_list_iter *iter = NULL;
    int32_t state;
    const char *keys[1] = {"k"};
    r2_completed_part part = {1, "\"e\""};
    CALL(r2_client_presign(&buf, c, "GET", "bucket", "k", 60, NULL), "r2_client_presign");
    char url[1024];
    size_t url_len = 0;
    CALL(r2_client_presign_into(url, sizeof url, &url_len, c, "GET", "bucket", "k", 60, NULL), "r2_client_presign_into");
    CALL(r2_client_breaker_state(&state, c), "r2_client_breaker_state");
    CALL(r2_client_metrics_json(&buf, c), "r2_client_metrics_json");
    CALL(r2_client_metrics_prometheus(&buf, c), "r2_client_metrics_prometheus");
    CALL(r2_object_put(&info, c, "bucket", "k", (const uint8_t *)"x", 1, NULL), "r2_object_put");
    CALL(r2_object_put_stream(&info, c, "bucket", "k", 1, read_nothing, NULL, NULL), "r2_object_put_stream");
    CALL(r2_object_get(&buf, &info, c, "bucket", "k", NULL), "r2_object_get");
    CALL(r2_object_get_stream(&info, c, "bucket", "k", write_nothing, NULL, NULL), "r2_object_get_stream");
    CALL(r2_object_head(&info, c, "bucket", "k", NULL), "r2_object_head");
    CALL(r2_object_delete(c, "bucket", "k"), "r2_object_delete");
    CALL(r2_object_delete_many(&del, c, "bucket", keys, 1, NULL), "r2_object_delete_many");
    CALL(r2_object_copy(&info, c, "bucket", "a", "bucket", "b", NULL), "r2_object_copy");
    CALL(r2_list_objects(&list, c, "bucket", NULL), "r2_list_objects");
    CALL(r2_list_iter_new(&iter, c, "bucket", NULL), "r2_list_iter_new");
    CALL(r2_multipart_create(&buf, c, "bucket", "k", NULL), "r2_multipart_create");
    CALL(r2_multipart_upload_part(&buf, c, "bucket", "k", "u", 1, (const uint8_t *)"x", 1, NULL), "r2_multipart_upload_part");
    CALL(r2_multipart_upload_part_copy(&buf, c, "bucket", "k", "u", 1, "bucket", "a", 0, 0, NULL), "r2_multipart_upload_part_copy");
    CALL(r2_multipart_complete(&info, c, "bucket", "k", "u", &part, 1, NULL), "r2_multipart_complete");
    CALL(r2_multipart_abort(c, "bucket", "k", "u"), "r2_multipart_abort");
    CALL(r2_multipart_list_parts(&parts, c, "bucket", "k", "u", NULL), "r2_multipart_list_parts");
    CALL(r2_multipart_list_uploads(&uploads, c, "bucket", NULL), "r2_multipart_list_uploads");
    CALL(r2_transfer_upload_file(&info, c, "bucket", "k", "/dev/null", NULL), "r2_transfer_upload_file");
    CALL(r2_transfer_upload_buffer(&info, c, "bucket", "k", (const uint8_t *)"x", 1, NULL), "r2_transfer_upload_buffer");
    CALL(r2_transfer_upload_stream(&info, c, "bucket", "k", 1, read_nothing, NULL, NULL), "r2_transfer_upload_stream");
    CALL(r2_transfer_download_file(&info, c, "bucket", "k", "/tmp/r2-misuse-never", NULL), "r2_transfer_download_file");
    CALL(r2_transfer_download_stream(&info, c, "bucket", "k", write_nothing, NULL, NULL), "r2_transfer_download_stream");
    CALL(r2_transfer_copy(&info, c, "bucket", "a", "bucket", "b", NULL), "r2_transfer_copy");
#undef CALL
}

/* Every string argument of the object calls, one at a time, as invalid UTF-8. */
static void bad_strings(r2_client *c, const char *bad, const char *what) {
    char label[128];
#define CALL(expr, name) do { snprintf(label, sizeof label, "%s: %s", name, what); INVALID(expr, label); } while (0)
    r2_buf buf = {NULL, 0};
    r2_object_info info = R2_OBJECT_INFO_INIT;
    r2_list_result list = R2_LIST_RESULT_INIT;
    r2_multipart_upload_list uploads = R2_MULTIPART_UPLOAD_LIST_INIT;
    r2_multipart_part_list parts = R2_MULTIPART_PART_LIST_INIT;
    r2_delete_result del = R2_DELETE_RESULT_INIT;
    const char *keys[2] = {"ok", bad};
    r2_completed_part part = {1, bad};
    CALL(r2_client_presign(&buf, c, bad, "bucket", "k", 60, NULL), "presign method");
    CALL(r2_client_presign(&buf, c, "GET", bad, "k", 60, NULL), "presign bucket");
    CALL(r2_client_presign(&buf, c, "GET", "bucket", bad, 60, NULL), "presign key");
    char url[1024];
    size_t url_len = 0;
    CALL(r2_client_presign_into(url, sizeof url, &url_len, c, bad, "bucket", "k", 60, NULL), "presign_into method");
    CALL(r2_client_presign_into(url, sizeof url, &url_len, c, "GET", bad, "k", 60, NULL), "presign_into bucket");
    CALL(r2_client_presign_into(url, sizeof url, &url_len, c, "GET", "bucket", bad, 60, NULL), "presign_into key");
    CALL(r2_object_put(&info, c, bad, "k", (const uint8_t *)"x", 1, NULL), "put bucket");
    CALL(r2_object_put(&info, c, "bucket", bad, (const uint8_t *)"x", 1, NULL), "put key");
    CALL(r2_object_get(&buf, &info, c, "bucket", bad, NULL), "get key");
    CALL(r2_object_head(&info, c, "bucket", bad, NULL), "head key");
    CALL(r2_object_delete(c, "bucket", bad), "delete key");
    CALL(r2_object_delete_many(&del, c, "bucket", keys, 2, NULL), "delete keys[1]");
    CALL(r2_object_copy(&info, c, "bucket", bad, "bucket", "b", NULL), "copy source key");
    CALL(r2_object_copy(&info, c, "bucket", "a", "bucket", bad, NULL), "copy key");
    CALL(r2_multipart_create(&buf, c, "bucket", bad, NULL), "multipart key");
    CALL(r2_multipart_abort(c, "bucket", "k", bad), "abort upload id");
    CALL(r2_multipart_complete(&info, c, "bucket", "k", "u", &part, 1, NULL), "complete etag");
    CALL(r2_multipart_list_parts(&parts, c, "bucket", "k", bad, NULL), "list parts upload id");
    CALL(r2_multipart_list_uploads(&uploads, c, "bucket", &(r2_list_uploads_options){R2_LIST_UPLOADS_OPTIONS_VERSION, bad}), "list uploads prefix");
    CALL(r2_transfer_upload_file(&info, c, "bucket", "k", bad, NULL), "upload path");
    CALL(r2_transfer_download_file(&info, c, "bucket", "k", bad, NULL), "download path");
    CALL(r2_bucket_validate(bad), "validate bucket");
    CALL(r2_key_validate(bad), "validate key");
    r2_put_options put = R2_PUT_OPTIONS_INIT;
    put.content_type = bad;
    CALL(r2_object_put(&info, c, "bucket", "k", (const uint8_t *)"x", 1, &put), "put content_type");
    r2_header meta[1] = {{"m", NULL}};
    meta[0].value = bad;
    put = (r2_put_options)R2_PUT_OPTIONS_INIT;
    put.metadata = meta;
    put.metadata_count = 1;
    CALL(r2_object_put(&info, c, "bucket", "k", (const uint8_t *)"x", 1, &put), "put metadata value");
    r2_get_options get = R2_GET_OPTIONS_INIT;
    get.if_match = bad;
    CALL(r2_object_get(&buf, &info, c, "bucket", "k", &get), "get if_match");
    r2_list_options lo = R2_LIST_OPTIONS_INIT;
    lo.prefix = bad;
    CALL(r2_list_objects(&list, c, "bucket", &lo), "list prefix");
    r2_client_options co = R2_CLIENT_OPTIONS_INIT;
    co.access_key_id = "AKID";
    co.secret_access_key = bad;
    co.endpoint = "http://127.0.0.1:9";
    co.allow_http = true;
    r2_client *nc = NULL;
    CALL(r2_client_new(&nc, &co), "client secret");
    r2_buf json = {NULL, 0};
    CALL(r2_xml_parse(&json, bad, (const uint8_t *)"<a/>", 4), "xml type");
#undef CALL
}

static void option_versions(r2_client *c) {
    const uint32_t versions[] = {0, 999};
    for (int i = 0; i < 2; i++) {
        uint32_t v = versions[i];
        char label[64];
        r2_client_options co;
        r2_put_options po;
        r2_get_options go;
        r2_list_options lo;
        r2_copy_options cpo;
        r2_transfer_options to;
        r2_presign_options pso;
        r2_signer_options so;
        r2_sign_request sr;
        r2_delete_many_options dmo;
        r2_part_options pto;
        r2_complete_options cmo;
        r2_list_parts_options lpo;
        r2_list_uploads_options luo;
        snprintf(label, sizeof label, "_init with version %u", v);
        INVALID(r2_delete_many_options_init(&dmo, v), label);
        INVALID(r2_part_options_init(&pto, v), label);
        INVALID(r2_complete_options_init(&cmo, v), label);
        INVALID(r2_list_parts_options_init(&lpo, v), label);
        INVALID(r2_list_uploads_options_init(&luo, v), label);
        INVALID(r2_client_options_init(&co, v), label);
        INVALID(r2_put_options_init(&po, v), label);
        INVALID(r2_get_options_init(&go, v), label);
        INVALID(r2_list_options_init(&lo, v), label);
        INVALID(r2_copy_options_init(&cpo, v), label);
        INVALID(r2_transfer_options_init(&to, v), label);
        INVALID(r2_presign_options_init(&pso, v), label);
        INVALID(r2_signer_options_init(&so, v), label);
        INVALID(r2_sign_request_init(&sr, v), label);
        snprintf(label, sizeof label, "an options struct of version %u", v);
        r2_client_options co2 = R2_CLIENT_OPTIONS_INIT;
        co2.version = v;
        r2_client *nc = NULL;
        INVALID(r2_client_new(&nc, &co2), label);
        r2_buf buf = {NULL, 0};
        r2_object_info info = R2_OBJECT_INFO_INIT;
        r2_list_result list = R2_LIST_RESULT_INIT;
        r2_put_options put = R2_PUT_OPTIONS_INIT;
        put.version = v;
        INVALID(r2_object_put(&info, c, "bucket", "k", (const uint8_t *)"x", 1, &put), label);
        r2_get_options get = R2_GET_OPTIONS_INIT;
        get.version = v;
        INVALID(r2_object_get(&buf, &info, c, "bucket", "k", &get), label);
        r2_list_options list_opts = R2_LIST_OPTIONS_INIT;
        list_opts.version = v;
        INVALID(r2_list_objects(&list, c, "bucket", &list_opts), label);
        r2_copy_options copy = R2_COPY_OPTIONS_INIT;
        copy.version = v;
        INVALID(r2_object_copy(&info, c, "bucket", "a", "bucket", "b", &copy), label);
        r2_transfer_options transfer = R2_TRANSFER_OPTIONS_INIT;
        transfer.version = v;
        INVALID(r2_transfer_upload_buffer(&info, c, "bucket", "k", (const uint8_t *)"x", 1, &transfer), label);
        r2_presign_options presign = R2_PRESIGN_OPTIONS_INIT;
        presign.version = v;
        INVALID(r2_client_presign(&buf, c, "GET", "bucket", "k", 60, &presign), label);
        r2_signer_options sopts = R2_SIGNER_OPTIONS_INIT;
        sopts.version = v;
        sopts.access_key_id = "AKID";
        sopts.secret_access_key = "secret";
        r2_signer *s = NULL;
        INVALID(r2_signer_new(&s, &sopts), label);
        const char *keys[1] = {"k"};
        r2_delete_result del = R2_DELETE_RESULT_INIT;
        r2_delete_many_options dm = R2_DELETE_MANY_OPTIONS_INIT;
        dm.version = v;
        INVALID(r2_object_delete_many(&del, c, "bucket", keys, 1, &dm), label);
        r2_part_options part = R2_PART_OPTIONS_INIT;
        part.version = v;
        INVALID(r2_multipart_upload_part(&buf, c, "bucket", "k", "u", 1, (const uint8_t *)"x", 1, &part), label);
        INVALID(r2_multipart_upload_part_copy(&buf, c, "bucket", "k", "u", 1, "bucket", "a", -1, -1, &part), label);
        r2_completed_part done = {1, "\"e\""};
        r2_complete_options complete = R2_COMPLETE_OPTIONS_INIT;
        complete.version = v;
        INVALID(r2_multipart_complete(&info, c, "bucket", "k", "u", &done, 1, &complete), label);
        r2_multipart_part_list parts = R2_MULTIPART_PART_LIST_INIT;
        r2_list_parts_options lp = R2_LIST_PARTS_OPTIONS_INIT;
        lp.version = v;
        INVALID(r2_multipart_list_parts(&parts, c, "bucket", "k", "u", &lp), label);
        r2_multipart_upload_list uploads = R2_MULTIPART_UPLOAD_LIST_INIT;
        r2_list_uploads_options lu = R2_LIST_UPLOADS_OPTIONS_INIT;
        lu.version = v;
        INVALID(r2_multipart_list_uploads(&uploads, c, "bucket", &lu), label);
    }
}

static void huge_sizes(r2_client *c) {
    r2_buf buf = {NULL, 0};
    r2_object_info info = R2_OBJECT_INFO_INIT;
    r2_delete_result del = R2_DELETE_RESULT_INIT;
    const char *keys[1] = {"k"};
    r2_completed_part part = {1, "\"e\""};
    const uint8_t x = 'x';
    INVALID(r2_object_put(&info, c, "bucket", "k", &x, SIZE_MAX, NULL), "put len SIZE_MAX");
    INVALID(r2_transfer_upload_buffer(&info, c, "bucket", "k", &x, SIZE_MAX, NULL), "upload_buffer len SIZE_MAX");
    INVALID(r2_multipart_upload_part(&buf, c, "bucket", "k", "u", 1, &x, SIZE_MAX, NULL), "upload_part len SIZE_MAX");
    INVALID(r2_object_delete_many(&del, c, "bucket", keys, SIZE_MAX, NULL), "objects_delete count SIZE_MAX");
    INVALID(r2_multipart_complete(&info, c, "bucket", "k", "u", &part, SIZE_MAX, NULL), "complete count SIZE_MAX");
    INVALID(r2_xml_parse(&buf, "ListObjectsV2", &x, SIZE_MAX), "xml_parse len SIZE_MAX");
    int32_t rc = r2_transfer_upload_stream(&info, c, "bucket", "k", INT64_MIN, read_nothing, NULL, NULL);
    CHECK(rc == R2_ERR_INVALID_ARGUMENT, "upload_stream length INT64_MIN: %s", r2_status_string(rc));
    r2_put_options put = R2_PUT_OPTIONS_INIT;
    r2_header meta[1] = {{"m", "v"}};
    put.metadata = meta;
    put.metadata_count = SIZE_MAX;
    INVALID(r2_object_put(&info, c, "bucket", "k", &x, 1, &put), "metadata_count SIZE_MAX");
}

/* r2_client_free while another thread is mid-request (waiting on a server
 * that accepted the connection and says nothing): the call runs on its own
 * reference and ends with its own error (a timeout), not a crash. */
struct inflight { r2_client *client; int32_t rc; };
static void *get_in_flight(void *arg) {
    struct inflight *f = arg;
    r2_buf body = {NULL, 0};
    f->rc = r2_object_get(&body, NULL, f->client, "bucket", "k", NULL);
    r2_buf_dispose(&body);
    return NULL;
}

static void free_mid_request(void) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    CHECK(listener >= 0 && bind(listener, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(listener, 4) == 0
          && getsockname(listener, (struct sockaddr *)&addr, &len) == 0, "a silent loopback listener");
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", ntohs(addr.sin_port));
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.access_key_id = "AKIDMISUSE";
    o.secret_access_key = "misuse-secret";
    o.endpoint = endpoint;
    o.allow_http = true;
    o.stall_timeout_ms = 1000;
    o.retry_network.max_attempts = 1;
    struct inflight f = {NULL, 0};
    CHECK(r2_client_new(&f.client, &o) == R2_OK, "client: %s", r2_error_last()->message);
    pthread_t t;
    pthread_create(&t, NULL, get_in_flight, &f);
    struct timespec wait = {0, 300 * 1000 * 1000};
    nanosleep(&wait, NULL);
    r2_client_free(f.client);  /* the GET is waiting for an answer */
    pthread_join(t, NULL);
    CHECK(f.rc == R2_ERR_TIMEOUT, "the call in flight ends with its own error: %s", r2_status_string(f.rc));
    int32_t state;
    INVALID(r2_client_breaker_state(&state, f.client), "the freed client afterwards");
    close(listener);
}

/* Handles of each type where another type is expected (issue 9: the type tag
 * inside each handle): refused, and a _free of the wrong type frees nothing. */
static void wrong_types(r2_client *live, r2_signer *signer) {
    r2_cancel *cancel = NULL;
    CHECK(r2_cancel_new(&cancel) == R2_OK, "cancel switch");
    client_calls((r2_client *)cancel, "a cancel switch as client");
    client_calls((r2_client *)((char *)live + 8), "a pointer into a client handle");
    r2_signed *out = NULL;
    r2_sign_request req = R2_SIGN_REQUEST_INIT;
    INVALID(r2_signer_sign(&out, (r2_signer *)cancel, &req), "a cancel switch as signer");
    r2_client_free((r2_client *)cancel);  /* not a client: not freed */
    r2_signer_free((r2_signer *)cancel);
    r2_cancel_free((r2_cancel *)live);    /* not a cancel switch: not freed */
    r2_cancel_free((r2_cancel *)signer);
    int32_t state = -1;
    CHECK(r2_client_breaker_state(&state, live) == R2_OK, "the client survives r2_cancel_free");
    r2_header host = {"Host", "acct.r2.cloudflarestorage.com"};
    req.method = "GET";
    req.path = "/bucket/key";
    req.headers = &host;
    req.header_count = 1;
    CHECK(r2_signer_sign(&out, signer, &req) == R2_OK, "the signer survives r2_cancel_free: %s", r2_error_last()->message);
    r2_signed *unused = NULL;
    INVALID(r2_signer_sign(&unused, (r2_signer *)out, &req), "a signed result as signer");
    CHECK(r2_signed_header_count(out) > 0, "the signed result is live");
    r2_signed_free(out);
    CHECK(r2_signed_header_count(out) == 0, "a freed signed result reads as nothing");
    r2_cancel_free(cancel);
    client_calls((r2_client *)cancel, "a freed cancel switch as client");
    r2_cancel_free(cancel);  /* a second free: a no-op */
}

int main(void) {
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.access_key_id = "AKIDMISUSE";
    o.secret_access_key = "misuse-secret";
    o.endpoint = "http://127.0.0.1:9";
    o.allow_http = true;
    o.retry_network.max_attempts = 1;
    r2_client *live = NULL, *freed = NULL;
    CHECK(r2_client_new(&live, &o) == R2_OK, "client: %s", r2_error_last()->message);
    CHECK(r2_client_new(&freed, &o) == R2_OK, "client to free");
    r2_client_free(freed);
    r2_signer_options so = R2_SIGNER_OPTIONS_INIT;
    so.access_key_id = "AKID";
    so.secret_access_key = "secret";
    r2_signer *signer = NULL;
    CHECK(r2_signer_new(&signer, &so) == R2_OK, "signer");
    long not_a_handle[16] = {0};

    client_calls(NULL, "NULL client");
    client_calls(freed, "freed client");
    client_calls((r2_client *)signer, "a signer as client");
    client_calls((r2_client *)not_a_handle, "a pointer r2 never handed out");
    r2_client_free(freed);  /* a second free: a no-op */

    bad_strings(live, BAD_UTF8, "0xff 0xfe");
    bad_strings(live, OVERLONG, "overlong");
    bad_strings(live, SURROGATE, "surrogate");
    option_versions(live);
    huge_sizes(live);
    free_mid_request();
    wrong_types(live, signer);

    /* The other handle types. */
    r2_signed *out = NULL;
    r2_sign_request req = R2_SIGN_REQUEST_INIT;
    INVALID(r2_signer_sign(&out, (r2_signer *)live, &req), "a client as signer");
    INVALID(r2_signer_sign(&out, NULL, &req), "NULL signer");
    r2_object_entry entry = R2_OBJECT_ENTRY_INIT;
    INVALID(r2_list_iter_next(&entry, (r2_list_iter *)live), "a client as list iterator");
    INVALID(r2_list_iter_next(&entry, NULL), "NULL list iterator");
    INVALID(r2_cancel_signal((r2_cancel *)live), "a client as cancel");
    CHECK(r2_signed_header_count(NULL) == 0, "r2_signed_header_count(NULL) is 0");
    CHECK(r2_signed_header_count((r2_signed *)live) == 0, "r2_signed_header_count(client) is 0");
    CHECK(r2_signed_authorization(NULL) == NULL, "r2_signed_authorization(NULL) is NULL (documented)");
    CHECK(r2_signed_authorization((r2_signed *)live) == NULL, "r2_signed_authorization(client) is NULL");
    r2_signer_free((r2_signer *)live);  /* a handle of another type: not freed */
    int32_t state = -1;
    CHECK(r2_client_breaker_state(&state, live) == R2_OK, "the client survives being passed to r2_signer_free");
    r2_list_iter_free((r2_list_iter *)not_a_handle);
    r2_signed_free((r2_signed *)not_a_handle);
    r2_cancel_free(NULL);
    r2_buf_dispose(NULL);
    r2_object_info_dispose(NULL);
    r2_list_result_dispose(NULL);
    r2_signer_free(signer);
    r2_client_free(live);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
