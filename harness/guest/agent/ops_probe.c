/* pcshare-agent: single-syscall file probes — read_at (read/pread/readv/preadv at an offset),
 * copy_hash (sendfile/splice into a pipe, hashed), statx (incl. DIO alignment), fcntl_probe (F_SETFL
 * O_DIRECT, F_SETLEASE), fslabel (FS_IOC_GETFSLABEL), lseek (incl. SEEK_DATA/SEEK_HOLE).
 * Each does one thing and reports the kernel's answer; a failing syscall fails the op with its errno. */
#define _GNU_SOURCE
#include "ops.h"
#include "xxh64.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define READ_AT_LIMIT (64LL << 20)
#define READ_AT_MAX_IOV 64
#define COPY_CHUNK (64 * 1024)

static int open_ro(ctx *c, const char *path, int extra)
{
    int fd;
    do fd = open(path, O_RDONLY | O_CLOEXEC | extra);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) fail_errno(c, errno, "%s: open %s", c->op, path);
    return fd;
}

static void hex_digest(const xxh64_ctx *h, char hex[17])
{
    xxh64_hex(xxh64_digest(h), hex);
}

/* mmap method of read_at: map the pages covering [off, off+len) clamped to the file's size (no SIGBUS
 * past EOF), copy the bytes out through the mapping (each page faults in), unmap. Returns the bytes
 * copied, or -1 with errno set. */
static ssize_t read_mmap(int fd, char *buf, size_t len, off_t off)
{
    struct stat st;
    if (fstat(fd, &st) < 0) return -1;
    if (off >= st.st_size || len == 0) return 0;
    if ((off_t)len > st.st_size - off) len = (size_t)(st.st_size - off);
    long ps = page_size();
    off_t start = off - off % ps;
    size_t maplen = (size_t)(off - start) + len;
    void *p = mmap(NULL, maplen, PROT_READ, MAP_SHARED, fd, start);
    if (p == MAP_FAILED) return -1;
    memcpy(buf, (char *)p + (off - start), len);
    munmap(p, maplen);
    return (ssize_t)len;
}

/* read_at {path, method: read|pread|readv|preadv|mmap, offset?, iov: [sizes]} -> {bytes, data_b64}.
 * Exactly one syscall (mmap: one mapping read through); read/readv lseek to offset first. iov of one
 * size = a plain buffer. */
