/* r2_node.c: the N-API addon under bindings/node (lib/index.js is the public API).
 *
 * libr2 is loaded with dlopen: next to this addon, then $R2_LIBRARY, then the
 * system loader path; the error names every place tried.
 *
 * Every call that has an `_async` form in libr2 runs on r2's engine: the JS
 * thread starts it with r2_X_async() and returns a promise; libcurl's multi
 * interface does the I/O on r2's engine threads (R2_ENGINE_THREADS), which run
 * the done, write and read callbacks below. Those callbacks never wait: they
 * copy what they need, queue a message and return (a download chunk is copied
 * into a block; a stream with nothing to give or no room to take returns
 * R2_READ_PAUSE / R2_WRITE_PAUSE, and the JS thread calls r2_op_resume() once
 * it fed or consumed data). An AbortSignal calls r2_op_cancel().
 *
 * The addon owns no thread: every call, the transfer manager's included, is
 * an r2 operation on the engine.
 *
 * Every result, download block, upload request and progress report goes back
 * to the JS thread through one napi_threadsafe_function, in order (a call's
 * chunks precede its completion), handled in short batches.
 *
 * A "ctl" (control block, created by ctlNew) belongs to one call: it carries
 * the r2_op to cancel or resume, and the flow control of streams: download blocks wait for JS, at most `limit`
 * bytes unacknowledged before the write callback pauses the transfer; upload
 * chunks fed from JS wait in a queue the read callback drains.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "r2.h"

/* ---- libr2, loaded at run time ---- */

#define R2_FUNCS(X) \
    X(r2_version_number) X(r2_version_string) X(r2_error_last) X(r2_status_string) X(r2_buf_dispose) \
    X(r2_client_new) X(r2_client_new_from_env) X(r2_client_free) X(r2_client_options_init) \
    X(r2_client_metrics_json) X(r2_client_metrics_prometheus) \
    X(r2_put_options_init) X(r2_get_options_init) X(r2_copy_options_init) X(r2_list_options_init) \
    X(r2_transfer_options_init) X(r2_presign_options_init) X(r2_sign_request_init) X(r2_signer_options_init) \
    X(r2_op_cancel) X(r2_op_resume) X(r2_op_free) \
    X(r2_object_get_async) X(r2_object_get_stream_async) X(r2_object_put_async) X(r2_object_put_stream_async) \
    X(r2_object_head_async) X(r2_object_delete_async) X(r2_object_delete_many_async) X(r2_object_copy_async) \
    X(r2_list_objects_async) \
    X(r2_multipart_create_async) X(r2_multipart_upload_part_async) X(r2_multipart_upload_part_copy_async) \
    X(r2_multipart_complete_async) X(r2_multipart_abort_async) X(r2_multipart_list_parts_async) X(r2_multipart_list_uploads_async) \
    X(r2_transfer_upload_file_async) X(r2_transfer_upload_buffer_async) X(r2_transfer_upload_stream_async) \
    X(r2_transfer_download_file_async) X(r2_transfer_copy_async) \
    X(r2_object_info_dispose) X(r2_delete_result_dispose) X(r2_list_result_dispose) \
    X(r2_part_options_init) X(r2_complete_options_init) X(r2_multipart_part_list_dispose) \
    X(r2_multipart_upload_list_dispose) X(r2_list_uploads_options_init) X(r2_delete_many_options_init) \
    X(r2_client_presign) X(r2_signer_new) X(r2_signer_free) X(r2_signer_sign) X(r2_signer_presign) \
    X(r2_signed_free) X(r2_signed_header_count) X(r2_signed_header) X(r2_signed_authorization) \
    X(r2_signed_query) X(r2_signed_signature) X(r2_signed_canonical_request) X(r2_signed_string_to_sign) \
    X(r2_bucket_validate) X(r2_key_validate)

#define DECL(n) __typeof__(n) *n;
static struct { R2_FUNCS(DECL) } L;
#define R2(n) L.n

static char load_error[4096];
static char loaded_path[2048];
static void *lib_handle;

static int try_load(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    size_t n = strlen(load_error);
    if (!h) {
        snprintf(load_error + n, sizeof load_error - n, "\n  %s: %s", path, dlerror());
        return 0;
    }
#define SYM(fn) \
    if (!(L.fn = (__typeof__(L.fn))dlsym(h, #fn))) { \
        n = strlen(load_error); \
        snprintf(load_error + n, sizeof load_error - n, "\n  %s: lacks %s (too old a libr2?)", path, #fn); \
        dlclose(h); return 0; }
    R2_FUNCS(SYM)
#undef SYM
    lib_handle = h;
    snprintf(loaded_path, sizeof loaded_path, "%s", path);
    return 1;
}

static int load_libr2(void) {
    if (lib_handle) return 1;
    snprintf(load_error, sizeof load_error, "r2: cannot load libr2; tried:");
    Dl_info info;
    if (dladdr((void *)load_libr2, &info) && info.dli_fname) {
        char path[2048];
        snprintf(path, sizeof path, "%s", info.dli_fname);
        char *slash = strrchr(path, '/');
        if (slash) {
            snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "libr2.so");
            if (try_load(path)) return 1;
        }
    }
    const char *env = getenv("R2_LIBRARY");
    if (env && *env) {
        if (try_load(env)) return 1;
    } else {
        size_t n = strlen(load_error);
        snprintf(load_error + n, sizeof load_error - n, "\n  $R2_LIBRARY: not set");
    }
    if (try_load("libr2.so")) return 1;
    size_t n = strlen(load_error);
    snprintf(load_error + n, sizeof load_error - n, "\n(build it with `make build node`, or set R2_LIBRARY to the path of libr2.so)");
    return 0;
}

/* ---- small N-API helpers ---- */

#define CHECK(call) do { if ((call) != napi_ok) { throw_last(env); return NULL; } } while (0)

static void throw_last(napi_env env) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) return;
    const napi_extended_error_info *info = NULL;
    napi_get_last_error_info(env, &info);
    napi_throw_error(env, "ERR_R2_NAPI", info && info->error_message ? info->error_message : "N-API call failed");
}

static napi_value str_value(napi_env env, const char *s) {
    napi_value v;
    napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &v);
    return v;
}

static void set_str(napi_env env, napi_value obj, const char *name, const char *s) {
    napi_set_named_property(env, obj, name, str_value(env, s));
}

static void set_num(napi_env env, napi_value obj, const char *name, double d) {
    napi_value v;
    napi_create_double(env, d, &v);
    napi_set_named_property(env, obj, name, v);
}

static void set_bool(napi_env env, napi_value obj, const char *name, bool b) {
    napi_value v;
    napi_get_boolean(env, b, &v);
    napi_set_named_property(env, obj, name, v);
}

static bool is_nullish(napi_env env, napi_value v) {
    napi_valuetype t;
    if (!v || napi_typeof(env, v, &t) != napi_ok) return true;
    return t == napi_undefined || t == napi_null;
}

/* An arena of allocations freed together at the end of a call. */
typedef struct arena {
    void **ptrs;
    size_t n, cap;
} arena;

static void *arena_add(arena *a, void *p) {
    if (!p) return NULL;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        void **np = realloc(a->ptrs, cap * sizeof *np);
        if (!np) { free(p); return NULL; }
        a->ptrs = np;
        a->cap = cap;
    }
    a->ptrs[a->n++] = p;
    return p;
}

static void arena_free(arena *a) {
    for (size_t i = 0; i < a->n; i++) free(a->ptrs[i]);
    free(a->ptrs);
    memset(a, 0, sizeof *a);
}

/* A JS string (or null/undefined → NULL) copied into the arena. Anything
 * else is a TypeError naming `what`; returns false then. */
static bool get_str(napi_env env, napi_value v, arena *a, const char *what, const char **out) {
    *out = NULL;
    if (is_nullish(env, v)) return true;
    size_t len = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s must be a string", what);
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
        return false;
    }
    char *s = arena_add(a, malloc(len + 1));
    if (!s) { napi_throw_error(env, NULL, "out of memory"); return false; }
    napi_get_value_string_utf8(env, v, s, len + 1, &len);
    if (strlen(s) != len) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s must not contain NUL characters", what);
        napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
        return false;
    }
    *out = s;
    return true;
}

static napi_value prop(napi_env env, napi_value obj, const char *name) {
    if (is_nullish(env, obj)) return NULL;
    napi_value v = NULL;
    if (napi_get_named_property(env, obj, name, &v) != napi_ok) return NULL;
    return v;
}

static bool prop_str(napi_env env, napi_value obj, const char *name, arena *a, const char **out) {
    return get_str(env, prop(env, obj, name), a, name, out);
}

static bool prop_f64(napi_env env, napi_value obj, const char *name, double *out) {
    napi_value v = prop(env, obj, name);
    if (is_nullish(env, v)) return true;
    if (napi_get_value_double(env, v, out) != napi_ok) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s must be a number", name);
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
        return false;
    }
    return true;
}

static bool prop_bool(napi_env env, napi_value obj, const char *name, bool *out) {
    napi_value v = prop(env, obj, name);
    if (is_nullish(env, v)) return true;
    bool b = false;
    napi_coerce_to_bool(env, v, &v);
    napi_get_value_bool(env, v, &b);
    *out = b;
    return true;
}

#define PROP_U32(obj, name, field) do { double d_ = -1; if (!prop_f64(env, obj, name, &d_)) return false; \
    if (d_ >= 0) field = (uint32_t)d_; } while (0)
/* A field where libr2 reads 0 as "the default" and R2_OFF as "off": JS's 0 means off. */
#define PROP_U32_OFF(obj, name, field) do { PROP_U32(obj, name, field); \
    if (field == 0 && !is_nullish(env, prop(env, obj, name))) field = R2_OFF; } while (0)
#define PROP_U64(obj, name, field) do { double d_ = -1; if (!prop_f64(env, obj, name, &d_)) return false; \
    if (d_ >= 0) field = (uint64_t)d_; } while (0)
#define PROP_I32(obj, name, field) do { double d_ = 0; bool set_ = false; napi_value v_ = prop(env, obj, name); \
    if (!is_nullish(env, v_)) { if (!prop_f64(env, obj, name, &d_)) return false; set_ = true; } \
    if (set_) field = (int32_t)d_; } while (0)
#define PROP_STR(obj, name, field) do { if (!prop_str(env, obj, name, a, &field)) return false; } while (0)

/* [[name, value], ...] → r2_header array in the arena. */
static bool get_pairs(napi_env env, napi_value arr, arena *a, const char *what, const r2_header **out, size_t *count) {
    *out = NULL;
    *count = 0;
    if (is_nullish(env, arr)) return true;
    bool is_array = false;
    napi_is_array(env, arr, &is_array);
    if (!is_array) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s must be an array of [name, value] pairs", what);
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
        return false;
    }
    uint32_t n = 0;
    napi_get_array_length(env, arr, &n);
    r2_header *h = arena_add(a, calloc(n ? n : 1, sizeof *h));
    if (!h) { napi_throw_error(env, NULL, "out of memory"); return false; }
    for (uint32_t i = 0; i < n; i++) {
        napi_value pair, name, value;
        napi_get_element(env, arr, i, &pair);
        if (napi_get_element(env, pair, 0, &name) != napi_ok || napi_get_element(env, pair, 1, &value) != napi_ok) {
            napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "header pairs must be [name, value]");
            return false;
        }
        if (!get_str(env, name, a, what, &h[i].name) || !get_str(env, value, a, what, &h[i].value)) return false;
        if (!h[i].name || !h[i].value) {
            napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "header names and values must be strings");
            return false;
        }
    }
    *out = h;
    *count = n;
    return true;
}

/* An SSE-C key: a Buffer/Uint8Array of exactly 32 bytes (AES-256), copied
 * into the arena (null/undefined → NULL). lib/index.js checks it first with
 * r2.InvalidArgument; this guards direct calls into the addon. */
