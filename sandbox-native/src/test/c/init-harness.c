/*
 * init-harness: drives a real paddock-init over a SOCK_SEQPACKET socketpair, outside any jail, and
 * checks what it answers. One scenario per run:
 *
 *   init-harness <path to paddock-init> <scenario>
 *
 * It prints what it observed ("started exec=1 pid=... pidfd=yes", "stdout=hi", ...), then either
 * "PASS <scenario>" (exit 0) or "FAIL <scenario>: <what>" (exit 1). PaddockInitTest runs every
 * scenario. Frames are built and read with a small hand-written protobuf codec, independent of the
 * one inside paddock-init, so a shared misreading of the wire format would not go unnoticed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { I_READY = 1, I_STARTED, I_SPAWN_FAILED, I_EXITED, I_CENSUS, I_FATAL };
enum { STAGE_BAD_REQUEST = 1, STAGE_FORK, STAGE_FDS, STAGE_RLIMIT, STAGE_CHDIR, STAGE_EXEC };
static const char *const KIND[] = { "?", "ready", "started", "spawn_failed", "exited", "census", "fatal" };

static const char *scenario = "?";
static const char *init_path;
static int host = -1;     /* our end of the channel */
static pid_t init_pid = -1;
static bool as_pid1;      /* start init as PID 1 of a new PID namespace, as in a jail */

static _Noreturn void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", scenario);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    if (init_pid > 0)
        kill(init_pid, SIGKILL);
    exit(1);
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- encoder -------------------------------------------------------------------------------- */

typedef struct { uint8_t *b; size_t n, cap; } buf_t;

static void put(buf_t *w, uint8_t c)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        w->b = realloc(w->b, w->cap);
        CHECK(w->b, "out of memory");
    }
    w->b[w->n++] = c;
}

static void put_varint(buf_t *w, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        put(w, (uint8_t)(v | 0x80));
    put(w, (uint8_t)v);
}

static void put_uint(buf_t *w, unsigned field, uint64_t v)
{
    put_varint(w, (uint64_t)field << 3);
    put_varint(w, v);
}

static void put_bytes(buf_t *w, unsigned field, const void *p, size_t n)
{
    put_varint(w, (uint64_t)field << 3 | 2);
    put_varint(w, n);
    for (size_t i = 0; i < n; i++)
        put(w, ((const uint8_t *)p)[i]);
}

static void put_msg(buf_t *w, unsigned field, buf_t *inner)
{
    put_bytes(w, field, inner->b, inner->n);
    free(inner->b);
    *inner = (buf_t){ 0 };
}

/* ---- decoder -------------------------------------------------------------------------------- */

struct frame {
    int kind;
    uint64_t f[9];        /* varint fields 1-8 of the inner message */
    char text[256];       /* Fatal.message */
    size_t nexecs;        /* Census.execs */
    uint64_t exec_id[256], processes[256];
    int fd;               /* a received descriptor, or -1 */
    int fds[2];           /* Ready's egress listeners, -1 when none */
    int nfds;
};

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < 10 && *p < end; i++) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Reads a message of varint and length-delimited fields: varints into f[], bytes to on_bytes. */
static void decode(const uint8_t *p, const uint8_t *end, uint64_t *f,
                   void (*on_bytes)(unsigned num, const uint8_t *p, size_t n, void *ctx), void *ctx)
{
    while (p < end) {
        uint64_t key, v;
        CHECK(varint(&p, end, &key), "bad key from init");
        unsigned num = (unsigned)(key >> 3);
        if ((key & 7) == 0) {
            CHECK(varint(&p, end, &v), "bad varint from init");
            if (f && num < 9)
                f[num] = v;
        } else if ((key & 7) == 2) {
            CHECK(varint(&p, end, &v) && v <= (uint64_t)(end - p), "bad length from init");
            if (on_bytes)
                on_bytes(num, p, v, ctx);
            p += v;
        } else {
            fail("init used wire type %u", (unsigned)(key & 7));
        }
    }
}

static void on_exec_entry(unsigned num, const uint8_t *p, size_t n, void *ctx)
{
    struct frame *fr = ctx;
    uint64_t f[9] = { 0 };
    (void)num;
    decode(p, p + n, f, NULL, NULL);
    CHECK(fr->nexecs < 256, "too many census entries");
    fr->exec_id[fr->nexecs] = f[1];
    fr->processes[fr->nexecs++] = f[2];
}

static void on_inner(unsigned num, const uint8_t *p, size_t n, void *ctx)
{
    struct frame *fr = ctx;
    if (fr->kind == I_CENSUS && num == 1) {
        on_exec_entry(num, p, n, fr);
    } else if (fr->kind == I_FATAL && num == 1) {
        CHECK(n <= 200, "Fatal message over 200 bytes");
        memcpy(fr->text, p, n);
        fr->text[n] = 0;
    }
}

static void on_outer(unsigned num, const uint8_t *p, size_t n, void *ctx)
{
    struct frame *fr = ctx;
    CHECK(fr->kind == 0, "InitFrame with two frame fields");
    CHECK(num >= I_READY && num <= I_FATAL, "unknown InitFrame field %u", num);
    fr->kind = (int)num;
    decode(p, p + n, fr->f, on_inner, fr);
}

/* ---- the channel ---------------------------------------------------------------------------- */

static void send_frame(const buf_t *frame, const int *fds, int nfds)
{
    struct iovec iov = { frame->b, frame->n };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    char ctl[CMSG_SPACE(16 * sizeof(int))];
    if (nfds > 0) {
        memset(ctl, 0, sizeof ctl);
        msg.msg_control = ctl;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }
    CHECK(sendmsg(host, &msg, MSG_NOSIGNAL) == (ssize_t)frame->n, "sendmsg: %s", strerror(errno));
}

