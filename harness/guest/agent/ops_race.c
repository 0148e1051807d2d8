/* pcshare-agent: remount_race — mounts come and go under concurrent readers, in a tight loop.
 *
 * A forked worker (so a kernel oops that kills it cannot take the agent, possibly PID 1, along) reads
 * the reference bytes once, starts `readers` threads that read the files in `read_paths` with
 * read(2), compare every byte with the reference and drop the file's page cache
 * (POSIX_FADV_DONTNEED) so the next read does I/O again; its main thread cycles the `mounts`: unmount
 * the one looked up last (its inode serves the shared file's I/O; at first, or without `lookup`, one
 * picked at random) when mounted, mount it again, look up and read `lookup` through a mount picked at
 * random (which puts that inode in charge of the shared I/O) and drop the page cache through it. With
 * a single mount (L1-L3) that is: mount A, read A's file, unmount A. The agent watches its own
 * /dev/kmsg reader meanwhile: the first kernel report, the first wrong byte, `max_cycles` or
 * `budget_ms` ends the race. The worker then restores every mount to its initial state. */
#define _GNU_SOURCE
#include "ops.h"
#include "xxh64.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define RACE_MAX_MOUNTS 128
#define RACE_MAX_PATHS 128
#define RACE_MAX_READERS 16
#define RACE_MAX_FILE (64L << 20)
#define RACE_GRACE_MS 10000
#define RACE_POLL_US 5000
#define READER_NICE 10

typedef struct { const char *source, *target, *data; int mounted; } race_mount;

typedef struct {
    /* configuration (read-only once the worker runs) */
    race_mount mounts[RACE_MAX_MOUNTS];
    size_t nmounts;
    const char *paths[RACE_MAX_PATHS];
    size_t npaths;
    const char *lookup;
    int umount_flags, readers, copy_source;
    long long chunk, max_cycles, seed;
    unsigned char *ref;
    size_t ref_len;
} race_cfg;

/* Shared with the agent (MAP_SHARED anonymous): progress and the first thing that went wrong. */
typedef struct {
    volatile int stop;
    volatile long long cycles, reads, wrong, missing, first_cycle_ms, max_cycle_ms;
    volatile int done;
    char wrong_at[256];
    char error[256];
} race_state;

static race_cfg *cfg;
static race_state *st;

static void note(char *slot, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(char *slot, size_t n, const char *fmt, ...)
{
    if (__sync_bool_compare_and_swap(&slot[0], '\0', '.')) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(slot, n, fmt, ap);
        va_end(ap);
    }
}

/* Read path with read(2) in chunk-sized calls, comparing with the reference. 1 = equal, 0 = wrong,
 * 2 = the race ended first (the rest of the file is not read: a 1 MiB lz4hc file read at low priority
 * on a busy host can take seconds). */
static int read_compare(int fd, const char *path, unsigned char *buf)
{
    size_t off = 0;
    for (;;) {
        if (st->stop) return 2;
        ssize_t r = read(fd, buf, (size_t)cfg->chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { note(st->wrong_at, sizeof st->wrong_at, "%s: read at %zu: %s", path, off, strerror(errno)); return 0; }
        if (r == 0) break;
        if (off + (size_t)r > cfg->ref_len || memcmp(buf, cfg->ref + off, (size_t)r) != 0) {
            size_t k = 0;
            while (off + k < cfg->ref_len && k < (size_t)r && buf[k] == cfg->ref[off + k]) k++;
            note(st->wrong_at, sizeof st->wrong_at, "%s: byte %zu differs (cycle %lld)", path, off + k, st->cycles);
            return 0;
        }
        off += (size_t)r;
    }
    if (off != cfg->ref_len) {
        note(st->wrong_at, sizeof st->wrong_at, "%s: %zu bytes instead of %zu (cycle %lld)", path, off, cfg->ref_len, st->cycles);
        return 0;
    }
    return 1;
}

static void *reader(void *arg)
{
    size_t k = (size_t)(long)arg;
    /* Below the cycle loop's priority: readers fill every idle moment without starving the loop. */
    setpriority(PRIO_PROCESS, (id_t)gettid(), READER_NICE);
    unsigned char *buf = malloc((size_t)cfg->chunk);
    if (!buf) { note(st->error, sizeof st->error, "reader: out of memory"); st->stop = 1; return NULL; }
    while (!st->stop) {
        const char *path = cfg->paths[k++ % cfg->npaths];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) { __sync_fetch_and_add(&st->missing, 1); continue; } /* a churned mount between unmount and mount */
        int ok = read_compare(fd, path, buf);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
        if (ok == 1) __sync_fetch_and_add(&st->reads, 1);
        if (!ok) { __sync_fetch_and_add(&st->wrong, 1); st->stop = 1; }
    }
    free(buf);
    return NULL;
}