static bool get_key(napi_env env, napi_value v, arena *a, const char *what, const uint8_t **out) {
    *out = NULL;
    if (is_nullish(env, v)) return true;
    bool is = false;
    napi_is_typedarray(env, v, &is);
    napi_typedarray_type t = napi_int8_array;
    size_t n = 0, off = 0;
    void *p = NULL;
    napi_value ab;
    if (is) napi_get_typedarray_info(env, v, &t, &n, &p, &ab, &off);
    if (!is || t != napi_uint8_array || n != 32) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s must be 32 bytes (a Buffer or Uint8Array holding an AES-256 key)", what);
        napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
        return false;
    }
    uint8_t *copy = arena_add(a, malloc(32));
    if (!copy) { napi_throw_error(env, NULL, "out of memory"); return false; }
    memcpy(copy, p, 32);
    *out = copy;
    return true;
}

#define PROP_KEY(obj, name, field) do { if (!get_key(env, prop(env, obj, name), a, name, &field)) return false; } while (0)

/* ---- options structs from JS objects (names as in lib/index.js) ---- */

static bool read_put_options(napi_env env, napi_value o, arena *a, r2_put_options *p) {
    R2(r2_put_options_init)(p, R2_PUT_OPTIONS_VERSION);
    if (is_nullish(env, o)) return true;
    PROP_STR(o, "contentType", p->content_type);
    PROP_STR(o, "cacheControl", p->cache_control);
    PROP_STR(o, "contentDisposition", p->content_disposition);
    PROP_STR(o, "contentEncoding", p->content_encoding);
    PROP_STR(o, "contentLanguage", p->content_language);
    PROP_STR(o, "expires", p->expires);
    if (!get_pairs(env, prop(env, o, "metadata"), a, "metadata", &p->metadata, &p->metadata_count)) return false;
    PROP_STR(o, "ifMatch", p->if_match);
    PROP_STR(o, "ifNoneMatch", p->if_none_match);
    PROP_STR(o, "ifModifiedSince", p->if_modified_since);
    PROP_STR(o, "ifUnmodifiedSince", p->if_unmodified_since);
    PROP_I32(o, "payloadMode", p->payload_mode);
    PROP_I32(o, "checksum", p->checksum);
    PROP_STR(o, "checksumValue", p->checksum_value);
    PROP_STR(o, "storageClass", p->storage_class);
    PROP_KEY(o, "sseCustomerKey", p->sse_customer_key);
    return true;
}

static bool read_get_options(napi_env env, napi_value o, arena *a, r2_get_options *g) {
    R2(r2_get_options_init)(g, R2_GET_OPTIONS_VERSION);
    if (is_nullish(env, o)) return true;
    PROP_STR(o, "range", g->range);
    PROP_STR(o, "ifMatch", g->if_match);
    PROP_STR(o, "ifNoneMatch", g->if_none_match);
    PROP_STR(o, "ifModifiedSince", g->if_modified_since);
    PROP_STR(o, "ifUnmodifiedSince", g->if_unmodified_since);
    PROP_KEY(o, "sseCustomerKey", g->sse_customer_key);
    return prop_bool(env, o, "validateChecksum", &g->validate_checksum);
}

static bool read_copy_options(napi_env env, napi_value o, arena *a, r2_copy_options *c) {
    R2(r2_copy_options_init)(c, R2_COPY_OPTIONS_VERSION);
    if (is_nullish(env, o)) return true;
    if (!prop_bool(env, o, "replaceMetadata", &c->replace_metadata)) return false;
    PROP_STR(o, "contentType", c->content_type);
    PROP_STR(o, "cacheControl", c->cache_control);
    PROP_STR(o, "contentDisposition", c->content_disposition);
    PROP_STR(o, "contentEncoding", c->content_encoding);
    if (!get_pairs(env, prop(env, o, "metadata"), a, "metadata", &c->metadata, &c->metadata_count)) return false;
    PROP_STR(o, "ifMatch", c->if_match);
    PROP_STR(o, "ifNoneMatch", c->if_none_match);
    PROP_STR(o, "ifModifiedSince", c->if_modified_since);
    PROP_STR(o, "ifUnmodifiedSince", c->if_unmodified_since);
    PROP_KEY(o, "sseCustomerKey", c->sse_customer_key);
    PROP_KEY(o, "sourceSseCustomerKey", c->source_sse_customer_key);
    return true;
}

static bool read_list_options(napi_env env, napi_value o, arena *a, r2_list_options *l) {
    R2(r2_list_options_init)(l, R2_LIST_OPTIONS_VERSION);
    if (is_nullish(env, o)) return true;
    PROP_STR(o, "prefix", l->prefix);
    PROP_STR(o, "delimiter", l->delimiter);
    PROP_STR(o, "startAfter", l->start_after);
    PROP_STR(o, "continuationToken", l->continuation_token);
    PROP_U32(o, "maxKeys", l->max_keys);
    return true;
}

static bool read_transfer_options(napi_env env, napi_value o, arena *a, r2_transfer_options *t, r2_put_options *put) {
    R2(r2_transfer_options_init)(t, R2_TRANSFER_OPTIONS_VERSION);
    if (is_nullish(env, o)) return true;
    PROP_U64(o, "threshold", t->threshold);
    PROP_U64(o, "partSize", t->part_size);
    PROP_U32(o, "concurrency", t->concurrency);
    PROP_I32(o, "partChecksum", t->part_checksum);
    PROP_U32(o, "progressIntervalMs", t->progress_interval_ms);
    PROP_STR(o, "statePath", t->state_path);
    PROP_KEY(o, "sseCustomerKey", t->sse_customer_key);
    PROP_KEY(o, "sourceSseCustomerKey", t->source_sse_customer_key);
    bool skip_fsync = false;
    if (!prop_bool(env, o, "skipFsync", &skip_fsync)) return false;
    t->skip_fsync = skip_fsync ? 1 : 0;
    napi_value p = prop(env, o, "put");
    if (!is_nullish(env, p)) {
        if (!read_put_options(env, p, a, put)) return false;
        t->put = put;
    }
    return true;
}

/* ---- results to JS ---- */

/* The factories lib/index.js registers with setFactories(makeInfo, makeError):
 * JS functions that build the results and errors the API returns from their
 * fields. One call into JS that makes the object from a literal costs the JS
 * thread a fraction of a property set per field from C (each of which looks
 * the name up in V8's string table and changes the object's shape). */
static napi_ref make_info_ref, make_error_ref;

/* r2_object_info → makeInfo(body, etag, contentLength, contentType, lastModified,
 * metadata, versionId, contentRange, cacheControl, contentDisposition,
 * contentEncoding, contentLanguage, expires, storageClass, checksums, requestId,
 * httpStatus): the object put/head/copy/get resolve to (`body` undefined but
 * for get). NULL with a JS exception pending when that fails. */
static napi_value info_value(napi_env env, const r2_object_info *i, napi_value body) {
    napi_value fn = NULL, global, argv[17], meta, sums, o = NULL;
    if (!make_info_ref || napi_get_reference_value(env, make_info_ref, &fn) != napi_ok || !fn) {
        napi_throw_error(env, "ERR_R2_ADDON", "r2: setFactories() was not called");
        return NULL;
    }
    if (body) argv[0] = body; else napi_get_undefined(env, &argv[0]);
    argv[1] = str_value(env, i->etag);
    napi_create_double(env, (double)i->content_length, &argv[2]);
    argv[3] = str_value(env, i->content_type);
    argv[4] = str_value(env, i->last_modified);
    napi_create_object(env, &meta);
    for (size_t k = 0; k < i->metadata_count; k++) set_str(env, meta, i->metadata[k].name, i->metadata[k].value);
    argv[5] = meta;
    argv[6] = str_value(env, i->version_id);
    argv[7] = str_value(env, i->content_range);
    argv[8] = str_value(env, i->cache_control);
    argv[9] = str_value(env, i->content_disposition);
    argv[10] = str_value(env, i->content_encoding);
    argv[11] = str_value(env, i->content_language);
    argv[12] = str_value(env, i->expires);
    argv[13] = str_value(env, i->storage_class);
    napi_create_object(env, &sums);
    if (i->checksum_crc32 && *i->checksum_crc32) set_str(env, sums, "crc32", i->checksum_crc32);
    if (i->checksum_crc32c && *i->checksum_crc32c) set_str(env, sums, "crc32c", i->checksum_crc32c);
    if (i->checksum_sha1 && *i->checksum_sha1) set_str(env, sums, "sha1", i->checksum_sha1);
    if (i->checksum_sha256 && *i->checksum_sha256) set_str(env, sums, "sha256", i->checksum_sha256);
    argv[14] = sums;
    argv[15] = str_value(env, i->request_id);
    napi_create_double(env, i->http_status, &argv[16]);
    napi_get_global(env, &global);
    if (napi_call_function(env, global, fn, 17, argv, &o) != napi_ok) return NULL;
    return o;
}

/* ---- errors ---- */

typedef struct err_info {
    int32_t code, http_status;
    bool retryable;
    int64_t retry_after_ms;
    char *s3_code, *message, *request_id;
} err_info;

/* Copies the calling thread's r2_error_last() (call right after a failure). */
static void capture_error(err_info *e, int32_t rc) {
    const r2_error *le = R2(r2_error_last)();
    e->code = le->code ? le->code : rc;
    e->http_status = le->http_status;
    e->retryable = le->retryable;
    e->retry_after_ms = le->retry_after_ms;
    e->s3_code = strdup(le->s3_code ? le->s3_code : "");
    e->message = strdup(le->message ? le->message : "");
    e->request_id = strdup(le->request_id ? le->request_id : "");
}

static void err_info_free(err_info *e) {
    free(e->s3_code);
    free(e->message);
    free(e->request_id);
    memset(e, 0, sizeof *e);
}

/* The error of a failed call: makeError(r2Status, message, r2Name, httpStatus,
 * s3Code, requestId, retryable, retryAfterMs) makes lib/errors.js's R2Error
 * subclass; before setFactories (or should it throw), a plain Error with those
 * fields, which lib/errors.js's fromNative converts. */
static napi_value error_value(napi_env env, const err_info *e) {
    napi_value msg, err, fn = NULL;
    napi_create_string_utf8(env, e->message && *e->message ? e->message : R2(r2_status_string)(e->code), NAPI_AUTO_LENGTH, &msg);
    if (make_error_ref && napi_get_reference_value(env, make_error_ref, &fn) == napi_ok && fn) {
        napi_value argv[8], global;
        napi_create_int32(env, e->code, &argv[0]);
        argv[1] = msg;
        argv[2] = str_value(env, R2(r2_status_string)(e->code));
        napi_create_int32(env, e->http_status, &argv[3]);
        argv[4] = str_value(env, e->s3_code);
        argv[5] = str_value(env, e->request_id);
        napi_get_boolean(env, e->retryable, &argv[6]);
        napi_create_double(env, (double)e->retry_after_ms, &argv[7]);
        napi_get_global(env, &global);
        if (napi_call_function(env, global, fn, 8, argv, &err) == napi_ok) return err;
        napi_value ignored;
        napi_get_and_clear_last_exception(env, &ignored);
    }
    napi_create_error(env, NULL, msg, &err);
    set_num(env, err, "r2Status", e->code);
    set_str(env, err, "r2Name", R2(r2_status_string)(e->code));
    set_num(env, err, "httpStatus", e->http_status);
    set_str(env, err, "s3Code", e->s3_code);
    set_str(env, err, "requestId", e->request_id);
    set_bool(env, err, "retryable", e->retryable);
    set_num(env, err, "retryAfterMs", (double)e->retry_after_ms);
    return err;
}

static napi_value throw_r2(napi_env env, int32_t rc) {
    err_info e = {0};
    capture_error(&e, rc);
    napi_throw(env, error_value(env, &e));
    err_info_free(&e);
    return NULL;
}

/* ---- handles ---- */

