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
static inline CURLMcode r2_curl_multi_setopt_ptr(CURLM *m, CURLMoption o, void *v) { return curl_multi_setopt(m, o, v); }
typedef int (*r2_curl_socket_cb)(CURL *easy, curl_socket_t s, int what, void *clientp, void *socketp);
typedef int (*r2_curl_timer_cb)(CURLM *multi, long timeout_ms, void *clientp);
static inline CURLMcode r2_curl_multi_socket_function(CURLM *m, r2_curl_socket_cb cb) { return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, cb); }
static inline CURLMcode r2_curl_multi_timer_function(CURLM *m, r2_curl_timer_cb cb) { return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, cb); }

/* The engine's loop waits in epoll for the sockets curl names (curl_multi_socket_action),
   so curl touches only the transfers whose sockets are ready. struct epoll_event is
   packed on x86-64; these keep its layout on the C side. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
static inline int r2_epoll_watch(int ep, int op, int fd, unsigned events) {
    struct epoll_event e = { .events = events, .data = { .fd = fd } };
    return epoll_ctl(ep, op, fd, &e);
}
typedef struct { int fd; unsigned events; } r2_epoll_ready;
#define R2_EPOLL_BATCH 64
static inline int r2_epoll_wait(int ep, r2_epoll_ready *out, int timeout_ms) {
    struct epoll_event ev[R2_EPOLL_BATCH];
    int n = epoll_wait(ep, ev, R2_EPOLL_BATCH, timeout_ms);
    for (int i = 0; i < n; i++) { out[i].fd = ev[i].data.fd; out[i].events = ev[i].events; }
    return n;
}
#include <sys/prctl.h>
/* Names the calling thread (the engine's threads show as r2-engine-N in ps/top). */
static inline void r2_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
