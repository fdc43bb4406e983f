/* Results that can grow: a caller compiled against the FIRST version of each
 * result struct (declared here, as that caller's header had them) passes it
 * surrounded by guard bytes, and r2 must fill it without writing one byte
 * beyond it; arrays inside a result must be laid out at that version's
 * stride. A version of 0 or above the library's is refused, and nothing is
 * written. No server: the responses come from a committed cassette
 * (Tests/Fixtures/result-versions.json) through the replay transport.
 * usage: test_result_versions CASSETTE
 * Prints one line per failed check and "N passed, M failed" last. */
#include "r2.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

/* ---- the version 1 structs, as a caller built against r2 1.0 declares them ---- */

struct v1_object_info {
    uint32_t version;
    const char *etag, *version_id, *content_type, *content_range, *last_modified, *cache_control,
        *content_disposition, *content_encoding, *content_language, *expires, *storage_class,
        *checksum_crc32, *checksum_crc32c, *checksum_sha1, *checksum_sha256, *request_id;
    int64_t content_length;
    int32_t http_status;
    const r2_header *metadata;
    size_t metadata_count;
    void *internal;
};

struct v1_object_entry {
    uint32_t version;
    const char *key, *etag, *last_modified, *storage_class;
    uint64_t size;
};

struct v1_list_result {
    uint32_t version;
    const struct v1_object_entry *objects;
    size_t object_count;
    const char *const *common_prefixes;
    size_t common_prefix_count;
    bool is_truncated;
    const char *next_continuation_token, *request_id;
    void *internal;
};

struct v1_delete_error {
    uint32_t version;
    const char *key, *code, *message;
};

struct v1_delete_result {
    uint32_t version;
    const char *const *deleted;
    size_t deleted_count;
    const struct v1_delete_error *errors;
    size_t error_count;
    void *internal;
};

struct v1_part_info {
    uint32_t version, part_number;
    uint64_t size;
    const char *etag, *last_modified;
};

struct v1_part_list {
    uint32_t version;
    const struct v1_part_info *parts;
    size_t count;
    void *internal;
};

struct v1_upload_info {
    uint32_t version;
    const char *key, *upload_id, *initiated;
};

struct v1_upload_list {
    uint32_t version;
    const struct v1_upload_info *uploads;
    size_t count;
    void *internal;
};

struct v1_signed_fields {
    uint32_t version;
    const char *authorization;
    size_t authorization_len;
    const char *canonical_request;
    size_t canonical_request_len;
    const char *string_to_sign;
    size_t string_to_sign_len;
    const char *signature;
    size_t signature_len;
    const char *query;
    size_t query_len;
    const r2_header *headers;
    size_t header_count;
    const uint8_t *header_block;
    size_t header_block_len;
};

/* The version 1 declarations above must be today's version 1 layout: every
 * field where r2.h has it (fields of later versions come after these). */
#define SAME_FIELD(v1, cur, f) (offsetof(struct v1, f) == offsetof(cur, f))
static void test_declarations(void) {
    CHECK(SAME_FIELD(v1_object_info, r2_object_info, etag) && SAME_FIELD(v1_object_info, r2_object_info, content_length)
          && SAME_FIELD(v1_object_info, r2_object_info, internal) && sizeof(struct v1_object_info) <= sizeof(r2_object_info),
          "v1 r2_object_info layout");
    CHECK(SAME_FIELD(v1_object_entry, r2_object_entry, key) && SAME_FIELD(v1_object_entry, r2_object_entry, size),
          "v1 r2_object_entry layout");
    CHECK(SAME_FIELD(v1_list_result, r2_list_result, objects) && SAME_FIELD(v1_list_result, r2_list_result, internal),
          "v1 r2_list_result layout");
    CHECK(SAME_FIELD(v1_delete_error, r2_delete_error, message) && SAME_FIELD(v1_delete_result, r2_delete_result, internal),
          "v1 r2_delete_result layout");
    CHECK(SAME_FIELD(v1_part_info, r2_multipart_part_info, last_modified) && SAME_FIELD(v1_part_list, r2_multipart_part_list, internal),
          "v1 r2_multipart_part_list layout");
    CHECK(SAME_FIELD(v1_upload_info, r2_multipart_upload_info, initiated)
          && SAME_FIELD(v1_upload_list, r2_multipart_upload_list, internal), "v1 r2_multipart_upload_list layout");
    CHECK(SAME_FIELD(v1_signed_fields, r2_signed_fields, header_block_len), "v1 r2_signed_fields layout");
}

