/*
 * paddock-init: PID 1 of every Paddock session jail.
 *
 * It starts the host's execs inside the live jail, reports when they start and end, signals them
 * and counts their processes. It talks to the host over fd 3 (an AF_UNIX SOCK_SEQPACKET socket) in
 * the protocol of ipc-proto/src/main/proto/paddock/jail/v1/init.proto, which is the contract.
 *
 * Init runs as the tenant (same uid and seccomp policy as the tools it starts), so the host trusts
 * nothing it says; init in turn decodes the host's frames defensively: every length is checked
 * against the record, and a frame that does not parse ends the session with Fatal.
 *
 * Single-threaded on purpose, and SIGCHLD arrives as a readable descriptor (signalfd) rather than a
 * handler, so there is no async-signal-safety to reason about. A child starts with vfork and
 * shares init's memory until its execve: between the two it makes only system calls and writes
 * only its own stack (no malloc, no stdio).
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Werror -static -o paddock-init paddock-init.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define CTRL_FD 3
#define PROTOCOL_VERSION 1
#define MAX_HOST_FRAME (1u << 20)
#define MAX_INIT_FRAME 4096
#define MAX_RECV_FDS 8
#define MAX_RUNNING 4096
#define MAX_ENDED 1024
#define DEFAULT_CWD "/workspace"

enum { H_SPAWN = 1, H_KILL = 2, H_CENSUS = 3 };                      /* HostFrame.frame */
enum { I_READY = 1, I_STARTED, I_SPAWN_FAILED, I_EXITED, I_CENSUS, I_FATAL }; /* InitFrame.frame */
enum { STAGE_BAD_REQUEST = 1, STAGE_FORK, STAGE_FDS, STAGE_RLIMIT, STAGE_CHDIR, STAGE_EXEC };
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

struct exec { uint64_t id; pid_t pid; };

/* Execs whose main process has not been reaped yet; a pid here cannot be reused. */
static struct exec running[MAX_RUNNING];
static size_t nrunning;
/* The last MAX_ENDED execs that ended, so their leftovers are still attributed to them. */
static struct exec ended[MAX_ENDED];
static size_t nended; /* total ever; the ring slot is nended % MAX_ENDED */

static bool is_pid1;
static int sigchld_fd = -1;
static uint8_t inbuf[MAX_HOST_FRAME + 4096]; /* slack: a record over the limit is seen, not cut */

static _Noreturn void fatal(const char *why);

/* ---- protobuf writer ------------------------------------------------------------------------ */

typedef struct { uint8_t b[MAX_INIT_FRAME]; size_t n; } wr_t;

static void w_byte(wr_t *w, uint8_t c)
{
    if (w->n >= sizeof w->b)
        fatal("internal: outgoing frame over 4096 bytes");
    w->b[w->n++] = c;
}

static void w_varint(wr_t *w, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        w_byte(w, (uint8_t)(v | 0x80));
    w_byte(w, (uint8_t)v);
}

/* proto3 omits zero scalars; the decoder reads a missing field as 0. */
static void w_uint(wr_t *w, unsigned field, uint64_t v)
{
    if (v) {
        w_varint(w, (uint64_t)field << 3 | WT_VARINT);
        w_varint(w, v);
    }
}

/* Negative int32 values are sign-extended to 64 bits on the wire. */
static void w_int32(wr_t *w, unsigned field, int32_t v)
{
    w_uint(w, field, (uint64_t)(int64_t)v);
}

static void w_bytes(wr_t *w, unsigned field, const void *p, size_t n)
{
    w_varint(w, (uint64_t)field << 3 | WT_LEN);
    w_varint(w, n);
    for (size_t i = 0; i < n; i++)
        w_byte(w, ((const uint8_t *)p)[i]);
}

/* ---- talking to the host -------------------------------------------------------------------- */

static int kill_session(pid_t sid, int sig);

/*
 * Ends init and everything it started. As PID 1 the kernel would kill the namespace anyway; the
 * explicit kill(-1) just does it first. Outside a PID namespace (the tests) kill(-1) would hit the
 * whole machine, so only our own execs' sessions are killed there.
 */