static void send_host_frame(unsigned kind, buf_t *body, const int *fds, int nfds)
{
    buf_t f = { 0 };
    put_msg(&f, kind, body);
    send_frame(&f, fds, nfds);
    free(f.b);
}

/* Next InitFrame, or kind 0 when init hung up. Fails after 10 s of silence. */
static struct frame recv_frame(void)
{
    static uint8_t buf[65536];
    struct frame fr;
    memset(&fr, 0, sizeof fr);
    fr.fd = -1;
    fr.fds[0] = fr.fds[1] = -1;
    struct pollfd p = { host, POLLIN, 0 };
    CHECK(poll(&p, 1, 10000) == 1, "no frame from init within 10 s");
    char ctl[CMSG_SPACE(8 * sizeof(int))];
    struct iovec iov = { buf, sizeof buf };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                          .msg_controllen = sizeof ctl };
    ssize_t n = recvmsg(host, &msg, MSG_CMSG_CLOEXEC);
    CHECK(n >= 0, "recvmsg: %s", strerror(errno));
    CHECK(!(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)), "truncated frame from init");
    CHECK(n <= 4096, "frame of %zd bytes from init (limit 4096)", n);
    int nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int here = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            CHECK(nfds + here <= 2, "%d descriptors in one frame from init", nfds + here);
            memcpy(&fr.fds[nfds], CMSG_DATA(c), (size_t)here * sizeof(int));
            nfds += here;
        }
    }
    fr.nfds = nfds;
    fr.fd = fr.fds[0];
    if (n == 0)
        return fr; /* hang-up */
    decode(buf, buf + n, NULL, on_outer, &fr);
    CHECK(fr.kind != 0, "InitFrame without a frame field");
    return fr;
}

static struct frame expect(int kind)
{
    struct frame fr = recv_frame();
    if (fr.kind != kind)
        fail("expected %s, got %s%s%s", KIND[kind], fr.kind ? KIND[fr.kind] : "hang-up",
             fr.kind == I_FATAL ? ": " : "", fr.kind == I_FATAL ? fr.text : "");
    CHECK(kind == I_STARTED || kind == I_READY || fr.fd < 0, "a descriptor came with %s", KIND[kind]);
    CHECK(kind == I_READY || fr.nfds <= 1, "%d descriptors came with %s", fr.nfds, KIND[kind]);
    return fr;
}

/* Ready's descriptors: none, or two TCP sockets listening on 127.0.0.1 (the egress listeners). */
static int check_egress_listeners(const struct frame *fr, bool fixed_ports)
{
    CHECK(fr->nfds == 0 || fr->nfds == 2, "Ready came with %d descriptors (0 or 2)", fr->nfds);
    for (int i = 0; i < fr->nfds; i++) {
        int listening = 0, type = 0;
        socklen_t len = sizeof listening;
        struct sockaddr_in a;
        socklen_t alen = sizeof a;
        CHECK(getsockopt(fr->fds[i], SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening,
              "Ready's descriptor %d is not a listening socket", i);
        len = sizeof type;
        CHECK(getsockopt(fr->fds[i], SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM,
              "Ready's descriptor %d is not a stream socket", i);
        CHECK(getsockname(fr->fds[i], (struct sockaddr *)&a, &alen) == 0 && a.sin_family == AF_INET &&
              a.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "Ready's descriptor %d is not on 127.0.0.1", i);
        if (fixed_ports)
            CHECK(ntohs(a.sin_port) == (i == 0 ? 3128 : 1080), "Ready's descriptor %d is on port %d", i, ntohs(a.sin_port));
        close(fr->fds[i]);
    }
    return fr->nfds;
}

/* Starts paddock-init with fd 3 = its end of the socketpair, and waits for Ready. */
static void start_init(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    /* The host forces a send buffer big enough for a 1 MiB frame (SO_SNDBUFFORCE, as root). */
    int sndbuf = 4 << 20;
    CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) == 0,
          "SO_SNDBUFFORCE: %s (run as root)", strerror(errno));
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        if (sv[1] == 3)
            fcntl(3, F_SETFD, 0);
        else if (dup2(sv[1], 3) != 3)
            _exit(120);
        /* Things init must not pass on: a leaked descriptor, an ignored and a blocked signal. */
        int leak = open("/dev/null", O_RDONLY);
        if (leak >= 0 && leak != 9 && dup2(leak, 9) == 9)
            close(leak);
        signal(SIGTERM, SIG_IGN);
        /* A JVM starts children with 32 and 33 ignored; libc's sigaction cannot set those. */
        struct { void (*h)(int); unsigned long flags; void (*r)(void); uint64_t mask; }
            ign = { SIG_IGN, 0, NULL, 0 };
        syscall(SYS_rt_sigaction, 32, &ign, NULL, sizeof ign.mask);
        syscall(SYS_rt_sigaction, 33, &ign, NULL, sizeof ign.mask);
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        sigprocmask(SIG_BLOCK, &usr1, NULL);
        if (as_pid1) /* unshare keeps fd 3 and execs init as PID 1 of the new namespace */
            execlp("unshare", "unshare", "--pid", "--net", "--fork", "--mount-proc", init_path, (char *)NULL);
        else
            execl(init_path, init_path, (char *)NULL);
        _exit(121);
    }
    close(sv[1]);
    host = sv[0];
    init_pid = pid;
    struct frame fr = expect(I_READY);
    CHECK(fr.f[1] == 1, "Ready.protocol_version = %llu", (unsigned long long)fr.f[1]);
    /* As PID 1 (in a network namespace of its own) on 3128 and 1080; outside one, on ports the
     * kernel picks, so the machine's own ports are never taken. */
    int listeners = check_egress_listeners(&fr, as_pid1);
    CHECK(listeners == 2, "Ready came with %d egress listeners", listeners);
    printf("ready protocol_version=1\n");
}

