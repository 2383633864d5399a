package dev.paddock.sandbox.fs;

import dev.paddock.sandbox.fs.internal.FsSyscalls;

/** A descriptor this package opened, closed once by try-with-resources. Not thread-safe. */
final class OpenFd implements AutoCloseable {
  private final FsSyscalls sys;
  private int fd;

  OpenFd(FsSyscalls sys, int fd) {
    this.sys = sys;
    this.fd = fd;
  }

  int fd() {
    if (fd < 0) {
      throw new IllegalStateException("descriptor already closed");
    }
    return fd;
  }

  /** Hands the descriptor over to a new owner; this wrapper then closes nothing. */
  int release() {
    int n = fd();
    fd = -1;
    return n;
  }

  @Override
  public void close() {
    if (fd >= 0) {
      sys.close(fd);
      fd = -1;
    }
  }
}