typedef struct client_box {
    r2_client *client;
    uint32_t inflight; /* calls running on workers; touched on the JS thread only */
    bool closing;
} client_box;

static void client_box_release(client_box *b) {
    if (b->client && b->inflight == 0 && b->closing) {
        R2(r2_client_free)(b->client);
        b->client = NULL;
    }
}

static void client_finalize(napi_env env, void *data, void *hint) {
    (void)env; (void)hint;
    client_box *b = data;
    /* Jobs hold a reference to the client's external, so nothing is in flight. */
    if (b->client) R2(r2_client_free)(b->client);
    free(b);
}

typedef struct chunk {
    struct chunk *next;
    size_t len, off;
    uint8_t data[];
} chunk;

/* A block of downloaded bytes on its way to JS: engine chunks are appended
 * until it is full, so a fast download reaches JS in few, large Buffers. */
typedef struct block {
    struct block *next;
    size_t len, cap;
    uint8_t data[];
} block;

#define BLOCK_SIZE (256 * 1024)

typedef struct ctl {
    atomic_int cancelled;
    r2_op *op;              /* set and cleared on the JS thread */
    pthread_mutex_t mu;
    /* downloads: blocks for JS, bytes not acknowledged by JS yet, paused by the write callback */
    block *blocks, *blocks_tail;
    bool block_posted, write_paused;
    uint64_t unacked, limit;
    /* uploads: chunks fed by JS (and their bytes), end of input, chunk requests outstanding */
    chunk *head, *tail;
    uint64_t queued;
    bool eof, read_paused;
    uint32_t asked;
} ctl;

static void ctl_finalize(napi_env env, void *data, void *hint) {
    (void)env; (void)hint;
    ctl *c = data;
    for (chunk *k = c->head; k;) { chunk *n = k->next; free(k); k = n; }
    for (block *k = c->blocks; k;) { block *n = k->next; free(k); k = n; }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- calls and the completion channel ---- */

enum msg_kind { MSG_DONE, MSG_CHUNK, MSG_NEED, MSG_PROGRESS };

typedef struct job job;

typedef struct msg {
    struct msg *next;
    enum msg_kind kind;
    job *job;
    uint64_t done;
    int64_t total;
    size_t len;
    uint8_t *data;
} msg;

struct job {
    int32_t (*start)(job *); /* r2_X_async(&j->op, ..., engine_done, j, NULL) */
    napi_value (*result)(napi_env, job *); /* on success, on the JS thread */
    void (*cleanup)(job *);                 /* frees what the job owns (may be NULL) */
    napi_deferred deferred;
    napi_ref client_ref, ctl_ref, body_ref, on_event_ref;
    client_box *box;
    ctl *ctl;
    r2_op *op;
    arena a;
    int32_t rc;
    err_info err;
    msg done; /* its completion message, posted once (no allocation that could fail) */
    const r2_object_info *head_info; /* getStream: filled by r2 at the response head, handed to JS with the first chunk */
};

/* Messages from engine threads wait in one FIFO queue; the threadsafe function only
 * wakes the JS thread, which handles them in batches of at most BATCH_MSGS or
 * BATCH_NS and yields to the event loop (setImmediate) between batches, so a
 * burst of completions never blocks timers and I/O for long. */
typedef struct addon {
    napi_threadsafe_function tsfn;
    uint64_t pending; /* jobs submitted and not completed (JS thread) */
    pthread_mutex_t mu;
    msg *head, *tail;
    bool wake_pending;  /* a wake-up is posted or a drain is scheduled */
    napi_ref scheduler; /* JS: schedules drainMessages() on the next turn */
} addon;

#define BATCH_MSGS 64
#define BATCH_NS 2000000L

static void post(addon *ad, msg *m) {
    m->next = NULL;
    pthread_mutex_lock(&ad->mu);
    if (ad->tail) ad->tail->next = m; else ad->head = m;
    ad->tail = m;
    bool wake = !ad->wake_pending;
    ad->wake_pending = true;
    pthread_mutex_unlock(&ad->mu);
    if (wake) napi_call_threadsafe_function(ad->tsfn, NULL, napi_tsfn_nonblocking);
}

static addon *the_addon; /* one per process: the engine callbacks post to it */

static void post_done(job *j) {
    j->done.kind = MSG_DONE;
    j->done.job = j;
    post(the_addon, &j->done);
}

static void job_free(napi_env env, job *j) {
    if (j->cleanup) j->cleanup(j);
    if (j->client_ref) napi_delete_reference(env, j->client_ref);
    if (j->ctl_ref) napi_delete_reference(env, j->ctl_ref);
    if (j->body_ref) napi_delete_reference(env, j->body_ref);
    if (j->on_event_ref) napi_delete_reference(env, j->on_event_ref);
    arena_free(&j->a);
    err_info_free(&j->err);
    free(j);
}

static void call_on_event(napi_env env, job *j, napi_value *argv, size_t argc, napi_value *ret) {
    napi_value fn, global;
    if (!j->on_event_ref || napi_get_reference_value(env, j->on_event_ref, &fn) != napi_ok || !fn) return;
    napi_get_global(env, &global);
    if (napi_call_function(env, global, fn, argc, argv, ret) != napi_ok) {
        /* an exception in a JS stream callback: cancel the call and report it later */
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        if (j->ctl) atomic_store(&j->ctl->cancelled, 1);
        if (j->op) R2(r2_op_cancel)(j->op);
        napi_fatal_exception(env, exc);
    }
}

static void block_finalize(napi_env env, void *data, void *hint) {
    block *b = hint;
    (void)data;
    int64_t ignored;
    napi_adjust_external_memory(env, -(int64_t)b->cap, &ignored);
    free(b);
}

/* Hands the blocks a download queued to JS as "chunk" events: a block mostly
 * full becomes the Buffer itself (no second copy; V8 is told its size so GC
 * keeps pace), a small one is copied. */
static void deliver_blocks(napi_env env, job *j) {
    ctl *c = j->ctl;
    pthread_mutex_lock(&c->mu);
    block *b = c->blocks;
    c->blocks = c->blocks_tail = NULL;
    c->block_posted = false;
    pthread_mutex_unlock(&c->mu);
    while (b) {
        block *next = b->next;
        napi_value args[3], ret = NULL;
        size_t argc = 2;
        napi_create_string_utf8(env, "chunk", NAPI_AUTO_LENGTH, &args[0]);
        void *dst;
        int64_t ignored;
        if (b->len >= b->cap / 2 &&
            napi_create_external_buffer(env, b->len, b->data, block_finalize, b, &args[1]) == napi_ok) {
            napi_adjust_external_memory(env, (int64_t)b->cap, &ignored);
        } else {
            napi_create_buffer_copy(env, b->len, b->data, &dst, &args[1]);
            free(b);
        }
        if (j->head_info) { /* r2 filled it before the first write and leaves it alone until done */
            napi_value head = info_value(env, j->head_info, NULL);
            if (head) args[argc++] = head;
            else { napi_value ignored; napi_get_and_clear_last_exception(env, &ignored); } /* the info comes again at the end */
            j->head_info = NULL;
        }
        call_on_event(env, j, args, argc, &ret);
        b = next;
    }
}

static void handle_message(napi_env env, addon *ad, msg *m) {
    job *j = m->job;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    switch (m->kind) {
    case MSG_CHUNK:
        deliver_blocks(env, j);
        break;
    case MSG_NEED: {
        napi_value args[1];
        napi_create_string_utf8(env, "need", NAPI_AUTO_LENGTH, &args[0]);
        call_on_event(env, j, args, 1, NULL);
        break;
    }
    case MSG_PROGRESS: {
        napi_value args[3];
        napi_create_string_utf8(env, "progress", NAPI_AUTO_LENGTH, &args[0]);
        napi_create_double(env, (double)m->done, &args[1]);
        napi_create_double(env, (double)m->total, &args[2]);
        call_on_event(env, j, args, 3, NULL);
        break;
    }
    case MSG_DONE: {
        if (j->ctl) {
            deliver_blocks(env, j); /* none left in practice: each block's message came first */
            j->ctl->op = NULL;
        }
        R2(r2_op_free)(j->op);
        j->op = NULL;
        if (j->rc == R2_OK) {
            napi_value v = j->result ? j->result(env, j) : NULL;
            bool pending = false;
            napi_is_exception_pending(env, &pending);
            if (pending) { /* a result factory threw: the call rejects with that */
                napi_get_and_clear_last_exception(env, &v);
                napi_reject_deferred(env, j->deferred, v);
            } else {
                if (!v) napi_get_undefined(env, &v);
                napi_resolve_deferred(env, j->deferred, v);
            }
        } else {
            napi_reject_deferred(env, j->deferred, error_value(env, &j->err));
        }
        if (j->box) {
            j->box->inflight--;
            client_box_release(j->box);
        }
        job_free(env, j); /* m is j->done: gone now */
        if (--ad->pending == 0) napi_unref_threadsafe_function(env, ad->tsfn);
        napi_close_handle_scope(env, scope);
        return;
    }
    }
    napi_close_handle_scope(env, scope);
    free(m->data);
    free(m);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Handles one batch; when messages remain, asks JS to call drainMessages() next turn. */
static void drain_batch(napi_env env, addon *ad) {
    int64_t start = now_ns();
    for (int n = 0;; n++) {
        pthread_mutex_lock(&ad->mu);
        msg *m = ad->head;
        bool stop = !m || ((n >= BATCH_MSGS || now_ns() - start > BATCH_NS) && ad->scheduler);
        if (stop) {
            if (!m) ad->wake_pending = false;
            pthread_mutex_unlock(&ad->mu);
            if (m) {
                napi_value fn, global;
                napi_get_reference_value(env, ad->scheduler, &fn);
                napi_get_global(env, &global);
                if (!fn || napi_call_function(env, global, fn, 0, NULL, NULL) != napi_ok) continue;
            }
            return;
        }
        ad->head = m->next;
        if (!ad->head) ad->tail = NULL;
        pthread_mutex_unlock(&ad->mu);
        handle_message(env, ad, m);
    }
}

static void on_wake(napi_env env, napi_value js_cb, void *context, void *data) {
    (void)js_cb; (void)data;
    if (env) drain_batch(env, context); /* else tearing down: the process is exiting */
}

static napi_value js_drain_messages(napi_env env, napi_callback_info info) {
    (void)info;
    drain_batch(env, the_addon);
    return NULL;
}

/* setScheduler(fn): fn() must arrange drainMessages() to run on a later turn (setImmediate). */
static napi_value js_set_scheduler(napi_env env, napi_callback_info info) {
    size_t argc = 1;
    napi_value fn;
    CHECK(napi_get_cb_info(env, info, &argc, &fn, NULL, NULL));
    if (the_addon->scheduler) napi_delete_reference(env, the_addon->scheduler);
    CHECK(napi_create_reference(env, fn, 1, &the_addon->scheduler));
    return NULL;
}

/* setFactories(makeInfo, makeError): see info_value and error_value. */
static napi_value js_set_factories(napi_env env, napi_callback_info info) {
    size_t argc = 2;
    napi_value fn[2];
    CHECK(napi_get_cb_info(env, info, &argc, fn, NULL, NULL));
    napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
    if (argc >= 2) { napi_typeof(env, fn[0], &t0); napi_typeof(env, fn[1], &t1); }
    if (t0 != napi_function || t1 != napi_function) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setFactories(makeInfo, makeError) takes two functions");
        return NULL;
    }
    if (make_info_ref) napi_delete_reference(env, make_info_ref);
    if (make_error_ref) napi_delete_reference(env, make_error_ref);
    make_info_ref = make_error_ref = NULL;
    CHECK(napi_create_reference(env, fn[0], 1, &make_info_ref));
    CHECK(napi_create_reference(env, fn[1], 1, &make_error_ref));
    return NULL;
}

/* Allocates a job of `size` bytes (a struct starting with `job`). */
static void *job_new(size_t size, int32_t (*start)(job *), napi_value (*result)(napi_env, job *)) {
    job *j = calloc(1, size);
    if (!j) return NULL;
    j->start = start;
    j->result = result;
    return j;
}

static bool job_client(napi_env env, job *j, napi_value v) {
    client_box *b = NULL;
    if (napi_get_value_external(env, v, (void **)&b) != napi_ok || !b) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "not an r2 client handle");
        return false;
    }
    if (!b->client || b->closing) {
        napi_throw_error(env, "ERR_R2_CLOSED", "the client is closed");
        return false;
    }
    j->box = b;
    napi_create_reference(env, v, 1, &j->client_ref);
    return true;
}

