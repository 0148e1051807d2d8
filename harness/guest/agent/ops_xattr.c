/* pcshare-agent: extended attributes of one path, byte for byte (names and values as base64).
 * xattrs {path, names?: [base64 name, ...]} -> {
 *   listed: [{name, value}|{name, errname}]  every name llistxattr(2) returns, each read with lgetxattr(2),
 *   asked:  [{name, value}|{name, errname}]  lgetxattr of each name in `names` (listed or not, e.g. a hidden one)
 * }. A failing llistxattr fails the op with its errno; a failing lgetxattr is reported per name. */
#define _GNU_SOURCE
#include "ops.h"
#include "base64.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#define XATTR_BUF_MAX 65536 /* XATTR_SIZE_MAX and XATTR_LIST_MAX */

/* Read one value; writes {name, value} or {name, errname}. */
static void emit_one(jwriter *w, const char *path, const char *name, size_t namelen, char *buf)
{
    ssize_t n;
    do n = lgetxattr(path, name, buf, XATTR_BUF_MAX);
    while (n < 0 && errno == EINTR);
    int e = errno;
    jw_obj(w);
    jw_key(w, "name"); jw_b64(w, name, namelen);
    if (n >= 0) {
        jw_key(w, "value"); jw_b64(w, buf, (size_t)n);
    } else {
        const char *en = strerrorname_np(e);
        jw_key(w, "errname"); jw_str(w, en ? en : "E?");
    }
    jw_obj_end(w);
}

int op_xattrs(ctx *c, jwriter *w)
{
    const char *path;
    const jval *names = NULL;
    if (arg_str(c, "path", &path, 1) < 0 || arg_arr(c, "names", &names, 0) < 0) return -1;
    char *list = malloc(XATTR_BUF_MAX), *buf = malloc(XATTR_BUF_MAX);
    if (!list || !buf) { free(list); free(buf); return fail(c, "xattrs: out of memory"); }
    ssize_t len;
    do len = llistxattr(path, list, XATTR_BUF_MAX);
    while (len < 0 && errno == EINTR);
    if (len < 0) {
        int e = errno;
        free(list); free(buf);
        return fail_errno(c, e, "llistxattr %s", path);
    }
    jw_key(w, "listed"); jw_arr(w);
    for (ssize_t off = 0; off < len;) {
        size_t nl = strnlen(list + off, (size_t)(len - off));
        emit_one(w, path, list + off, nl, buf);
        off += (ssize_t)nl + 1;
    }
    jw_arr_end(w);
    jw_key(w, "asked"); jw_arr(w);
    for (size_t i = 0; names && i < names->len; i++) {
        const jval *v = &names->items[i];
        unsigned char *name = NULL;
        size_t nl = 0;
        if (v->type != J_STR || base64_decode(v->str, v->len, &name, &nl) < 0 || memchr(name, 0, nl)) {
            free(name); free(list); free(buf);
            return fail(c, "xattrs: names[%zu] is not the base64 of a name without NUL", i);
        }
        char *z = realloc(name, nl + 1);
        if (!z) { free(name); free(list); free(buf); return fail(c, "xattrs: out of memory"); }
        z[nl] = 0;
        emit_one(w, path, z, nl, buf);
        free(z);
    }
    jw_arr_end(w);
    free(list); free(buf);
    return 0;
}