static _Noreturn void die(int code)
{
    if (is_pid1) {
        kill(-1, SIGKILL);
    } else {
        for (size_t i = 0; i < nrunning; i++) {
            kill(-running[i].pid, SIGKILL);
            kill_session(running[i].pid, SIGKILL);
        }
        for (size_t i = 0; i < nended && i < MAX_ENDED; i++)
            kill_session(ended[i].pid, SIGKILL);
    }
    exit(code);
}

#define MAX_SEND_FDS 2

/* One record = one InitFrame with `body` as its `kind` field, plus up to MAX_SEND_FDS descriptors. */
static void send_frame_fds(unsigned kind, const wr_t *body, const int *fds, size_t nfds)
{
    static wr_t f;
    f.n = 0;
    w_bytes(&f, kind, body->b, body->n);

    struct iovec iov = { f.b, f.n };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(MAX_SEND_FDS * sizeof(int))]; } ctl;
    if (nfds > MAX_SEND_FDS)
        fatal("internal: too many descriptors for one frame");
    if (nfds > 0) {
        memset(&ctl, 0, sizeof ctl);
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }
    while (sendmsg(CTRL_FD, &msg, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR)
            die(1); /* EPIPE / ECONNRESET: the host is gone; anything else: it cannot hear us */
    }
}

/* send_frame_fds with at most one descriptor (-1 = none). */
static void send_frame(unsigned kind, const wr_t *body, int fd)
{
    send_frame_fds(kind, body, &fd, fd >= 0 ? 1 : 0);
}

static _Noreturn void fatal(const char *why)
{
    static bool dying;
    if (!dying) { /* a failure while reporting must not recurse */
        dying = true;
        static wr_t m;
        m.n = 0;
        w_bytes(&m, 1, why, strnlen(why, 200));
        send_frame(I_FATAL, &m, -1);
    }
    die(3); /* received descriptors close with the process */
}

static void send_spawn_failed(uint64_t id, int stage, int err)
{
    wr_t m = { .n = 0 };
    w_uint(&m, 1, id);
    w_uint(&m, 2, (uint64_t)stage);
    w_int32(&m, 3, err);
    send_frame(I_SPAWN_FAILED, &m, -1);
}

/* ---- protobuf reader ------------------------------------------------------------------------ */

typedef struct { const uint8_t *p, *end; } rd_t;
typedef struct { uint32_t num, wt; uint64_t v; rd_t sub; } field_t;

