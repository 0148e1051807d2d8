/* pcshare-agent: entry point — argument parsing, the request loop, dispatch and reply framing. */
#define _GNU_SOURCE
#include "json.h"
#include "ops.h"
#include "transport.h"
#include "drives.h"
#include "replay.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORT_WAIT_MS 10000

/* Best-effort id from a line that did not parse: the client always starts with {"id":N. */
static long long recover_id(const char *line, size_t len, int *found)
{
    *found = 0;
    const char *p = memmem(line, len, "\"id\"", 4);
    if (!p) return 0;
    const char *end = line + len;
    p += 4;
    while (p < end && isspace((unsigned char)*p)) p++;
    if (p >= end || *p != ':') return 0;
    p++;
    while (p < end && isspace((unsigned char)*p)) p++;
    long long v = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 16) v = v * 10 + (*p++ - '0'), digits++;
    if (!digits || (p < end && *p >= '0' && *p <= '9')) return 0;
    *found = 1;
    return v;
}

static void error_reply(sbuf *out, int has_id, long long id, const char *msg, int errnum)
{
    jwriter w;
    out->len = 0;
    jw_init(&w, out);
    jw_obj(&w);
    jw_key(&w, "id");
    if (has_id) jw_int(&w, id); else jw_null(&w);
    jw_key(&w, "ok"); jw_bool(&w, 0);
    jw_key(&w, "error"); jw_str(&w, msg);
    if (errnum) {
        const char *name = strerrorname_np(errnum);
        jw_key(&w, "errno"); jw_int(&w, errnum);
        jw_key(&w, "errname"); jw_str(&w, name ? name : "E?");
    }
    jw_obj_end(&w);
}

/* Dispatch one parsed request; leaves the reply (without newline) in out. */
enum after_reply handle_request(const jval *req, int stdio_mode, sbuf *out)
{
    enum after_reply after = AFTER_NOTHING;
    const jval *jid = json_get(req, "id");
    const jval *jop = json_get(req, "op");
    if (req->type != J_OBJ) {
        error_reply(out, 0, 0, "request must be a JSON object", 0);
    } else if (!jid || jid->type != J_NUM || !jid->is_int) {
        error_reply(out, 0, 0, "request needs an integer \"id\"", 0);
    } else if (!jop || jop->type != J_STR) {
        error_reply(out, 1, jid->i, "request needs a string \"op\"", 0);
    } else {
        const op_entry *e = OPS;
        while (e->name && strcmp(e->name, jop->str) != 0) e++;
        if (!e->name) {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown op \"%.100s\"", jop->str);
            error_reply(out, 1, jid->i, msg, 0);
        } else {
            ctx c;
            memset(&c, 0, sizeof c);
            c.req = req;
            c.op = e->name;
            c.stdio_mode = stdio_mode;
            jwriter w;
            out->len = 0;
            jw_init(&w, out);
            jw_obj(&w);
            jw_key(&w, "id"); jw_int(&w, jid->i);
            jw_key(&w, "ok"); jw_bool(&w, 1);
            if (e->fn(&c, &w) == 0) {
                jw_obj_end(&w);
                after = c.after;
            } else {
                error_reply(out, 1, jid->i, c.err[0] ? c.err : "failed", c.errnum);
            }
        }
    }
    return after;
}

/* Handle one request line; leaves the reply (without newline) in out. */
static enum after_reply handle_line(const char *line, size_t len, int overlong, int stdio_mode, sbuf *out)
{
    char perr[256];
    int has_id;
    long long id = recover_id(line, len, &has_id);
    if (overlong) {
        snprintf(perr, sizeof perr, "request line too long (limit %d bytes)", MAX_LINE);
        error_reply(out, has_id, id, perr, 0);
        return AFTER_NOTHING;
    }
    jval *req = json_parse(line, len, perr, sizeof perr);
    if (!req) {
        error_reply(out, has_id, id, perr, 0);
        return AFTER_NOTHING;
    }
    enum after_reply after = handle_request(req, stdio_mode, out);
    json_free(req);
    return after;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: pcshare-agent [--stdio | --port PATH]\n"
               "  (no args)    serve on the virtio-serial port named \"" PORT_NAME "\"\n"
               "  --stdio      serve requests from stdin, replies on stdout; exit on EOF\n"
               "  --port PATH  serve on the given character device\n"
               "  --link-drives DIR  symlink each virtio-blk or SCSI disk's serial in DIR to its /dev node (waiting for\n"
               "               pcshare.drives=N of them when the kernel command line says so), then exit\n"
               "  --replay FILE  run the recorded requests of FILE in order, printing each step and its checks (replay.c)\n");
}

int main(int argc, char **argv)
{
    int stdio_mode = 0;
    const char *port = NULL;
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--stdio") == 0) stdio_mode = 1;
        else if (strcmp(argv[k], "--port") == 0 && k + 1 < argc) port = argv[++k];
        else if (strcmp(argv[k], "--link-drives") == 0 && k + 1 < argc) return link_drives(argv[k + 1]) < 0;
        else if (strcmp(argv[k], "--replay") == 0 && k + 1 < argc) { kmsg_open(); return replay_file(argv[k + 1]); }
        else if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    signal(SIGPIPE, SIG_IGN);
    kmsg_open();

    int in_fd, out_fd;
    if (stdio_mode) {
        in_fd = 0;
        out_fd = 1;
    } else {
        in_fd = out_fd = port ? open_port_path(port) : open_named_port(PORT_WAIT_MS);
        if (in_fd < 0) return 1;
    }

    static line_reader reader;
    reader_init(&reader, in_fd, stdio_mode);
    sbuf out;
    sb_init(&out);
    const char *line;
    size_t len;
    int overlong;
    while (reader_next(&reader, &line, &len, &overlong)) {
        size_t k = 0;
        while (k < len && isspace((unsigned char)line[k])) k++;
        if (k == len && !overlong) continue; /* blank line: nothing to answer */

        enum after_reply after = handle_line(line, len, overlong, stdio_mode, &out);
        sb_putc(&out, '\n');
        if (write_all(out_fd, out.p, out.len) < 0) {
            if (stdio_mode) break; /* reader went away */
            fprintf(stderr, "pcshare-agent: reply dropped: %s\n", strerror(errno));
        }
        if (out.cap > (8u << 20)) sb_free(&out); /* don't keep a huge exec/read_file reply around */

        while (waitpid(-1, NULL, WNOHANG) > 0) {} /* orphans reparented to us (we may be init) */

        if (after == AFTER_POWEROFF) {
            if (stdio_mode) break;
            sync();
            reboot(RB_POWER_OFF);
            fprintf(stderr, "pcshare-agent: reboot(RB_POWER_OFF): %s\n", strerror(errno));
        }
    }
    sb_free(&out);
    return 0;
}
