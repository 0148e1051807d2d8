/* pcshare-agent: minimal JSON value tree (parser) and streaming JSON writer over a growable buffer. */
#ifndef PCSHARE_JSON_H
#define PCSHARE_JSON_H

#include <stddef.h>

/* Largest integer magnitude accepted from/emitted to JSON (2^53, exact in a double). */
#define JSON_MAX_INT 9007199254740992LL

/* ---- growable byte buffer (aborts on out-of-memory) ---- */
typedef struct {
    char *p;
    size_t len, cap;
} sbuf;

void sb_init(sbuf *b);
void sb_free(sbuf *b);
void sb_reserve(sbuf *b, size_t extra);
void sb_putc(sbuf *b, char c);
void sb_putn(sbuf *b, const void *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- parsed values ---- */
typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
    jtype type;
    int boolean;        /* J_BOOL */
    double num;         /* J_NUM */
    int is_int;         /* J_NUM: integral and |value| <= 2^53 */
    long long i;        /* J_NUM, valid when is_int */
    char *str;          /* J_STR: NUL-terminated (may hold embedded NULs, see len) */
    size_t len;         /* J_STR: byte length; J_ARR/J_OBJ: number of children */
    struct jval *items; /* J_ARR/J_OBJ children */
    char **keys;        /* J_OBJ keys, parallel to items */
} jval;

/* Parse exactly one JSON value spanning buf[0..n) (surrounding whitespace allowed).
 * Returns a heap tree or NULL with a message in err. */
jval *json_parse(const char *buf, size_t n, char *err, size_t errlen);
void json_free(jval *v);
/* Object member lookup (NULL when absent or v is not an object). */
const jval *json_get(const jval *obj, const char *key);

/* ---- writer: tracks commas; keys and values are appended in order ---- */
#define JW_MAX_DEPTH 32
typedef struct {
    sbuf *b;
    int depth;
    unsigned char need_comma[JW_MAX_DEPTH];
    int after_key;
} jwriter;

void jw_init(jwriter *w, sbuf *b);
void jw_obj(jwriter *w);
void jw_obj_end(jwriter *w);
void jw_arr(jwriter *w);
void jw_arr_end(jwriter *w);
void jw_key(jwriter *w, const char *k);
void jw_str(jwriter *w, const char *s);
void jw_strn(jwriter *w, const char *s, size_t n);
void jw_int(jwriter *w, long long v);
void jw_bool(jwriter *w, int v);
void jw_null(jwriter *w);
/* Emit a string value that is the base64 encoding of data. */
void jw_b64(jwriter *w, const void *data, size_t n);

#endif
