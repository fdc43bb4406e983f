/* A small JSON reader for the C test programs (test vectors and fixtures).
 * Not part of libr2. Single header; C99. */
#ifndef R2_TEST_JSON_H
#define R2_TEST_JSON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
    jtype type;
    double num;
    int boolean;
    char *str;            /* J_STR: decoded UTF-8, NUL-terminated */
    size_t len;           /* J_STR: bytes; J_ARR/J_OBJ: items */
    struct jval **items;  /* J_ARR/J_OBJ */
    char **keys;          /* J_OBJ */
} jval;

typedef struct { const char *p, *end; const char *err; } jparser;

static jval *j_new(jtype t) { jval *v = calloc(1, sizeof *v); v->type = t; return v; }
static void j_ws(jparser *ps) { while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) ps->p++; }
static jval *j_parse_value(jparser *ps);

static void j_put_utf8(char **buf, size_t *n, size_t *cap, unsigned cp) {
    if (*n + 4 >= *cap) { *cap = *cap * 2 + 8; *buf = realloc(*buf, *cap); }
    char *b = *buf;
    if (cp < 0x80) b[(*n)++] = (char)cp;
    else if (cp < 0x800) { b[(*n)++] = (char)(0xC0 | cp >> 6); b[(*n)++] = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { b[(*n)++] = (char)(0xE0 | cp >> 12); b[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F)); b[(*n)++] = (char)(0x80 | (cp & 0x3F)); }
    else { b[(*n)++] = (char)(0xF0 | cp >> 18); b[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F)); b[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F)); b[(*n)++] = (char)(0x80 | (cp & 0x3F)); }
}

static unsigned j_hex4(jparser *ps) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p < ps->end ? *ps->p++ : 0;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else { ps->err = "bad \\u escape"; return 0; }
    }
    return v;
}

static char *j_parse_string(jparser *ps, size_t *len_out) {
    size_t n = 0, cap = 16;
    char *buf = malloc(cap);
    ps->p++; /* opening quote */
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c == '\\') {
            char e = ps->p < ps->end ? *ps->p++ : 0;
            unsigned cp = 0;
            switch (e) {
            case '"': cp = '"'; break; case '\\': cp = '\\'; break; case '/': cp = '/'; break;
            case 'b': cp = '\b'; break; case 'f': cp = '\f'; break; case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break; case 't': cp = '\t'; break;
            case 'u':
                cp = j_hex4(ps);
                if (cp >= 0xD800 && cp < 0xDC00 && ps->p + 1 < ps->end && ps->p[0] == '\\' && ps->p[1] == 'u') {
                    ps->p += 2;
                    unsigned lo = j_hex4(ps);
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                break;
            default: ps->err = "bad escape"; free(buf); return NULL;
            }
            j_put_utf8(&buf, &n, &cap, cp);
        } else {
            if (n + 1 >= cap) { cap *= 2; buf = realloc(buf, cap); }
            buf[n++] = c;
        }
    }
    if (ps->p >= ps->end) { ps->err = "unterminated string"; free(buf); return NULL; }
    ps->p++;
    buf[n] = 0;
    if (len_out) *len_out = n;
    return buf;
}

static jval *j_parse_value(jparser *ps) {
    j_ws(ps);
    if (ps->p >= ps->end) { ps->err = "unexpected end"; return NULL; }
    char c = *ps->p;
    if (c == '{' || c == '[') {
        int obj = c == '{';
        jval *v = j_new(obj ? J_OBJ : J_ARR);
        size_t cap = 0;
        ps->p++;
        j_ws(ps);
        if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
        for (;;) {
            char *key = NULL;
            if (obj) {
                j_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"') { ps->err = "expected key"; return NULL; }
                key = j_parse_string(ps, NULL);
                if (!key) return NULL;
                j_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') { ps->err = "expected ':'"; return NULL; }
                ps->p++;
            }
            jval *item = j_parse_value(ps);
            if (!item) return NULL;
            if (v->len == cap) {
                cap = cap * 2 + 4;
                v->items = realloc(v->items, cap * sizeof *v->items);
                if (obj) v->keys = realloc(v->keys, cap * sizeof *v->keys);
            }
            if (obj) v->keys[v->len] = key;
            v->items[v->len++] = item;
            j_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
            if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
            ps->err = "expected ',' or close";
            return NULL;
        }
    }
    if (c == '"') {
        jval *v = j_new(J_STR);
        v->str = j_parse_string(ps, &v->len);
        return v->str ? v : NULL;
    }
    if (!strncmp(ps->p, "true", 4)) { ps->p += 4; jval *v = j_new(J_BOOL); v->boolean = 1; return v; }
    if (!strncmp(ps->p, "false", 5)) { ps->p += 5; return j_new(J_BOOL); }
    if (!strncmp(ps->p, "null", 4)) { ps->p += 4; return j_new(J_NULL); }
    char *endp;
    double d = strtod(ps->p, &endp);
    if (endp == ps->p) { ps->err = "bad value"; return NULL; }
    ps->p = endp;
    jval *v = j_new(J_NUM);
    v->num = d;
    return v;
}

static jval *j_parse_file(const char *path, const char **err) {
    FILE *f = fopen(path, "rb");
    if (!f) { *err = "cannot open file"; return NULL; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    if (fread(data, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(data); *err = "read failed"; return NULL; }
    fclose(f);
    jparser ps = { data, data + n, NULL };
    jval *v = j_parse_value(&ps);
    *err = ps.err;
    return v; /* data is leaked on purpose: test programs are short-lived */
}

static jval *j_get(const jval *obj, const char *key) {
    if (!obj || obj->type != J_OBJ) return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (!strcmp(obj->keys[i], key)) return obj->items[i];
    return NULL;
}

static const char *j_str(const jval *v) { return v && v->type == J_STR ? v->str : NULL; }

#endif