/* A fresh copy of the mount's backing file, named after the cycle (the previous one was unlinked). */
static int fresh_copy(const race_mount *m, long long cycle, char *out, size_t n)
{
    snprintf(out, n, "%s.race%lld", m->source, cycle);
    int in = open(m->source, O_RDONLY | O_CLOEXEC), o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = in >= 0 && o >= 0;
    char buf[65536];
    ssize_t r;
    while (ok && (r = read(in, buf, sizeof buf)) > 0) ok = write(o, buf, (size_t)r) == r;
    if (in >= 0) close(in);
    if (o >= 0) close(o);
    return ok ? 0 : -1;
}

static int do_mount(race_mount *m, long long cycle)
{
    char copy[4096];
    const char *src = m->source;
    if (cfg->copy_source) {
        if (fresh_copy(m, cycle, copy, sizeof copy) < 0) { note(st->error, sizeof st->error, "copy %s: %s", m->source, strerror(errno)); return -1; }
        src = copy;
    }
    int r = mount(src, m->target, "erofs", MS_RDONLY, m->data);
    int e = errno;
    if (cfg->copy_source) unlink(copy); /* the mount keeps the file open: its backing file is removed under it */
    if (r < 0) { note(st->error, sizeof st->error, "mount %s on %s: %s", src, m->target, strerror(e)); return -1; }
    m->mounted = 1;
    return 0;
}

static int do_umount(race_mount *m)
{
    if (umount2(m->target, cfg->umount_flags) < 0) { note(st->error, sizeof st->error, "umount %s: %s", m->target, strerror(errno)); return -1; }
    m->mounted = 0;
    return 0;
}

/* Look up and read the file through the freshly mounted m, then drop the shared page cache through it. */
static int lookup_read(race_mount *m, unsigned char *buf)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s", m->target, cfg->lookup);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { note(st->error, sizeof st->error, "open %s: %s", path, strerror(errno)); return -1; }
    int ok = read_compare(fd, path, buf);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
    if (!ok) __sync_fetch_and_add(&st->wrong, 1);
    return ok == 1 ? 0 : -1;
}

/* A mount picked at random among those mounted (fallback when none is: the one just mounted). */
static race_mount *pick(uint64_t *rnd, race_mount *fallback)
{
    *rnd = *rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    race_mount *m = &cfg->mounts[(*rnd >> 33) % cfg->nmounts];
    return m->mounted || !fallback ? m : fallback;
}

/* One line per cycle in the kernel log (level 4, so the console shows it next to a report): how many
 * cycles a race took to hit can be read from the console even when the report kills the agent. */
static void mark(int fd, long long cycle)
{
    char line[64];
    int n = snprintf(line, sizeof line, "<4>pcshare remount_race: cycle %lld\n", cycle);
    if (fd >= 0 && write(fd, line, (size_t)n) < 0) {} /* best effort */
}

static void worker(int64_t deadline)
{
    int kfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
    pthread_t th[RACE_MAX_READERS];
    int started = 0;
    unsigned char *buf = malloc((size_t)cfg->chunk);
    uint64_t rnd = (uint64_t)cfg->seed;
    race_mount *server = NULL; /* the mount looked up last: its inode serves the shared file's I/O */
    for (; started < cfg->readers; started++)
        if (pthread_create(&th[started], NULL, reader, (void *)(long)started) != 0) break;
    while (buf && !st->stop && st->cycles < cfg->max_cycles && now_ms_monotonic() < deadline) {
        int64_t t0 = now_ms_monotonic();
        race_mount *m = server ? server : pick(&rnd, NULL);
        mark(kfd, st->cycles + 1);
        if ((m->mounted && do_umount(m) < 0) || do_mount(m, st->cycles) < 0) break;
        if (cfg->lookup) {
            server = pick(&rnd, m);
            if (lookup_read(server, buf) < 0) break;
        }
        int64_t ms = now_ms_monotonic() - t0;
        if (st->cycles == 0) st->first_cycle_ms = ms;
        if (ms > st->max_cycle_ms) st->max_cycle_ms = ms;
        st->cycles++;
    }
    st->stop = 1;
    for (int k = 0; k < started; k++) pthread_join(th[k], NULL);
    free(buf);
    if (kfd >= 0) close(kfd);
}

/* ---- agent side ---- */

static const char *const REPORTS[] = {
    "Busy inodes after unmount", "kernel BUG at", "BUG: ", "Oops", "WARNING:", "general protection fault",
    "Kernel panic", "list_add corruption", "list_del corruption", NULL,
};