/* ---- guard bytes ---- */

#define GUARD 64
#define FILL 0xA5
/* Room for any result struct between two guard zones; aligned for any field. */
static union { unsigned char bytes[GUARD + 512 + GUARD]; uint64_t align_u64; void *align_ptr; long double align_ld; } mem;

/* A struct after a guard zone, every byte FILL but its version. */
static void *guarded(uint32_t version) {
    memset(mem.bytes, FILL, sizeof mem.bytes);
    memcpy(mem.bytes + GUARD, &version, sizeof version);
    return mem.bytes + GUARD;
}

/* True when nothing outside [GUARD, GUARD + size) changed. */
static bool guards_intact(size_t size) {
    for (size_t i = 0; i < sizeof mem.bytes; i++) {
        if ((i < GUARD || i >= GUARD + size) && mem.bytes[i] != FILL) return false;
    }
    return true;
}

/* True when no byte at all changed except the version's. */
static bool untouched(uint32_t version) {
    unsigned char want[sizeof mem.bytes];
    memset(want, FILL, sizeof want);
    memcpy(want + GUARD, &version, sizeof version);
    return memcmp(want, mem.bytes, sizeof want) == 0;
}

static r2_client *client_for(const char *cassette) {
    r2_client_options o = R2_CLIENT_OPTIONS_INIT;
    o.endpoint = "http://127.0.0.1:9";
    o.allow_http = true;
    o.access_key_id = "AKIDRESULTVERSIONS";
    o.secret_access_key = "secretsecretsecretsecretsecretsecretsecret";
    o.replay_path = cassette;
    r2_client *c = NULL;
    CHECK(r2_client_new(&c, &o) == R2_OK, "replay client: %s", r2_error_last()->message);
    return c;
}

