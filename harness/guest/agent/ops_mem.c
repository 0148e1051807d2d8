/* pcshare-agent: page-cache ops — page_frames (pagemap PFNs), mincore, cachestat, meminfo. */
#define _GNU_SOURCE
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_PFN_MASK ((1ULL << 55) - 1)
#define MAX_PAGE_FRAMES_FILES 4096

/* A page-aligned window of a file, mapped read-only shared. */
typedef struct {
    const char *path;
    long long size;   /* file size */
    size_t pages;
    void *addr;
    size_t maplen;
} window;

/* Open path and map [offset, offset+length) (length<0: to EOF), page-aligned. pages==0 maps nothing. */
static int map_window(ctx *c, const char *path, long long offset, long long length, window *win)
{
    memset(win, 0, sizeof *win);
    win->path = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(c, errno, "%s: open %s", c->op, path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return fail_errno(c, e, "%s: fstat %s", c->op, path);
    }
    win->size = st.st_size;
    long long ps = page_size();
    long long start = offset / ps * ps;
    long long end = length < 0 || offset + length > st.st_size ? st.st_size : offset + length;
    if (end > start) {
        win->pages = (size_t)((end - start + ps - 1) / ps);
        win->maplen = win->pages * (size_t)ps;
        win->addr = mmap(NULL, win->maplen, PROT_READ, MAP_SHARED, fd, (off_t)start);
        if (win->addr == MAP_FAILED) {
            int e = errno;
            win->addr = NULL;
            close(fd);
            return fail_errno(c, e, "%s: mmap %s", c->op, path);
        }
    }
    close(fd);
    return 0;
}

static void touch_window(const window *win, long ps)
{
    volatile const char *p = win->addr;
    for (size_t pg = 0; pg < win->pages; pg++) (void)p[pg * (size_t)ps];
}

