/* pcshare-agent: long-lived helper processes — map_hold (a forked child keeps a file mapped),
 * spawn (run a program in the background), proc_kill (end and reap one of them), proc_frames
 * (page frames of another process's mappings of a path, from /proc/PID/maps and pagemap),
 * cgroup_attach (move one of them into a cgroup).
 * Every helper has a lifetime cap (max_ms, default 60 s) so none outlives a forgotten case. */
#define _GNU_SOURCE
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER_DEFAULT_MS 60000LL
#define HELPER_LIMIT_MS 600000LL
#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_PFN_MASK ((1ULL << 55) - 1)
#define MAX_FRAMES (1 << 20)

/* In a child: everything but keep_fd closed, default signals, own session, stdio on /dev/null. */
static void child_setup(int keep_fd, long long max_ms)
{
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
    for (int fd = 3; fd < 1024; fd++) if (fd != keep_fd) close(fd);
    alarm((unsigned)((max_ms + 999) / 1000)); /* SIGALRM's default action ends the helper */
}

static int helper_args(ctx *c, long long *max_ms)
{
    *max_ms = HELPER_DEFAULT_MS;
    if (arg_uint(c, "max_ms", max_ms, 0) < 0) return -1;
    if (*max_ms < 1 || *max_ms > HELPER_LIMIT_MS) return fail(c, "%s: max_ms must be 1..%lld", c->op, HELPER_LIMIT_MS);
    return 0;
}

/* Wait for the child's report on the pipe: 0 = ready, else its errno. EOF = it died first. */
static int child_report(int rd)
{
    int e = 0;
    ssize_t r;
    do r = read(rd, &e, sizeof e);
    while (r < 0 && errno == EINTR);
    return r == (ssize_t)sizeof e ? e : r == 0 ? ECHILD : errno;
}

/* map_hold {path, exec?: bool, private?: bool, write_page?: int, max_ms?} -> {pid, addr, length}.
 * The child opens path, mmaps the whole file (PROT_READ, plus PROT_EXEC with exec; MAP_SHARED unless
 * private), reads one byte of every page, closes the fd, and sleeps until killed (proc_kill) or max_ms.
 * With private and write_page, the mapping is also writable and that page is filled with 0xa5 (a
 * copy-on-write fault: the page leaves the file's page cache for this mapping only). */
int op_map_hold(ctx *c, jwriter *w)
{
    const char *path;
    int exec = 0, priv = 0;
    long long max_ms, write_page = -1;
    if (arg_str(c, "path", &path, 1) < 0 || arg_bool(c, "exec", &exec, 0) < 0 ||
        arg_bool(c, "private", &priv, 0) < 0 || arg_int(c, "write_page", &write_page, 0) < 0 ||
        helper_args(c, &max_ms) < 0)
        return -1;
    if (write_page >= 0 && !priv) return fail(c, "map_hold: write_page needs private: true (a shared mapping of a read-only fd cannot be written)");
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return fail_errno(c, errno, "map_hold: pipe2");
    struct stat st;
    if (stat(path, &st) < 0) { int e = errno; close(p[0]); close(p[1]); return fail_errno(c, e, "map_hold: stat %s", path); }
    size_t len = (size_t)st.st_size;
    pid_t pid = fork();
    if (pid < 0) { int e = errno; close(p[0]); close(p[1]); return fail_errno(c, e, "map_hold: fork"); }
    if (pid == 0) {
        close(p[0]);
        child_setup(p[1], max_ms);
        int e = 0;
        int fd = open(path, O_RDONLY);
        void *a = MAP_FAILED;
        if (fd < 0) e = errno;
        else if (len == 0) e = EINVAL;
        else if ((a = mmap(NULL, len, PROT_READ | (exec ? PROT_EXEC : 0) | (write_page >= 0 ? PROT_WRITE : 0),
                           priv ? MAP_PRIVATE : MAP_SHARED, fd, 0)) == MAP_FAILED) e = errno;
        if (fd >= 0) close(fd);
        if (!e) {
            long ps = page_size();
            volatile const char *q = a;
            for (size_t k = 0; k < len; k += (size_t)ps) (void)q[k];
            if (write_page >= 0) {
                if ((unsigned long long)write_page * (unsigned long long)ps >= len) e = EINVAL;
                else memset((char *)a + (size_t)write_page * (size_t)ps, 0xa5, (size_t)ps);
            }
        }
        if (write(p[1], &e, sizeof e) < 0) _exit(1);
        close(p[1]);
        if (e) _exit(1);
        for (;;) pause();
    }
    close(p[1]);
    int e = child_report(p[0]);
    close(p[0]);
    if (e) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        return fail_errno(c, e, "map_hold: map %s in the helper", path);
    }
    jw_key(w, "pid"); jw_int(w, pid);
    jw_key(w, "length"); jw_int(w, (long long)len);
    return 0;
}

/* spawn {argv, max_ms?} -> {pid}: fork + execv (argv[0] is a path) with stdio on /dev/null, in its
 * own session, returning at once. An exec failure fails the op with its errno. */
