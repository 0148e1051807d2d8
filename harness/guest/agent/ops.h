/* pcshare-agent: request context, argument accessors, error helpers and the op handler table. */
#ifndef PCSHARE_OPS_H
#define PCSHARE_OPS_H

#include "json.h"

#include <stdint.h>

#define AGENT_PROTOCOL_VERSION 2
#define AGENT_NAME "pcshare-agent"

/* What main does after writing the reply. */
enum after_reply { AFTER_NOTHING, AFTER_POWEROFF };

typedef struct {
    const jval *req;      /* the request object */
    const char *op;
    int stdio_mode;       /* running with --stdio on a host */
    /* error state (set by fail*) */
    char err[1024];
    int errnum;           /* 0 when the failure was not a syscall */
    enum after_reply after;
} ctx;

/* Handler: writes result members into an already-open reply object; returns 0, or -1 after fail*(). */
typedef int (*op_handler)(ctx *c, jwriter *w);

typedef struct {
    const char *name;
    op_handler fn;
} op_entry;

extern const op_entry OPS[];

/* ---- errors (all return -1) ---- */
int fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fail_errno(ctx *c, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- arguments: return 0 on success (absent optional leaves *out at default), -1 after fail() ---- */
int arg_str(ctx *c, const char *key, const char **out, int required);
int arg_int(ctx *c, const char *key, long long *out, int required);   /* integer <= 2^53 */
int arg_uint(ctx *c, const char *key, long long *out, int required);  /* integer >= 0 */
int arg_bool(ctx *c, const char *key, int *out, int required);
int arg_arr(ctx *c, const char *key, const jval **out, int required);
int arg_obj(ctx *c, const char *key, const jval **out, int required);
/* Base64 field -> malloc'ed bytes (caller frees; absent optional -> NULL, 0). */
int arg_b64(ctx *c, const char *key, unsigned char **out, size_t *len, int required);

/* ---- small shared helpers ---- */
int64_t now_ms_monotonic(void);
long page_size(void);
/* Map a name to a bit using a NULL-terminated table; sets *out |= bit; -1 when unknown. */
typedef struct { const char *name; unsigned long bit; } flag_name;
int flags_from_array(ctx *c, const jval *arr, const char *what, const flag_name *table, unsigned long *out);

/* ---- handlers ---- */
int op_hello(ctx *c, jwriter *w);
int op_resume(ctx *c, jwriter *w);
int op_exec(ctx *c, jwriter *w);
int op_read_file(ctx *c, jwriter *w);
int op_write_file(ctx *c, jwriter *w);
int op_read_hash(ctx *c, jwriter *w);
int op_hash_files(ctx *c, jwriter *w);
int op_open_probe(ctx *c, jwriter *w);
int op_fadvise(ctx *c, jwriter *w);
int op_page_frames(ctx *c, jwriter *w);
int op_mincore(ctx *c, jwriter *w);
int op_cachestat(ctx *c, jwriter *w);
int op_meminfo(ctx *c, jwriter *w);
int op_mount(ctx *c, jwriter *w);
int op_umount(ctx *c, jwriter *w);
int op_kmsg(ctx *c, jwriter *w);
int op_sync(ctx *c, jwriter *w);
int op_poweroff(ctx *c, jwriter *w);
int op_fs_mount(ctx *c, jwriter *w);
/* ops_probe.c */
int op_read_at(ctx *c, jwriter *w);
int op_copy_hash(ctx *c, jwriter *w);
int op_statx(ctx *c, jwriter *w);
int op_fcntl_probe(ctx *c, jwriter *w);
int op_fslabel(ctx *c, jwriter *w);
int op_lseek(ctx *c, jwriter *w);
/* ops_xattr.c */
int op_xattrs(ctx *c, jwriter *w);
/* ops_proc.c */
int op_map_hold(ctx *c, jwriter *w);
int op_spawn(ctx *c, jwriter *w);
int op_proc_kill(ctx *c, jwriter *w);
int op_proc_frames(ctx *c, jwriter *w);
int op_cgroup_attach(ctx *c, jwriter *w);
/* ops_race.c */
int op_remount_race(ctx *c, jwriter *w);

/* kmsg: open the persistent /dev/kmsg reader (called once at startup; failure is reported by op_kmsg). */
void kmsg_open(void);

#endif