int op_read_at(ctx *c, jwriter *w)
{
    const char *path, *method;
    const jval *iov;
    long long off = 0;
    if (arg_str(c, "path", &path, 1) < 0 || arg_str(c, "method", &method, 1) < 0 ||
        arg_uint(c, "offset", &off, 0) < 0 || arg_arr(c, "iov", &iov, 1) < 0)
        return -1;
    int m = !strcmp(method, "read") ? 0 : !strcmp(method, "pread") ? 1 : !strcmp(method, "readv") ? 2
          : !strcmp(method, "preadv") ? 3 : !strcmp(method, "mmap") ? 4 : -1;
    if (m < 0) return fail(c, "read_at: unknown method \"%s\" (read, pread, readv, preadv, mmap)", method);
    if (iov->len < 1 || iov->len > READ_AT_MAX_IOV) return fail(c, "read_at: iov needs 1..%d sizes", READ_AT_MAX_IOV);
    if ((m < 2 || m == 4) && iov->len != 1) return fail(c, "read_at: %s takes one buffer size", method);
    struct iovec vec[READ_AT_MAX_IOV];
    long long total = 0;
    for (size_t k = 0; k < iov->len; k++) {
        const jval *v = &iov->items[k];
        if (v->type != J_NUM || !v->is_int || v->i < 0) return fail(c, "read_at: iov sizes must be integers >= 0");
        vec[k].iov_len = (size_t)v->i;
        total += v->i;
    }
    if (total > READ_AT_LIMIT) return fail(c, "read_at: iov total exceeds %lld", READ_AT_LIMIT);
    char *buf = malloc((size_t)total + 1);
    if (!buf) return fail_errno(c, ENOMEM, "read_at");
    size_t pos = 0;
    for (size_t k = 0; k < iov->len; k++) vec[k].iov_base = buf + pos, pos += vec[k].iov_len;
    int fd = open_ro(c, path, 0);
    if (fd < 0) { free(buf); return -1; }
    ssize_t r = -1;
    if (m == 0 || m == 2) {
        if (lseek(fd, (off_t)off, SEEK_SET) < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fail_errno(c, e, "read_at: lseek %s", path);
        }
    }
    do {
        switch (m) {
        case 0: r = read(fd, buf, vec[0].iov_len); break;
        case 1: r = pread(fd, buf, vec[0].iov_len, (off_t)off); break;
        case 2: r = readv(fd, vec, (int)iov->len); break;
        case 4: r = read_mmap(fd, buf, vec[0].iov_len, (off_t)off); break;
        default: r = preadv(fd, vec, (int)iov->len, (off_t)off); break;
        }
    } while (r < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (r < 0) { free(buf); return fail_errno(c, e, "read_at: %s %s at %lld", method, path, off); }
    jw_key(w, "bytes"); jw_int(w, (long long)r);
    jw_key(w, "data_b64"); jw_b64(w, buf, (size_t)r);
    free(buf);
    return 0;
}

/* copy_hash {path, method: sendfile|splice, offset?, length?} -> {bytes, xxh64, calls}.
 * Both move the file into a pipe (sendfile(2) with a pipe as out_fd, splice(2) file -> pipe) in
 * chunks of at most 64 KiB, draining and hashing the pipe after each call; nothing lands in the
 * page cache on the way out (a memfd sink would show up in Cached). */
int op_copy_hash(ctx *c, jwriter *w)
{
    const char *path, *method;
    long long off = 0, len = -1;
    if (arg_str(c, "path", &path, 1) < 0 || arg_str(c, "method", &method, 1) < 0 ||
        arg_uint(c, "offset", &off, 0) < 0 || arg_uint(c, "length", &len, 0) < 0)
        return -1;
    int splicing = !strcmp(method, "splice");
    if (!splicing && strcmp(method, "sendfile") != 0) return fail(c, "copy_hash: unknown method \"%s\" (sendfile, splice)", method);
    int fd = open_ro(c, path, 0);
    if (fd < 0) return -1;
    int p[2] = { -1, -1 }, rc = -1;
    char *buf = malloc(COPY_CHUNK);
    xxh64_ctx h;
    xxh64_init(&h);
    long long done = 0, calls = 0;
    loff_t pos = (loff_t)off;
    if (!buf) { fail_errno(c, ENOMEM, "copy_hash"); goto out; }
    if (pipe2(p, O_CLOEXEC) < 0) { fail_errno(c, errno, "copy_hash: pipe2"); goto out; }
    for (;;) {
        size_t want = COPY_CHUNK;
        if (len >= 0 && (long long)want > len - done) want = (size_t)(len - done);
        if (want == 0) break;
        ssize_t n;
        if (splicing) n = splice(fd, &pos, p[1], NULL, want, 0);
        else { off_t o = (off_t)pos; n = sendfile(p[1], fd, &o, want); if (n > 0) pos = o; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { fail_errno(c, errno, "copy_hash: %s %s at %lld", method, path, (long long)pos); goto out; }
        calls++;
        if (n == 0) break;
        for (ssize_t got = 0; got < n;) {
            ssize_t r = read(p[0], buf, (size_t)(n - got));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) { fail_errno(c, r < 0 ? errno : EIO, "copy_hash: read pipe"); goto out; }
            xxh64_update(&h, buf, (size_t)r);
            got += r;
        }
        done += n;
    }
    char hex[17];
    hex_digest(&h, hex);
    jw_key(w, "bytes"); jw_int(w, done);
    jw_key(w, "xxh64"); jw_str(w, hex);
    jw_key(w, "calls"); jw_int(w, calls);
    rc = 0;
out:
    free(buf);
    close(fd);
    if (p[0] >= 0) close(p[0]);
    if (p[1] >= 0) close(p[1]);
    return rc;
}

/* struct statx as in the UAPI (6.14+), declared here so older headers compile. */
struct pcs_statx_ts { int64_t tv_sec; uint32_t tv_nsec; int32_t reserved; };
struct pcs_statx {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, spare0;
    uint64_t ino, size, blocks, attributes_mask;
    struct pcs_statx_ts atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t mnt_id;
    uint32_t dio_mem_align, dio_offset_align;
    uint64_t subvol;
    uint32_t atomic_write_unit_min, atomic_write_unit_max, atomic_write_segments_max;
    uint32_t dio_read_offset_align;
    uint64_t spare[9];
};
#define PCS_STATX_BASIC_STATS 0x7ffU
#define PCS_STATX_DIOALIGN 0x2000U
#define PCS_STATX_DIO_READ_ALIGN 0x20000U

/* statx {path} -> {mask, blksize, size, blocks, dio_mem_align, dio_offset_align, dio_read_offset_align}.
 * The DIO fields are null when the kernel did not set their bit in the returned mask. */
int op_statx(ctx *c, jwriter *w)
{
    const char *path;
    if (arg_str(c, "path", &path, 1) < 0) return -1;
    struct pcs_statx st;
    memset(&st, 0, sizeof st);
    if (syscall(SYS_statx, AT_FDCWD, path, 0, PCS_STATX_BASIC_STATS | PCS_STATX_DIOALIGN | PCS_STATX_DIO_READ_ALIGN, &st) < 0)
        return fail_errno(c, errno, "statx %s", path);
    jw_key(w, "mask"); jw_int(w, st.mask);
    jw_key(w, "blksize"); jw_int(w, st.blksize);
    jw_key(w, "size"); jw_int(w, (long long)st.size);
    jw_key(w, "blocks"); jw_int(w, (long long)st.blocks);
    jw_key(w, "dio_mem_align");
    if (st.mask & PCS_STATX_DIOALIGN) jw_int(w, st.dio_mem_align); else jw_null(w);
    jw_key(w, "dio_offset_align");
    if (st.mask & PCS_STATX_DIOALIGN) jw_int(w, st.dio_offset_align); else jw_null(w);
    jw_key(w, "dio_read_offset_align");
    if (st.mask & PCS_STATX_DIO_READ_ALIGN) jw_int(w, st.dio_read_offset_align); else jw_null(w);
    return 0;
}

/* fcntl_probe {path, probe: setfl_odirect|setlease_rdlck}.
 *  setfl_odirect: open O_RDONLY, F_SETFL |= O_DIRECT -> {direct: F_GETFL shows O_DIRECT afterwards,
 *    read: bytes of one 4 KiB read at offset 0 into an aligned buffer or null, read_errname, xxh64 of them}.
 *  setlease_rdlck: F_SETLEASE F_RDLCK -> {lease: F_GETLEASE after it ("rdlck"/"wrlck"/"unlck")}; released after.
 * A refused F_SETFL/F_SETLEASE fails the op with its errno. */
int op_fcntl_probe(ctx *c, jwriter *w)
{
    const char *path, *probe;
    if (arg_str(c, "path", &path, 1) < 0 || arg_str(c, "probe", &probe, 1) < 0) return -1;
    int lease = !strcmp(probe, "setlease_rdlck");
    if (!lease && strcmp(probe, "setfl_odirect") != 0) return fail(c, "fcntl_probe: unknown probe \"%s\" (setfl_odirect, setlease_rdlck)", probe);
    int fd = open_ro(c, path, 0);
    if (fd < 0) return -1;
    if (lease) {
        if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0) {
            int e = errno;
            close(fd);
            return fail_errno(c, e, "fcntl_probe: F_SETLEASE F_RDLCK %s", path);
        }
        int l = fcntl(fd, F_GETLEASE);
        jw_key(w, "lease"); jw_str(w, l == F_RDLCK ? "rdlck" : l == F_WRLCK ? "wrlck" : l == F_UNLCK ? "unlck" : "error");
        fcntl(fd, F_SETLEASE, F_UNLCK);
        close(fd);
        return 0;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_DIRECT) < 0) {
        int e = errno;
        close(fd);
        return fail_errno(c, e, "fcntl_probe: F_SETFL O_DIRECT %s", path);
    }
    int after = fcntl(fd, F_GETFL);
    void *buf = NULL;
    if (posix_memalign(&buf, 4096, 4096) != 0) { close(fd); return fail_errno(c, ENOMEM, "fcntl_probe"); }
    ssize_t r;
    do r = pread(fd, buf, 4096, 0);
    while (r < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    jw_key(w, "direct"); jw_bool(w, after >= 0 && (after & O_DIRECT));
    jw_key(w, "read");
    if (r >= 0) jw_int(w, (long long)r); else jw_null(w);
    jw_key(w, "read_errname");
    if (r < 0) { const char *n = strerrorname_np(e); jw_str(w, n ? n : "E?"); } else jw_null(w);
    xxh64_ctx h;
    char hex[17];
    xxh64_init(&h);
    if (r > 0) xxh64_update(&h, buf, (size_t)r);
    hex_digest(&h, hex);
    jw_key(w, "xxh64"); jw_str(w, hex);
    free(buf);
    return 0;
}