int op_spawn(ctx *c, jwriter *w)
{
    const jval *argv;
    long long max_ms;
    if (arg_arr(c, "argv", &argv, 1) < 0 || helper_args(c, &max_ms) < 0) return -1;
    if (argv->len < 1 || argv->len > 256) return fail(c, "spawn: argv needs 1..256 strings");
    char *args[257];
    for (size_t k = 0; k < argv->len; k++) {
        if (argv->items[k].type != J_STR) return fail(c, "spawn: argv must be strings");
        args[k] = argv->items[k].str;
    }
    args[argv->len] = NULL;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return fail_errno(c, errno, "spawn: pipe2");
    pid_t pid = fork();
    if (pid < 0) { int e = errno; close(p[0]); close(p[1]); return fail_errno(c, e, "spawn: fork"); }
    if (pid == 0) {
        close(p[0]);
        child_setup(p[1], max_ms);
        execv(args[0], args);
        int e = errno;
        if (write(p[1], &e, sizeof e) < 0) { /* parent sees EOF */ }
        _exit(127);
    }
    close(p[1]);
    int e = child_report(p[0]); /* EOF (ECHILD) here means exec succeeded: the CLOEXEC pipe closed */
    close(p[0]);
    if (e && e != ECHILD) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        return fail_errno(c, e, "spawn: exec %s", args[0]);
    }
    jw_key(w, "pid"); jw_int(w, pid);
    return 0;
}

/* proc_kill {pid, signal?: default 9} -> {reaped, status}: signal a helper and reap it.
 * A helper that already ended (and was reaped by the main loop) gives reaped=false. */
int op_proc_kill(ctx *c, jwriter *w)
{
    long long pid, sig = SIGKILL;
    if (arg_uint(c, "pid", &pid, 1) < 0 || arg_uint(c, "signal", &sig, 0) < 0) return -1;
    if (pid < 2) return fail(c, "proc_kill: bad pid %lld", pid);
    if (kill((pid_t)pid, (int)sig) < 0 && errno != ESRCH) return fail_errno(c, errno, "proc_kill: kill %lld", pid);
    int status = 0;
    pid_t r;
    do r = waitpid((pid_t)pid, &status, 0);
    while (r < 0 && errno == EINTR);
    jw_key(w, "reaped"); jw_bool(w, r == (pid_t)pid);
    jw_key(w, "status"); jw_int(w, r == (pid_t)pid ? status : -1);
    return 0;
}

/* cgroup_attach {pid, cgroup} -> {}: write pid to <cgroup>/cgroup.procs in one write(2), moving the
 * process. The pid is a request field (not file data), so a replay points it at the live process. */
int op_cgroup_attach(ctx *c, jwriter *w)
{
    (void)w;
    long long pid;
    const char *cg;
    if (arg_uint(c, "pid", &pid, 1) < 0 || arg_str(c, "cgroup", &cg, 1) < 0) return -1;
    if (pid < 2) return fail(c, "cgroup_attach: bad pid %lld", pid);
    char fn[4096], val[32];
    if (snprintf(fn, sizeof fn, "%s/cgroup.procs", cg) >= (int)sizeof fn) return fail(c, "cgroup_attach: cgroup path too long");
    int len = snprintf(val, sizeof val, "%lld", pid);
    int fd = open(fn, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(c, errno, "cgroup_attach: open %s", fn);
    ssize_t r;
    do r = write(fd, val, (size_t)len);
    while (r < 0 && errno == EINTR);
    int e = r < 0 ? errno : 0;
    close(fd);
    if (e) return fail_errno(c, e, "cgroup_attach: write %lld to %s", pid, fn);
    return 0;
}

/* proc_frames {pid, path} -> {mappings: [{start, end, perms, offset, pfns: (pfn|null)[]}]}:
 * every mapping of `path` in /proc/PID/maps with the page frames its pages are mapped to now. */
int op_proc_frames(ctx *c, jwriter *w)
{
    long long pid;
    const char *path;
    if (arg_uint(c, "pid", &pid, 1) < 0 || arg_str(c, "path", &path, 1) < 0) return -1;
    char fn[64];
    snprintf(fn, sizeof fn, "/proc/%lld/maps", pid);
    FILE *maps = fopen(fn, "re");
    if (!maps) return fail_errno(c, errno, "proc_frames: open %s", fn);
    snprintf(fn, sizeof fn, "/proc/%lld/pagemap", pid);
    int pm = open(fn, O_RDONLY | O_CLOEXEC);
    if (pm < 0) { int e = errno; fclose(maps); return fail_errno(c, e, "proc_frames: open %s", fn); }
    long ps = page_size();
    char line[4608];
    jw_key(w, "mappings");
    jw_arr(w);
    int rc = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long long start, end, off;
        char perms[8];
        int name_at = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &off, &name_at) < 4 || !name_at) continue;
        char *name = line + name_at;
        name[strcspn(name, "\n")] = '\0';
        if (strcmp(name, path) != 0) continue;
        size_t pages = (size_t)((end - start) / (unsigned long long)ps);
        if (pages > MAX_FRAMES) { rc = fail(c, "proc_frames: mapping too large"); break; }
        uint64_t *e = malloc(pages * sizeof *e + 1);
        if (!e) { rc = fail_errno(c, ENOMEM, "proc_frames"); break; }
        ssize_t r = pread(pm, e, pages * sizeof *e, (off_t)(start / (unsigned long long)ps * sizeof *e));
        if (r != (ssize_t)(pages * sizeof *e)) { free(e); rc = fail_errno(c, r < 0 ? errno : EIO, "proc_frames: read pagemap"); break; }
        jw_obj(w);
        jw_key(w, "start"); jw_int(w, (long long)start);
        jw_key(w, "end"); jw_int(w, (long long)end);
        jw_key(w, "perms"); jw_str(w, perms);
        jw_key(w, "offset"); jw_int(w, (long long)off);
        jw_key(w, "pfns");
        jw_arr(w);
        for (size_t k = 0; k < pages; k++) {
            if (e[k] & PAGEMAP_PRESENT) jw_int(w, (long long)(e[k] & PAGEMAP_PFN_MASK)); else jw_null(w);
        }
        jw_arr_end(w);
        jw_obj_end(w);
        free(e);
    }
    jw_arr_end(w);
    fclose(maps);
    close(pm);
    return rc;
}