/* Waits for init to exit; returns its exit code (or 128 + signal). */
static int wait_init(void)
{
    for (int i = 0; i < 500; i++) {
        int st;
        pid_t r = waitpid(init_pid, &st, WNOHANG);
        if (r == init_pid) {
            init_pid = -1;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        sleep_ms(20);
    }
    fail("init did not exit within 10 s");
}

/* ---- spawning ------------------------------------------------------------------------------- */

struct rl { unsigned resource; uint64_t soft, hard; };

struct spawn_req {
    uint64_t id;
    const char *const *argv, *const *env;
    const char *cwd;
    const struct rl *rl;
    int nrl;
    int nfds;  /* descriptors to send: 3 unless a test wants otherwise */
};

/* The child's stdio as the host sees it: the child's stdin is empty (we close our end). */
struct stdio { int out, err; };

static struct stdio spawn(const struct spawn_req *r)
{
    buf_t b = { 0 };
    if (r->id)
        put_uint(&b, 1, r->id);
    for (const char *const *a = r->argv; a && *a; a++)
        put_bytes(&b, 2, *a, strlen(*a));
    for (const char *const *e = r->env; e && *e; e++)
        put_bytes(&b, 3, *e, strlen(*e));
    if (r->cwd)
        put_bytes(&b, 4, r->cwd, strlen(r->cwd));
    for (int i = 0; i < r->nrl; i++) {
        buf_t l = { 0 };
        put_uint(&l, 1, r->rl[i].resource);
        put_uint(&l, 2, r->rl[i].soft);
        put_uint(&l, 3, r->rl[i].hard);
        put_msg(&b, 5, &l);
    }
    int in[2], out[2], err[2];
    CHECK(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0,
          "pipe2");
    int fds[3] = { in[0], out[1], err[1] };
    send_host_frame(1, &b, fds, r->nfds);
    close(in[0]);
    close(in[1]);
    close(out[1]);
    close(err[1]);
    return (struct stdio){ out[0], err[0] };
}

/* Everything a pipe carries until EOF (the child and all its descendants closed it). */
static char *read_all(int fd)
{
    static char buf[65536];
    size_t n = 0;
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        CHECK(poll(&p, 1, 10000) == 1, "no EOF on a child's pipe within 10 s");
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        CHECK(r >= 0, "read: %s", strerror(errno));
        if (r == 0)
            break;
        n += (size_t)r;
        CHECK(n < sizeof buf - 1, "too much output");
    }
    close(fd);
    buf[n] = 0;
    return buf;
}

static struct frame started(uint64_t id)
{
    struct frame fr = expect(I_STARTED);
    CHECK(fr.f[1] == id, "Started for exec %llu, wanted %llu", (unsigned long long)fr.f[1],
          (unsigned long long)id);
    CHECK(fr.f[2] >= 2 && fr.f[2] < (1u << 22), "Started.pid = %llu", (unsigned long long)fr.f[2]);
    printf("started exec=%llu pidfd=%s\n", (unsigned long long)id, fr.fd >= 0 ? "yes" : "no");
    return fr;
}

static struct frame exited(uint64_t id)
{
    struct frame fr = expect(I_EXITED);
    CHECK(fr.f[1] == id, "Exited for exec %llu, wanted %llu", (unsigned long long)fr.f[1],
          (unsigned long long)id);
    printf("exited exec=%llu exit_code=%llu signal=%llu core=%llu leftover=%llu\n",
           (unsigned long long)id, (unsigned long long)fr.f[2], (unsigned long long)fr.f[3],
           (unsigned long long)fr.f[4], (unsigned long long)fr.f[8]);
    return fr;
}

static struct frame spawn_failed(uint64_t id)
{
    struct frame fr = expect(I_SPAWN_FAILED);
    CHECK(fr.f[1] == id, "SpawnFailed for exec %llu, wanted %llu", (unsigned long long)fr.f[1],
          (unsigned long long)id);
    printf("spawn_failed exec=%llu stage=%llu errno=%llu\n", (unsigned long long)id,
           (unsigned long long)fr.f[2], (unsigned long long)fr.f[3]);
    return fr;
}

/* Runs argv to the end and returns its stdout; checks Started, then Exited with `code`. */
static char *run(uint64_t id, const char *const *argv, const struct rl *rl, int nrl, int code)
{
    static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
    struct spawn_req r = { id, argv, env, "/", rl, nrl, 3 };
    struct stdio io = spawn(&r);
    struct frame s = started(id);
    if (s.fd >= 0)
        close(s.fd);
    char *out = strdup(read_all(io.out)); /* read_all's buffer is reused */
    char *err = strdup(read_all(io.err));
    CHECK(out && err, "out of memory");
    struct frame e = exited(id);
    CHECK(e.f[2] == (uint64_t)code && e.f[3] == 0, "exit_code=%llu signal=%llu, wanted %d; stderr: %s",
          (unsigned long long)e.f[2], (unsigned long long)e.f[3], code, err);
    free(err);
    return out; /* leaked: the harness is short-lived */
}

static uint64_t census_of(uint64_t id, uint64_t *detached)
{
    buf_t b = { 0 };
    send_host_frame(3, &b, NULL, 0);
    struct frame fr = expect(I_CENSUS);
    if (detached)
        *detached = fr.f[2];
    for (size_t i = 0; i < fr.nexecs; i++)
        if (fr.exec_id[i] == id)
            return fr.processes[i];
    return 0;
}