static bool job_ctl(napi_env env, job *j, napi_value v) {
    if (is_nullish(env, v)) return true;
    ctl *c = NULL;
    if (napi_get_value_external(env, v, (void **)&c) != napi_ok || !c) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "not an r2 control handle");
        return false;
    }
    j->ctl = c;
    napi_create_reference(env, v, 1, &j->ctl_ref);
    return true;
}

static bool job_on_event(napi_env env, job *j, napi_value fn) {
    if (is_nullish(env, fn)) return true;
    return napi_create_reference(env, fn, 1, &j->on_event_ref) == napi_ok;
}

static void job_fail(job *j, int32_t rc) {
    j->rc = rc;
    if (rc != R2_OK) capture_error(&j->err, rc);
}

/* The completion of an engine call, on an r2 engine thread: keep the outcome
 * (r2_error_last() describes it here) and wake the JS thread; never wait. */
static void engine_done(r2_op *op, int32_t status, void *userdata) {
    (void)op;
    job *j = userdata;
    job_fail(j, status);
    post_done(j);
}

/* Starts j on the engine (j->start); returns its promise
 * (or NULL after throwing). A call that cannot start rejects its promise. */
static napi_value job_start(napi_env env, job *j) {
    addon *ad = the_addon;
    napi_value promise;
    if (napi_create_promise(env, &j->deferred, &promise) != napi_ok) {
        job_free(env, j);
        throw_last(env);
        return NULL;
    }
    if (ad->pending++ == 0) napi_ref_threadsafe_function(env, ad->tsfn);
    if (j->box) j->box->inflight++;
    int32_t rc = j->start(j);
    if (rc != R2_OK) {
        job_fail(j, rc); /* this thread's error: the call was refused before it started */
        post_done(j);
    } else if (j->ctl) {
        j->ctl->op = j->op;
        if (atomic_load(&j->ctl->cancelled)) R2(r2_op_cancel)(j->op); /* cancelled before it started */
    }
    return promise;
}

static bool cancelled(job *j) { return j->ctl && atomic_load(&j->ctl->cancelled); }

/* ---- argument plumbing ---- */

#define ARGS(n) \
    size_t argc = n; napi_value argv[n]; \
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL)); \
    for (size_t i_ = argc; i_ < n; i_++) napi_get_undefined(env, &argv[i_]);

/* Bytes of a Buffer/TypedArray/ArrayBuffer/DataView, kept alive by a reference in the job. */
static bool get_bytes(napi_env env, job *j, napi_value v, const uint8_t **data, size_t *len) {
    bool is = false;
    void *p = NULL;
    *len = 0;
    napi_is_typedarray(env, v, &is);
    if (is) {
        napi_typedarray_type t;
        size_t n, off;
        napi_value ab;
        napi_get_typedarray_info(env, v, &t, &n, &p, &ab, &off);
        size_t el = 1;
        switch (t) {
        case napi_int16_array: case napi_uint16_array: el = 2; break;
        case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
        case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
        default: break;
        }
        *len = n * el;
    } else if (napi_is_arraybuffer(env, v, &is), is) {
        napi_get_arraybuffer_info(env, v, &p, len);
    } else if (napi_is_dataview(env, v, &is), is) {
        napi_value ab;
        size_t off;
        napi_get_dataview_info(env, v, len, &p, &ab, &off);
    } else {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "body must be a Buffer, Uint8Array or ArrayBuffer");
        return false;
    }
    *data = p;
    if (j) napi_create_reference(env, v, 1, &j->body_ref);
    return true;
}

/* ---- client ---- */

static bool read_client_options(napi_env env, napi_value o, arena *a, r2_client_options *c) {
    R2(r2_client_options_init)(c, R2_CLIENT_OPTIONS_VERSION);
    PROP_STR(o, "accountId", c->account_id);
    PROP_STR(o, "accessKeyId", c->access_key_id);
    PROP_STR(o, "secretAccessKey", c->secret_access_key);
    PROP_STR(o, "sessionToken", c->session_token);
    PROP_STR(o, "endpoint", c->endpoint);
    PROP_I32(o, "jurisdiction", c->jurisdiction);
    if (!prop_bool(env, o, "allowHttp", &c->allow_http)) return false;
    PROP_STR(o, "caBundle", c->ca_bundle_path);
    PROP_U32(o, "connectTimeoutMs", c->connect_timeout_ms);
    PROP_U32(o, "requestTimeoutMs", c->request_timeout_ms);
    PROP_U32(o, "transferTimeoutMs", c->transfer_timeout_ms);
    PROP_U32(o, "stallTimeoutMs", c->stall_timeout_ms);
    PROP_U32(o, "deadlineMs", c->deadline_ms);
    PROP_U32_OFF(o, "stallMinBytesPerSec", c->stall_min_bytes_per_s);
    PROP_U32_OFF(o, "listTimeoutMs", c->list_timeout_ms);
    PROP_U32(o, "partTimeoutMs", c->part_timeout_ms);
    PROP_U64(o, "maxGetBytes", c->max_get_bytes);
    if (!prop_f64(env, o, "rateLimit", &c->rate_limit)) return false;
    if (!prop_bool(env, o, "virtualHostedStyle", &c->virtual_hosted_style)) return false;
    PROP_STR(o, "region", c->region);
    PROP_U64(o, "multipartThreshold", c->multipart_threshold);
    PROP_U64(o, "multipartPartSize", c->multipart_part_size);
    PROP_U32(o, "multipartConcurrency", c->multipart_concurrency);
    PROP_U32(o, "poolSize", c->pool_size);
    PROP_I32(o, "payloadMode", c->payload_mode);
    PROP_STR(o, "record", c->record_path);
    PROP_STR(o, "replay", c->replay_path);
    if (!prop_bool(env, o, "replayLatency", &c->replay_latency)) return false;
    PROP_U32(o, "maxAttempts", c->retry_server.max_attempts);
    if (c->retry_server.max_attempts == 1) {
        c->retry_slow_down.max_attempts = c->retry_network.max_attempts = c->retry_interrupted.max_attempts = 1;
    }
    PROP_U32_OFF(o, "breakerFailureThreshold", c->breaker_failure_threshold);
    return true;
}

static napi_value client_external(napi_env env, r2_client *client) {
    client_box *b = calloc(1, sizeof *b);
    if (!b) { R2(r2_client_free)(client); napi_throw_error(env, NULL, "out of memory"); return NULL; }
    b->client = client;
    napi_value ext;
    CHECK(napi_create_external(env, b, client_finalize, NULL, &ext));
    return ext;
}

static napi_value js_client_new(napi_env env, napi_callback_info info) {
    ARGS(1);
    arena a = {0};
    r2_client_options o;
    if (!read_client_options(env, argv[0], &a, &o)) { arena_free(&a); return NULL; }
    r2_client *client = NULL;
    int32_t rc = R2(r2_client_new)(&client, &o);
    arena_free(&a);
    if (rc != R2_OK) return throw_r2(env, rc);
    return client_external(env, client);
}

static napi_value js_client_from_env(napi_env env, napi_callback_info info) {
    (void)info;
    r2_client *client = NULL;
    int32_t rc = R2(r2_client_new_from_env)(&client);
    if (rc != R2_OK) return throw_r2(env, rc);
    return client_external(env, client);
}

/* Frees the client once its in-flight calls have finished. */
static napi_value js_client_close(napi_env env, napi_callback_info info) {
    ARGS(1);
    client_box *b = NULL;
    if (napi_get_value_external(env, argv[0], (void **)&b) != napi_ok || !b) return NULL;
    b->closing = true;
    client_box_release(b);
    return NULL;
}

static client_box *sync_client(napi_env env, napi_value v) {
    client_box *b = NULL;
    if (napi_get_value_external(env, v, (void **)&b) != napi_ok || !b) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "not an r2 client handle");
        return NULL;
    }
    if (!b->client || b->closing) {
        napi_throw_error(env, "ERR_R2_CLOSED", "the client is closed");
        return NULL;
    }
    return b;
}

static napi_value js_metrics(napi_env env, napi_callback_info info) {
    ARGS(2);
    client_box *b = sync_client(env, argv[0]);
    if (!b) return NULL;
    bool json = false;
    napi_get_value_bool(env, argv[1], &json);
    r2_buf out = {0};
    int32_t rc = json ? R2(r2_client_metrics_json)(&out, b->client) : R2(r2_client_metrics_prometheus)(&out, b->client);
    if (rc != R2_OK) return throw_r2(env, rc);
    napi_value s = str_value(env, out.ptr);
    R2(r2_buf_dispose)(&out);
    return s;
}

/* presign(client, method, bucket, key, expires, headers, query, unixTime) → string */
static napi_value js_presign(napi_env env, napi_callback_info info) {
    ARGS(8);
    client_box *b = sync_client(env, argv[0]);
    if (!b) return NULL;
    arena a = {0};
    const char *method, *bucket, *key;
    double expires = 0, unix_time = 0;
    r2_presign_options po;
    R2(r2_presign_options_init)(&po, R2_PRESIGN_OPTIONS_VERSION);
    napi_value result = NULL;
    if (get_str(env, argv[1], &a, "method", &method) && get_str(env, argv[2], &a, "bucket", &bucket) &&
        get_str(env, argv[3], &a, "key", &key) &&
        napi_get_value_double(env, argv[4], &expires) == napi_ok &&
        get_pairs(env, argv[5], &a, "headers", &po.headers, &po.header_count) &&
        get_pairs(env, argv[6], &a, "query", &po.query, &po.query_count)) {
        if (!is_nullish(env, argv[7])) napi_get_value_double(env, argv[7], &unix_time);
        po.unix_time = (int64_t)unix_time;
        r2_buf out = {0};
        int32_t rc = R2(r2_client_presign)(&out, b->client, method, bucket, key, (int64_t)expires, &po);
        if (rc != R2_OK) throw_r2(env, rc);
        else { result = str_value(env, out.ptr); R2(r2_buf_dispose)(&out); }
    } else {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (!pending) napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expiresInSeconds must be a number");
    }
    arena_free(&a);
    return result;
}

/* ---- signer ---- */

static void signer_finalize(napi_env env, void *data, void *hint) {
    (void)env; (void)hint;
    R2(r2_signer_free)(data);
}

static napi_value js_signer_new(napi_env env, napi_callback_info info) {
    ARGS(1);
    arena a = {0};
    r2_signer_options so;
    R2(r2_signer_options_init)(&so, R2_SIGNER_OPTIONS_VERSION);
    napi_value o = argv[0], ext = NULL;
    const char *region = NULL, *service = NULL;
    if (prop_str(env, o, "accessKeyId", &a, &so.access_key_id) && prop_str(env, o, "secretAccessKey", &a, &so.secret_access_key) &&
        prop_str(env, o, "sessionToken", &a, &so.session_token) && prop_str(env, o, "region", &a, &region) &&
        prop_str(env, o, "service", &a, &service)) {
        if (region) so.region = region;
        if (service) so.service = service;
        r2_signer *s = NULL;
        int32_t rc = R2(r2_signer_new)(&s, &so);
        if (rc != R2_OK) throw_r2(env, rc);
        else if (napi_create_external(env, s, signer_finalize, NULL, &ext) != napi_ok) { R2(r2_signer_free)(s); throw_last(env); }
    }
    arena_free(&a);
    return ext;
}

