/* pcshare-agent: replay — run the requests a case sent, as recorded in a step file, one per line, and
 * print each step, its reply and its checks on stdout (the guest console of a reproducer bundle).
 *
 * A step is an ordinary request plus keys the ops ignore (they start with "_"):
 *   "_delay_ms": N       wait this long first (the host's pause before sending it when recorded)
 *   "_pid_of": ID        the request's "pid" is the pid the reply to request ID returned
 *                        (map_hold/spawn), not the recorded number
 *   "_expect": [ {"check": NAME, "errno": "ok"|"EINVAL"|...}
 *              | {"check": NAME, "field": KEY, "equals": STRING}
 *              | {"check": NAME, "frames": "yes"|"no"}
 *              | {"check": NAME, "mountinfo": DIR, "option": NAME, "listed": "listed"|"not listed"} ]
 *                        what a correct kernel replies: the errno name ("ok" for success), the
 *                        value of a top-level string field of the reply (e.g. "xxh64"), or whether
 *                        the two files of a page_frames reply map the same frames (every page present
 *                        in both: "yes"; none: "no"; some: "partly"; no page present: "no pages present"),
 *                        or whether a read_file reply of /proc/self/mountinfo lists the option for the
 *                        topmost mount at DIR (its per-mount or its superblock options)
 * Output lines: "pcshare-step ID > REQUEST", "pcshare-step ID < REPLY" (both shortened),
 * "pcshare-check ID ok|FAIL: NAME[: expected X, seen Y]" and a last "pcshare-replay: ..." line. */
#define _GNU_SOURCE
#include "replay.h"
#include "base64.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define SHOW_REQUEST 300
#define SHOW_REPLY 600
#define MAX_PIDS 256

typedef struct {
    long long id;
    long long pid;
} pid_of;

static pid_of pids[MAX_PIDS];
static int npids;

static void sleep_ms(long long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* Print a line, cut at `max` bytes (newlines inside become spaces). */
static void show(const char *prefix, long long id, const char *arrow, const char *s, size_t n, size_t max)
{
    printf("%s %lld %s ", prefix, id, arrow);
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++) putchar(s[i] == '\n' ? ' ' : s[i]);
    if (n > max) printf("... (%zu bytes)", n);
    putchar('\n');
    fflush(stdout);
}

/* The reply's errno name, or "ok". */
static const char *errno_of(const jval *reply)
{
    const jval *ok = json_get(reply, "ok");
    if (ok && ok->type == J_BOOL && ok->boolean) return "ok";
    const jval *name = json_get(reply, "errname");
    if (name && name->type == J_STR) return name->str;
    const jval *err = json_get(reply, "error");
    return err && err->type == J_STR ? err->str : "failed";
}

/* Whether the two files of a page_frames reply map the same page frames (as explore's executor says it). */
static const char *frames_shared(const jval *reply)
{
    const jval *files = json_get(reply, "files");
    if (!files || files->type != J_ARR || files->len != 2) return errno_of(reply);
    const jval *a = json_get(&files->items[0], "pfns"), *b = json_get(&files->items[1], "pfns");
    if (!a || !b || a->type != J_ARR || b->type != J_ARR) return "no frames in the reply";
    size_t n = a->len < b->len ? a->len : b->len, present = 0, equal = 0;
    for (size_t k = 0; k < n; k++) {
        const jval *x = &a->items[k], *y = &b->items[k];
        if (x->type != J_NUM || y->type != J_NUM) continue;
        present++;
        if (x->i == y->i) equal++;
    }
    return present == 0 ? "no pages present" : equal == present ? "yes" : equal == 0 ? "no" : "partly";
}

/* Whether the comma-separated list has `opt` (alone or as opt=value). */
static int has_option(const char *list, const char *opt)
{
    size_t n = strlen(opt);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if ((len == n || (len > n && p[n] == '=')) && strncmp(p, opt, n) == 0) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

/* Whether a read_file reply of /proc/self/mountinfo lists `opt` for the topmost mount at `dir`:
 * "listed", "not listed", or why it cannot say (as explore's mountinfoOptions reads it). */
static const char *mountinfo_lists(const jval *reply, const char *dir, const char *opt)
{
    const jval *data = json_get(reply, "data_b64");
    if (!data || data->type != J_STR) return errno_of(reply);
    unsigned char *buf;
    size_t len;
    if (base64_decode(data->str, data->len, &buf, &len) < 0) return "no mountinfo in the reply";
    char *text = realloc(buf, len + 1);
    if (!text) { free(buf); return "out of memory"; }
    text[len] = 0;
    const char *seen = "mount not in mountinfo";
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[64], *s2 = NULL;
        int n = 0;
        for (char *t = strtok_r(line, " ", &s2); t && n < 64; t = strtok_r(NULL, " ", &s2)) f[n++] = t;
        if (n < 7 || strcmp(f[4], dir) != 0) continue;
        int sep = -1;
        for (int i = 6; i < n; i++) if (strcmp(f[i], "-") == 0) { sep = i; break; }
        if (sep < 0) continue;
        seen = has_option(f[5], opt) || (sep + 3 < n && has_option(f[sep + 3], opt)) ? "listed" : "not listed";
    }
    free(text);
    return seen;
}

