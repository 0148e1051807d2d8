/* pcshare-agent: JSON parser (recursive descent into a jval tree) and comma-tracking writer. */
#include "json.h"
#include "base64.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PARSE_MAX_DEPTH 64

static void die_oom(void)
{
    static const char msg[] = "pcshare-agent: out of memory\n";
    if (write(2, msg, sizeof msg - 1) < 0) { /* nothing left to do */ }
    abort();
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) die_oom();
    return q;
}

/* ---------------- sbuf ---------------- */

void sb_init(sbuf *b) { b->p = NULL; b->len = b->cap = 0; }
void sb_free(sbuf *b) { free(b->p); sb_init(b); }

void sb_reserve(sbuf *b, size_t extra)
{
    if (extra > ((size_t)-1) / 2 - b->len) die_oom();
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
    b->p[b->len] = '\0'; /* an empty buffer is a valid empty string too */
}

void sb_putn(sbuf *b, const void *s, size_t n)
{
    sb_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sb_putc(sbuf *b, char c) { sb_putn(b, &c, 1); }
void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        sb_putn(b, tmp, (size_t)n);
        return;
    }
    sb_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---------------- parser ---------------- */

typedef struct {
    const char *s;
    size_t n, pos;
    char *err;
    size_t errlen;
    int failed;
} parser;

static void perr(parser *p, const char *what)
{
    if (p->failed) return;
    p->failed = 1;
    snprintf(p->err, p->errlen, "invalid JSON at byte %zu: %s", p->pos, what);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int lit(parser *p, const char *word)
{
    size_t l = strlen(word);
    if (p->n - p->pos < l || memcmp(p->s + p->pos, word, l) != 0) {
        perr(p, "unexpected token");
        return -1;
    }
    p->pos += l;
    return 0;
}

static int hex4(parser *p, unsigned *out)
{
    if (p->n - p->pos < 4) { perr(p, "short \\u escape"); return -1; }
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->pos + (size_t)k];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else { perr(p, "bad hex digit in \\u escape"); return -1; }
    }
    p->pos += 4;
    *out = v;
    return 0;
}

static void put_utf8(sbuf *b, unsigned cp)
{
    char t[4];
    if (cp < 0x80) { t[0] = (char)cp; sb_putn(b, t, 1); }
    else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6)); t[1] = (char)(0x80 | (cp & 0x3F));
        sb_putn(b, t, 2);
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12)); t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        sb_putn(b, t, 3);
    } else {
        t[0] = (char)(0xF0 | (cp >> 18)); t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); t[3] = (char)(0x80 | (cp & 0x3F));
        sb_putn(b, t, 4);
    }
}

/* Parses a string starting at the opening quote; returns heap string (len in *len). */
static char *parse_string(parser *p, size_t *len)
{
    sbuf b;
    sb_init(&b);
    sb_reserve(&b, 0);
    p->pos++; /* opening quote */
    for (;;) {
        if (p->pos >= p->n) { perr(p, "unterminated string"); goto fail; }
        /* copy a run of plain bytes at once */
        size_t start = p->pos;
        while (p->pos < p->n) {
            unsigned char c = (unsigned char)p->s[p->pos];
            if (c == '"' || c == '\\' || c < 0x20) break;
            p->pos++;
        }
        if (p->pos > start) sb_putn(&b, p->s + start, p->pos - start);
        if (p->pos >= p->n) { perr(p, "unterminated string"); goto fail; }
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') { p->pos++; break; }
        if (c < 0x20) { perr(p, "control character in string"); goto fail; }
        /* backslash */
        p->pos++;
        if (p->pos >= p->n) { perr(p, "unterminated escape"); goto fail; }
        char e = p->s[p->pos++];
        switch (e) {
        case '"': sb_putc(&b, '"'); break;
        case '\\': sb_putc(&b, '\\'); break;
        case '/': sb_putc(&b, '/'); break;
        case 'b': sb_putc(&b, '\b'); break;
        case 'f': sb_putc(&b, '\f'); break;
        case 'n': sb_putc(&b, '\n'); break;
        case 'r': sb_putc(&b, '\r'); break;
        case 't': sb_putc(&b, '\t'); break;
        case 'u': {
            unsigned cp;
            if (hex4(p, &cp) < 0) goto fail;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (p->n - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    perr(p, "lone high surrogate"); goto fail;
                }
                p->pos += 2;
                if (hex4(p, &lo) < 0) goto fail;
                if (lo < 0xDC00 || lo > 0xDFFF) { perr(p, "bad low surrogate"); goto fail; }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                perr(p, "lone low surrogate"); goto fail;
            }
            put_utf8(&b, cp);
            break;
        }
        default: p->pos--; perr(p, "bad escape"); goto fail;
        }
    }
    *len = b.len;
    return b.p;