static napi_value signed_value(napi_env env, r2_signed *s) {
    napi_value o, headers;
    napi_create_object(env, &o);
    size_t n = R2(r2_signed_header_count)(s);
    napi_create_array_with_length(env, n, &headers);
    for (size_t i = 0; i < n; i++) {
        r2_header h;
        if (R2(r2_signed_header)(&h, s, i) != R2_OK) continue;
        napi_value pair;
        napi_create_array_with_length(env, 2, &pair);
        napi_set_element(env, pair, 0, str_value(env, h.name));
        napi_set_element(env, pair, 1, str_value(env, h.value));
        napi_set_element(env, headers, (uint32_t)i, pair);
    }
    napi_set_named_property(env, o, "headers", headers);
    set_str(env, o, "authorization", R2(r2_signed_authorization)(s));
    set_str(env, o, "query", R2(r2_signed_query)(s));
    set_str(env, o, "signature", R2(r2_signed_signature)(s));
    set_str(env, o, "canonicalRequest", R2(r2_signed_canonical_request)(s));
    set_str(env, o, "stringToSign", R2(r2_signed_string_to_sign)(s));
    return o;
}

/* signerSign(signer, request, expiresOrUndefined) → signed result */
static napi_value js_signer_sign(napi_env env, napi_callback_info info) {
    ARGS(3);
    r2_signer *signer = NULL;
    if (napi_get_value_external(env, argv[0], (void **)&signer) != napi_ok || !signer) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "not an r2 signer handle");
        return NULL;
    }
    arena a = {0};
    r2_sign_request sr;
    R2(r2_sign_request_init)(&sr, R2_SIGN_REQUEST_VERSION);
    napi_value o = argv[1], result = NULL;
    double unix_time = 0;
    bool content_sha256_header = true;
    if (prop_str(env, o, "method", &a, &sr.method) && prop_str(env, o, "path", &a, &sr.path) &&
        prop_str(env, o, "query", &a, &sr.query) &&
        get_pairs(env, prop(env, o, "headers"), &a, "headers", &sr.headers, &sr.header_count) &&
        prop_str(env, o, "payloadHash", &a, &sr.payload_hash) && prop_f64(env, o, "unixTime", &unix_time) &&
        prop_bool(env, o, "contentSha256Header", &content_sha256_header) &&
        prop_bool(env, o, "omitSessionToken", &sr.omit_session_token)) {
        napi_value body = prop(env, o, "body");
        bool ok = true;
        if (!is_nullish(env, body)) ok = get_bytes(env, NULL, body, &sr.body, &sr.body_len);
        sr.unix_time = (int64_t)unix_time;
        sr.omit_content_sha256_header = !content_sha256_header;
        if (ok) {
            r2_signed *s = NULL;
            int32_t rc;
            if (is_nullish(env, argv[2])) {
                rc = R2(r2_signer_sign)(&s, signer, &sr);
            } else {
                double expires = 0;
                napi_get_value_double(env, argv[2], &expires);
                rc = R2(r2_signer_presign)(&s, signer, &sr, (int64_t)expires);
            }
            if (rc != R2_OK) throw_r2(env, rc);
            else { result = signed_value(env, s); R2(r2_signed_free)(s); }
        }
    }
    arena_free(&a);
    return result;
}

/* ---- control blocks ---- */

static napi_value js_ctl_new(napi_env env, napi_callback_info info) {
    ARGS(1);
    ctl *c = calloc(1, sizeof *c);
    if (!c) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
    pthread_mutex_init(&c->mu, NULL);
    double limit = 8 << 20;
    if (!is_nullish(env, argv[0])) napi_get_value_double(env, argv[0], &limit);
    c->limit = (uint64_t)limit;
    napi_value ext;
    CHECK(napi_create_external(env, c, ctl_finalize, NULL, &ext));
    return ext;
}

static ctl *get_ctl(napi_env env, napi_value v) {
    ctl *c = NULL;
    if (napi_get_value_external(env, v, (void **)&c) != napi_ok || !c) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "not an r2 control handle");
        return NULL;
    }
    return c;
}

/* ctlCancel(ctl): stops the call (r2_op_cancel; before it started: once it starts). */
static napi_value js_ctl_cancel(napi_env env, napi_callback_info info) {
    ARGS(1);
    ctl *c = get_ctl(env, argv[0]);
    if (!c) return NULL;
    atomic_store(&c->cancelled, 1);
    if (c->op) R2(r2_op_cancel)(c->op);
    return NULL;
}

/* ctlAck(ctl, bytes): JS consumed that many bytes of a download; a paused
 * transfer resumes once half its window is free again. */
static napi_value js_ctl_ack(napi_env env, napi_callback_info info) {
    ARGS(2);
    ctl *c = get_ctl(env, argv[0]);
    if (!c) return NULL;
    double n = 0;
    napi_get_value_double(env, argv[1], &n);
    pthread_mutex_lock(&c->mu);
    c->unacked = (uint64_t)n >= c->unacked ? 0 : c->unacked - (uint64_t)n;
    bool resume = c->write_paused && c->unacked <= c->limit / 2;
    if (resume) c->write_paused = false;
    pthread_mutex_unlock(&c->mu);
    if (resume && c->op) R2(r2_op_resume)(c->op);
    return NULL;
}

/* ctlFeed(ctl, bytes | null): the next chunk of an upload, or its end (null);
 * resumes a transfer its read callback paused. */
static napi_value js_ctl_feed(napi_env env, napi_callback_info info) {
    ARGS(2);
    ctl *c = get_ctl(env, argv[0]);
    if (!c) return NULL;
    chunk *k = NULL;
    if (!is_nullish(env, argv[1])) {
        const uint8_t *data;
        size_t len;
        if (!get_bytes(env, NULL, argv[1], &data, &len)) return NULL;
        if (len > 0) k = malloc(sizeof *k + len);
        if (len > 0 && !k) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
        if (k) {
            k->next = NULL;
            k->len = len;
            k->off = 0;
            memcpy(k->data, data, len);
        }
    }
    pthread_mutex_lock(&c->mu);
    if (k) {
        if (c->tail) c->tail->next = k; else c->head = k;
        c->tail = k;
        c->queued += k->len;
    } else if (is_nullish(env, argv[1])) {
        c->eof = true; /* an empty chunk only answers the request */
    }
    if (c->asked) c->asked--;
    bool resume = c->read_paused;
    c->read_paused = false;
    pthread_mutex_unlock(&c->mu);
    if (resume && c->op) R2(r2_op_resume)(c->op);
    return NULL;
}

/* ---- stream callbacks (on engine threads: they never wait) ---- */

/* Engine download sink: append the chunk to the blocks for JS and wake JS
 * once per batch; with `limit` bytes unacknowledged, pause the transfer
 * (js_ctl_ack resumes it). */
static int engine_write(const uint8_t *data, size_t len, void *userdata) {
    job *j = userdata;
    ctl *c = j->ctl;
    if (atomic_load(&c->cancelled)) return 1;
    pthread_mutex_lock(&c->mu);
    if (c->unacked >= c->limit) {
        c->write_paused = true;
        pthread_mutex_unlock(&c->mu);
        return R2_WRITE_PAUSE; /* the same chunk comes again after r2_op_resume() */
    }
    block *b = c->blocks_tail;
    if (!b || b->cap - b->len < len) {
        size_t cap = len > BLOCK_SIZE ? len : BLOCK_SIZE;
        b = malloc(sizeof *b + cap);
        if (!b) { pthread_mutex_unlock(&c->mu); return 1; }
        b->next = NULL;
        b->len = 0;
        b->cap = cap;
        if (c->blocks_tail) c->blocks_tail->next = b; else c->blocks = b;
        c->blocks_tail = b;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    c->unacked += len;
    bool wake = !c->block_posted;
    c->block_posted = true;
    pthread_mutex_unlock(&c->mu);
    if (wake) {
        msg *m = calloc(1, sizeof *m);
        if (!m) return 1;
        m->kind = MSG_CHUNK;
        m->job = j;
        post(the_addon, m);
    }
    return 0;
}

/* Takes up to cap fed bytes into buf (c->mu held); asks JS for more chunks
 * (a few requests ahead) while less than 4 MiB is queued. */
#define FEED_AHEAD (4u << 20)
static size_t take_fed(job *j, ctl *c, uint8_t *buf, size_t cap) {
    size_t n = 0;
    while (c->head && n < cap) {
        chunk *k = c->head;
        size_t m = k->len - k->off < cap - n ? k->len - k->off : cap - n;
        memcpy(buf + n, k->data + k->off, m);
        k->off += m;
        n += m;
        if (k->off == k->len) {
            c->head = k->next;
            if (!c->head) c->tail = NULL;
            free(k);
        }
    }
    c->queued -= n;
    while (!c->eof && c->asked < 4 && c->queued < FEED_AHEAD) {
        msg *m = calloc(1, sizeof *m);
        if (!m) break;
        m->kind = MSG_NEED;
        m->job = j;
        c->asked++;
        post(the_addon, m);
    }
    return n;
}

/* Engine upload source: the fed bytes, 0 at the end, or R2_READ_PAUSE when
 * JS has not fed any yet (js_ctl_feed resumes the transfer). */
static int64_t engine_read(uint8_t *buf, size_t cap, void *userdata) {
    job *j = userdata;
    ctl *c = j->ctl;
    pthread_mutex_lock(&c->mu);
    int64_t r;
    if (atomic_load(&c->cancelled)) r = -1;
    else if ((r = (int64_t)take_fed(j, c, buf, cap)) > 0) {}
    else if (c->eof) r = 0;
    else { c->read_paused = true; r = R2_READ_PAUSE; }
    pthread_mutex_unlock(&c->mu);
    return r;
}

static int transfer_progress(uint64_t done, int64_t total, void *userdata) {
    job *j = userdata;
    msg *m = calloc(1, sizeof *m);
    if (m) {
        m->kind = MSG_PROGRESS;
        m->job = j;
        m->done = done;
        m->total = total;
        post(the_addon, m);
    }
    return cancelled(j) ? 1 : 0;
}

/* ---- object calls ---- */

typedef struct obj_job {
    job j;
    const char *bucket, *key, *src_bucket, *src_key, *path, *upload_id;
    const uint8_t *data;
    size_t len;
    int64_t length;
    uint32_t part_number;
    int64_t first, last;
    bool quiet, stream, use_transfer;
    r2_delete_many_options delete_many;
    r2_list_uploads_options list_uploads;
    r2_put_options put;
    r2_get_options get;
    r2_copy_options copy;
    r2_list_options list;
    r2_transfer_options transfer;
    r2_part_options part;
    r2_complete_options complete;
    r2_object_info info;
    r2_buf buf;
    r2_list_result list_result;
    r2_delete_result del;
    r2_multipart_part_list parts;
    r2_multipart_upload_list uploads;
    const char **keys;
    size_t key_count;
    r2_completed_part *completed;
    size_t completed_count;
} obj_job;

static void obj_cleanup(job *jj) {
    obj_job *o = (obj_job *)jj;
    R2(r2_object_info_dispose)(&o->info);
    R2(r2_buf_dispose)(&o->buf);
    R2(r2_list_result_dispose)(&o->list_result);
    R2(r2_delete_result_dispose)(&o->del);
    R2(r2_multipart_part_list_dispose)(&o->parts);
    R2(r2_multipart_upload_list_dispose)(&o->uploads);
}

static napi_value result_info(napi_env env, job *jj) { return info_value(env, &((obj_job *)jj)->info, NULL); }

static napi_value result_buf(napi_env env, job *jj) { return str_value(env, ((obj_job *)jj)->buf.ptr); }

/* Starts an obj_job: client, then strings bucket/key (argv[1], argv[2]). */
static obj_job *obj_begin(napi_env env, napi_value *argv, int32_t (*start)(job *), napi_value (*result)(napi_env, job *)) {
    obj_job *o = job_new(sizeof *o, start, result);
    if (!o) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
    o->j.cleanup = obj_cleanup;
    /* The result structs this addon was built with (libr2 writes only their fields). */
    o->info.version = R2_OBJECT_INFO_VERSION;
    o->list_result.version = R2_LIST_RESULT_VERSION;
    o->del.version = R2_DELETE_RESULT_VERSION;
    o->parts.version = R2_MULTIPART_PART_LIST_VERSION;
    o->uploads.version = R2_MULTIPART_UPLOAD_LIST_VERSION;
    if (!job_client(env, &o->j, argv[0]) || !get_str(env, argv[1], &o->j.a, "bucket", &o->bucket) ||
        !get_str(env, argv[2], &o->j.a, "key", &o->key)) {
        job_free(env, &o->j);
        return NULL;
    }
    return o;
}

#define OBJ_FAIL(o) do { job_free(env, &(o)->j); return NULL; } while (0)

/* The engine starts of the object calls: r2 copies strings and options during
 * the call; outputs and borrowed bodies live in the job until MSG_DONE. */
#define ASYNC_TAIL engine_done, jj, NULL

static int32_t start_put(job *jj) {
    obj_job *o = (obj_job *)jj;
    if (o->stream)
        return R2(r2_object_put_stream_async)(&jj->op, &o->info, jj->box->client, o->bucket, o->key, (uint64_t)o->length,
                                              engine_read, jj, &o->put, ASYNC_TAIL);
    return R2(r2_object_put_async)(&jj->op, &o->info, jj->box->client, o->bucket, o->key, o->data, o->len, &o->put, ASYNC_TAIL);
}

/* The transfer manager: bytes on the engine (multipart from the threshold on). */
static int32_t start_put_transfer(job *jj) {
    obj_job *o = (obj_job *)jj;
    o->transfer.put = &o->put;
    return R2(r2_transfer_upload_buffer_async)(&jj->op, &o->info, jj->box->client, o->bucket, o->key, o->data, o->len, &o->transfer, ASYNC_TAIL);
}

/* A stream through the transfer manager: one PUT below the threshold, else parts read in order. */
static int32_t start_put_stream_transfer(job *jj) {
    obj_job *o = (obj_job *)jj;
    o->transfer.put = &o->put;
    return R2(r2_transfer_upload_stream_async)(&jj->op, &o->info, jj->box->client, o->bucket, o->key, o->length,
                                               engine_read, jj, &o->transfer, ASYNC_TAIL);
}

/* put(client, bucket, key, bytes|null, putOpts, transferOpts|null, ctl|null, length, onEvent)
 * transferOpts null: one PUT on the engine (bytes, or a stream of known length);
 * otherwise the transfer manager (multipart at the threshold).
 * null bytes: a stream fed by ctlFeed after "need" events, length -1 when unknown. */
static napi_value js_put(napi_env env, napi_callback_info info) {
    ARGS(9);
    obj_job *o = obj_begin(env, argv, NULL, result_info);
    if (!o) return NULL;
    arena *a = &o->j.a;
    if (!read_put_options(env, argv[4], a, &o->put)) OBJ_FAIL(o);
    o->use_transfer = !is_nullish(env, argv[5]);
    r2_put_options unused;
    if (!read_transfer_options(env, argv[5], a, &o->transfer, &unused)) OBJ_FAIL(o);
    if (!job_ctl(env, &o->j, argv[6])) OBJ_FAIL(o);
    if (is_nullish(env, argv[3])) {
        double length = -1;
        napi_get_value_double(env, argv[7], &length);
        o->length = (int64_t)length;
        o->stream = true;
        if (!o->j.ctl) { napi_throw_type_error(env, NULL, "a streamed put needs a control handle"); OBJ_FAIL(o); }
        if (!o->use_transfer && o->length < 0) { napi_throw_type_error(env, NULL, "one streamed PUT needs the length"); OBJ_FAIL(o); }
        if (!job_on_event(env, &o->j, argv[8])) OBJ_FAIL(o);
    } else if (!get_bytes(env, &o->j, argv[3], &o->data, &o->len)) {
        OBJ_FAIL(o);
    }
    if (!o->use_transfer) o->j.start = start_put;
    else if (o->stream) o->j.start = start_put_stream_transfer;
    else o->j.start = start_put_transfer;
    return job_start(env, &o->j);
}

static int32_t start_get(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_object_get_async)(&jj->op, &o->buf, &o->info, jj->box->client, o->bucket, o->key, &o->get, ASYNC_TAIL);
}

