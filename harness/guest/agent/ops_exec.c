/* pcshare-agent: the exec op (child in its own process group, poll()ed pipes, timeout kills the group). */
#define _GNU_SOURCE
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUTPUT_CAP (4u * 1024 * 1024)
/* After the child exits, keep draining pipes held open by its descendants only this long when idle. */
#define DRAIN_IDLE_MS 100

typedef struct {
    int fd;
    sbuf data;
    int truncated;
} out_pipe;

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Child side: never returns. Reports exec failure through errpipe as an int errno. */
static void child_exec(char **argv, const jval *env, const char *cwd, int in_fd, int out_fd, int err_fd,
                       int errpipe)
{
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) goto fail;
    if (in_fd > 2) close(in_fd);
    if (out_fd > 2) close(out_fd);
    if (err_fd > 2 && err_fd != out_fd) close(err_fd);
    if (env)
        for (size_t k = 0; k < env->len; k++)
            if (setenv(env->keys[k], env->items[k].str, 1) < 0) goto fail;
    if (cwd && chdir(cwd) < 0) goto fail;
    execvp(argv[0], argv);
fail:;
    int e = errno;
    if (write(errpipe, &e, sizeof e) < 0) { /* parent sees EOF instead */ }
    _exit(127);
}

static void append_capped(out_pipe *o, const char *buf, size_t n)
{
    size_t room = OUTPUT_CAP - o->data.len;
    if (n > room) {
        o->truncated = 1;
        n = room;
    }
    if (n) sb_putn(&o->data, buf, n);
}

/* Read what is available from o->fd; closes it on EOF/error. */
static int drain(out_pipe *o)
{
    char buf[65536];
    ssize_t r = read(o->fd, buf, sizeof buf);
    if (r > 0) { append_capped(o, buf, (size_t)r); return 1; }
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    close_fd(&o->fd);
    return 0;
}

/* Collect whatever is already buffered without waiting (used after the group was killed). */
static void drain_nonblocking(out_pipe *o)
{
    if (o->fd < 0) return;
    fcntl(o->fd, F_SETFL, fcntl(o->fd, F_GETFL) | O_NONBLOCK);
    for (int k = 0; k < 1024 && o->fd >= 0; k++)
        if (!drain(o)) break;
}

static int validate(ctx *c, const jval *argv, const jval *env)
{
    if (argv->len == 0) return fail(c, "exec: argv must not be empty");
    for (size_t k = 0; k < argv->len; k++)
        if (argv->items[k].type != J_STR || strlen(argv->items[k].str) != argv->items[k].len)
            return fail(c, "exec: argv entries must be strings without NUL bytes");
    if (env)
        for (size_t k = 0; k < env->len; k++) {
            const jval *v = &env->items[k];
            if (v->type != J_STR || strlen(v->str) != v->len || !env->keys[k][0] ||
                strchr(env->keys[k], '='))
                return fail(c, "exec: env must map names (no '=') to strings");
        }
    return 0;
}

