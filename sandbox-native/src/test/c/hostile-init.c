/*
 * hostile-init: stands in for paddock-init as the PID 1 of a real session jail and breaks the
 * control protocol (ipc-proto/src/main/proto/paddock/jail/v1/init.proto) in one way per build, as a
 * tenant who took over init could. HostileInitTest starts each build in a real nsjail through
 * JailLauncher and checks that the host ends that session, and only it.
 *
 * One behaviour per binary, chosen at compile time:
 *
 *   cc -std=c11 -O2 -Wall -Wextra -Werror -static -DMODE='"garbage"' -o hostile-garbage hostile-init.c
 *
 * Frames are encoded by hand. Unless the mode says otherwise, init first sends a valid Ready
 * (InitFrame field 1 holding protocol_version = 1: 0a 02 08 01). Modes marked "on cue" then wait
 * for the host's first frame (the test's first Spawn, read and its descriptors closed), so an exec
 * is pending on the host when the bad frame arrives; the others misbehave at once, racing the
 * host's start-up.
 *
 *   garbage      on cue: one record of 1-255 random bytes whose first byte is 0 (tag 0 is invalid
 *                protobuf, so the record never parses, whatever the rest is)
 *   oversize     on cue: one 64 KiB record (the limit is 4096 bytes)
 *   unknown      on cue: an InitFrame holding only field 15 as a varint (78 01)
 *   unsolicited  on cue: Exited for exec 77, which the host never spawned
 *   flood        on cue: empty Census frames, unasked, as fast as it can, forever (errors ignored)
 *   silent       Ready, then never reads fd 3 again: the host's Spawns fill the channel
 *   noready      never sends Ready
 *   badversion   Ready with protocol_version 2
 *   fakeegress   Ready whose two descriptors are a pipe's ends, not the egress listeners
 *   fdspam       at once: Started for exec 1 (pid 2) carrying a descriptor of /dev/null, before any Spawn
 *   exit         at once: exit(0)
 *
 * After its act init sleeps until it is killed (the host kills the session's cgroup).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MODE
#error "build with -DMODE='\"<mode>\"' (see the comment at the top)"
#endif

#define CTRL_FD 3

static const uint8_t READY_V1[] = { 0x0a, 0x02, 0x08, 0x01 };
static const uint8_t READY_V2[] = { 0x0a, 0x02, 0x08, 0x02 };
/* field 15, wire type 0 (varint), value 1: no InitFrame field has that number */
static const uint8_t UNKNOWN_FIELD[] = { 0x78, 0x01 };
/* field 4 (exited) { field 1 (exec_id) = 77 } */
static const uint8_t EXITED_77[] = { 0x22, 0x02, 0x08, 0x4d };
/* field 5 (census), empty */
static const uint8_t CENSUS[] = { 0x2a, 0x00 };
/* field 2 (started) { exec_id = 1, pid = 2 } */
static const uint8_t STARTED_1[] = { 0x12, 0x04, 0x08, 0x01, 0x10, 0x02 };

static int is(const char *mode)
{
    return strcmp(MODE, mode) == 0;
}

/* Sends one record, with descriptor fd when fd >= 0; returns sendmsg's result. */
/* One record with up to two descriptors. */
static int send_record_fds(const void *data, size_t n, const int *fds, size_t nfds)
{
    struct iovec iov = { (void *)data, n };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(2 * sizeof(int))]; } ctl;
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
    int r;
    do {
        r = (int)sendmsg(CTRL_FD, &msg, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    return r;
}

static int send_record(const void *data, size_t n, int fd)
{
    return send_record_fds(data, n, &fd, fd >= 0 ? 1 : 0);
}

/* A Ready carrying two descriptors that are not the egress listeners it must carry (a pipe's ends). */
static int send_ready_with_fake_listeners(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    return send_record_fds(READY_V1, sizeof READY_V1, p, 2);
}

/* Blocks until the host sends a frame; reads it and closes the descriptors it carried. */
static void await_cue(void)
{
    static uint8_t frame[1 << 20];
    union { struct cmsghdr align; char buf[CMSG_SPACE(8 * sizeof(int))]; } ctl;
    struct iovec iov = { frame, sizeof frame };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
    ssize_t r;
    do {
        r = recvmsg(CTRL_FD, &msg, MSG_CMSG_CLOEXEC);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                close(fd);
            }
        }
    }
}

static _Noreturn void sleep_forever(void)
{
    for (;;)
        pause();
}

int main(void)
{
    if (is("noready"))
        sleep_forever();
    if (is("fakeegress")) {
        send_ready_with_fake_listeners();
        sleep_forever();
    }
    if (is("badversion")) {
        send_record(READY_V2, sizeof READY_V2, -1);
        sleep_forever();
    }
    if (send_record(READY_V1, sizeof READY_V1, -1) < 0)
        return 2;

    if (is("exit"))
        exit(0);
    if (is("silent"))
        sleep_forever();
    if (is("fdspam")) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        send_record(STARTED_1, sizeof STARTED_1, null);
        sleep_forever();
    }

    await_cue();
    if (is("garbage")) {
        uint8_t junk[256];
        if (getrandom(junk, sizeof junk, 0) != (ssize_t)sizeof junk)
            memset(junk, 0xa5, sizeof junk);
        size_t n = 1 + junk[1] % 255;
        junk[0] = 0;
        send_record(junk, n, -1);
    } else if (is("oversize")) {
        static uint8_t big[64 * 1024];
        memset(big, 0x41, sizeof big);
        send_record(big, sizeof big, -1);
    } else if (is("unknown")) {
        send_record(UNKNOWN_FIELD, sizeof UNKNOWN_FIELD, -1);
    } else if (is("unsolicited")) {
        send_record(EXITED_77, sizeof EXITED_77, -1);
    } else if (is("flood")) {
        for (;;)
            send_record(CENSUS, sizeof CENSUS, -1);
    } else {
        return 2; /* a mode this file does not know */
    }
    sleep_forever();
}