static void body_finalize(napi_env env, void *data, void *hint) {
    (void)data;
    r2_buf *b = hint;
    int64_t ignored;
    napi_adjust_external_memory(env, -(int64_t)b->size, &ignored);
    R2(r2_buf_dispose)(b);
    free(b);
}

/* The info with `body`: the buffer r2 filled, handed to JS without a copy
 * (also for a small body: a copy would malloc on this thread, which for
 * sizes from 1 KiB up consolidates glibc's fastbins and costs more than
 * wrapping r2's buffer). */
static napi_value result_get(napi_env env, job *jj) {
    obj_job *o = (obj_job *)jj;
    napi_value body = NULL;
    r2_buf *b = malloc(sizeof *b);
    int64_t ignored;
    if (b && o->buf.size > 0 &&
        napi_create_external_buffer(env, o->buf.size, o->buf.ptr, body_finalize, b, &body) == napi_ok) {
        *b = o->buf;
        o->buf = (r2_buf){0};
        napi_adjust_external_memory(env, (int64_t)b->size, &ignored);
    } else {
        free(b);
        void *dst;
        napi_create_buffer_copy(env, o->buf.size, o->buf.ptr ? o->buf.ptr : "", &dst, &body);
    }
    return info_value(env, &o->info, body);
}

/* get(client, bucket, key, getOpts, ctl|null): resolves to the info with `body` (a Buffer). */
static napi_value js_get(napi_env env, napi_callback_info info) {
    ARGS(5);
    obj_job *o = obj_begin(env, argv, NULL, result_get);
    if (!o) return NULL;
    if (!read_get_options(env, argv[3], &o->j.a, &o->get) || !job_ctl(env, &o->j, argv[4])) OBJ_FAIL(o);
    o->j.start = start_get;
    return job_start(env, &o->j);
}

static int32_t start_get_stream(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_object_get_stream_async)(&jj->op, &o->info, jj->box->client, o->bucket, o->key, engine_write, jj, &o->get, ASYNC_TAIL);
}

/* getStream(client, bucket, key, getOpts, ctl, onEvent): blocks as "chunk" events
 * (ctlAck them), the first with the object's info (from the response head) as a
 * third argument; resolves to the info at the end. */
static napi_value js_get_stream(napi_env env, napi_callback_info info) {
    ARGS(6);
    obj_job *o = obj_begin(env, argv, NULL, result_info);
    if (!o) return NULL;
    if (!read_get_options(env, argv[3], &o->j.a, &o->get) || !job_ctl(env, &o->j, argv[4]) || !o->j.ctl ||
        !job_on_event(env, &o->j, argv[5])) {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (!pending) napi_throw_type_error(env, NULL, "getStream needs a control handle");
        OBJ_FAIL(o);
    }
    o->j.start = start_get_stream;
    o->j.head_info = &o->info;
    return job_start(env, &o->j);
}

static int32_t start_head(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_object_head_async)(&jj->op, &o->info, jj->box->client, o->bucket, o->key, &o->get, ASYNC_TAIL);
}

/* head(client, bucket, key, getOpts, ctl|null) */
static napi_value js_head(napi_env env, napi_callback_info info) {
    ARGS(5);
    obj_job *o = obj_begin(env, argv, NULL, result_info);
    if (!o) return NULL;
    if (!read_get_options(env, argv[3], &o->j.a, &o->get) || !job_ctl(env, &o->j, argv[4])) OBJ_FAIL(o);
    o->j.start = start_head;
    return job_start(env, &o->j);
}

static int32_t start_delete(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_object_delete_async)(&jj->op, jj->box->client, o->bucket, o->key, ASYNC_TAIL);
}

/* delete(client, bucket, key, ctl|null) */
static napi_value js_delete(napi_env env, napi_callback_info info) {
    ARGS(4);
    obj_job *o = obj_begin(env, argv, NULL, NULL);
    if (!o) return NULL;
    if (!job_ctl(env, &o->j, argv[3])) OBJ_FAIL(o);
    o->j.start = start_delete;
    return job_start(env, &o->j);
}

static int32_t start_delete_many(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_object_delete_many_async)(&jj->op, &o->del, jj->box->client, o->bucket, o->keys, o->key_count, &o->delete_many, ASYNC_TAIL);
}

static napi_value result_delete_many(napi_env env, job *jj) {
    obj_job *o = (obj_job *)jj;
    napi_value r, deleted, errors;
    napi_create_object(env, &r);
    napi_create_array_with_length(env, o->del.deleted_count, &deleted);
    for (size_t i = 0; i < o->del.deleted_count; i++) napi_set_element(env, deleted, (uint32_t)i, str_value(env, o->del.deleted[i]));
    napi_create_array_with_length(env, o->del.error_count, &errors);
    for (size_t i = 0; i < o->del.error_count; i++) {
        napi_value e;
        napi_create_object(env, &e);
        set_str(env, e, "key", o->del.errors[i].key);
        set_str(env, e, "code", o->del.errors[i].code);
        set_str(env, e, "message", o->del.errors[i].message);
        napi_set_element(env, errors, (uint32_t)i, e);
    }
    napi_set_named_property(env, r, "deleted", deleted);
    napi_set_named_property(env, r, "errors", errors);
    return r;
}

/* deleteMany(client, bucket, keys[], quiet, ctl|null) */
static napi_value js_delete_many(napi_env env, napi_callback_info info) {
    ARGS(5);
    napi_value argv3[3] = {argv[0], argv[1], NULL};
    napi_get_undefined(env, &argv3[2]);
    obj_job *o = obj_begin(env, argv3, NULL, result_delete_many);
    if (!o) return NULL;
    bool is_array = false;
    napi_is_array(env, argv[2], &is_array);
    if (!is_array) { napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "keys must be an array of strings"); OBJ_FAIL(o); }
    uint32_t n = 0;
    napi_get_array_length(env, argv[2], &n);
    o->keys = arena_add(&o->j.a, calloc(n ? n : 1, sizeof *o->keys));
    for (uint32_t i = 0; i < n; i++) {
        napi_value k;
        napi_get_element(env, argv[2], i, &k);
        if (!get_str(env, k, &o->j.a, "keys[]", &o->keys[i])) OBJ_FAIL(o);
        if (!o->keys[i]) { napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "keys must be strings"); OBJ_FAIL(o); }
    }
    o->key_count = n;
    napi_coerce_to_bool(env, argv[3], &argv[3]);
    napi_get_value_bool(env, argv[3], &o->quiet);
    R2(r2_delete_many_options_init)(&o->delete_many, R2_DELETE_MANY_OPTIONS_VERSION);
    o->delete_many.quiet = o->quiet;
    if (!job_ctl(env, &o->j, argv[4])) OBJ_FAIL(o);
    o->j.start = start_delete_many;
    return job_start(env, &o->j);
}

static int32_t start_copy(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_object_copy_async)(&jj->op, &o->info, jj->box->client, o->src_bucket, o->src_key, o->bucket, o->key, &o->copy, ASYNC_TAIL);
}

/* copy(client, bucket, key, srcBucket, srcKey, copyOpts, ctl|null) */
static napi_value js_copy(napi_env env, napi_callback_info info) {
    ARGS(7);
    obj_job *o = obj_begin(env, argv, NULL, result_info);
    if (!o) return NULL;
    if (!get_str(env, argv[3], &o->j.a, "sourceBucket", &o->src_bucket) || !get_str(env, argv[4], &o->j.a, "sourceKey", &o->src_key) ||
        !read_copy_options(env, argv[5], &o->j.a, &o->copy) || !job_ctl(env, &o->j, argv[6]))
        OBJ_FAIL(o);
    o->j.start = start_copy;
    return job_start(env, &o->j);
}