/* Polls the census until exec `id` has `want` processes (killed processes take a moment). */
static void await_census(uint64_t id, uint64_t want)
{
    uint64_t n = 0;
    for (int i = 0; i < 100; i++) {
        if ((n = census_of(id, NULL)) == want) {
            printf("census exec=%llu processes=%llu\n", (unsigned long long)id,
                   (unsigned long long)n);
            return;
        }
        sleep_ms(20);
    }
    fail("census: exec %llu has %llu processes, wanted %llu", (unsigned long long)id,
         (unsigned long long)n, (unsigned long long)want);
}

static void send_kill(uint64_t id, int64_t sig, bool tree)
{
    buf_t b = { 0 };
    put_uint(&b, 1, id);
    put_uint(&b, 2, (uint64_t)sig);
    if (tree)
        put_uint(&b, 3, 1);
    send_host_frame(2, &b, NULL, 0);
}

/* Live processes of session `sid` on the machine (the harness shares init's PID namespace). */
static int live_in_session(long sid, long *some_pid)
{
    int n = 0;
    DIR *d = opendir("/proc");
    CHECK(d, "opendir /proc");
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[512], state;
        long pid = atol(e->d_name), ppid, pgrp, s;
        if (pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = 0;
        char *p = strrchr(buf, ')');
        if (p && sscanf(p + 1, " %c %ld %ld %ld", &state, &ppid, &pgrp, &s) == 4 && s == sid &&
            state != 'Z' && state != 'X') {
            n++;
            if (some_pid)
                *some_pid = pid;
        }
    }
    closedir(d);
    return n;
}

/* ---- scenarios ------------------------------------------------------------------------------ */

static void t_ready(void) { start_init(); }

static void t_echo(void)
{
    start_init();
    static const char *const argv[] = { "/bin/echo", "hi", NULL };
    struct spawn_req r = { 1, argv, NULL, "/", NULL, 0, 3 };
    struct stdio io = spawn(&r);
    struct frame s = started(1);
    CHECK(s.fd >= 0, "Started came without a pidfd");
    /* The kernel's word on what the pidfd names: it must be the pid init reported. */
    char path[64], info[512];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", s.fd);
    FILE *f = fopen(path, "re");
    CHECK(f, "fdinfo");
    size_t k = fread(info, 1, sizeof info - 1, f);
    fclose(f);
    info[k] = 0;
    char *pidline = strstr(info, "Pid:");
    CHECK(pidline, "descriptor with Started is not a pidfd: %s", info);
    long pfd_pid = atol(pidline + 4);
    CHECK(pfd_pid == (long)s.f[2] || pfd_pid == -1, "pidfd names pid %ld, Started.pid %llu",
          pfd_pid, (unsigned long long)s.f[2]);
    close(s.fd);
    char *out = read_all(io.out);
    CHECK(strcmp(out, "hi\n") == 0, "stdout = \"%s\"", out);
    printf("stdout=hi\n");
    CHECK(strcmp(read_all(io.err), "") == 0, "unexpected stderr");
    struct frame e = exited(1);
    CHECK(e.f[2] == 0 && e.f[3] == 0 && e.f[4] == 0, "echo did not exit 0");
    CHECK(e.f[7] > 0, "max_rss_kib = 0");
}

static void t_exit_code(void)
{
    start_init();
    static const char *const argv[] = { "sh", "-c", "exit 137", NULL };
    run(7, argv, NULL, 0, 137);
}

static void t_killed_by_signal(void)
{
    start_init();
    static const char *const argv[] = { "sh", "-c", "kill -9 $$", NULL };
    struct spawn_req r = { 2, argv, NULL, "/", NULL, 0, 3 };
    struct stdio io = spawn(&r);
    close(started(2).fd);
    read_all(io.out);
    read_all(io.err);
    struct frame e = exited(2);
    CHECK(e.f[2] == 0 && e.f[3] == 9, "exit_code=%llu signal=%llu, wanted signal 9",
          (unsigned long long)e.f[2], (unsigned long long)e.f[3]);
}

static void t_exec_enoent(void)
{
    start_init();
    static const char *const abs[] = { "/nonexistent/program", NULL };
    static const char *const bare[] = { "no-such-program-paddock", NULL };
    struct spawn_req r = { 3, abs, NULL, "/", NULL, 0, 3 };
    spawn(&r);
    struct frame f = spawn_failed(3);
    CHECK(f.f[2] == STAGE_EXEC && f.f[3] == ENOENT, "wanted STAGE_EXEC ENOENT");
    r.id = 4;
    r.argv = bare;
    spawn(&r);
    f = spawn_failed(4);
    CHECK(f.f[2] == STAGE_EXEC && f.f[3] == ENOENT, "wanted STAGE_EXEC ENOENT (bare name)");
}

static void t_exec_eacces(void)
{
    start_init();
    char path[] = "/tmp/paddock-init-noexec-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    CHECK(write(fd, "#!/bin/sh\n", 10) == 10, "write");
    close(fd);
    chmod(path, 0644);
    const char *const argv[] = { path, NULL };
    struct spawn_req r = { 5, argv, NULL, "/", NULL, 0, 3 };
    spawn(&r);
    struct frame f = spawn_failed(5);
    unlink(path);
    CHECK(f.f[2] == STAGE_EXEC && f.f[3] == EACCES, "wanted STAGE_EXEC EACCES");
}