static int rd_varint(rd_t *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (r->p >= r->end)
            return -1;
        uint8_t b = *r->p++;
        if (i == 9 && b > 1) /* the 10th byte holds only bit 63; more would overflow */
            return -1;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Next field of a message: 1 = got one, 0 = end of message, -1 = malformed. */
static int next_field(rd_t *r, field_t *f)
{
    uint64_t key, len;
    if (r->p == r->end)
        return 0;
    if (rd_varint(r, &key) < 0 || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wt = (uint32_t)(key & 7);
    switch (f->wt) {
    case WT_VARINT:
        return rd_varint(r, &f->v) < 0 ? -1 : 1;
    case WT_I64:
    case WT_I32:
        len = f->wt == WT_I64 ? 8 : 4;
        break;
    case WT_LEN:
        if (rd_varint(r, &len) < 0)
            return -1;
        break;
    default: /* groups (3, 4) and 6, 7 */
        return -1;
    }
    if (len > (uint64_t)(r->end - r->p))
        return -1;
    f->sub.p = r->p;
    f->sub.end = r->p + len;
    r->p += len;
    return 1;
}

/* A known field with another wire type would be read as garbage: the frame is not ours. */
static void want(const field_t *f, uint32_t wt)
{
    if (f->wt != wt)
        fatal("malformed HostFrame: wrong wire type");
}

static size_t rd_len(rd_t r) { return (size_t)(r.end - r.p); }

/* ---- /proc ---------------------------------------------------------------------------------- */

/* State, parent and session of a process from /proc/<pid>/stat; -1 when it is gone. */
static int read_stat(long pid, char *state, long *ppid, long *sid)
{
    char path[40], buf[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    /* comm may contain ')' and spaces; no field after it does, so the last ')' ends it. */
    char *p = memrchr(buf, ')', (size_t)n);
    long pgrp;
    if (!p || sscanf(p + 1, " %c %ld %ld %ld", state, ppid, &pgrp, sid) != 4)
        return -1;
    return 0;
}

/*
 * Outside a PID namespace (tests) /proc shows the whole machine. Init is then a child subreaper,
 * so everything its execs leave behind still hangs below it: counting and killing only our
 * descendants keeps a reused pid from naming a stranger's session.
 */
static bool descends_from_me(long pid)
{
    long self = getpid();
    for (int hops = 0; hops < 256 && pid > 1; hops++) {
        char state;
        long ppid, sid;
        if (read_stat(pid, &state, &ppid, &sid) < 0)
            return false;
        if (ppid == self)
            return true;
        pid = ppid;
    }
    return false;
}

/*
 * Calls fn(pid, sid) for every live process of the jail except init (only those in session
 * `only_sid` when it is not 0). Returns -1 when /proc cannot be read.
 */
static int scan_proc(long only_sid, void (*fn)(long pid, long sid, void *ctx), void *ctx)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    long self = getpid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        char state;
        long ppid, sid;
        if (*end || pid <= 0 || pid == self || read_stat(pid, &state, &ppid, &sid) < 0)
            continue;
        if ((only_sid && sid != only_sid) || state == 'Z' || state == 'X' || state == 'x')
            continue; /* zombies are dead, only not reaped yet */
        if (!is_pid1 && !descends_from_me(pid))
            continue;
        fn(pid, sid, ctx);
    }
    closedir(d);
    return 0;
}

struct session_ctx { int sig; uint32_t count; };

static void kill_one(long pid, long sid, void *ctx)
{
    (void)sid;
    kill((pid_t)pid, ((struct session_ctx *)ctx)->sig);
}

static void count_one(long pid, long sid, void *ctx)
{
    struct session_ctx *s = ctx;
    (void)pid, (void)sid;
    if (s->count < UINT32_MAX)
        s->count++;
}

/* Kills every process of session `sid`; -1 when /proc cannot be read. */
static int kill_session(pid_t sid, int sig)
{
    struct session_ctx s = { sig, 0 };
    return scan_proc(sid, kill_one, &s);
}

/* ---- exec bookkeeping ----------------------------------------------------------------------- */

static long running_by_id(uint64_t id)
{
    for (size_t i = 0; i < nrunning; i++)
        if (running[i].id == id)
            return (long)i;
    return -1;
}

static long running_by_pid(pid_t pid)
{
    for (size_t i = 0; i < nrunning; i++)
        if (running[i].pid == pid)
            return (long)i;
    return -1;
}

/* The exec whose session `sid` is: a running one, else the most recent ended one; 0 = none. */
static uint64_t exec_of_session(long sid)
{
    for (size_t i = 0; i < nrunning; i++)
        if (running[i].pid == sid)
            return running[i].id;
    size_t n = nended < MAX_ENDED ? nended : MAX_ENDED;
    for (size_t k = 1; k <= n; k++) {
        const struct exec *x = &ended[(nended - k) % MAX_ENDED];
        if (x->pid == sid)
            return x->id;
    }
    return 0;
}

/* ---- Spawn ---------------------------------------------------------------------------------- */

struct spawn {
    uint64_t id;
    char **argv, **envp; /* NULL-terminated */
    const char *cwd;
    struct rl { int resource; struct rlimit lim; } *rl;
    size_t nrl;
    char *arena; /* every string above, NUL-terminated */
};

/* Decodes an Rlimit into *out (when non-NULL); returns false when its values are unusable. */
static bool decode_rlimit(rd_t r, struct rl *out)
{
    uint64_t res = 0, soft = 0, hard = 0;
    field_t f;
    int rc;
    while ((rc = next_field(&r, &f)) > 0) {
        switch (f.num) {
        case 1: want(&f, WT_VARINT); res = f.v; break;
        case 2: want(&f, WT_VARINT); soft = f.v; break;
        case 3: want(&f, WT_VARINT); hard = f.v; break;
        default: break;
        }
    }
    if (rc < 0)
        fatal("malformed HostFrame: Rlimit");
    if (out) {
        out->resource = (int)res;
        /* UINT64_MAX means RLIM_INFINITY, which on Linux is the same all-ones value. */
        out->lim.rlim_cur = soft == UINT64_MAX ? RLIM_INFINITY : (rlim_t)soft;
        out->lim.rlim_max = hard == UINT64_MAX ? RLIM_INFINITY : (rlim_t)hard;
    }
    return res < RLIM_NLIMITS && soft <= hard;
}

static char *copy_str(rd_t v, char **arena, bool *bad)
{
    size_t n = rd_len(v);
    char *s = *arena;
    if (memchr(v.p, 0, n)) /* the C string would silently stop there */
        *bad = true;
    memcpy(s, v.p, n);
    s[n] = 0;
    *arena += n + 1;
    return s;
}

/*
 * Pass 1 checks the structure and sizes everything, pass 2 copies into one arena. Malformed wire
 * data is Fatal; well-formed but unusable values make *bad true (SpawnFailed STAGE_BAD_REQUEST).
 */
static void decode_spawn(rd_t body, struct spawn *s, bool *bad)
{
    size_t argc = 0, envc = 0, bytes = 0;
    rd_t cwd = { NULL, NULL };
    field_t f;
    int rc;
    memset(s, 0, sizeof *s);
    for (rd_t r = body; (rc = next_field(&r, &f)) > 0;) {
        switch (f.num) {
        case 1: want(&f, WT_VARINT); s->id = f.v; break;
        case 2: want(&f, WT_LEN); argc++; bytes += rd_len(f.sub) + 1; break;
        case 3: want(&f, WT_LEN); envc++; bytes += rd_len(f.sub) + 1; break;
        case 4: want(&f, WT_LEN); cwd = f.sub; break;
        case 5: want(&f, WT_LEN); s->nrl++; if (!decode_rlimit(f.sub, NULL)) *bad = true; break;
        default: break; /* unknown fields: skipped, as protobuf does */
        }
    }
    if (rc < 0)
        fatal("malformed HostFrame: Spawn");

    /* Sizes are bounded by the 1 MiB record, so none of these can overflow. */
    s->argv = calloc(argc + 1, sizeof *s->argv);
    s->envp = calloc(envc + 1, sizeof *s->envp);
    s->rl = calloc(s->nrl + 1, sizeof *s->rl);
    s->arena = malloc(bytes + rd_len(cwd) + 1);
    if (!s->argv || !s->envp || !s->rl || !s->arena)
        fatal("out of memory");

    char *a = s->arena;
    size_t ia = 0, ie = 0, ir = 0;
    for (rd_t r = body; next_field(&r, &f) > 0;) {
        if (f.num == 2)
            s->argv[ia++] = copy_str(f.sub, &a, bad);
        else if (f.num == 3)
            s->envp[ie++] = copy_str(f.sub, &a, bad);
        else if (f.num == 5)
            decode_rlimit(f.sub, &s->rl[ir++]);
    }
    s->cwd = DEFAULT_CWD;
    if (cwd.p && rd_len(cwd) > 0) {
        s->cwd = copy_str(cwd, &a, bad);
        if (s->cwd[0] != '/')
            *bad = true;
    }
    if (s->id == 0 || argc == 0)
        *bad = true;
}

static void free_spawn(struct spawn *s)
{
    free(s->argv);
    free(s->envp);
    free(s->rl);
    free(s->arena);
}

struct report { int32_t stage, err; };

static _Noreturn void child_fail(int rp, int stage)
{
    struct report r = { stage, errno };
    ssize_t ignored = write(rp, &r, sizeof r);
    (void)ignored;
    _exit(127);
}

/* Marks every descriptor >= lo close-on-exec. */
static int cloexec_from(int lo)
{
    if (syscall(SYS_close_range, (unsigned)lo, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
    DIR *d = opendir("/proc/self/fd"); /* kernels before 5.11, or close_range filtered */
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd >= lo && fd != dirfd(d))
            fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    closedir(d);
    return 0;
}

/* execve, looking a bare argv[0] up in fixed directories whatever PATH says; returns the errno. */
static int exec_program(char *const argv[], char *const envp[])
{
    static const char *const dirs[] = { "/usr/local/bin", "/usr/bin", "/bin" };
    char path[PATH_MAX];
    int err = ENOENT;
    if (argv[0][0] == 0)
        return ENOENT;
    if (strchr(argv[0], '/')) {
        execve(argv[0], argv, envp);
        return errno;
    }
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        size_t dl = strlen(dirs[i]), nl = strlen(argv[0]);
        if (dl + 1 + nl >= sizeof path)
            return ENAMETOOLONG;
        memcpy(path, dirs[i], dl); /* not snprintf: this runs in a vfork child (see the top) */
        path[dl] = '/';
        memcpy(path + dl + 1, argv[0], nl + 1);
        execve(path, argv, envp);
        if (errno == EACCES)
            err = EACCES; /* like execvp: a later directory may still have a runnable one */
        else if (errno != ENOENT && errno != ENOTDIR)
            return errno; /* found, but it cannot run (E2BIG, ENOEXEC, ...) */
    }
    return err;
}

/* The kernel's struct sigaction (not libc's): handler, flags, restorer, mask. */
struct ksigaction { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; };

/* Signals whose disposition is not SIG_DFL in init (bit sig-1): what a child must reset. */
static uint64_t nondefault_signals;

/* Notes every signal init inherited or set away from its default, for child() to reset. */
static void note_nondefault_signals(void)
{
    for (int sig = 1; sig <= 64; sig++) {
        struct ksigaction old;
        if (syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof old.mask) == 0 && old.handler != SIG_DFL)
            nondefault_signals |= 1ULL << (sig - 1);
    }
}