fail:
    sb_free(&b);
    return NULL;
}

static int parse_number(parser *p, jval *v)
{
    size_t start = p->pos;
    int integral = 1;
    if (p->pos < p->n && p->s[p->pos] == '-') p->pos++;
    if (p->pos >= p->n) { perr(p, "bad number"); return -1; }
    if (p->s[p->pos] == '0') p->pos++;
    else if (p->s[p->pos] >= '1' && p->s[p->pos] <= '9')
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    else { perr(p, "bad number"); return -1; }
    if (p->pos < p->n && p->s[p->pos] == '.') {
        integral = 0;
        p->pos++;
        size_t d = p->pos;
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
        if (p->pos == d) { perr(p, "bad fraction"); return -1; }
    }
    if (p->pos < p->n && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        integral = 0;
        p->pos++;
        if (p->pos < p->n && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        size_t d = p->pos;
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
        if (p->pos == d) { perr(p, "bad exponent"); return -1; }
    }
    char tmp[64];
    size_t l = p->pos - start;
    if (l >= sizeof tmp) {
        /* absurdly long literal: only representable as an approximate double */
        integral = 0;
        l = sizeof tmp - 1;
    }
    memcpy(tmp, p->s + start, l);
    tmp[l] = '\0';
    v->type = J_NUM;
    v->num = strtod(tmp, NULL);
    v->is_int = 0;
    if (integral && isfinite(v->num) && fabs(v->num) <= (double)JSON_MAX_INT) {
        v->is_int = 1;
        v->i = strtoll(tmp, NULL, 10);
    } else if (!integral && isfinite(v->num) && fabs(v->num) <= (double)JSON_MAX_INT &&
               v->num == floor(v->num)) {
        v->is_int = 1; /* 3.0 or 1e3 */
        v->i = (long long)v->num;
    }
    return 0;
}

static int parse_value(parser *p, jval *v, int depth);

static int parse_container(parser *p, jval *v, int depth, int is_obj)
{
    char close = is_obj ? '}' : ']';
    size_t cap = 0;
    v->type = is_obj ? J_OBJ : J_ARR;
    v->len = 0;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == close) { p->pos++; return 0; }
    for (;;) {
        char *key = NULL;
        skip_ws(p);
        if (is_obj) {
            size_t kl;
            if (p->pos >= p->n || p->s[p->pos] != '"') { perr(p, "expected object key"); return -1; }
            key = parse_string(p, &kl);
            if (!key) return -1;
            skip_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') { free(key); perr(p, "expected ':'"); return -1; }
            p->pos++;
        }
        if (v->len == cap) {
            cap = cap ? cap * 2 : 4;
            v->items = xrealloc(v->items, cap * sizeof *v->items);
            if (is_obj) v->keys = xrealloc(v->keys, cap * sizeof *v->keys);
        }
        jval *child = &v->items[v->len];
        memset(child, 0, sizeof *child);
        if (is_obj) v->keys[v->len] = key;
        v->len++; /* counted now so json_free releases partial children */
        if (parse_value(p, child, depth + 1) < 0) return -1;
        skip_ws(p);
        if (p->pos >= p->n) { perr(p, "unterminated container"); return -1; }
        char c = p->s[p->pos++];
        if (c == close) return 0;
        if (c != ',') { p->pos--; perr(p, "expected ',' or closing bracket"); return -1; }
    }
}

static int parse_value(parser *p, jval *v, int depth)
{
    if (depth > PARSE_MAX_DEPTH) { perr(p, "nesting too deep"); return -1; }
    skip_ws(p);
    if (p->pos >= p->n) { perr(p, "unexpected end of input"); return -1; }
    switch (p->s[p->pos]) {
    case '{': return parse_container(p, v, depth, 1);
    case '[': return parse_container(p, v, depth, 0);
    case '"': {
        v->type = J_STR;
        v->str = parse_string(p, &v->len);
        return v->str ? 0 : -1;
    }
    case 't': v->type = J_BOOL; v->boolean = 1; return lit(p, "true");
    case 'f': v->type = J_BOOL; v->boolean = 0; return lit(p, "false");
    case 'n': v->type = J_NULL; return lit(p, "null");
    default: return parse_number(p, v);
    }
}