static int32_t start_list(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_list_objects_async)(&jj->op, &o->list_result, jj->box->client, o->bucket, &o->list, ASYNC_TAIL);
}

/* Milliseconds since 1970 of "YYYY-MM-DDTHH:MM:SS[.fff]Z", the form of
 * ListObjectsV2's LastModified; false for anything else (JS parses it then). */
static bool iso8601_ms(const char *s, double *ms) {
    int v[6] = {0}, len[6] = {4, 2, 2, 2, 2, 2};
    const char sep[6] = {'-', '-', 'T', ':', ':', 0};
    if (!s) return false;
    for (int f = 0; f < 6; f++) {
        for (int k = 0; k < len[f]; k++, s++) {
            if (*s < '0' || *s > '9') return false;
            v[f] = v[f] * 10 + (*s - '0');
        }
        if (sep[f] && *s++ != sep[f]) return false;
    }
    int frac = 0, digits = 0;
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, digits++) if (digits < 3) frac = frac * 10 + (*s - '0');
        if (digits == 0) return false;
        for (int d = digits; d < 3; d++) frac *= 10;
    }
    if (s[0] != 'Z' || s[1] || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60) return false;
    /* days from 1970-01-01 of the civil date (Howard Hinnant's days_from_civil) */
    int y = v[0] - (v[1] <= 2), m = v[1];
    int era = y / 400, yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + v[2] - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    double days = (double)era * 146097 + doe - 719468;
    *ms = ((days * 24 + v[3]) * 60 + v[4]) * 60000.0 + v[5] * 1000.0 + frac;
    return true;
}

/* Where a string of the page's text is in the JS string made of it, in UTF-16
 * units (the cursor walks the text forward; strings come in order, so one
 * pass in all). A string outside the text (or NULL) is empty: start 0, length 0. */
typedef struct text_cursor {
    const char *text;
    size_t size, byte;
    int32_t unit;
    bool ascii; /* then units are bytes */
} text_cursor;

static void text_span(text_cursor *c, const char *p, int32_t *start, int32_t *len) {
    *start = *len = 0;
    if (!p || p < c->text || p >= c->text + c->size) return;
    size_t off = (size_t)(p - c->text);
    if (c->ascii) {
        *start = (int32_t)off;
        *len = (int32_t)strlen(p);
        return;
    }
    if (off < c->byte) c->byte = 0, c->unit = 0;
    const unsigned char *t = (const unsigned char *)c->text;
    for (; c->byte < off; c->byte++) if ((t[c->byte] & 0xC0) != 0x80) c->unit += t[c->byte] >= 0xF0 ? 2 : 1;
    *start = c->unit;
    for (; c->byte < c->size && t[c->byte]; c->byte++) if ((t[c->byte] & 0xC0) != 0x80) c->unit += t[c->byte] >= 0xF0 ? 2 : 1;
    *len = c->unit - *start;
}

static bool all_ascii(const char *p, size_t n) {
    uint64_t acc = 0, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) { memcpy(&w, p + i, 8); acc |= w; }
    for (; i < n; i++) acc |= (unsigned char)p[i];
    return (acc & 0x8080808080808080ULL) == 0;
}

/* A page in three pieces, made into entries by lib/index.js listPage: the
 * page's text as one JS string, where each entry's strings are in it
 * (Int32Array: key, etag, last-modified, storage class as start and length)
 * and its numbers (Float64Array: size, last-modified in ms or NaN where it
 * does not parse). No N-API call per entry: for a page of 1 000 the JS
 * thread's CPU went from 1.5 ms (an object per entry, its properties set by
 * name, dates parsed by JS) to 0.5 ms. */
static napi_value result_list(napi_env env, job *jj) {
    obj_job *o = (obj_job *)jj;
    const r2_list_result *l = &o->list_result;
    size_t n = l->object_count;
    if (n > 0 && !l->strings) {
        napi_throw_error(env, "ERR_R2_LIBRARY", "libr2 did not hand over the listed page's text (r2_list_result version 2): it is older than this addon");
        return NULL;
    }
    text_cursor cur = { .text = l->strings ? l->strings : "", .size = l->strings ? l->strings_size : 0 };
    cur.ascii = all_ascii(cur.text, cur.size);
    napi_value r, text, buffer, numbers, table, prefixes;
    void *data = NULL;
    napi_create_object(env, &r);
    if (cur.ascii) napi_create_string_latin1(env, cur.text, cur.size, &text);
    else napi_create_string_utf8(env, cur.text, cur.size, &text);
    if (napi_create_arraybuffer(env, n * (2 * sizeof(double) + 8 * sizeof(int32_t)), &data, &buffer) != napi_ok) {
        napi_throw_error(env, NULL, "out of memory for a listed page");
        return NULL;
    }
    double *num = data;
    int32_t *span = (int32_t *)(num + 2 * n);
    for (size_t i = 0; i < n; i++) {
        const r2_object_entry *e = &l->objects[i];
        int32_t *t = span + 8 * i;
        text_span(&cur, e->key, &t[0], &t[1]);
        text_span(&cur, e->etag, &t[2], &t[3]);
        text_span(&cur, e->last_modified, &t[4], &t[5]);
        text_span(&cur, e->storage_class, &t[6], &t[7]);
        num[2 * i] = (double)e->size;
        if (!iso8601_ms(e->last_modified, &num[2 * i + 1])) num[2 * i + 1] = NAN;
    }
    napi_create_typedarray(env, napi_float64_array, 2 * n, buffer, 0, &numbers);
    napi_create_typedarray(env, napi_int32_array, 8 * n, buffer, 2 * n * sizeof(double), &table);
    napi_create_array_with_length(env, l->common_prefix_count, &prefixes);
    for (size_t i = 0; i < l->common_prefix_count; i++) napi_set_element(env, prefixes, (uint32_t)i, str_value(env, l->common_prefixes[i]));
    napi_set_named_property(env, r, "text", text);
    napi_set_named_property(env, r, "table", table);
    napi_set_named_property(env, r, "numbers", numbers);
    napi_set_named_property(env, r, "commonPrefixes", prefixes);
    set_bool(env, r, "isTruncated", l->is_truncated);
    set_str(env, r, "nextContinuationToken", l->next_continuation_token);
    set_str(env, r, "requestId", l->request_id);
    return r;
}

/* list(client, bucket, listOpts, ctl|null) */
static napi_value js_list(napi_env env, napi_callback_info info) {
    ARGS(4);
    napi_value argv3[3] = {argv[0], argv[1], NULL};
    napi_get_undefined(env, &argv3[2]);
    obj_job *o = obj_begin(env, argv3, NULL, result_list);
    if (!o) return NULL;
    if (!read_list_options(env, argv[2], &o->j.a, &o->list) || !job_ctl(env, &o->j, argv[3])) OBJ_FAIL(o);
    o->j.start = start_list;
    return job_start(env, &o->j);
}

/* ---- multipart ---- */

static int32_t start_mp_create(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_multipart_create_async)(&jj->op, &o->buf, jj->box->client, o->bucket, o->key, &o->put, ASYNC_TAIL);
}

/* multipartCreate(client, bucket, key, putOpts, ctl|null) */
static napi_value js_mp_create(napi_env env, napi_callback_info info) {
    ARGS(5);
    obj_job *o = obj_begin(env, argv, NULL, result_buf);
    if (!o) return NULL;
    if (!read_put_options(env, argv[3], &o->j.a, &o->put) || !job_ctl(env, &o->j, argv[4])) OBJ_FAIL(o);
    o->j.start = start_mp_create;
    return job_start(env, &o->j);
}

static int32_t start_mp_part(job *jj) {
    obj_job *o = (obj_job *)jj;
    if (o->src_bucket)
        return R2(r2_multipart_upload_part_copy_async)(&jj->op, &o->buf, jj->box->client, o->bucket, o->key, o->upload_id, o->part_number,
                                                       o->src_bucket, o->src_key, o->first, o->last, &o->part, ASYNC_TAIL);
    return R2(r2_multipart_upload_part_async)(&jj->op, &o->buf, jj->box->client, o->bucket, o->key, o->upload_id, o->part_number,
                                              o->data, o->len, &o->part, ASYNC_TAIL);
}

/* The SSE-C keys of a part: {sseCustomerKey, sourceSseCustomerKey} or null. */
static bool read_part_options(napi_env env, napi_value o, arena *a, r2_part_options *p) {
    R2(r2_part_options_init)(p, R2_PART_OPTIONS_VERSION);
    if (is_nullish(env, o)) return true;
    PROP_KEY(o, "sseCustomerKey", p->sse_customer_key);
    PROP_KEY(o, "sourceSseCustomerKey", p->source_sse_customer_key);
    return true;
}

/* uploadPart(client, bucket, key, uploadId, partNumber, bytes, checksum, partOpts, ctl|null) */
static napi_value js_mp_part(napi_env env, napi_callback_info info) {
    ARGS(9);
    obj_job *o = obj_begin(env, argv, NULL, result_buf);
    if (!o) return NULL;
    double pn = 0, ck = 0;
    if (!get_str(env, argv[3], &o->j.a, "uploadId", &o->upload_id) || napi_get_value_double(env, argv[4], &pn) != napi_ok ||
        !get_bytes(env, &o->j, argv[5], &o->data, &o->len)) {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (!pending) napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "partNumber must be a number");
        OBJ_FAIL(o);
    }
    if (!is_nullish(env, argv[6])) napi_get_value_double(env, argv[6], &ck);
    o->part_number = pn < 0 || pn > 4294967295.0 ? 0 : (uint32_t)pn;
    if (!read_part_options(env, argv[7], &o->j.a, &o->part) || !job_ctl(env, &o->j, argv[8])) OBJ_FAIL(o);
    o->part.checksum = (int32_t)ck;
    o->j.start = start_mp_part;
    return job_start(env, &o->j);
}

/* uploadPartCopy(client, bucket, key, uploadId, partNumber, srcBucket, srcKey, first, last, partOpts, ctl|null) */
static napi_value js_mp_part_copy(napi_env env, napi_callback_info info) {
    ARGS(11);
    obj_job *o = obj_begin(env, argv, NULL, result_buf);
    if (!o) return NULL;
    double pn = 0, first = -1, last = -1;
    if (!get_str(env, argv[3], &o->j.a, "uploadId", &o->upload_id) || napi_get_value_double(env, argv[4], &pn) != napi_ok ||
        !get_str(env, argv[5], &o->j.a, "sourceBucket", &o->src_bucket) || !get_str(env, argv[6], &o->j.a, "sourceKey", &o->src_key)) {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (!pending) napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "partNumber must be a number");
        OBJ_FAIL(o);
    }
    if (!o->src_bucket || !o->src_key) { napi_throw_type_error(env, NULL, "the copy source is required"); OBJ_FAIL(o); }
    if (!is_nullish(env, argv[7])) napi_get_value_double(env, argv[7], &first);
    if (!is_nullish(env, argv[8])) napi_get_value_double(env, argv[8], &last);
    o->part_number = pn < 0 || pn > 4294967295.0 ? 0 : (uint32_t)pn;
    o->first = (int64_t)first;
    o->last = (int64_t)last;
    if (!read_part_options(env, argv[9], &o->j.a, &o->part) || !job_ctl(env, &o->j, argv[10])) OBJ_FAIL(o);
    o->j.start = start_mp_part;
    return job_start(env, &o->j);
}

static int32_t start_mp_complete(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_multipart_complete_async)(&jj->op, &o->info, jj->box->client, o->bucket, o->key, o->upload_id, o->completed,
                                           o->completed_count, &o->complete, ASYNC_TAIL);
}