#define PCS_FS_IOC_GETFSLABEL _IOR(0x94, 49, char[256])

/* fslabel {path} -> {label} via FS_IOC_GETFSLABEL on an O_RDONLY fd of path (file or directory). */
int op_fslabel(ctx *c, jwriter *w)
{
    const char *path;
    if (arg_str(c, "path", &path, 1) < 0) return -1;
    int fd = open_ro(c, path, 0);
    if (fd < 0) return -1;
    char label[257];
    memset(label, 0, sizeof label);
    int r = ioctl(fd, PCS_FS_IOC_GETFSLABEL, label);
    int e = errno;
    close(fd);
    if (r < 0) return fail_errno(c, e, "fslabel: FS_IOC_GETFSLABEL %s", path);
    jw_key(w, "label"); jw_str(w, label);
    return 0;
}

/* lseek {path, whence: set|cur|end|data|hole, offset} -> {offset}; ENXIO etc. fail the op. */
int op_lseek(ctx *c, jwriter *w)
{
    const char *path, *whence;
    long long off = 0;
    if (arg_str(c, "path", &path, 1) < 0 || arg_str(c, "whence", &whence, 1) < 0 || arg_int(c, "offset", &off, 1) < 0) return -1;
    static const flag_name WHENCE[] = {
        { "set", SEEK_SET }, { "cur", SEEK_CUR }, { "end", SEEK_END }, { "data", SEEK_DATA }, { "hole", SEEK_HOLE }, { NULL, 0 },
    };
    const flag_name *wh = WHENCE;
    while (wh->name && strcmp(wh->name, whence) != 0) wh++;
    if (!wh->name) return fail(c, "lseek: unknown whence \"%s\" (set, cur, end, data, hole)", whence);
    int fd = open_ro(c, path, 0);
    if (fd < 0) return -1;
    off_t r = lseek(fd, (off_t)off, (int)wh->bit);
    int e = errno;
    close(fd);
    if (r < 0) return fail_errno(c, e, "lseek %s %s %lld", path, whence, off);
    jw_key(w, "offset"); jw_int(w, (long long)r);
    return 0;
}