static void free_children(jval *v)
{
    if (v->type == J_STR) free(v->str);
    if (v->type == J_ARR || v->type == J_OBJ) {
        for (size_t k = 0; k < v->len; k++) {
            free_children(&v->items[k]);
            if (v->type == J_OBJ) free(v->keys[k]);
        }
        free(v->items);
        free(v->keys);
    }
}

void json_free(jval *v)
{
    if (!v) return;
    free_children(v);
    free(v);
}

jval *json_parse(const char *buf, size_t n, char *err, size_t errlen)
{
    parser p = { buf, n, 0, err, errlen, 0 };
    jval *v = xrealloc(NULL, sizeof *v);
    memset(v, 0, sizeof *v);
    if (parse_value(&p, v, 0) == 0) {
        skip_ws(&p);
        if (p.pos == p.n) return v;
        perr(&p, "trailing data after value");
    }
    json_free(v);
    return NULL;
}

const jval *json_get(const jval *obj, const char *key)
{
    if (!obj || obj->type != J_OBJ) return NULL;
    for (size_t k = 0; k < obj->len; k++)
        if (strcmp(obj->keys[k], key) == 0) return &obj->items[k];
    return NULL;
}

/* ---------------- writer ---------------- */

void jw_init(jwriter *w, sbuf *b)
{
    memset(w, 0, sizeof *w);
    w->b = b;
}

static void pre_value(jwriter *w)
{
    if (w->after_key) { w->after_key = 0; return; }
    if (w->depth > 0) {
        if (w->need_comma[w->depth - 1]) sb_putc(w->b, ',');
        w->need_comma[w->depth - 1] = 1;
    }
}

static void open_container(jwriter *w, char c)
{
    pre_value(w);
    sb_putc(w->b, c);
    if (w->depth >= JW_MAX_DEPTH) abort(); /* programming error: fixed-shape replies */
    w->need_comma[w->depth++] = 0;
}

static void close_container(jwriter *w, char c)
{
    if (w->depth > 0) w->depth--;
    sb_putc(w->b, c);
}

void jw_obj(jwriter *w) { open_container(w, '{'); }
void jw_obj_end(jwriter *w) { close_container(w, '}'); }
void jw_arr(jwriter *w) { open_container(w, '['); }
void jw_arr_end(jwriter *w) { close_container(w, ']'); }

static void put_escaped(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    sb_reserve(b, n + 2);
    sb_putc(b, '"');
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        switch (c) {
        case '"': sb_putn(b, "\\\"", 2); break;
        case '\\': sb_putn(b, "\\\\", 2); break;
        case '\n': sb_putn(b, "\\n", 2); break;
        case '\r': sb_putn(b, "\\r", 2); break;
        case '\t': sb_putn(b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                sb_putn(b, e, 6);
            } else {
                sb_putc(b, (char)c);
            }
        }
    }
    sb_putc(b, '"');
}

void jw_key(jwriter *w, const char *k)
{
    pre_value(w);
    put_escaped(w->b, k, strlen(k));
    sb_putc(w->b, ':');
    w->after_key = 1;
}

void jw_strn(jwriter *w, const char *s, size_t n) { pre_value(w); put_escaped(w->b, s, n); }
void jw_str(jwriter *w, const char *s) { jw_strn(w, s, strlen(s)); }
void jw_int(jwriter *w, long long v) { pre_value(w); sb_printf(w->b, "%lld", v); }
void jw_bool(jwriter *w, int v) { pre_value(w); sb_puts(w->b, v ? "true" : "false"); }
void jw_null(jwriter *w) { pre_value(w); sb_puts(w->b, "null"); }

void jw_b64(jwriter *w, const void *data, size_t n)
{
    pre_value(w);
    sb_putc(w->b, '"');
    size_t need = base64_encoded_len(n);
    sb_reserve(w->b, need + 1);
    base64_encode(data, n, w->b->p + w->b->len);
    w->b->len += need;
    sb_putc(w->b, '"');
}