static void t_chdir_missing(void)
{
    start_init();
    static const char *const argv[] = { "/bin/true", NULL };
    struct spawn_req r = { 6, argv, NULL, "/nonexistent-paddock-dir", NULL, 0, 3 };
    spawn(&r);
    struct frame f = spawn_failed(6);
    CHECK(f.f[2] == STAGE_CHDIR && f.f[3] == ENOENT, "wanted STAGE_CHDIR ENOENT");
    /* Empty cwd means /workspace, which does not exist outside a jail. */
    r.id = 7;
    r.cwd = NULL;
    spawn(&r);
    f = spawn_failed(7);
    CHECK(f.f[2] == STAGE_CHDIR, "wanted STAGE_CHDIR for the default /workspace");
}

static void t_cwd(void)
{
    start_init();
    static const char *const argv[] = { "/bin/pwd", NULL };
    static const char *const env[] = { NULL };
    struct spawn_req r = { 8, argv, env, "/usr/share", NULL, 0, 3 };
    struct stdio io = spawn(&r);
    close(started(8).fd);
    char *out = read_all(io.out);
    CHECK(strcmp(out, "/usr/share\n") == 0, "pwd printed \"%s\"", out);
    read_all(io.err);
    exited(8);
}

static void t_rlimit_nofile(void)
{
    start_init();
    static const char *const argv[] = { "sh", "-c", "ulimit -n; ulimit -Hn", NULL };
    static const struct rl rl[] = { { 7, 64, 100 } };
    char *out = run(9, argv, rl, 1, 0);
    CHECK(strcmp(out, "64\n100\n") == 0, "ulimit -n printed \"%s\"", out);
    printf("nofile=64/100\n");
    /* soft > hard is a bad request; so is an unknown resource. */
    static const struct rl bad[] = { { 7, 100, 64 } }, unknown[] = { { 99, 1, 1 } };
    struct spawn_req r = { 10, argv, NULL, "/", bad, 1, 3 };
    spawn(&r);
    struct frame f = spawn_failed(10);
    CHECK(f.f[2] == STAGE_BAD_REQUEST && f.f[3] == 0, "soft > hard: wanted STAGE_BAD_REQUEST");
    r.id = 11;
    r.rl = unknown;
    spawn(&r);
    f = spawn_failed(11);
    CHECK(f.f[2] == STAGE_BAD_REQUEST, "resource 99: wanted STAGE_BAD_REQUEST");
    /* UINT64_MAX is RLIM_INFINITY. */
    static const struct rl inf[] = { { 4, UINT64_MAX, UINT64_MAX } }; /* CORE: infinity */
    static const char *const core[] = { "sh", "-c", "ulimit -c", NULL };
    out = run(12, core, inf, 1, 0);
    CHECK(strcmp(out, "unlimited\n") == 0, "ulimit -c printed \"%s\"", out);
}

static void t_env_exact(void)
{
    start_init();
    static const char *const argv[] = { "/usr/bin/env", NULL };
    static const char *const env[] = { "A=b", "EMPTY=", NULL };
    struct spawn_req r = { 13, argv, env, "/", NULL, 0, 3 };
    struct stdio io = spawn(&r);
    close(started(13).fd);
    char *out = read_all(io.out);
    CHECK(strcmp(out, "A=b\nEMPTY=\n") == 0, "env printed \"%s\"", out);
    read_all(io.err);
    exited(13);
    printf("env=exact\n");
}