/* The child between vfork and execve. Any failure goes to the report pipe `rp`. */
static _Noreturn void child(const struct spawn *s, const int *fds, int nfds, int rp)
{
    if (setsid() < 0)
        child_fail(rp, STAGE_FORK);

    /*
     * The exec's OOM score is raised by the host from outside (the jail's /proc is read-only), so
     * a session's OOM kill takes a tenant process, never init or nsjail.
     */

    /*
     * Ignored dispositions survive execve, and init's may come from whoever started it (a JVM
     * passes on 32 and 33 ignored). main() noted every signal not at its default; only those are
     * reset, one syscall each. libc's sigaction refuses 32 and 33, its own, so this is the raw
     * call; the kernel struct is handler, flags, restorer, mask (x86_64, arm64, ...).
     */
    struct ksigaction dfl = { SIG_DFL, 0, NULL, 0 };
    for (int sig = 1; sig <= 64; sig++)
        if (nondefault_signals & (1ULL << (sig - 1)))
            syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /*
     * Move the report pipe and the three (or four) descriptors to 10 and up first, so no dup2 below can
     * overwrite one still needed (init's own 0-2 may be closed, making them low numbers), and so
     * dup2 never gets source == target, which would leave close-on-exec set.
     */
    int hi = fcntl(rp, F_DUPFD_CLOEXEC, 10);
    if (hi < 0)
        child_fail(rp, STAGE_FDS);
    rp = hi;
    int src[4];
    for (int i = 0; i < nfds; i++)
        if ((src[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10)) < 0)
            child_fail(rp, STAGE_FDS);
    /* 0-2 are stdio; a fourth descriptor, the exec's typed IPC socket, becomes fd 3 (init's own
     * channel, also fd 3 in init, is replaced in this child only). */
    for (int i = 0; i < nfds; i++)
        if (dup2(src[i], i) < 0)
            child_fail(rp, STAGE_FDS);
    /* Everything else, the report pipe included, closes at execve: its EOF tells the parent. */
    if (cloexec_from(nfds) < 0)
        child_fail(rp, STAGE_FDS);

    for (size_t i = 0; i < s->nrl; i++)
        if (setrlimit(s->rl[i].resource, &s->rl[i].lim) < 0)
            child_fail(rp, STAGE_RLIMIT);
    if (chdir(s->cwd) < 0)
        child_fail(rp, STAGE_CHDIR);
    errno = exec_program(s->argv, s->envp);
    child_fail(rp, STAGE_EXEC);
}

