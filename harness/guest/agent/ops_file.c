/* pcshare-agent: file ops — read_file, write_file, read_hash, hash_files, open_probe, fadvise. */
#define _GNU_SOURCE
#include "ops.h"
#include "xxh64.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_FILE_DEFAULT (1LL << 20)
#define READ_FILE_LIMIT (64LL << 20)
#define HASH_BLOCK_DEFAULT (1LL << 20)
#define HASH_BLOCK_LIMIT (64LL << 20)
#define MAX_HASH_FILES 4096

static int open_path(ctx *c, const char *path, int flags, mode_t mode)
{
    int fd;
    do fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) fail_errno(c, errno, "%s: open %s", c->op, path);
    return fd;
}

int op_read_file(ctx *c, jwriter *w)
{
    const char *path;
    long long max = READ_FILE_DEFAULT;
    if (arg_str(c, "path", &path, 1) < 0 || arg_uint(c, "max_bytes", &max, 0) < 0) return -1;
    if (max > READ_FILE_LIMIT) return fail(c, "read_file: max_bytes exceeds %lld", READ_FILE_LIMIT);
    int fd = open_path(c, path, O_RDONLY, 0);
    if (fd < 0) return -1;
    /* one spare byte tells whether the file continues past max_bytes */
    char *buf = malloc((size_t)max + 1);
    if (!buf) { close(fd); return fail_errno(c, ENOMEM, "read_file"); }
    size_t got = 0;
    while (got < (size_t)max + 1) {
        ssize_t r = read(fd, buf + got, (size_t)max + 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fail_errno(c, e, "read_file: read %s", path);
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    close(fd);
    int truncated = got > (size_t)max;
    if (truncated) got = (size_t)max;
    jw_key(w, "data_b64"); jw_b64(w, buf, got);
    jw_key(w, "size"); jw_int(w, (long long)got);
    jw_key(w, "truncated"); jw_bool(w, truncated);
    free(buf);
    return 0;
}

int op_write_file(ctx *c, jwriter *w)
{
    const char *path;
    int append = 0;
    unsigned char *data;
    size_t len;
    if (arg_str(c, "path", &path, 1) < 0 || arg_bool(c, "append", &append, 0) < 0) return -1;
    if (arg_b64(c, "data_b64", &data, &len, 1) < 0) return -1;
    int fd = open_path(c, path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0) { free(data); return -1; }
    struct stat st;
    int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    /* One write(2) first: /proc and /sys attributes expect the value in a single call. */
    size_t done = 0;
    int rc = 0;
    do {
        ssize_t r = write(fd, data + done, len - done);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { rc = fail_errno(c, errno, "write_file: write %s", path); break; }
        done += (size_t)r;
        if (r == 0) break;
    } while (regular && done < len);
    if (close(fd) < 0 && rc == 0) rc = fail_errno(c, errno, "write_file: close %s", path);
    free(data);
    if (rc < 0) return -1;
    jw_key(w, "bytes"); jw_int(w, (long long)done);
    return 0;
}

/* Read fd to its end with read(2) of bs bytes into buf; 0 with *total and hex set, or an errno. */
static int hash_fd(int fd, char *buf, size_t bs, long long *total, char hex[17])
{
    xxh64_ctx h;
    xxh64_init(&h);
    *total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, bs);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno;
        if (r == 0) break;
        xxh64_update(&h, buf, (size_t)r);
        *total += r;
    }
    xxh64_hex(xxh64_digest(&h), hex);
    return 0;
}

static int block_size_arg(ctx *c, long long *bs)
{
    *bs = HASH_BLOCK_DEFAULT;
    if (arg_uint(c, "block_size", bs, 0) < 0) return -1;
    if (*bs < 1 || *bs > HASH_BLOCK_LIMIT) return fail(c, "%s: block_size must be 1..%lld", c->op, HASH_BLOCK_LIMIT);
    return 0;
}

int op_read_hash(ctx *c, jwriter *w)
{
    const char *path;
    long long bs;
    if (arg_str(c, "path", &path, 1) < 0 || block_size_arg(c, &bs) < 0) return -1;
    int64_t start = now_ms_monotonic();
    int fd = open_path(c, path, O_RDONLY, 0);
    if (fd < 0) return -1;
    char *buf = malloc((size_t)bs);
    if (!buf) { close(fd); return fail_errno(c, ENOMEM, "read_hash"); }
    long long total;
    char hex[17];
    int e = hash_fd(fd, buf, (size_t)bs, &total, hex);
    free(buf);
    close(fd);
    if (e) return fail_errno(c, e, "read_hash: read %s", path);
    jw_key(w, "size"); jw_int(w, total);
    jw_key(w, "xxh64"); jw_str(w, hex);
    jw_key(w, "duration_ms"); jw_int(w, now_ms_monotonic() - start);
    return 0;
}

/* XXH64 of the paths as received, each followed by a NUL byte: the host sends the same of what it meant. */
static void paths_digest(const jval *paths, char hex[17])
{
    xxh64_ctx h;
    xxh64_init(&h);
    for (size_t k = 0; k < paths->len; k++) xxh64_update(&h, paths->items[k].str, paths->items[k].len + 1);
    xxh64_hex(xxh64_digest(&h), hex);
}

