/* pcshare-agent: system ops — hello, mount, umount, kmsg, sync, poweroff. */
#define _GNU_SOURCE
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int op_hello(ctx *c, jwriter *w)
{
    (void)c;
    struct utsname u;
    struct timespec ts;
    long long uptime_ms = -1;
    if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0) uptime_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    jw_key(w, "version"); jw_int(w, AGENT_PROTOCOL_VERSION);
    jw_key(w, "agent"); jw_str(w, AGENT_NAME);
    jw_key(w, "uptime_ms"); jw_int(w, uptime_ms);
    jw_key(w, "kernel_release"); jw_str(w, uname(&u) == 0 ? u.release : "");
    return 0;
}

/* ---------------- mount / umount ---------------- */

static const flag_name MOUNT_FLAGS[] = {
    { "ro", MS_RDONLY }, { "rw", 0 }, { "remount", MS_REMOUNT }, { "bind", MS_BIND }, { "rec", MS_REC },
    { "move", MS_MOVE }, { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV }, { "noexec", MS_NOEXEC },
    { "sync", MS_SYNCHRONOUS }, { "dirsync", MS_DIRSYNC }, { "mandlock", MS_MANDLOCK },
    { "noatime", MS_NOATIME }, { "nodiratime", MS_NODIRATIME }, { "relatime", MS_RELATIME },
    { "strictatime", MS_STRICTATIME }, { "lazytime", MS_LAZYTIME }, { "silent", MS_SILENT },
    { "private", MS_PRIVATE }, { "shared", MS_SHARED }, { "slave", MS_SLAVE },
    { "unbindable", MS_UNBINDABLE },
    { NULL, 0 },
};

static const flag_name UMOUNT_FLAGS[] = {
    { "detach", MNT_DETACH }, { "force", MNT_FORCE }, { "expire", MNT_EXPIRE },
    { "nofollow", UMOUNT_NOFOLLOW },
    { NULL, 0 },
};

/* mkdir -p; 0 or -1 with errno. */
static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, path, n + 1);
    for (size_t k = 1; k <= n; k++) {
        if (buf[k] != '/' && buf[k] != '\0') continue;
        char saved = buf[k];
        buf[k] = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
        buf[k] = saved;
    }
    struct stat st;
    if (stat(path, &st) < 0) return -1;
    if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return -1; }
    return 0;
}

int op_mount(ctx *c, jwriter *w)
{
    (void)w;
    const char *source = NULL, *target, *fstype = NULL, *data = NULL;
    const jval *flags = NULL;
    unsigned long mf = 0;
    if (arg_str(c, "source", &source, 0) < 0 || arg_str(c, "target", &target, 1) < 0 ||
        arg_str(c, "fstype", &fstype, 0) < 0 || arg_str(c, "data", &data, 0) < 0 ||
        arg_arr(c, "flags", &flags, 0) < 0 || flags_from_array(c, flags, "mount flag", MOUNT_FLAGS, &mf) < 0)
        return -1;
    struct stat st;
    if (stat(target, &st) < 0 && mkdir_p(target) < 0) return fail_errno(c, errno, "mount: mkdir -p %s", target);
    if (mount(source, target, fstype, mf, data) < 0)
        return fail_errno(c, errno, "mount %s on %s (type %s, data \"%s\")", source ? source : "none", target,
                          fstype ? fstype : "none", data ? data : "");
    return 0;
}

int op_umount(ctx *c, jwriter *w)
{
    (void)w;
    const char *target;
    const jval *flags = NULL;
    unsigned long uf = 0;
    if (arg_str(c, "target", &target, 1) < 0 || arg_arr(c, "flags", &flags, 0) < 0 ||
        flags_from_array(c, flags, "umount flag", UMOUNT_FLAGS, &uf) < 0)
        return -1;
    if (umount2(target, (int)uf) < 0) return fail_errno(c, errno, "umount %s", target);
    return 0;
}

/* ---------------- kmsg ---------------- */

static int kmsg_fd = -1;
static int kmsg_open_errno;

void kmsg_open(void)
{
    kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (kmsg_fd < 0) kmsg_open_errno = errno;
}