static void close_fds(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

static void handle_spawn(rd_t body, const int *fds, int nfds)
{
    struct spawn s;
    bool bad = false;
    decode_spawn(body, &s, &bad);
    if ((nfds != 3 && nfds != 4) || running_by_id(s.id) >= 0)
        bad = true;
    if (bad || nrunning >= MAX_RUNNING) {
        close_fds(fds, nfds);
        if (bad)
            send_spawn_failed(s.id, STAGE_BAD_REQUEST, 0);
        else
            send_spawn_failed(s.id, STAGE_FORK, EAGAIN);
        free_spawn(&s);
        return;
    }

    /* A close-on-exec pipe: EOF = execve happened; a report = where and why it failed. */
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) < 0) {
        int err = errno;
        close_fds(fds, nfds);
        send_spawn_failed(s.id, STAGE_FDS, err);
        free_spawn(&s);
        return;
    }
    /*
     * vfork, not fork: the child borrows init's memory until its execve, so no copy of init's page
     * tables is made and init takes no copy-on-write faults afterwards (each a trap to the
     * hypervisor on a VM). An exec of /bin/true through the host was 0.12-0.29 ms faster
     * (BENCHMARKS.md). child() writes nothing init reads but errno, which init reads only if
     * vfork failed; its report goes through the pipe. Its rlimits, session and signal dispositions
     * are its own (no CLONE_THREAD, no CLONE_SIGHAND). init is suspended until the child has
     * exec'd or exited, so the read below never waits for the child.
     */
    pid_t pid = vfork();
    if (pid == 0)
        child(&s, fds, nfds, rp[1]);
    int fork_err = errno;
    close(rp[1]);
    close_fds(fds, nfds); /* the child has them; output must not pass through init */
    if (pid < 0) {
        close(rp[0]);
        send_spawn_failed(s.id, STAGE_FORK, fork_err);
        free_spawn(&s);
        return;
    }

    struct report rep;
    ssize_t n;
    while ((n = read(rp[0], &rep, sizeof rep)) < 0 && errno == EINTR)
        ;
    close(rp[0]);
    if (n != 0) {
        if (n != (ssize_t)sizeof rep || rep.stage < STAGE_FORK || rep.stage > STAGE_EXEC)
            rep = (struct report){ STAGE_FORK, EIO }; /* cannot happen: the pipe is ours */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        send_spawn_failed(s.id, rep.stage, rep.err);
        free_spawn(&s);
        return;
    }

    running[nrunning++] = (struct exec){ s.id, pid };
    /* Not reaped before Started is sent, so even a child that already exited still has a pidfd. */
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    wr_t m = { .n = 0 };
    w_uint(&m, 1, s.id);
    w_int32(&m, 2, pid);
    send_frame(I_STARTED, &m, pidfd);
    if (pidfd >= 0)
        close(pidfd);
    free_spawn(&s);
}