/* The first new kernel record that looks like a report, copied into out; 1 when found. */
static int kmsg_report(int fd, char *out, size_t n)
{
    static char rec[8193];
    for (;;) {
        ssize_t r = read(fd, rec, sizeof rec - 1);
        if (r < 0 && (errno == EINTR || errno == EPIPE)) continue;
        if (r <= 0) return 0;
        rec[r] = '\0';
        char *text = strchr(rec, ';');
        if (!text) continue;
        text++;
        text[strcspn(text, "\n")] = '\0';
        for (const char *const *p = REPORTS; *p; p++)
            if (strstr(text, *p)) { snprintf(out, n, "%s", text); return 1; }
    }
}

static int parse_mounts(ctx *c, const jval *arr, int mounted)
{
    if (arr->len < 1 || arr->len > RACE_MAX_MOUNTS) return fail(c, "remount_race: mounts must have 1..%d entries", RACE_MAX_MOUNTS);
    for (size_t k = 0; k < arr->len; k++) {
        const jval *o = &arr->items[k], *s = json_get(o, "source"), *t = json_get(o, "target"), *d = json_get(o, "data");
        if (o->type != J_OBJ || !s || s->type != J_STR || !t || t->type != J_STR || (d && d->type != J_STR))
            return fail(c, "remount_race: mounts must be {source, target, data?} strings");
        cfg->mounts[k] = (race_mount){ s->str, t->str, d ? d->str : "", mounted };
    }
    cfg->nmounts = arr->len;
    return 0;
}

static int parse_paths(ctx *c, const jval *arr)
{
    if (arr->len < 1 || arr->len > RACE_MAX_PATHS) return fail(c, "remount_race: read_paths must have 1..%d entries", RACE_MAX_PATHS);
    for (size_t k = 0; k < arr->len; k++) {
        if (arr->items[k].type != J_STR) return fail(c, "remount_race: read_paths must be strings");
        cfg->paths[k] = arr->items[k].str;
    }
    cfg->npaths = arr->len;
    return 0;
}