/* complete(client, bucket, key, uploadId, [{partNumber, etag}], {ifMatch, ifNoneMatch, sseCustomerKey}, ctl|null) */
static napi_value js_mp_complete(napi_env env, napi_callback_info info) {
    ARGS(7);
    obj_job *o = obj_begin(env, argv, NULL, result_info);
    if (!o) return NULL;
    bool is_array = false;
    napi_is_array(env, argv[4], &is_array);
    if (!get_str(env, argv[3], &o->j.a, "uploadId", &o->upload_id)) OBJ_FAIL(o);
    if (!is_array) { napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "parts must be an array of { partNumber, etag }"); OBJ_FAIL(o); }
    uint32_t n = 0;
    napi_get_array_length(env, argv[4], &n);
    o->completed = arena_add(&o->j.a, calloc(n ? n : 1, sizeof *o->completed));
    for (uint32_t i = 0; i < n; i++) {
        napi_value p;
        double pn = 0;
        napi_get_element(env, argv[4], i, &p);
        if (!prop_f64(env, p, "partNumber", &pn) || !prop_str(env, p, "etag", &o->j.a, &o->completed[i].etag)) OBJ_FAIL(o);
        o->completed[i].part_number = pn < 0 || pn > 4294967295.0 ? 0 : (uint32_t)pn;
    }
    o->completed_count = n;
    R2(r2_complete_options_init)(&o->complete, R2_COMPLETE_OPTIONS_VERSION);
    if (!is_nullish(env, argv[5])) {
        arena *a = &o->j.a;
        napi_value c = argv[5];
        if (!prop_str(env, c, "ifMatch", a, &o->complete.if_match) || !prop_str(env, c, "ifNoneMatch", a, &o->complete.if_none_match) ||
            !get_key(env, prop(env, c, "sseCustomerKey"), a, "sseCustomerKey", &o->complete.sse_customer_key))
            OBJ_FAIL(o);
    }
    if (!job_ctl(env, &o->j, argv[6])) OBJ_FAIL(o);
    o->j.start = start_mp_complete;
    return job_start(env, &o->j);
}

static int32_t start_mp_abort(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_multipart_abort_async)(&jj->op, jj->box->client, o->bucket, o->key, o->upload_id, ASYNC_TAIL);
}

/* multipartAbort(client, bucket, key, uploadId, ctl|null) */
static napi_value js_mp_abort(napi_env env, napi_callback_info info) {
    ARGS(5);
    obj_job *o = obj_begin(env, argv, NULL, NULL);
    if (!o) return NULL;
    if (!get_str(env, argv[3], &o->j.a, "uploadId", &o->upload_id) || !job_ctl(env, &o->j, argv[4])) OBJ_FAIL(o);
    o->j.start = start_mp_abort;
    return job_start(env, &o->j);
}

static int32_t start_mp_list_parts(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_multipart_list_parts_async)(&jj->op, &o->parts, jj->box->client, o->bucket, o->key, o->upload_id, NULL, ASYNC_TAIL);
}

static napi_value result_parts(napi_env env, job *jj) {
    obj_job *o = (obj_job *)jj;
    napi_value arr;
    napi_create_array_with_length(env, o->parts.count, &arr);
    for (size_t i = 0; i < o->parts.count; i++) {
        napi_value p;
        napi_create_object(env, &p);
        set_num(env, p, "partNumber", o->parts.parts[i].part_number);
        set_num(env, p, "size", (double)o->parts.parts[i].size);
        set_str(env, p, "etag", o->parts.parts[i].etag);
        set_str(env, p, "lastModified", o->parts.parts[i].last_modified);
        napi_set_element(env, arr, (uint32_t)i, p);
    }
    return arr;
}

/* listParts(client, bucket, key, uploadId, ctl|null) */
static napi_value js_mp_list_parts(napi_env env, napi_callback_info info) {
    ARGS(5);
    obj_job *o = obj_begin(env, argv, NULL, result_parts);
    if (!o) return NULL;
    if (!get_str(env, argv[3], &o->j.a, "uploadId", &o->upload_id) || !job_ctl(env, &o->j, argv[4])) OBJ_FAIL(o);
    o->j.start = start_mp_list_parts;
    return job_start(env, &o->j);
}

static int32_t start_mp_list_uploads(job *jj) {
    obj_job *o = (obj_job *)jj;
    R2(r2_list_uploads_options_init)(&o->list_uploads, R2_LIST_UPLOADS_OPTIONS_VERSION);
    o->list_uploads.prefix = o->key;  /* the prefix travels in the key slot */
    return R2(r2_multipart_list_uploads_async)(&jj->op, &o->uploads, jj->box->client, o->bucket, &o->list_uploads, ASYNC_TAIL);
}

static napi_value result_uploads(napi_env env, job *jj) {
    obj_job *o = (obj_job *)jj;
    napi_value arr;
    napi_create_array_with_length(env, o->uploads.count, &arr);
    for (size_t i = 0; i < o->uploads.count; i++) {
        napi_value p;
        napi_create_object(env, &p);
        set_str(env, p, "key", o->uploads.uploads[i].key);
        set_str(env, p, "uploadId", o->uploads.uploads[i].upload_id);
        set_str(env, p, "initiated", o->uploads.uploads[i].initiated);
        napi_set_element(env, arr, (uint32_t)i, p);
    }
    return arr;
}

/* listUploads(client, bucket, prefix|null, ctl|null) */
static napi_value js_mp_list_uploads(napi_env env, napi_callback_info info) {
    ARGS(4);
    obj_job *o = obj_begin(env, argv, NULL, result_uploads);
    if (!o) return NULL;
    if (!job_ctl(env, &o->j, argv[3])) OBJ_FAIL(o);
    o->j.start = start_mp_list_uploads;
    return job_start(env, &o->j);
}

/* ---- files ---- */

/* Progress reports (on an engine thread) become "progress" messages. */
static void transfer_hooks(job *jj) {
    obj_job *o = (obj_job *)jj;
    if (jj->on_event_ref) {
        o->transfer.progress = transfer_progress;
        o->transfer.progress_userdata = jj;
    }
}

static int32_t start_upload_file(job *jj) {
    obj_job *o = (obj_job *)jj;
    transfer_hooks(jj);
    return R2(r2_transfer_upload_file_async)(&jj->op, &o->info, jj->box->client, o->bucket, o->key, o->path, &o->transfer, ASYNC_TAIL);
}

static int32_t start_download_file(job *jj) {
    obj_job *o = (obj_job *)jj;
    transfer_hooks(jj);
    return R2(r2_transfer_download_file_async)(&jj->op, &o->info, jj->box->client, o->bucket, o->key, o->path, &o->transfer, ASYNC_TAIL);
}

static int32_t start_copy_large(job *jj) {
    obj_job *o = (obj_job *)jj;
    return R2(r2_transfer_copy_async)(&jj->op, &o->info, jj->box->client, o->src_bucket, o->src_key, o->bucket, o->key, &o->transfer, ASYNC_TAIL);
}

/* transferFile(client, bucket, key, path, "upload"|"download", transferOpts, ctl, onProgress) */
static napi_value js_transfer_file(napi_env env, napi_callback_info info) {
    ARGS(8);
    obj_job *o = obj_begin(env, argv, NULL, result_info);
    if (!o) return NULL;
    const char *dir = NULL;
    if (!get_str(env, argv[3], &o->j.a, "path", &o->path) || !get_str(env, argv[4], &o->j.a, "direction", &dir) ||
        !read_transfer_options(env, argv[5], &o->j.a, &o->transfer, &o->put) || !job_ctl(env, &o->j, argv[6]) ||
        !job_on_event(env, &o->j, argv[7]))
        OBJ_FAIL(o);
    o->stream = dir && !strcmp(dir, "download");
    o->j.start = o->stream ? start_download_file : start_upload_file;
    return job_start(env, &o->j);
}

/* copyLarge(client, bucket, key, srcBucket, srcKey, transferOpts, ctl) */
static napi_value js_copy_large(napi_env env, napi_callback_info info) {
    ARGS(7);
    obj_job *o = obj_begin(env, argv, start_copy_large, result_info);
    if (!o) return NULL;
    if (!get_str(env, argv[3], &o->j.a, "sourceBucket", &o->src_bucket) || !get_str(env, argv[4], &o->j.a, "sourceKey", &o->src_key) ||
        !read_transfer_options(env, argv[5], &o->j.a, &o->transfer, &o->put) || !job_ctl(env, &o->j, argv[6]))
        OBJ_FAIL(o);
    return job_start(env, &o->j);
}

/* ---- misc ---- */

static napi_value js_status_name(napi_env env, napi_callback_info info) {
    ARGS(1);
    double code = 0;
    napi_get_value_double(env, argv[0], &code);
    return str_value(env, R2(r2_status_string)((int32_t)code));
}

static napi_value js_validate(napi_env env, napi_callback_info info) {
    ARGS(2);
    arena a = {0};
    const char *bucket = NULL, *key = NULL;
    napi_value r = NULL;
    if (get_str(env, argv[0], &a, "bucket", &bucket) && get_str(env, argv[1], &a, "key", &key)) {
        int32_t rc = R2_OK;
        if (bucket) rc = R2(r2_bucket_validate)(bucket);
        if (rc == R2_OK && key) rc = R2(r2_key_validate)(key);
        if (rc != R2_OK) throw_r2(env, rc);
        else napi_get_undefined(env, &r);
    }
    arena_free(&a);
    return r;
}

static void addon_cleanup(void *arg) {
    addon *ad = arg;
    napi_release_threadsafe_function(ad->tsfn, napi_tsfn_abort);
}

static napi_value Init(napi_env env, napi_value exports) {
    if (!load_libr2()) {
        napi_throw_error(env, "ERR_R2_LIBRARY", load_error);
        return NULL;
    }
    if (the_addon) {
        napi_throw_error(env, "ERR_R2_ADDON", "r2: the addon can be loaded once per process (not in worker threads)");
        return NULL;
    }
    addon *ad = calloc(1, sizeof *ad);
    if (!ad) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
    pthread_mutex_init(&ad->mu, NULL);
    napi_value name;
    napi_create_string_utf8(env, "r2", NAPI_AUTO_LENGTH, &name);
    CHECK(napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, ad, on_wake, &ad->tsfn));
    napi_unref_threadsafe_function(env, ad->tsfn);
    the_addon = ad;
    napi_add_env_cleanup_hook(env, addon_cleanup, ad);

    napi_property_descriptor props[] = {
#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}
        FN("clientNew", js_client_new), FN("clientFromEnv", js_client_from_env), FN("clientClose", js_client_close),
        FN("metrics", js_metrics), FN("presign", js_presign),
        FN("signerNew", js_signer_new), FN("signerSign", js_signer_sign),
        FN("ctlNew", js_ctl_new), FN("ctlCancel", js_ctl_cancel), FN("ctlAck", js_ctl_ack), FN("ctlFeed", js_ctl_feed),
        FN("put", js_put), FN("get", js_get), FN("getStream", js_get_stream), FN("head", js_head), FN("delete", js_delete),
        FN("deleteMany", js_delete_many), FN("copy", js_copy), FN("copyLarge", js_copy_large), FN("list", js_list),
        FN("multipartCreate", js_mp_create), FN("uploadPart", js_mp_part), FN("uploadPartCopy", js_mp_part_copy),
        FN("multipartComplete", js_mp_complete), FN("multipartAbort", js_mp_abort),
        FN("listParts", js_mp_list_parts), FN("listUploads", js_mp_list_uploads),
        FN("transferFile", js_transfer_file), FN("statusName", js_status_name), FN("validate", js_validate),
        FN("drainMessages", js_drain_messages), FN("setScheduler", js_set_scheduler),
        FN("setFactories", js_set_factories),
#undef FN
    };
    CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
    napi_value v;
    napi_create_string_utf8(env, R2(r2_version_string)(), NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, exports, "libraryVersion", v);
    napi_create_string_utf8(env, loaded_path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, exports, "libraryPath", v);
    napi_create_string_utf8(env, R2_VERSION_STRING, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, exports, "headerVersion", v);
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