/* ---- Kill, Census, SIGCHLD ------------------------------------------------------------------ */

static void handle_kill(rd_t r)
{
    uint64_t id = 0;
    int32_t sig = 0;
    bool tree = false;
    field_t f;
    int rc;
    while ((rc = next_field(&r, &f)) > 0) {
        switch (f.num) {
        case 1: want(&f, WT_VARINT); id = f.v; break;
        case 2: want(&f, WT_VARINT); sig = (int32_t)(uint32_t)f.v; break; /* int32 truncates */
        case 3: want(&f, WT_VARINT); tree = f.v != 0; break;
        default: break;
        }
    }
    if (rc < 0)
        fatal("malformed HostFrame: Kill");
    long i = running_by_id(id);
    if (i < 0 || sig < 1 || sig > 64)
        return;
    pid_t pid = running[i].pid; /* not reaped yet, so it still names this exec */
    if (!tree) {
        kill(pid, sig);
        return;
    }
    kill(-pid, sig);
    if (kill_session(pid, sig) < 0)
        fatal("cannot read /proc");
}

struct tally { uint64_t id; uint32_t n; };
struct census_ctx { struct tally *t; size_t nt, cap; uint32_t detached; };

static void census_one(long pid, long sid, void *ctx)
{
    struct census_ctx *c = ctx;
    uint64_t id = exec_of_session(sid);
    (void)pid;
    if (id == 0) {
        c->detached++;
        return;
    }
    size_t i = 0;
    while (i < c->nt && c->t[i].id != id)
        i++;
    if (i == c->nt) {
        if (c->nt == c->cap) { /* cannot happen: at most one tally per known exec */
            c->detached++;
            return;
        }
        c->t[c->nt++] = (struct tally){ id, 0 };
    }
    c->t[i].n++;
}

