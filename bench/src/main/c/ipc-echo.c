/*
 * The far end of the IPC benchmark's floor: echoes every frame (4-byte big-endian length, then that
 * many bytes) it reads on fd 3 back on fd 3, until end of file. As little work per frame as a peer
 * can do, so a round trip against it is what the socketpair and the two wake-ups cost.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

static int exact(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int all(int fd, const unsigned char *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t w = write(fd, buf + put, n - put);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        put += (size_t)w;
    }
    return 0;
}

int main(void)
{
    static unsigned char frame[4 + 65536];
    for (;;) {
        if (exact(3, frame, 4) < 0)
            return 0;
        uint32_t n = (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 | (uint32_t)frame[2] << 8 | frame[3];
        if (n > 65536 || exact(3, frame + 4, n) < 0 || all(3, frame, 4 + n) < 0)
            return 1;
    }
}