/* Each file read to its end with read(2) and hashed; results in request order, an error per file
 * (errno) instead of failing the request, so no path ever has to be matched back from text. */
int op_hash_files(ctx *c, jwriter *w)
{
    const jval *paths;
    const char *want = NULL;
    long long bs;
    if (arg_arr(c, "paths", &paths, 1) < 0 || block_size_arg(c, &bs) < 0 || arg_str(c, "paths_xxh64", &want, 0) < 0)
        return -1;
    if (paths->len > MAX_HASH_FILES) return fail(c, "hash_files: at most %d paths", MAX_HASH_FILES);
    for (size_t k = 0; k < paths->len; k++)
        if (paths->items[k].type != J_STR || strlen(paths->items[k].str) != paths->items[k].len)
            return fail(c, "hash_files: paths must be strings without NUL bytes");
    char got[17];
    paths_digest(paths, got);
    if (want && strcmp(want, got) != 0)
        return fail(c, "hash_files: the paths arrived altered (XXH64 of the list received %s, sent %s)", got, want);
    char *buf = malloc((size_t)bs);
    if (!buf) return fail_errno(c, ENOMEM, "hash_files");
    int64_t start = now_ms_monotonic();
    jw_key(w, "paths_xxh64"); jw_str(w, got);
    jw_key(w, "files");
    jw_arr(w);
    for (size_t k = 0; k < paths->len; k++) {
        const char *path = paths->items[k].str;
        long long total = 0;
        char hex[17];
        int fd, e = 0;
        do fd = open(path, O_RDONLY | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        const char *what = "open";
        if (fd < 0) e = errno;
        else {
            e = hash_fd(fd, buf, (size_t)bs, &total, hex);
            what = "read";
            close(fd);
        }
        jw_obj(w);
        if (e) {
            const char *name = strerrorname_np(e);
            jw_key(w, "error"); jw_str(w, what);
            jw_key(w, "errno"); jw_int(w, e);
            jw_key(w, "errname"); jw_str(w, name ? name : "E?");
        } else {
            jw_key(w, "size"); jw_int(w, total);
            jw_key(w, "xxh64"); jw_str(w, hex);
        }
        jw_obj_end(w);
    }
    jw_arr_end(w);
    free(buf);
    jw_key(w, "duration_ms"); jw_int(w, now_ms_monotonic() - start);
    return 0;
}

static const flag_name OPEN_FLAGS[] = {
    { "O_RDONLY", O_RDONLY }, { "O_WRONLY", O_WRONLY }, { "O_RDWR", O_RDWR },
    { "O_DIRECT", O_DIRECT }, { "O_NOATIME", O_NOATIME }, { "O_PATH", O_PATH },
    { "O_DIRECTORY", O_DIRECTORY }, { "O_NOFOLLOW", O_NOFOLLOW }, { "O_SYNC", O_SYNC },
    { "O_DSYNC", O_DSYNC }, { "O_NONBLOCK", O_NONBLOCK }, { "O_LARGEFILE", O_LARGEFILE },
    { "O_CREAT", O_CREAT }, { "O_EXCL", O_EXCL }, { "O_TRUNC", O_TRUNC }, { "O_APPEND", O_APPEND },
    { "O_TMPFILE", O_TMPFILE }, { "O_NOCTTY", O_NOCTTY }, { "O_CLOEXEC", O_CLOEXEC },
    { NULL, 0 },
};

int op_open_probe(ctx *c, jwriter *w)
{
    (void)w;
    const char *path;
    const jval *flags = NULL;
    unsigned long f = 0;
    if (arg_str(c, "path", &path, 1) < 0 || arg_arr(c, "flags", &flags, 0) < 0 ||
        flags_from_array(c, flags, "open flag", OPEN_FLAGS, &f) < 0)
        return -1;
    int fd = open_path(c, path, (int)f, 0644);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

static const flag_name ADVICE[] = {
    { "normal", POSIX_FADV_NORMAL }, { "random", POSIX_FADV_RANDOM },
    { "sequential", POSIX_FADV_SEQUENTIAL }, { "willneed", POSIX_FADV_WILLNEED },
    { "dontneed", POSIX_FADV_DONTNEED }, { "noreuse", POSIX_FADV_NOREUSE },
    { NULL, 0 },
};

int op_fadvise(ctx *c, jwriter *w)
{
    (void)w;
    const char *path, *advice;
    long long off = 0, len = 0;
    if (arg_str(c, "path", &path, 1) < 0 || arg_str(c, "advice", &advice, 1) < 0 ||
        arg_uint(c, "offset", &off, 0) < 0 || arg_uint(c, "length", &len, 0) < 0)
        return -1;
    const flag_name *a = ADVICE;
    while (a->name && strcmp(a->name, advice) != 0) a++;
    if (!a->name) return fail(c, "fadvise: unknown advice \"%s\"", advice);
    int fd = open_path(c, path, O_RDONLY, 0);
    if (fd < 0) return -1;
    int r = posix_fadvise(fd, (off_t)off, (off_t)len, (int)a->bit);
    close(fd);
    if (r != 0) return fail_errno(c, r, "fadvise %s", path);
    return 0;
}