static int read_pagemap(ctx *c, int pm, const window *win, long ps, uint64_t *entries)
{
    size_t bytes = win->pages * sizeof(uint64_t);
    off_t pos = (off_t)((uintptr_t)win->addr / (uintptr_t)ps * sizeof(uint64_t));
    size_t got = 0;
    while (got < bytes) {
        ssize_t r = pread(pm, (char *)entries + got, bytes - got, pos + (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return fail_errno(c, r < 0 ? errno : EIO, "page_frames: read pagemap");
        got += (size_t)r;
    }
    return 0;
}

static void unmap_window(window *win)
{
    if (win->addr) munmap(win->addr, win->maplen);
    win->addr = NULL;
}

static int range_args(ctx *c, long long *offset, long long *length)
{
    *offset = 0;
    *length = -1;
    return arg_uint(c, "offset", offset, 0) < 0 || arg_uint(c, "length", length, 0) < 0 ? -1 : 0;
}

int op_page_frames(ctx *c, jwriter *w)
{
    const jval *paths;
    long long offset, length;
    if (arg_arr(c, "paths", &paths, 1) < 0 || range_args(c, &offset, &length) < 0) return -1;
    if (paths->len > MAX_PAGE_FRAMES_FILES) return fail(c, "page_frames: too many paths");
    for (size_t k = 0; k < paths->len; k++)
        if (paths->items[k].type != J_STR || strlen(paths->items[k].str) != paths->items[k].len)
            return fail(c, "page_frames: paths must be strings");

    window *wins = calloc(paths->len ? paths->len : 1, sizeof *wins);
    uint64_t **entries = calloc(paths->len ? paths->len : 1, sizeof *entries);
    int rc = -1, pm = -1;
    if (!wins || !entries) { fail_errno(c, ENOMEM, "page_frames"); goto out; }

    /* Map and touch everything first; all mappings stay alive while pagemap is read. The windows
     * are MADV_NOHUGEPAGE: with THP "always" khugepaged may collapse a read-only file range and
     * clear its PTEs between our touch and our read (seen as 1975/2048 present right after boot). */
    long ps = page_size();
    for (size_t k = 0; k < paths->len; k++) {
        if (map_window(c, paths->items[k].str, offset, length, &wins[k]) < 0) goto out;
        if (wins[k].addr) madvise(wins[k].addr, wins[k].maplen, MADV_NOHUGEPAGE);
        touch_window(&wins[k], ps);
    }
    pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pm < 0) { fail_errno(c, errno, "page_frames: open /proc/self/pagemap"); goto out; }
    for (size_t k = 0; k < paths->len; k++) {
        if (!wins[k].pages) continue;
        entries[k] = malloc(wins[k].pages * sizeof(uint64_t));
        if (!entries[k]) { fail_errno(c, ENOMEM, "page_frames"); goto out; }
        /* A page unmapped behind our back (reclaim, collapse) is touched again, a few times at most. */
        for (int attempt = 0; attempt < 3; attempt++) {
            if (read_pagemap(c, pm, &wins[k], ps, entries[k]) < 0) goto out;
            size_t missing = 0;
            for (size_t pg = 0; pg < wins[k].pages; pg++)
                if (!(entries[k][pg] & PAGEMAP_PRESENT)) missing++;
            if (!missing) break;
            touch_window(&wins[k], ps);
        }
    }
    for (size_t k = 0; k < paths->len; k++) unmap_window(&wins[k]);

    jw_key(w, "files");
    jw_arr(w);
    for (size_t k = 0; k < paths->len; k++) {
        size_t present = 0;
        for (size_t pg = 0; pg < wins[k].pages; pg++)
            if (entries[k][pg] & PAGEMAP_PRESENT) present++;
        jw_obj(w);
        jw_key(w, "path"); jw_str(w, wins[k].path);
        jw_key(w, "size"); jw_int(w, wins[k].size);
        jw_key(w, "pages"); jw_int(w, (long long)wins[k].pages);
        jw_key(w, "present"); jw_int(w, (long long)present);
        jw_key(w, "pfns");
        jw_arr(w);
        for (size_t pg = 0; pg < wins[k].pages; pg++) {
            uint64_t e = entries[k][pg];
            if (e & PAGEMAP_PRESENT) jw_int(w, (long long)(e & PAGEMAP_PFN_MASK));
            else jw_null(w);
        }
        jw_arr_end(w);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    rc = 0;
out:
    if (pm >= 0) close(pm);
    for (size_t k = 0; wins && entries && k < paths->len; k++) {
        unmap_window(&wins[k]);
        free(entries[k]);
    }
    free(wins);
    free(entries);
    return rc;
}

int op_mincore(ctx *c, jwriter *w)
{
    const char *path;
    long long offset, length;
    window win;
    if (arg_str(c, "path", &path, 1) < 0 || range_args(c, &offset, &length) < 0) return -1;
    if (map_window(c, path, offset, length, &win) < 0) return -1;
    size_t resident = 0;
    if (win.pages) {
        unsigned char *vec = malloc(win.pages);
        if (!vec) { unmap_window(&win); return fail_errno(c, ENOMEM, "mincore"); }
        if (mincore(win.addr, win.maplen, vec) < 0) {
            int e = errno;
            free(vec);
            unmap_window(&win);
            return fail_errno(c, e, "mincore %s", path);
        }
        for (size_t k = 0; k < win.pages; k++) resident += vec[k] & 1;
        free(vec);
    }
    unmap_window(&win);
    jw_key(w, "pages"); jw_int(w, (long long)win.pages);
    jw_key(w, "resident"); jw_int(w, (long long)resident);
    return 0;
}

/* Linux UAPI (6.5+); declared here so older headers still compile. */
struct pcs_cachestat_range { uint64_t off, len; };
struct pcs_cachestat { uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; };
#define PCS_NR_CACHESTAT 451

int op_cachestat(ctx *c, jwriter *w)
{
    const char *path;
    long long offset, length;
    if (arg_str(c, "path", &path, 1) < 0 || range_args(c, &offset, &length) < 0) return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(c, errno, "cachestat: open %s", path);
    struct pcs_cachestat_range range = { (uint64_t)offset, length < 0 ? 0 : (uint64_t)length };
    struct pcs_cachestat cs;
    memset(&cs, 0, sizeof cs);
    long r = syscall(PCS_NR_CACHESTAT, fd, &range, &cs, 0);
    int e = errno;
    close(fd);
    if (r < 0) return fail_errno(c, e, "cachestat %s", path);
    jw_key(w, "cache"); jw_int(w, (long long)cs.nr_cache);
    jw_key(w, "dirty"); jw_int(w, (long long)cs.nr_dirty);
    jw_key(w, "writeback"); jw_int(w, (long long)cs.nr_writeback);
    jw_key(w, "evicted"); jw_int(w, (long long)cs.nr_evicted);
    jw_key(w, "recently_evicted"); jw_int(w, (long long)cs.nr_recently_evicted);
    return 0;
}

int op_meminfo(ctx *c, jwriter *w)
{
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f) return fail_errno(c, errno, "meminfo: open /proc/meminfo");
    char line[256];
    jw_key(w, "fields");
    jw_obj(w);
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        char *end;
        long long v = strtoll(colon + 1, &end, 10);
        if (end == colon + 1) continue;
        jw_key(w, line);
        jw_int(w, v);
    }
    fclose(f);
    jw_obj_end(w);
    return 0;
}
