/* pcshare-agent: request argument accessors, error helpers, shared utilities and the op table. */
#define _GNU_SOURCE
#include "ops.h"
#include "base64.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const op_entry OPS[] = {
    { "hello", op_hello },
    { "resume", op_resume },
    { "exec", op_exec },
    { "read_file", op_read_file },
    { "write_file", op_write_file },
    { "read_hash", op_read_hash },
    { "hash_files", op_hash_files },
    { "page_frames", op_page_frames },
    { "mincore", op_mincore },
    { "fadvise", op_fadvise },
    { "open_probe", op_open_probe },
    { "cachestat", op_cachestat },
    { "mount", op_mount },
    { "umount", op_umount },
    { "meminfo", op_meminfo },
    { "kmsg", op_kmsg },
    { "sync", op_sync },
    { "poweroff", op_poweroff },
    { "fs_mount", op_fs_mount },
    { "read_at", op_read_at },
    { "copy_hash", op_copy_hash },
    { "statx", op_statx },
    { "fcntl_probe", op_fcntl_probe },
    { "fslabel", op_fslabel },
    { "lseek", op_lseek },
    { "xattrs", op_xattrs },
    { "map_hold", op_map_hold },
    { "cgroup_attach", op_cgroup_attach },
    { "spawn", op_spawn },
    { "proc_kill", op_proc_kill },
    { "proc_frames", op_proc_frames },
    { "remount_race", op_remount_race },
    { NULL, NULL },
};

int fail(ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->errnum = 0;
    return -1;
}

int fail_errno(ctx *c, int errnum, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, sizeof c->err, "%s: %s", what, strerror(errnum));
    c->errnum = errnum;
    return -1;
}

static const jval *field(ctx *c, const char *key, int required, int *missing)
{
    const jval *v = json_get(c->req, key);
    *missing = 0;
    if (!v || v->type == J_NULL) {
        *missing = 1;
        if (required) fail(c, "%s: missing required field \"%s\"", c->op, key);
        return NULL;
    }
    return v;
}

int arg_str(ctx *c, const char *key, const char **out, int required)
{
    int missing;
    const jval *v = field(c, key, required, &missing);
    if (missing) return required ? -1 : 0;
    if (v->type != J_STR) return fail(c, "%s: field \"%s\" must be a string", c->op, key);
    if (strlen(v->str) != v->len) return fail(c, "%s: field \"%s\" contains a NUL byte", c->op, key);
    *out = v->str;
    return 0;
}

int arg_int(ctx *c, const char *key, long long *out, int required)
{
    int missing;
    const jval *v = field(c, key, required, &missing);
    if (missing) return required ? -1 : 0;
    if (v->type != J_NUM || !v->is_int)
        return fail(c, "%s: field \"%s\" must be an integer (|n| <= 2^53)", c->op, key);
    *out = v->i;
    return 0;
}

int arg_uint(ctx *c, const char *key, long long *out, int required)
{
    long long v = 0;
    int missing;
    if (!field(c, key, required, &missing)) return missing && !required ? 0 : -1;
    if (arg_int(c, key, &v, 1) < 0) return -1;
    if (v < 0) return fail(c, "%s: field \"%s\" must not be negative", c->op, key);
    *out = v;
    return 0;
}

int arg_bool(ctx *c, const char *key, int *out, int required)
{
    int missing;
    const jval *v = field(c, key, required, &missing);
    if (missing) return required ? -1 : 0;
    if (v->type != J_BOOL) return fail(c, "%s: field \"%s\" must be a boolean", c->op, key);
    *out = v->boolean;
    return 0;
}

int arg_arr(ctx *c, const char *key, const jval **out, int required)
{
    int missing;
    const jval *v = field(c, key, required, &missing);
    if (missing) return required ? -1 : 0;
    if (v->type != J_ARR) return fail(c, "%s: field \"%s\" must be an array", c->op, key);
    *out = v;
    return 0;
}

int arg_obj(ctx *c, const char *key, const jval **out, int required)
{
    int missing;
    const jval *v = field(c, key, required, &missing);
    if (missing) return required ? -1 : 0;
    if (v->type != J_OBJ) return fail(c, "%s: field \"%s\" must be an object", c->op, key);
    *out = v;
    return 0;
}

int arg_b64(ctx *c, const char *key, unsigned char **out, size_t *len, int required)
{
    int missing;
    *out = NULL;
    *len = 0;
    const jval *v = field(c, key, required, &missing);
    if (missing) return required ? -1 : 0;
    if (v->type != J_STR) return fail(c, "%s: field \"%s\" must be a base64 string", c->op, key);
    if (base64_decode(v->str, v->len, out, len) < 0)
        return fail(c, "%s: field \"%s\" is not valid base64", c->op, key);
    return 0;
}

int64_t now_ms_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long page_size(void)
{
    static long ps;
    if (!ps) ps = sysconf(_SC_PAGESIZE);
    return ps;
}

int flags_from_array(ctx *c, const jval *arr, const char *what, const flag_name *table, unsigned long *out)
{
    if (!arr) return 0;
    for (size_t k = 0; k < arr->len; k++) {
        const jval *f = &arr->items[k];
        if (f->type != J_STR) return fail(c, "%s: %s must be strings", c->op, what);
        const flag_name *t = table;
        while (t->name && strcmp(t->name, f->str) != 0) t++;
        if (!t->name) return fail(c, "%s: unknown %s \"%s\"", c->op, what, f->str);
        *out |= t->bit;
    }
    return 0;
}
