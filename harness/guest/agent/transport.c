/* pcshare-agent: transport — finding/opening the virtio-serial port, the buffered line reader, full writes. */
#define _GNU_SOURCE
#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static int read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    return 0;
}

/* Find /sys/class/virtio-ports/<dev>/name == PORT_NAME; copies <dev> into out. */
static int find_port(char *out, size_t cap)
{
    DIR *d = opendir("/sys/class/virtio-ports");
    if (!d) return -1;
    struct dirent *e;
    int found = -1;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[512], name[128];
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
        if (read_small(path, name, sizeof name) == 0 && strcmp(name, PORT_NAME) == 0 &&
            strlen(e->d_name) < cap) {
            memcpy(out, e->d_name, strlen(e->d_name) + 1);
            found = 0;
            break;
        }
    }
    closedir(d);
    return found;
}

/* /dev node missing (no devtmpfs/mdev yet): create it from sysfs's major:minor. */
static void make_node(const char *dev)
{
    char path[512], mm[64];
    unsigned maj, min;
    snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/dev", dev);
    if (read_small(path, mm, sizeof mm) < 0 || sscanf(mm, "%u:%u", &maj, &min) != 2) return;
    snprintf(path, sizeof path, "/dev/%s", dev);
    if (mknod(path, S_IFCHR | 0600, makedev(maj, min)) < 0 && errno != EEXIST)
        fprintf(stderr, "pcshare-agent: mknod %s: %s\n", path, strerror(errno));
}

int open_named_port(int timeout_ms)
{
    char dev[256], path[512];
    int waited = 0, last_errno = ENOENT;
    for (;;) {
        if (find_port(dev, sizeof dev) == 0) {
            snprintf(path, sizeof path, "/dev/%s", dev);
            int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
            if (fd >= 0) return fd;
            last_errno = errno;
            if (errno == ENOENT) make_node(dev);
        }
        if (waited >= timeout_ms) break;
        sleep_ms(100);
        waited += 100;
    }
    fprintf(stderr, "pcshare-agent: no virtio port named \"%s\" could be opened within %d ms: %s\n", PORT_NAME,
            timeout_ms, strerror(last_errno));
    return -1;
}

int open_port_path(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) fprintf(stderr, "pcshare-agent: open %s: %s\n", path, strerror(errno));
    return fd;
}

void reader_init(line_reader *r, int fd, int eof_exits)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->eof_exits = eof_exits;
}

static void line_reset(line_reader *r)
{
    r->len = 0;
    r->overlong = 0;
    r->headlen = 0;
}

/* Append a fragment of the current line, switching to discard mode beyond MAX_LINE. */
static void line_append(line_reader *r, const char *s, size_t n)
{
    if (!r->overlong && r->len + n > MAX_LINE) {
        r->overlong = 1;
        r->headlen = r->len < LINE_HEAD ? r->len : LINE_HEAD;
        memcpy(r->head, r->line, r->headlen);
        if (r->headlen < LINE_HEAD) {
            size_t more = LINE_HEAD - r->headlen < n ? LINE_HEAD - r->headlen : n;
            memcpy(r->head + r->headlen, s, more);
            r->headlen += more;
        }
        free(r->line); /* give the megabyte back */
        r->line = NULL;
        r->len = r->cap = 0;
    }
    if (r->overlong) return;
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n + 1) cap *= 2;
        char *p = realloc(r->line, cap);
        if (!p) { fprintf(stderr, "pcshare-agent: out of memory\n"); abort(); }
        r->line = p;
        r->cap = cap;
    }
    memcpy(r->line + r->len, s, n);
    r->len += n;
}

int reader_next(line_reader *r, const char **line, size_t *len, int *overlong)
{
    line_reset(r);
    for (;;) {
        if (r->cpos < r->clen) {
            char *start = r->chunk + r->cpos;
            size_t avail = r->clen - r->cpos;
            char *nl = memchr(start, '\n', avail);
            size_t take = nl ? (size_t)(nl - start) : avail;
            line_append(r, start, take);
            r->cpos += take + (nl ? 1 : 0);
            if (nl) {
                *overlong = r->overlong;
                if (r->overlong) {
                    r->head[r->headlen] = '\0';
                    *line = r->head;
                    *len = r->headlen;
                } else {
                    line_append(r, "", 0); /* ensure a buffer exists */
                    r->line[r->len] = '\0';
                    *line = r->line;
                    *len = r->len;
                }
                return 1;
            }
            continue;
        }
        ssize_t n = read(r->fd, r->chunk, sizeof r->chunk);
        if (n > 0) {
            r->cpos = 0;
            r->clen = (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (r->eof_exits) {
            if (n < 0) fprintf(stderr, "pcshare-agent: read: %s\n", strerror(errno));
            return 0;
        }
        /* Port: host not connected (0) or transient error: drop any half line, wait, retry. */
        line_reset(r);
        sleep_ms(50);
    }
}

int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) { sleep_ms(5); continue; }
        if (w < 0) return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}