/* Evaluate the step's expectations against its reply; returns the number that failed. */
static int check_expectations(long long id, const jval *expect, const jval *reply)
{
    int failed = 0;
    if (!expect || expect->type != J_ARR) return 0;
    for (size_t k = 0; k < expect->len; k++) {
        const jval *e = &expect->items[k];
        const jval *name = json_get(e, "check");
        const jval *want_errno = json_get(e, "errno");
        const jval *field = json_get(e, "field");
        const jval *equals = json_get(e, "equals");
        const jval *frames = json_get(e, "frames");
        const jval *mdir = json_get(e, "mountinfo");
        const jval *mopt = json_get(e, "option");
        const jval *listed = json_get(e, "listed");
        const char *want = NULL, *seen = NULL;
        if (want_errno && want_errno->type == J_STR) {
            want = want_errno->str;
            seen = errno_of(reply);
        } else if (field && field->type == J_STR && equals && equals->type == J_STR) {
            const jval *v = json_get(reply, field->str);
            want = equals->str;
            seen = v && v->type == J_STR ? v->str : errno_of(reply);
        } else if (frames && frames->type == J_STR) {
            want = frames->str;
            seen = frames_shared(reply);
        } else if (mdir && mdir->type == J_STR && mopt && mopt->type == J_STR && listed && listed->type == J_STR) {
            want = listed->str;
            seen = mountinfo_lists(reply, mdir->str, mopt->str);
        } else {
            continue;
        }
        const char *label = name && name->type == J_STR ? name->str : "check";
        if (strcmp(want, seen) == 0) {
            printf("pcshare-check %lld ok: %s\n", id, label);
        } else {
            printf("pcshare-check %lld FAIL: %s: expected %s, seen %s\n", id, label, want, seen);
            failed++;
        }
    }
    fflush(stdout);
    return failed;
}

/* Point the request's "pid" at the live process the earlier step started. */
static void map_pid(jval *req)
{
    const jval *of = json_get(req, "_pid_of");
    jval *pid = (jval *)json_get(req, "pid");
    if (!of || of->type != J_NUM || !pid || pid->type != J_NUM) return;
    for (int k = 0; k < npids; k++) {
        if (pids[k].id == of->i) {
            pid->i = pids[k].pid;
            pid->num = (double)pids[k].pid;
            return;
        }
    }
}

static void remember_pid(long long id, const jval *reply)
{
    const jval *pid = json_get(reply, "pid");
    if (pid && pid->type == J_NUM && pid->is_int && npids < MAX_PIDS) pids[npids++] = (pid_of){ id, pid->i };
}

/* One step: returns the number of failed checks, or -1 when the line is not a request. */
static int replay_step(const char *line, size_t len, sbuf *out)
{
    char perr[256];
    jval *req = json_parse(line, len, perr, sizeof perr);
    if (!req || req->type != J_OBJ) {
        printf("pcshare-replay: bad step line: %s\n", req ? "not an object" : perr);
        json_free(req);
        return -1;
    }
    const jval *jid = json_get(req, "id");
    long long id = jid && jid->type == J_NUM ? jid->i : 0;
    const jval *delay = json_get(req, "_delay_ms");
    if (delay && delay->type == J_NUM && delay->i > 0) sleep_ms(delay->i);
    map_pid(req);
    show("pcshare-step", id, ">", line, len, SHOW_REQUEST);
    handle_request(req, 0, out);
    show("pcshare-step", id, "<", out->p, out->len, SHOW_REPLY);
    int failed = 0;
    jval *reply = json_parse(out->p, out->len, perr, sizeof perr);
    if (reply) {
        remember_pid(id, reply);
        failed = check_expectations(id, json_get(req, "_expect"), reply);
        json_free(reply);
    }
    json_free(req);
    while (waitpid(-1, NULL, WNOHANG) > 0) {} /* orphans reparented to us (we may be init) */
    return failed;
}

int replay_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("pcshare-replay: cannot open %s: %s\n", path, strerror(errno));
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int steps = 0, failed = 0, bad = 0;
    sbuf out;
    sb_init(&out);
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        if (n == 0) continue;
        int r = replay_step(line, (size_t)n, &out);
        if (r < 0) bad++;
        else failed += r, steps++;
    }
    free(line);
    fclose(f);
    sb_free(&out);
    printf("pcshare-replay: done: %d steps, %d checks failed%s\n", steps, failed, bad ? ", some step lines unreadable" : "");
    fflush(stdout);
    return bad ? 2 : failed ? 1 : 0;
}
