#include <curl/curl.h>

/* curl_easy_setopt/getinfo are variadic, which Swift cannot call; these typed
   wrappers are the only way the Swift side touches them. */
static inline CURLcode r2_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode r2_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode r2_curl_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode r2_curl_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode r2_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*r2_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode r2_curl_setopt_datacb(CURL *h, CURLoption o, r2_curl_data_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode r2_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode r2_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode r2_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
typedef int (*r2_curl_xferinfo_cb)(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode r2_curl_setopt_xferinfocb(CURL *h, CURLoption o, r2_curl_xferinfo_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLMcode r2_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
#include <sys/prctl.h>
/* Names the calling thread (the engine's threads show as r2-engine-N in ps/top). */
static inline void r2_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