/* Version 0 and a version above the library's are refused, and r2 writes nothing. */
#define BAD_VERSIONS(T, call)                                                                    \
    do {                                                                                         \
        uint32_t bad_[2] = {0, 999};                                                             \
        for (int i_ = 0; i_ < 2; i_++) {                                                         \
            T *out = guarded(bad_[i_]);                                                          \
            int32_t rc_ = (call);                                                                \
            CHECK(rc_ == R2_ERR_INVALID_ARGUMENT, #T " version %u: %s", bad_[i_], r2_status_string(rc_)); \
            CHECK(untouched(bad_[i_]), #T " version %u: nothing written", bad_[i_]);             \
        }                                                                                        \
    } while (0)

static void test_object_info(r2_client *c) {
    size_t size = sizeof(struct v1_object_info);
    struct v1_object_info *info = guarded(1);
    CHECK_OK(r2_object_put((r2_object_info *)info, c, "bkt", "k", (const uint8_t *)"hello", 5, NULL), "put");
    CHECK(guards_intact(size), "put: nothing written beyond a version 1 r2_object_info");
    CHECK(info->version == 1 && info->etag && strcmp(info->etag, "\"e0\"") == 0, "put: version kept, etag %s", info->etag);
    r2_object_info_dispose((r2_object_info *)info);
    CHECK(guards_intact(size) && info->version == 1 && info->etag == NULL && info->internal == NULL,
          "dispose clears the version 1 fields, keeps the version, writes nothing beyond");

    info = guarded(1);
    r2_buf body = {NULL, 0};
    CHECK_OK(r2_object_get(&body, (r2_object_info *)info, c, "bkt", "k", NULL), "get");
    CHECK(guards_intact(size), "get: nothing written beyond a version 1 r2_object_info");
    CHECK(body.size == 5 && info->metadata_count == 1 && strcmp(info->metadata[0].name, "a") == 0
          && strcmp(info->content_type, "text/plain") == 0, "get: body and metadata");
    r2_buf_dispose(&body);
    r2_object_info_dispose((r2_object_info *)info);

    info = guarded(1);
    CHECK_OK(r2_object_head((r2_object_info *)info, c, "bkt", "k", NULL), "head");
    CHECK(guards_intact(size) && info->content_length == 5, "head: nothing written beyond; content_length %lld",
          (long long)info->content_length);
    r2_object_info_dispose((r2_object_info *)info);

    BAD_VERSIONS(r2_object_info, r2_object_head(out, c, "bkt", "k", NULL));
    BAD_VERSIONS(r2_object_info, r2_object_put(out, c, "bkt", "k", (const uint8_t *)"x", 1, NULL));
}

static void test_list(r2_client *c) {
    size_t size = sizeof(struct v1_list_result);
    struct v1_list_result *page = guarded(1);
    CHECK_OK(r2_list_objects((r2_list_result *)page, c, "bkt", NULL), "list");
    CHECK(guards_intact(size), "list: nothing written beyond a version 1 r2_list_result");
    CHECK(page->object_count == 3 && page->common_prefix_count == 1, "list: 3 objects, 1 prefix (%zu, %zu)",
          page->object_count, page->common_prefix_count);
    /* The caller indexes the entries with its own (version 1) stride. */
    bool entries_ok = page->object_count == 3;
    for (size_t i = 0; entries_ok && i < page->object_count; i++) {
        const struct v1_object_entry *e = &page->objects[i];
        char want[2] = {(char)('a' + i), 0};
        entries_ok = e->version == 1 && strcmp(e->key, want) == 0 && e->size == i + 1;
    }
    CHECK(entries_ok, "entries at the version 1 stride, each with version 1, key and size");
    r2_list_result_dispose((r2_list_result *)page);
    CHECK(guards_intact(size) && page->version == 1 && page->objects == NULL, "list dispose");

    r2_list_iter *it = NULL;
    CHECK_OK(r2_list_iter_new(&it, c, "bkt", NULL), "iter");
    size = sizeof(struct v1_object_entry);
    struct v1_object_entry *e = guarded(1);
    int n = 0, intact = 1;
    int32_t rc;
    while ((rc = r2_list_iter_next((r2_object_entry *)e, it)) == R2_OK) {
        n++;
        intact &= guards_intact(size) && e->version == 1 && e->key != NULL;
    }
    CHECK(rc == R2_ITER_OVER && n == 3 && intact, "iterator: 3 entries, nothing written beyond a version 1 r2_object_entry");
    BAD_VERSIONS(r2_object_entry, r2_list_iter_next(out, it));
    r2_list_iter_free(it);

    /* Version 2 adds the block every string of the result lies in. */
    r2_list_result cur = R2_LIST_RESULT_INIT;
    CHECK_OK(r2_list_objects(&cur, c, "bkt", NULL), "list at the current version");
    const char *lo = cur.strings, *hi = cur.strings + cur.strings_size;
    bool inside = lo != NULL && cur.strings_size > 0 && cur.object_count == 3 && cur.common_prefix_count == 1;
#define INSIDE(s) (inside = inside && (s) >= lo && (s) + strlen(s) < hi)
    for (size_t i = 0; inside && i < cur.object_count; i++) {
        const r2_object_entry *o = &cur.objects[i];
        INSIDE(o->key);
        INSIDE(o->etag);
        INSIDE(o->last_modified);
        INSIDE(o->storage_class);
    }
    INSIDE(cur.common_prefixes[0]);
    INSIDE(cur.next_continuation_token);
    INSIDE(cur.request_id);
#undef INSIDE
    CHECK(inside && strcmp(cur.objects[2].key, "c") == 0 && strcmp(cur.objects[2].etag, "\"e2\"") == 0
          && strcmp(cur.common_prefixes[0], "d/") == 0 && strcmp(cur.request_id, "req-ListObjectsV2") == 0,
          "every string of a version 2 result lies in [strings, strings + strings_size)");
    r2_list_result_dispose(&cur);
    CHECK(cur.version == R2_LIST_RESULT_VERSION && cur.strings == NULL && cur.strings_size == 0, "version 2 dispose");

    BAD_VERSIONS(r2_list_result, r2_list_objects(out, c, "bkt", NULL));
}

static void test_delete_many(r2_client *c) {
    const char *keys[3] = {"a", "b", "c"};
    size_t size = sizeof(struct v1_delete_result);
    struct v1_delete_result *del = guarded(1);
    CHECK_OK(r2_object_delete_many((r2_delete_result *)del, c, "bkt", keys, 3, NULL), "delete many");
    CHECK(guards_intact(size), "delete: nothing written beyond a version 1 r2_delete_result");
    CHECK(del->deleted_count == 2 && del->error_count == 1 && del->errors[0].version == 1
          && strcmp(del->errors[0].key, "c") == 0 && strcmp(del->errors[0].code, "AccessDenied") == 0,
          "2 deleted, 1 error at the version 1 stride");
    r2_delete_result_dispose((r2_delete_result *)del);
    BAD_VERSIONS(r2_delete_result, r2_object_delete_many(out, c, "bkt", keys, 3, NULL));
}

static void test_multipart_lists(r2_client *c) {
    size_t size = sizeof(struct v1_part_list);
    struct v1_part_list *parts = guarded(1);
    CHECK_OK(r2_multipart_list_parts((r2_multipart_part_list *)parts, c, "bkt", "k", "U1", NULL), "list parts");
    CHECK(guards_intact(size), "list parts: nothing written beyond a version 1 r2_multipart_part_list");
    CHECK(parts->count == 2 && parts->parts[1].version == 1 && parts->parts[1].part_number == 2
          && strcmp(parts->parts[1].etag, "\"p2\"") == 0, "2 parts at the version 1 stride");
    r2_multipart_part_list_dispose((r2_multipart_part_list *)parts);
    BAD_VERSIONS(r2_multipart_part_list, r2_multipart_list_parts(out, c, "bkt", "k", "U1", NULL));

    size = sizeof(struct v1_upload_list);
    struct v1_upload_list *uploads = guarded(1);
    CHECK_OK(r2_multipart_list_uploads((r2_multipart_upload_list *)uploads, c, "bkt", NULL), "list uploads");
    CHECK(guards_intact(size), "list uploads: nothing written beyond a version 1 r2_multipart_upload_list");
    CHECK(uploads->count == 2 && uploads->uploads[1].version == 1 && strcmp(uploads->uploads[1].key, "k2") == 0
          && strcmp(uploads->uploads[1].upload_id, "U2") == 0, "2 uploads at the version 1 stride");
    r2_multipart_upload_list_dispose((r2_multipart_upload_list *)uploads);
    BAD_VERSIONS(r2_multipart_upload_list, r2_multipart_list_uploads(out, c, "bkt", NULL));
}

static void test_signed_fields(void) {
    r2_signer_options so = R2_SIGNER_OPTIONS_INIT;
    so.access_key_id = "AKIDRESULTVERSIONS";
    so.secret_access_key = "secretsecretsecretsecretsecretsecretsecret";
    r2_signer *signer = NULL;
    CHECK_OK(r2_signer_new(&signer, &so), "signer");
    r2_header h[1] = {{"host", "example.com"}};
    r2_sign_request req = R2_SIGN_REQUEST_INIT;
    req.method = "GET";
    req.path = "/bkt/k";
    req.headers = h;
    req.header_count = 1;
    req.unix_time = 1700000000;
    r2_signed *s = NULL;
    CHECK_OK(r2_signer_sign(&s, signer, &req), "sign");
    size_t size = sizeof(struct v1_signed_fields);
    struct v1_signed_fields *f = guarded(1);
    CHECK_OK(r2_signed_get((r2_signed_fields *)f, s), "signed get");
    CHECK(guards_intact(size) && f->signature_len == 64 && f->header_count >= 3,
          "signed fields: nothing written beyond version 1");
    BAD_VERSIONS(r2_signed_fields, r2_signed_get(out, s));
    r2_signed_free(s);
    r2_signer_free(signer);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASSETTE\n", argv[0]);
        return 2;
    }
    test_declarations();
    r2_client *c = client_for(argv[1]);
    if (c) {
        test_object_info(c);
        test_list(c);
        test_delete_many(c);
        test_multipart_lists(c);
        r2_client_free(c);
    }
    test_signed_fields();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