static void handle_census(rd_t r)
{
    static struct tally tallies[MAX_RUNNING + MAX_ENDED];
    struct census_ctx c = { tallies, 0, MAX_RUNNING + MAX_ENDED, 0 };
    field_t f;
    int rc;
    while ((rc = next_field(&r, &f)) > 0)
        ;
    if (rc < 0)
        fatal("malformed HostFrame: CensusRequest");
    if (scan_proc(0, census_one, &c) < 0)
        fatal("cannot read /proc");

    static wr_t m;
    m.n = 0;
    for (size_t i = 0; i < c.nt; i++) {
        wr_t e = { .n = 0 };
        w_uint(&e, 1, c.t[i].id);
        w_uint(&e, 2, c.t[i].n);
        /* Keep the frame under 4096 bytes (tag + length + entry, then room for detached and the
         * outer tag and length): execs that do not fit are counted as detached. */
        if (m.n + 2 + e.n > MAX_INIT_FRAME - 16) {
            c.detached += c.t[i].n;
            continue;
        }
        w_bytes(&m, 1, e.b, e.n);
    }
    w_uint(&m, 2, c.detached);
    send_frame(I_CENSUS, &m, -1);
}

static void reap(void)
{
    struct signalfd_siginfo si;
    while (read(sigchld_fd, &si, sizeof si) > 0) /* coalesced; wait4 below finds them all */
        ;
    for (;;) {
        int st;
        struct rusage ru;
        pid_t pid = wait4(-1, &st, WNOHANG, &ru);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid <= 0)
            return;
        long i = running_by_pid(pid);
        if (i < 0)
            continue; /* an orphan re-parented to init: reaping is all it needs */
        struct exec x = running[i];
        running[i] = running[--nrunning];
        ended[nended++ % MAX_ENDED] = x;

        /*
         * What the exec left running. Anything still alive below a dead process is re-parented to
         * init (PID 1, or the subreaper in tests), so when init has no child at all nothing is
         * left, and the /proc scan (tens of microseconds on every exec's end) is skipped.
         */
        struct session_ctx left = { 0, 0 };
        siginfo_t any;
        bool childless = waitid(P_ALL, 0, &any, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD;
        if (!childless && scan_proc(x.pid, count_one, &left) < 0)
            fatal("cannot read /proc");
        wr_t m = { .n = 0 };
        w_uint(&m, 1, x.id);
        if (WIFEXITED(st))
            w_int32(&m, 2, WEXITSTATUS(st));
        else if (WIFSIGNALED(st))
            w_int32(&m, 3, WTERMSIG(st));
        w_uint(&m, 4, WIFSIGNALED(st) && WCOREDUMP(st));
        w_uint(&m, 5, (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec);
        w_uint(&m, 6, (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec);
        w_uint(&m, 7, ru.ru_maxrss > 0 ? (uint64_t)ru.ru_maxrss : 0);
        w_uint(&m, 8, left.count);
        send_frame(I_EXITED, &m, -1);
    }
}

/* ---- the host's frames ---------------------------------------------------------------------- */

static void serve_host(void)
{
    union { struct cmsghdr align; char buf[CMSG_SPACE(MAX_RECV_FDS * sizeof(int))]; } ctl;
    struct iovec iov = { inbuf, sizeof inbuf };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
    ssize_t n = recvmsg(CTRL_FD, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return;
        die(1); /* ECONNRESET and the like: the host is gone */
    }

    int fds[MAX_RECV_FDS], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t j = 0; j < k && nfds < MAX_RECV_FDS; j++)
            memcpy(&fds[nfds++], CMSG_DATA(c) + j * sizeof(int), sizeof(int));
    }
    if (msg.msg_flags & MSG_TRUNC)
        fatal("HostFrame over 1 MiB");
    if (msg.msg_flags & MSG_CTRUNC)
        fatal("HostFrame with more than 8 descriptors");
    if ((size_t)n > MAX_HOST_FRAME)
        fatal("HostFrame over 1 MiB");
    if (n == 0) {
        /* An empty record (an empty HostFrame) also reads as 0 bytes: only a hang-up is EOF. */
        struct pollfd p = { CTRL_FD, POLLRDHUP, 0 };
        if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)))
            die(0);
    }

    rd_t r = { inbuf, inbuf + n }, body = { NULL, NULL };
    field_t f;
    int rc;
    uint32_t kind = 0;
    while ((rc = next_field(&r, &f)) > 0) {
        if (f.num < H_SPAWN || f.num > H_CENSUS)
            continue;
        want(&f, WT_LEN);
        if (kind)
            fatal("malformed HostFrame: more than one frame field");
        kind = f.num;
        body = f.sub;
    }
    if (rc < 0)
        fatal("malformed HostFrame");
    if (kind == H_SPAWN) {
        handle_spawn(body, fds, nfds);
        return;
    }
    close_fds(fds, nfds); /* only Spawn carries descriptors */
    if (kind == H_KILL)
        handle_kill(body);
    else if (kind == H_CENSUS)
        handle_census(body);
    else
        fatal("empty or unknown HostFrame");
}