/* The reference bytes: read_paths[0] read before the race, checked against the expected XXH64. */
static int load_reference(ctx *c, const char *sha_hex)
{
    int fd = open(cfg->paths[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(c, errno, "remount_race: open %s", cfg->paths[0]);
    cfg->ref = malloc(RACE_MAX_FILE);
    ssize_t r;
    size_t got = 0;
    while (cfg->ref && got < RACE_MAX_FILE && ((r = read(fd, cfg->ref + got, RACE_MAX_FILE - got)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0) got += (size_t)r;
    close(fd);
    if (!cfg->ref) return fail(c, "remount_race: out of memory");
    cfg->ref_len = got;
    char hex[17];
    xxh64_ctx h;
    xxh64_init(&h);
    xxh64_update(&h, cfg->ref, got);
    xxh64_hex(xxh64_digest(&h), hex);
    if (strcmp(hex, sha_hex) != 0) return fail(c, "remount_race: %s reads %s before the race, not %s", cfg->paths[0], hex, sha_hex);
    return 0;
}

/* Wait for the worker: kernel reports, the deadline, its end. Returns how it ended. */
static const char *supervise(pid_t pid, int64_t deadline, char *report, size_t n, int *status)
{
    int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (kfd >= 0) lseek(kfd, 0, SEEK_END);
    int64_t kill_at = -1;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) break;
        int64_t now = now_ms_monotonic();
        if (!report[0] && kfd >= 0 && kmsg_report(kfd, report, n)) st->stop = 1;
        if (now >= deadline + RACE_GRACE_MS) st->stop = 1;
        if (st->stop && kill_at < 0) kill_at = now + RACE_GRACE_MS;
        if (kill_at >= 0 && now >= kill_at) {
            kill(pid, SIGKILL);
            int64_t give_up = now + RACE_GRACE_MS;
            while ((r = waitpid(pid, status, WNOHANG)) == 0 && now_ms_monotonic() < give_up) usleep(RACE_POLL_US);
            if (kfd >= 0 && !report[0]) kmsg_report(kfd, report, n);
            if (kfd >= 0) close(kfd);
            return r == pid ? "killed" : "stuck";
        }
        usleep(RACE_POLL_US);
    }
    if (kfd >= 0 && !report[0]) kmsg_report(kfd, report, n);
    if (kfd >= 0) close(kfd);
    return WIFEXITED(*status) && WEXITSTATUS(*status) == 0 ? "exited" : WIFSIGNALED(*status) ? "signalled" : "failed";
}

/* remount_race {mounts: [{source, target, data?}], mounted: bool, read_paths, xxh64, lookup,
 *   umount_flags?, readers?, chunk?, budget_ms, max_cycles?, seed?, copy_source?}
 * -> {cycles, reads, wrong, missing, wrong_at, error, report, worker, elapsed_ms, first_cycle_ms, max_cycle_ms} */
int op_remount_race(ctx *c, jwriter *w)
{
    const jval *mounts, *paths, *uflags = NULL;
    const char *want_xxh64;
    int mounted;
    long long readers = 2, chunk = 65536, budget, max_cycles = 1LL << 40, seed = 1;
    unsigned long uf = 0;
    static const flag_name UF[] = { { "detach", MNT_DETACH }, { NULL, 0 } };
    static race_cfg config;
    memset(&config, 0, sizeof config);
    cfg = &config;
    config.copy_source = 0;
    if (arg_arr(c, "mounts", &mounts, 1) < 0 || arg_bool(c, "mounted", &mounted, 1) < 0 || arg_arr(c, "read_paths", &paths, 1) < 0 ||
        arg_str(c, "xxh64", &want_xxh64, 1) < 0 || arg_str(c, "lookup", &config.lookup, 0) < 0 || arg_arr(c, "umount_flags", &uflags, 0) < 0 ||
        flags_from_array(c, uflags, "umount flag", UF, &uf) < 0 || arg_uint(c, "readers", &readers, 0) < 0 ||
        arg_uint(c, "chunk", &chunk, 0) < 0 || arg_uint(c, "budget_ms", &budget, 1) < 0 || arg_uint(c, "max_cycles", &max_cycles, 0) < 0 ||
        arg_uint(c, "seed", &seed, 0) < 0 || arg_bool(c, "copy_source", &config.copy_source, 0) < 0 ||
        parse_mounts(c, mounts, mounted) < 0 || parse_paths(c, paths) < 0)
        return -1;
    if (readers < 1 || readers > RACE_MAX_READERS) return fail(c, "remount_race: readers must be 1..%d", RACE_MAX_READERS);
    if (chunk < 1 || chunk > (16 << 20)) return fail(c, "remount_race: chunk must be 1..16777216");
    config.readers = (int)readers, config.chunk = chunk, config.max_cycles = max_cycles, config.seed = seed, config.umount_flags = (int)uf;
    int rc = load_reference(c, want_xxh64);
    st = rc < 0 ? MAP_FAILED : mmap(NULL, sizeof *st, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (rc == 0 && st == MAP_FAILED) rc = fail_errno(c, errno, "remount_race: mmap");
    if (rc < 0) { free(config.ref); return -1; }
    memset(st, 0, sizeof *st);
    /* Unlimited /dev/kmsg writes: the default ratelimit (10 lines per 5 s) would drop the cycle marks. */
    int sysctl = open("/proc/sys/kernel/printk_devkmsg", O_WRONLY | O_CLOEXEC);
    if (sysctl >= 0) { if (write(sysctl, "on\n", 3) < 0) {} close(sysctl); }
    int64_t t0 = now_ms_monotonic(), deadline = t0 + budget;
    pid_t pid = fork();
    if (pid == 0) {
        worker(deadline);
        for (size_t k = 0; k < cfg->nmounts; k++) { /* back to the initial state */
            race_mount *m = &cfg->mounts[k];
            if (m->mounted && !mounted) do_umount(m);
            else if (!m->mounted && mounted) do_mount(m, st->cycles + 1 + (long long)k);
        }
        _exit(0);
    }
    char report[1024] = "";
    int status = 0;
    const char *how = pid < 0 ? "fork failed" : supervise(pid, deadline, report, sizeof report, &status);
    jw_key(w, "cycles"); jw_int(w, st->cycles);
    jw_key(w, "reads"); jw_int(w, st->reads);
    jw_key(w, "wrong"); jw_int(w, st->wrong);
    jw_key(w, "missing"); jw_int(w, st->missing);
    jw_key(w, "wrong_at"); if (st->wrong_at[0]) jw_str(w, st->wrong_at); else jw_null(w);
    jw_key(w, "error"); if (st->error[0]) jw_str(w, st->error); else jw_null(w);
    jw_key(w, "report"); if (report[0]) jw_str(w, report); else jw_null(w);
    jw_key(w, "worker"); jw_str(w, how);
    jw_key(w, "elapsed_ms"); jw_int(w, now_ms_monotonic() - t0);
    jw_key(w, "first_cycle_ms"); jw_int(w, st->first_cycle_ms);
    jw_key(w, "max_cycle_ms"); jw_int(w, st->max_cycle_ms);
    munmap(st, sizeof *st);
    free(config.ref);
    return 0;
}