int op_exec(ctx *c, jwriter *w)
{
    const jval *jargv = NULL, *env = NULL;
    const char *cwd = NULL;
    long long timeout_ms = 0;
    unsigned char *in_data = NULL;
    size_t in_len = 0, in_off = 0;
    if (arg_arr(c, "argv", &jargv, 1) < 0 || arg_uint(c, "timeout_ms", &timeout_ms, 1) < 0 ||
        arg_obj(c, "env", &env, 0) < 0 || arg_str(c, "cwd", &cwd, 0) < 0 || validate(c, jargv, env) < 0)
        return -1;
    if (arg_b64(c, "stdin_b64", &in_data, &in_len, 0) < 0) return -1;

    char **argv = calloc(jargv->len + 1, sizeof *argv);
    if (!argv) { free(in_data); return fail_errno(c, ENOMEM, "exec"); }
    for (size_t k = 0; k < jargv->len; k++) argv[k] = jargv->items[k].str;

    int rc = -1;
    int in_pipe[2] = { -1, -1 }, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, ep[2] = { -1, -1 };
    out_pipe out = { -1, { 0 }, 0 }, err = { -1, { 0 }, 0 };
    sb_init(&out.data);
    sb_init(&err.data);
    int stdin_fd = -1;

    if (in_data) {
        if (pipe2(in_pipe, O_CLOEXEC) < 0) { fail_errno(c, errno, "exec: pipe"); goto done; }
    } else {
        in_pipe[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (in_pipe[0] < 0) { fail_errno(c, errno, "exec: open /dev/null"); goto done; }
    }
    if (pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
        fail_errno(c, errno, "exec: pipe");
        goto done;
    }

    int64_t start = now_ms_monotonic();
    pid_t pid = fork();
    if (pid < 0) { fail_errno(c, errno, "exec: fork"); goto done; }
    if (pid == 0) child_exec(argv, env, cwd, in_pipe[0], out_p[1], err_p[1], ep[1]);
    setpgid(pid, pid); /* also done in the child; whichever runs first wins the race */

    close_fd(&in_pipe[0]);
    close_fd(&out_p[1]);
    close_fd(&err_p[1]);
    close_fd(&ep[1]);
    stdin_fd = in_pipe[1];
    in_pipe[1] = -1;
    out.fd = out_p[0];
    err.fd = err_p[0];
    out_p[0] = err_p[0] = -1;

    /* Did exec succeed? The CLOEXEC pipe closes on success, carries errno on failure. */
    int exec_errno = 0;
    ssize_t er;
    do er = read(ep[0], &exec_errno, sizeof exec_errno);
    while (er < 0 && errno == EINTR);
    close_fd(&ep[0]);
    if (er == (ssize_t)sizeof exec_errno) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        fail_errno(c, exec_errno, "exec: cannot run \"%s\"", argv[0]);
        goto done;
    }

    if (stdin_fd >= 0) {
        fcntl(stdin_fd, F_SETFL, fcntl(stdin_fd, F_GETFL) | O_NONBLOCK);
        if (in_len == 0) close_fd(&stdin_fd);
    }

    int64_t deadline = start + timeout_ms;
    int timed_out = 0, status = 0, reaped = 0;
    int64_t reaped_at = 0;
    for (;;) {
        if (!reaped) {
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid) { reaped = 1; reaped_at = now_ms_monotonic(); }
        }
        if (reaped && out.fd < 0 && err.fd < 0) break;
        int64_t now = now_ms_monotonic();
        if (!reaped && now >= deadline) {
            timed_out = 1;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            reaped = 1;
            drain_nonblocking(&out);
            drain_nonblocking(&err);
            break;
        }
        struct pollfd pf[3];
        int n = 0, io_out = -1, io_err = -1, io_in = -1;
        if (out.fd >= 0) { io_out = n; pf[n].fd = out.fd; pf[n].events = POLLIN; n++; }
        if (err.fd >= 0) { io_err = n; pf[n].fd = err.fd; pf[n].events = POLLIN; n++; }
        if (stdin_fd >= 0) { io_in = n; pf[n].fd = stdin_fd; pf[n].events = POLLOUT; n++; }
        /* Without a SIGCHLD handler, poll in short slices so the exit is noticed promptly. */
        int64_t wait_ms = reaped ? DRAIN_IDLE_MS : deadline - now;
        if (!reaped && wait_ms > 20) wait_ms = 20;
        int pr = poll(pf, (nfds_t)n, (int)wait_ms);
        if (pr < 0 && errno != EINTR) { fail_errno(c, errno, "exec: poll"); goto kill_and_done; }
        if (pr == 0 && reaped && now_ms_monotonic() - reaped_at >= DRAIN_IDLE_MS) break; /* descendants hold pipes */
        if (pr <= 0) continue;
        if (io_out >= 0 && pf[io_out].revents) drain(&out);
        if (io_err >= 0 && pf[io_err].revents) drain(&err);
        if (io_in >= 0 && pf[io_in].revents) {
            if (pf[io_in].revents & (POLLERR | POLLHUP)) {
                close_fd(&stdin_fd);
            } else {
                ssize_t wr = write(stdin_fd, in_data + in_off, in_len - in_off);
                if (wr > 0) in_off += (size_t)wr;
                else if (wr < 0 && errno != EAGAIN && errno != EINTR) close_fd(&stdin_fd);
                if (in_off >= in_len) close_fd(&stdin_fd);
            }
        }
    }

    int64_t duration = now_ms_monotonic() - start;
    jw_key(w, "exit_code");
    if (!timed_out && WIFEXITED(status)) jw_int(w, WEXITSTATUS(status)); else jw_null(w);
    jw_key(w, "signal");
    if (WIFSIGNALED(status)) jw_int(w, WTERMSIG(status)); else jw_null(w);
    jw_key(w, "timed_out"); jw_bool(w, timed_out);
    jw_key(w, "stdout_b64"); jw_b64(w, out.data.p ? out.data.p : "", out.data.len);
    jw_key(w, "stderr_b64"); jw_b64(w, err.data.p ? err.data.p : "", err.data.len);
    jw_key(w, "stdout_truncated"); jw_bool(w, out.truncated);
    jw_key(w, "stderr_truncated"); jw_bool(w, err.truncated);
    jw_key(w, "duration_ms"); jw_int(w, duration);
    rc = 0;
    goto done;

kill_and_done:
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
done:
    close_fd(&in_pipe[0]); close_fd(&in_pipe[1]);
    close_fd(&out_p[0]); close_fd(&out_p[1]);
    close_fd(&err_p[0]); close_fd(&err_p[1]);
    close_fd(&ep[0]); close_fd(&ep[1]);
    close_fd(&stdin_fd);
    close_fd(&out.fd);
    close_fd(&err.fd);
    sb_free(&out.data);
    sb_free(&err.data);
    free(in_data);
    free(argv);
    return rc;
}