/*
 * The jail's one way out: a listening TCP socket on the jail's own loopback (the jail has no other
 * interface), handed to the host in Ready. The host accepts on it and decides per connection, so
 * no relay process runs here and init keeps no copy: nothing in the jail can accept on the port.
 * Outside a network namespace (the tests) the kernel picks the port. -1 when it cannot be made
 * (no loopback): the jail then simply has no way out.
 */
static int egress_listener(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(is_pid1 ? port : 0),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 128) < 0) {
        close(s);
        return -1;
    }
    return s;
}

int main(void)
{
    /* Tenant processes share our uid: without this they could ptrace init or write
     * /proc/1/mem and speak to the host in init's name. */
    if (prctl(PR_SET_DUMPABLE, 0) < 0)
        return 2;
    struct stat st;
    int type;
    socklen_t tlen = sizeof type;
    if (fstat(CTRL_FD, &st) < 0 || !S_ISSOCK(st.st_mode) ||
        getsockopt(CTRL_FD, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_SEQPACKET)
        return 2;
    is_pid1 = getpid() == 1;
    /* Outside a PID namespace (tests), orphans would otherwise escape to the machine's init. */
    if (!is_pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        fatal("PR_SET_CHILD_SUBREAPER failed");
    /* Nothing init holds, the channel included, may reach a tenant's process. */
    if (cloexec_from(CTRL_FD) < 0)
        fatal("cannot mark descriptors close-on-exec");
    /* A dead peer must be an EPIPE from sendmsg, not a signal that kills init. */
    signal(SIGPIPE, SIG_IGN);
    note_nondefault_signals(); /* after init's own changes, so SIGPIPE is among them */
    /* No other handler: as PID 1, signals from inside the namespace without one are dropped,
     * which is what makes a tenant's `kill -9 1` harmless. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0 ||
        (sigchld_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
        fatal("signalfd failed");

    /* HTTP proxy (CONNECT and plain forward) on 3128, SOCKS5 on 1080: both or neither. */
    int egress[2] = { egress_listener(3128), egress_listener(1080) };
    bool have_egress = egress[0] >= 0 && egress[1] >= 0;
    wr_t ready = { .n = 0 };
    w_uint(&ready, 1, PROTOCOL_VERSION);
    send_frame_fds(I_READY, &ready, egress, have_egress ? 2 : 0);
    for (int i = 0; i < 2; i++)
        if (egress[i] >= 0)
            close(egress[i]);

    for (;;) {
        struct pollfd p[2] = { { CTRL_FD, POLLIN, 0 }, { sigchld_fd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            fatal("poll failed");
        }
        if (p[1].revents)
            reap();
        if (p[0].revents & POLLNVAL)
            die(1);
        if (p[0].revents)
            serve_host();
    }
}