/* Parse "prio,seq,ts_us,flags[,...];text\n[ continuation lines]" and emit one record. */
static void emit_record(jwriter *w, char *rec, size_t n)
{
    rec[n] = '\0';
    char *semi = memchr(rec, ';', n);
    if (!semi) return;
    *semi = '\0';
    long long prio = 0, seq = 0, ts = 0;
    if (sscanf(rec, "%lld,%lld,%lld", &prio, &seq, &ts) != 3) return;
    char *text = semi + 1;
    char *nl = strchr(text, '\n'); /* dictionary lines follow the first newline */
    size_t tl = nl ? (size_t)(nl - text) : strlen(text);
    jw_obj(w);
    jw_key(w, "seq"); jw_int(w, seq);
    jw_key(w, "level"); jw_int(w, prio & 7);
    jw_key(w, "ts_us"); jw_int(w, ts);
    jw_key(w, "text"); jw_strn(w, text, tl);
    jw_obj_end(w);
}

int op_kmsg(ctx *c, jwriter *w)
{
    if (kmsg_fd < 0) return fail_errno(c, kmsg_open_errno ? kmsg_open_errno : EBADF, "kmsg: open /dev/kmsg");
    static char rec[8193];
    jw_key(w, "records");
    jw_arr(w);
    for (;;) {
        ssize_t r = read(kmsg_fd, rec, sizeof rec - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EPIPE) continue; /* overwritten records: the next read resumes at the oldest kept */
        if (r <= 0) break;                      /* EAGAIN: batch done (other errors end it too) */
        emit_record(w, rec, (size_t)r);
    }
    jw_arr_end(w);
    return 0;
}

/* ---------------- sync / poweroff ---------------- */

int op_sync(ctx *c, jwriter *w)
{
    (void)c;
    (void)w;
    sync();
    return 0;
}

/* A guest restored from a snapshot (vm/snapshot.ts) takes the host's wall clock, and fresh random
 * input so that its random numbers differ from every other guest restored from the same snapshot:
 * the seed is mixed into the pool (RNDADDENTROPY, credited) and the CRNG reseeds at once. */
int op_resume(ctx *c, jwriter *w)
{
    (void)w;
    long long realtime_ms;
    unsigned char *seed = NULL;
    size_t seed_len = 0;
    if (arg_uint(c, "realtime_ms", &realtime_ms, 1) < 0) return -1;
    if (arg_b64(c, "seed_b64", &seed, &seed_len, 1) < 0) return -1;
    struct timespec ts = { realtime_ms / 1000, (realtime_ms % 1000) * 1000000L };
    if (clock_settime(CLOCK_REALTIME, &ts) < 0) {
        free(seed);
        return fail_errno(c, errno, "clock_settime");
    }
    struct {
        int entropy_count;
        int buf_size;
        unsigned char buf[256];
    } pool;
    if (seed_len > sizeof pool.buf) seed_len = sizeof pool.buf;
    pool.entropy_count = (int)seed_len * 8;
    pool.buf_size = (int)seed_len;
    memcpy(pool.buf, seed, seed_len);
    free(seed);
    int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(c, errno, "open /dev/urandom");
    int rc = ioctl(fd, RNDADDENTROPY, &pool);
    if (rc == 0) rc = ioctl(fd, RNDRESEEDCRNG);
    int saved = errno;
    close(fd);
    if (rc < 0) return fail_errno(c, saved, "reseeding the kernel's random number generator");
    return 0;
}

int op_poweroff(ctx *c, jwriter *w)
{
    (void)w;
    c->after = AFTER_POWEROFF; /* main replies first, then powers off */
    return 0;
}

/* ---------------- new mount API ---------------- */

/* Declared here: glibc 2.36's <sys/mount.h> and <linux/mount.h> do not mix. */
#define PCS_FSOPEN_CLOEXEC 0x1
#define PCS_FSPICK_CLOEXEC 0x1
#define PCS_FSMOUNT_CLOEXEC 0x1
#define PCS_FSCONFIG_SET_FLAG 0
#define PCS_FSCONFIG_SET_STRING 1
#define PCS_FSCONFIG_CMD_CREATE 6
#define PCS_FSCONFIG_CMD_RECONFIGURE 7
#define PCS_MOUNT_ATTR_RDONLY 0x1
#define PCS_MOVE_MOUNT_F_EMPTY_PATH 0x4
#define PCS_NR_move_mount 429
#define PCS_NR_fsopen 430
#define PCS_NR_fsconfig 431
#define PCS_NR_fsmount 432
#define PCS_NR_fspick 433

/* Drain the fs context's message log ("e ...", "w ...", "i ...": one message per read). */
static void emit_fc_log(jwriter *w, int fsfd)
{
    char msg[1024];
    jw_key(w, "log");
    jw_arr(w);
    for (int k = 0; fsfd >= 0 && k < 64; k++) {
        ssize_t r = read(fsfd, msg, sizeof msg);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* ENODATA: log empty */
        jw_strn(w, msg, (size_t)r);
    }
    jw_arr_end(w);
}

