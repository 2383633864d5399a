package dev.paddock.sandbox.linux.internal;

/**
 * The libc functions Paddock calls, under their C names (as jnr-posix does). Not API: it lives in
 * {@code internal}; it is public only because jnr-ffi generates its implementation in another class
 * loader, which cannot implement a package-private interface.
 */
public interface LibC {
  int kill(int pid, int sig);

  int open(String path, int flags);

  long read(int fd, byte[] buf, long count);

  int close(int fd);
}
