/* r2 demo: sign a request and presign a URL through the C ABI.
 * Build: cc demo.c $(pkg-config --cflags --libs r2)   (or `make demo`) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "r2.h"

static int fail(const char *what) {
    const r2_error *e = r2_error_last();
    fprintf(stderr, "%s failed: %s (%s)\n", what, e->message, r2_status_string(e->code));
    return 1;
}

int main(void) {
    printf("libr2 %s\n", r2_version_string());

    /* A client for an R2 account. Credentials here are examples; no network call is made. */
    r2_client_options opts = R2_CLIENT_OPTIONS_INIT;
    opts.account_id = "0123456789abcdef0123456789abcdef";
    opts.access_key_id = "AKIDEXAMPLE";
    opts.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    r2_client *client = NULL;
    if (r2_client_new(&client, &opts) != R2_OK) return fail("r2_client_new");

    /* A presigned GET URL, valid for one hour. */
    r2_buf url = {0};
    if (r2_presign(&url, client, "GET", "my-bucket", "photos/2026/cat.jpg", 3600, NULL) != R2_OK)
        return fail("r2_presign");
    printf("presigned GET: %s\n", url.ptr);
    r2_buf_dispose(&url);

    /* A presigned PUT that requires the uploader to send this Content-Type. */
    r2_header ct = {"Content-Type", "image/jpeg"};
    r2_presign_options popts = R2_PRESIGN_OPTIONS_INIT;
    popts.headers = &ct;
    popts.header_count = 1;
    if (r2_presign(&url, client, "PUT", "my-bucket", "photos/2026/dog.jpg", 600, &popts) != R2_OK)
        return fail("r2_presign");
    printf("presigned PUT: %s\n", url.ptr);
    r2_buf_dispose(&url);
    r2_client_free(client);

    /* Signing a request by hand: the headers to send, Authorization last. */
    r2_signer_options sopts = R2_SIGNER_OPTIONS_INIT;
    sopts.access_key_id = opts.access_key_id;
    sopts.secret_access_key = opts.secret_access_key;
    r2_signer *signer = NULL;
    if (r2_signer_new(&signer, &sopts) != R2_OK) return fail("r2_signer_new");
    r2_header host = {"Host", "0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com"};
    r2_sign_request req = R2_SIGN_REQUEST_INIT;
    req.method = "GET";
    req.path = "/my-bucket/photos/2026/cat.jpg";
    req.headers = &host;
    req.header_count = 1;
    r2_signed *result = NULL;
    if (r2_signer_sign(&result, signer, &req) != R2_OK) return fail("r2_signer_sign");
    printf("signed GET headers:\n");
    for (size_t i = 0; i < r2_signed_header_count(result); i++) {
        r2_header h;
        if (r2_signed_header(&h, result, i) != R2_OK) continue;
        /* The Authorization header is a credential: never print or log it. */
        if (strcmp(h.name, "Authorization") == 0) printf("  %s: <%zu bytes, not shown>\n", h.name, strlen(h.value));
        else printf("  %s: %s\n", h.name, h.value);
    }
    r2_signed_free(result);
    r2_signer_free(signer);

    /* Bad input is an error with a message, never a crash. */
    if (r2_presign(&url, NULL, "GET", "my-bucket", "k", 60, NULL) != R2_OK)
        printf("expected error: %s\n", r2_error_last()->message);
    return 0;
}