static void t_signals_default(void)
{
    start_init();
    static const char *const argv[] = { "/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL };
    char *out = run(14, argv, NULL, 0, 0);
    CHECK(strcmp(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n") == 0,
          "child signal state:\n%s", out);
    printf("signals=default\n");
}

static void t_only_stdio_fds(void)
{
    start_init();
    /* The shell lists its own descriptors ($$ is the shell, not ls, which has its own dir fd). */
    static const char *const argv[] = { "sh", "-c", "ls /proc/$$/fd", NULL };
    char *out = run(15, argv, NULL, 0, 0);
    CHECK(strcmp(out, "0\n1\n2\n") == 0, "child descriptors:\n%s", out);
    printf("fds=0,1,2\n");
}

static void t_kill_tree(void)
{
    start_init();
    static const char *const argv[] = { "sh", "-c", "sleep 100 & sleep 100", NULL };
    struct spawn_req r = { 16, argv, NULL, "/", NULL, 0, 3 };
    struct stdio io = spawn(&r);
    close(started(16).fd);
    /* sh, the background sleep and (unless sh execs it) the foreground one. */
    uint64_t n = 0;
    for (int i = 0; i < 100 && (n = census_of(16, NULL)) < 2; i++)
        sleep_ms(20);
    CHECK(n >= 2, "census before kill: %llu processes", (unsigned long long)n);
    printf("census exec=16 before_kill>=2\n");
    send_kill(16, 9, true);
    struct frame e = exited(16);
    CHECK(e.f[3] == 9, "main process not killed by SIGKILL");
    await_census(16, 0);
    read_all(io.out); /* EOF only once every holder of the pipe is dead */
    read_all(io.err);

    /* A child in its own process group is out of reach of kill(-pgid), not of the session scan. */
    char self[4096];
    ssize_t n_self = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n_self > 0, "readlink /proc/self/exe");
    self[n_self] = 0;
    const char *const pg[] = { self, "--own-pgid-child", NULL };
    r = (struct spawn_req){ 161, pg, NULL, "/", NULL, 0, 3 };
    io = spawn(&r);
    close(started(161).fd);
    await_census(161, 2);
    send_kill(161, 9, true);
    e = exited(161);
    CHECK(e.f[3] == 9, "main process not killed by SIGKILL");
    await_census(161, 0);
    read_all(io.out);
    read_all(io.err);
}

static void t_kill_main(void)
{
    start_init();
    static const char *const argv[] = { "sleep", "100", NULL };
    struct spawn_req r = { 17, argv, NULL, "/", NULL, 0, 3 };
    spawn(&r);
    close(started(17).fd);
    send_kill(17, 0, false);   /* out of range: ignored */
    send_kill(17, 65, false);  /* out of range: ignored */
    send_kill(17, -9, false);  /* out of range: ignored */
    send_kill(999, 9, false);  /* unknown exec: ignored */
    await_census(17, 1);
    send_kill(17, 15, false);
    struct frame e = exited(17);
    CHECK(e.f[3] == 15 && e.f[2] == 0, "wanted signal 15");
    send_kill(17, 9, true);    /* ended exec: ignored */
    await_census(17, 0);
}

static void t_census_leftover(void)
{
    start_init();
    static const char *const argv[] = { "sh", "-c", "sleep 100 >/dev/null 2>&1 &", NULL };
    struct spawn_req r = { 18, argv, NULL, "/", NULL, 0, 3 };
    spawn(&r);
    struct frame s = started(18);
    close(s.fd);
    struct frame e = exited(18);
    CHECK(e.f[2] == 0 && e.f[8] == 1, "leftover_processes = %llu, wanted 1",
          (unsigned long long)e.f[8]);
    uint64_t detached;
    await_census(18, 1);
    census_of(18, &detached);
    CHECK(detached == 0, "detached = %llu", (unsigned long long)detached);
    /* Ended: Kill is ignored, the leftover lives on until the session ends. */
    send_kill(18, 9, true);
    await_census(18, 1);
}

static void t_orphan_reaped(void)
{
    start_init();
    /* The background sleep outlives sh; init (a subreaper here, PID 1 in a jail) reaps it. */
    static const char *const argv[] = { "sh", "-c", "sleep 0.2 >/dev/null 2>&1 &", NULL };
    run(19, argv, NULL, 0, 0);
    await_census(19, 0);
    sleep_ms(300);
    /* Init must not report the orphan as anything; the next frame answers our census. */
    uint64_t detached;
    census_of(19, &detached);
    CHECK(detached == 0, "detached = %llu", (unsigned long long)detached);
    printf("orphan reaped silently\n");
}

static void t_bad_requests(void)
{
    start_init();
    static const char *const argv[] = { "/bin/true", NULL };
    struct spawn_req r = { 20, argv, NULL, "/", NULL, 0, 2 }; /* two descriptors */
    spawn(&r);
    struct frame f = spawn_failed(20);
    CHECK(f.f[2] == STAGE_BAD_REQUEST && f.f[3] == 0, "2 fds: wanted STAGE_BAD_REQUEST");
    r = (struct spawn_req){ 21, NULL, NULL, "/", NULL, 0, 3 }; /* no argv */
    spawn(&r);
    f = spawn_failed(21);
    CHECK(f.f[2] == STAGE_BAD_REQUEST, "no argv: wanted STAGE_BAD_REQUEST");
    r = (struct spawn_req){ 22, argv, NULL, "relative/dir", NULL, 0, 3 };
    spawn(&r);
    f = spawn_failed(22);
    CHECK(f.f[2] == STAGE_BAD_REQUEST, "relative cwd: wanted STAGE_BAD_REQUEST");

    /* An argv element with a NUL inside, built by hand. */
    buf_t b = { 0 };
    put_uint(&b, 1, 23);
    put_bytes(&b, 2, "/bin/true\0x", 11);
    int in[2], out[2], err[2];
    CHECK(pipe(in) == 0 && pipe(out) == 0 && pipe(err) == 0, "pipe");
    int fds[3] = { in[0], out[1], err[1] };
    send_host_frame(1, &b, fds, 3);
    f = spawn_failed(23);
    CHECK(f.f[2] == STAGE_BAD_REQUEST, "NUL in argv: wanted STAGE_BAD_REQUEST");
    /* Init closed its copies: with ours closed too, the pipe reads EOF at once. */
    close(out[1]);
    CHECK(strcmp(read_all(out[0]), "") == 0, "pipe not closed by init");

    /* A running exec id again is a bad request. */
    static const char *const sleeper[] = { "sleep", "100", NULL };
    r = (struct spawn_req){ 24, sleeper, NULL, "/", NULL, 0, 3 };
    spawn(&r);
    close(started(24).fd);
    spawn(&r);
    f = spawn_failed(24);
    CHECK(f.f[2] == STAGE_BAD_REQUEST, "duplicate exec id: wanted STAGE_BAD_REQUEST");
    /* Init is still serving. */
    await_census(24, 1);
}

static void t_descriptors_with_census(void)
{
    start_init();
    /* Descriptors on a frame that takes none are closed, not kept. */
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    buf_t b = { 0 };
    send_host_frame(3, &b, &p[1], 1);
    close(p[1]);
    expect(I_CENSUS);
    CHECK(strcmp(read_all(p[0]), "") == 0, "init kept a descriptor");
    printf("descriptors closed\n");
}

/* Sends a malformed record and checks init answers Fatal, hangs up and exits 3. */
static void fatal_after(const void *frame, size_t n, const int *fds, int nfds)
{
    buf_t f = { (uint8_t *)frame, n, n };
    send_frame(&f, fds, nfds);
    struct frame fr = expect(I_FATAL);
    printf("fatal: %s\n", fr.text);
    CHECK(fr.text[0], "empty Fatal message");
    CHECK(recv_frame().kind == 0, "init did not hang up after Fatal");
    int code = wait_init();
    CHECK(code == 3, "init exited with %d after Fatal, wanted 3", code);
    printf("init exit=3\n");
}

static void t_garbage_frame(void)
{
    start_init();
    static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    fatal_after(garbage, sizeof garbage, NULL, 0);
}

static void t_truncated_varint(void)
{
    start_init();
    /* Spawn{exec_id: <varint cut short>} */
    static const uint8_t cut[] = { 0x0a, 0x02, 0x08, 0x80 };
    fatal_after(cut, sizeof cut, NULL, 0);
}

static void t_bad_length(void)
{
    start_init();
    /* Spawn whose length runs past the record, and an argv length past its Spawn. */
    static const uint8_t past[] = { 0x0a, 0x05, 0x08, 0x01 };
    fatal_after(past, sizeof past, NULL, 0);
}

static void t_nested_bad_length(void)
{
    start_init();
    static const uint8_t past[] = { 0x0a, 0x04, 0x12, 0x7f, 0x61, 0x62 };
    fatal_after(past, sizeof past, NULL, 0);
}

static void t_group_wire_type(void)
{
    start_init();
    static const uint8_t group[] = { 0x1b, 0x1c }; /* field 3, start group / end group */
    fatal_after(group, sizeof group, NULL, 0);
}

static void t_empty_frame(void)
{
    start_init();
    /* An empty HostFrame serializes to a zero-length record. */
    fatal_after("", 0, NULL, 0);
}

static void t_unknown_frame(void)
{
    start_init();
    static const uint8_t unknown[] = { 0x20, 0x01, 0x2a, 0x00 }; /* fields 4 and 5 only */
    fatal_after(unknown, sizeof unknown, NULL, 0);
}

static void t_too_many_fds(void)
{
    start_init();
    int fds[9];
    for (int i = 0; i < 9; i++)
        CHECK((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0, "open");
    static const uint8_t census[] = { 0x1a, 0x00 };
    fatal_after(census, sizeof census, fds, 9);
}

static void t_oversize_frame(void)
{
    start_init();
    /* One byte over 1 MiB (+ init's slack): a Spawn with one huge env entry. */
    size_t n = (1u << 20) + 8192;
    uint8_t *big = calloc(1, n);
    CHECK(big, "calloc");
    fatal_after(big, n, NULL, 0); /* zeros parse as field 0: it must be refused either way */
    free(big);
}

static void t_just_over_limit(void)
{
    start_init();
    /* Well-formed, 1 MiB + 1 byte: over the protocol's limit, inside init's buffer slack. */
    buf_t b = { 0 };
    size_t body = (1u << 20) - 8;
    char *v = malloc(body);
    CHECK(v, "malloc");
    memset(v, 'a', body);
    put_bytes(&b, 99, v, body);
    free(v);
    buf_t f = { 0 };
    put_msg(&f, 3, &b);
    CHECK(f.n > (1u << 20), "frame is %zu bytes", f.n);
    fatal_after(f.b, f.n, NULL, 0);
    free(f.b);
}

static void t_big_frame(void)
{
    start_init();
    /* Close to 1 MiB: 900 env entries of 1000 bytes each, counted by the child. */
    static char *env[901];
    for (int i = 0; i < 900; i++) {
        env[i] = malloc(1001);
        CHECK(env[i], "malloc");
        int k = snprintf(env[i], 1001, "V%d=", i);
        memset(env[i] + k, 'x', 1000 - (size_t)k);
        env[i][1000] = 0;
    }
    static const char *const argv[] = { "/bin/sh", "-c", "env | wc -l", NULL };
    struct spawn_req r = { 25, argv, (const char *const *)env, "/", NULL, 0, 3 };
    struct stdio io = spawn(&r);
    close(started(25).fd);
    char *out = read_all(io.out);
    /* dash adds PWD (and maybe OLDPWD) to the environment it passes on */
    CHECK(atoi(out) >= 900 && atoi(out) <= 903, "env | wc -l printed %s", out);
    read_all(io.err);
    exited(25);
    printf("big frame ok\n");
}

static void t_host_close(void)
{
    start_init();
    /* A running sleeper and an ended exec's leftover: both must die with init. */
    static const char *const sleeper[] = { "sleep", "100", NULL };
    static const char *const leaver[] = { "sh", "-c", "sleep 100 >/dev/null 2>&1 &", NULL };
    struct spawn_req r = { 26, sleeper, NULL, "/", NULL, 0, 3 };
    spawn(&r);
    struct frame s1 = started(26);
    close(s1.fd);
    r = (struct spawn_req){ 27, leaver, NULL, "/", NULL, 0, 3 };
    spawn(&r);
    struct frame s2 = started(27);
    close(s2.fd);
    exited(27);
    long leftover = 0;
    CHECK(live_in_session((long)s2.f[2], &leftover) == 1, "no leftover of exec 27");
    CHECK(live_in_session((long)s1.f[2], NULL) == 1, "exec 26 not running");
    close(host);
    int code = wait_init();
    CHECK(code == 0, "init exited with %d after the host hung up, wanted 0", code);
    printf("init exit=0\n");
    for (int i = 0; i < 250; i++) {
        if (live_in_session((long)s1.f[2], NULL) == 0 && live_in_session((long)s2.f[2], NULL) == 0) {
            printf("children killed\n");
            return;
        }
        sleep_ms(20);
    }
    fail("processes of the execs survive init");
}

static void t_pid1(void)
{
    as_pid1 = true;
    start_init();
    /* A tenant cannot kill PID 1: it has no handlers, so signals from inside are dropped. */
    static const char *const argv[] = { "sh", "-c", "kill -9 1; kill -TERM 1; kill -INT 1; echo alive", NULL };
    char *out = run(40, argv, NULL, 0, 0);
    CHECK(strcmp(out, "alive\n") == 0, "printed \"%s\"", out);
    uint64_t detached = 99;
    CHECK(census_of(40, &detached) == 0 && detached == 0, "census not empty (detached %llu)",
          (unsigned long long)detached);
    printf("kill -9 1 ignored\n");

    static const char *const sleeper[] = { "sleep", "100", NULL };
    struct spawn_req r = { 41, sleeper, NULL, "/", NULL, 0, 3 };
    spawn(&r);
    struct frame s = started(41);
    CHECK(s.f[2] >= 2 && s.f[2] < 100, "pid in the namespace = %llu", (unsigned long long)s.f[2]);
    CHECK(s.fd >= 0, "no pidfd");
    await_census(41, 1);
    /* Host gone: init kills everything in the namespace; the pidfd says when the sleeper dies. */
    close(host);
    CHECK(wait_init() == 0, "init did not exit 0");
    struct pollfd p = { s.fd, POLLIN, 0 };
    CHECK(poll(&p, 1, 5000) == 1, "the sleeper survived init");
    printf("namespace killed\n");
}

static void t_many_execs(void)
{
    start_init();
    /* Several at once, ending in any order; every Exited names the right exec and its code. */
    static const char *const argv[] = { "sh", "-c", "exit $(( $$ % 7 + 1 ))", NULL };
    static const char *const env[] = { NULL };
    uint64_t pid_of[40] = { 0 };
    bool seen[40] = { false };
    int nseen = 0;
    /* An exec may end before the next one's Started: take frames as they come. */
    int nstarted = 0;
    for (uint64_t id = 30; id < 40; id++) {
        struct spawn_req r = { id, argv, env, "/", NULL, 0, 3 };
        struct stdio io = spawn(&r);
        close(io.out);
        close(io.err);
        for (;;) {
            struct frame fr = recv_frame();
            uint64_t x = fr.f[1];
            if (fr.kind == I_STARTED) {
                CHECK(x == id, "Started for %llu, wanted %llu", (unsigned long long)x,
                      (unsigned long long)id);
                pid_of[id] = fr.f[2];
                close(fr.fd);
                nstarted++;
                break;
            }
            CHECK(fr.kind == I_EXITED, "unexpected %s", fr.kind ? KIND[fr.kind] : "hang-up");
            CHECK(x >= 30 && x < id && !seen[x], "stray Exited for %llu", (unsigned long long)x);
            CHECK(fr.f[2] == pid_of[x] % 7 + 1, "exec %llu exit_code %llu", (unsigned long long)x,
                  (unsigned long long)fr.f[2]);
            seen[x] = true;
            nseen++;
        }
    }
    CHECK(nstarted == 10, "started %d", nstarted);
    while (nseen < 10) {
        struct frame fr = expect(I_EXITED);
        uint64_t id = fr.f[1];
        CHECK(id >= 30 && id < 40 && !seen[id], "stray Exited for %llu", (unsigned long long)id);
        CHECK(fr.f[2] == pid_of[id] % 7 + 1, "exec %llu exit_code %llu", (unsigned long long)id,
              (unsigned long long)fr.f[2]);
        seen[id] = true;
        nseen++;
    }
    printf("10 execs ended\n");
}

static const struct { const char *name; void (*run)(void); } scenarios[] = {
    { "ready", t_ready },
    { "echo", t_echo },
    { "exit-code", t_exit_code },
    { "killed-by-signal", t_killed_by_signal },
    { "exec-enoent", t_exec_enoent },
    { "exec-eacces", t_exec_eacces },
    { "chdir-missing", t_chdir_missing },
    { "cwd", t_cwd },
    { "rlimit-nofile", t_rlimit_nofile },
    { "env-exact", t_env_exact },
    { "signals-default", t_signals_default },
    { "only-stdio-fds", t_only_stdio_fds },
    { "kill-tree", t_kill_tree },
    { "kill-main", t_kill_main },
    { "census-leftover", t_census_leftover },
    { "orphan-reaped", t_orphan_reaped },
    { "bad-requests", t_bad_requests },
    { "descriptors-with-census", t_descriptors_with_census },
    { "garbage-frame", t_garbage_frame },
    { "truncated-varint", t_truncated_varint },
    { "bad-length", t_bad_length },
    { "nested-bad-length", t_nested_bad_length },
    { "group-wire-type", t_group_wire_type },
    { "empty-frame", t_empty_frame },
    { "unknown-frame", t_unknown_frame },
    { "too-many-fds", t_too_many_fds },
    { "oversize-frame", t_oversize_frame },
    { "just-over-limit", t_just_over_limit },
    { "big-frame", t_big_frame },
    { "host-close", t_host_close },
    { "many-execs", t_many_execs },
    { "pid1", t_pid1 },
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "--own-pgid-child") == 0) {
        /* Run by init as an exec: a child that leaves the process group, not the session. */
        pid_t c = fork();
        if (c == 0) {
            setpgid(0, 0);
            pause();
            _exit(0);
        }
        pause();
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
            printf("%s\n", scenarios[i].name);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: %s <paddock-init> <scenario> | --list\n", argv[0]);
        return 2;
    }
    init_path = argv[1];
    scenario = argv[2];
    alarm(60); /* a hung scenario fails instead of hanging the build */
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (strcmp(scenarios[i].name, scenario) == 0) {
            scenarios[i].run();
            if (init_pid > 0) { /* hanging up must end init; a leftover init would be a bug */
                close(host);
                CHECK(wait_init() == 0, "init did not exit 0 at hang-up");
            }
            printf("PASS %s\n", scenario);
            return 0;
        }
    }
    fail("no such scenario");
}