/*
 * fs_mount {fstype | pick, params: [{key, value?}], target?} -> {result, errno, failed_at, log}.
 * With fstype: fsopen, fsconfig each param (value: FSCONFIG_SET_STRING, none: FSCONFIG_SET_FLAG;
 * "source" is a param like any other), FSCONFIG_CMD_CREATE, and with target fsmount (read-only) +
 * move_mount there. With pick (a mounted path): fspick, the params, FSCONFIG_CMD_RECONFIGURE.
 * A refusal is not an op failure: result is "ok" or the errno name, failed_at the step
 * ("fsopen", "fspick", "fsconfig:<key>", "create", "reconfigure", "fsmount", "move_mount"),
 * log every message the kernel left in the fs context (read from the fd after the steps).
 */
int op_fs_mount(ctx *c, jwriter *w)
{
    const char *fstype = NULL, *pick = NULL, *target = NULL;
    const jval *params;
    if (arg_str(c, "fstype", &fstype, 0) < 0 || arg_str(c, "pick", &pick, 0) < 0 ||
        arg_str(c, "target", &target, 0) < 0 || arg_arr(c, "params", &params, 1) < 0)
        return -1;
    if (!fstype == !pick) return fail(c, "fs_mount: give exactly one of fstype, pick");
    if (pick && target) return fail(c, "fs_mount: target only with fstype");
    for (size_t k = 0; k < params->len; k++) {
        const jval *p = &params->items[k], *key = json_get(p, "key"), *val = json_get(p, "value");
        if (p->type != J_OBJ || !key || key->type != J_STR || (val && val->type != J_STR && val->type != J_NULL))
            return fail(c, "fs_mount: params must be {key: string, value?: string}");
    }
    if (target) {
        struct stat st;
        if (stat(target, &st) < 0 && mkdir_p(target) < 0) return fail_errno(c, errno, "fs_mount: mkdir -p %s", target);
    }
    char step[300] = "";
    int err = 0, mfd = -1;
    int fsfd = pick ? (int)syscall(PCS_NR_fspick, AT_FDCWD, pick, PCS_FSPICK_CLOEXEC)
                    : (int)syscall(PCS_NR_fsopen, fstype, PCS_FSOPEN_CLOEXEC);
    if (fsfd < 0) { err = errno; snprintf(step, sizeof step, "%s", pick ? "fspick" : "fsopen"); }
    for (size_t k = 0; !err && k < params->len; k++) {
        const jval *key = json_get(&params->items[k], "key"), *val = json_get(&params->items[k], "value");
        int string = val && val->type == J_STR;
        if (syscall(PCS_NR_fsconfig, fsfd, string ? PCS_FSCONFIG_SET_STRING : PCS_FSCONFIG_SET_FLAG, key->str,
                    string ? val->str : NULL, 0) < 0) {
            err = errno;
            snprintf(step, sizeof step, "fsconfig:%.200s", key->str);
        }
    }
    if (!err && syscall(PCS_NR_fsconfig, fsfd, pick ? PCS_FSCONFIG_CMD_RECONFIGURE : PCS_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        err = errno;
        snprintf(step, sizeof step, "%s", pick ? "reconfigure" : "create");
    }
    if (!err && target) {
        mfd = (int)syscall(PCS_NR_fsmount, fsfd, PCS_FSMOUNT_CLOEXEC, PCS_MOUNT_ATTR_RDONLY);
        if (mfd < 0) { err = errno; snprintf(step, sizeof step, "fsmount"); }
        else if (syscall(PCS_NR_move_mount, mfd, "", AT_FDCWD, target, PCS_MOVE_MOUNT_F_EMPTY_PATH) < 0) {
            err = errno;
            snprintf(step, sizeof step, "move_mount");
        }
    }
    const char *name = err ? strerrorname_np(err) : "ok";
    jw_key(w, "result"); jw_str(w, name ? name : "E?");
    jw_key(w, "errno");
    if (err) jw_int(w, err); else jw_null(w);
    jw_key(w, "failed_at");
    if (err) jw_str(w, step); else jw_null(w);
    emit_fc_log(w, fsfd);
    if (mfd >= 0) close(mfd);
    if (fsfd >= 0) close(fsfd);
    return 0;
}
