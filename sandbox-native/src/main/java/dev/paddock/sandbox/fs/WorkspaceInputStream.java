package dev.paddock.sandbox.fs;

import dev.paddock.sandbox.fs.internal.FsSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * A workspace file opened for reading by {@link WorkspaceFiles#openRead}: a regular file with a
 * single link, checked on the open descriptor itself, so what is read is exactly what was checked
 * whatever the tenant renames meanwhile. Holds one descriptor until {@link #close()}; methods are
 * synchronized, so a close from another thread never races a read.
 */
public final class WorkspaceInputStream extends InputStream {
  private final FsSyscalls sys;
  private final FileStat stat;
  private int fd;
  private long remaining;

  WorkspaceInputStream(FsSyscalls sys, int fd, FileStat stat, long maxBytes) {
    this.sys = sys;
    this.fd = fd;
    this.stat = stat;
    this.remaining = maxBytes;
  }

  /** The opened file as it was when opened (size in bytes then; a growing file may yield more, up to the limit). */
  public FileStat stat() {
    return stat;
  }

  @Override
  public synchronized int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public synchronized int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (fd < 0) {
      throw new IOException("stream closed");
    }
    if (len == 0) {
      return 0;
    }
    if (remaining <= 0) {
      return -1;
    }
    int n;
    try {
      n = sys.read(fd, b, off, (int) Math.min(len, remaining));
    } catch (NativeException e) {
      throw new IOException(WorkspacePath.quote(stat.path()) + ": read failed", e);
    }
    if (n == 0) {
      remaining = 0;
      return -1;
    }
    remaining -= n;
    return n;
  }

  @Override
  public synchronized void close() {
    if (fd >= 0) {
      sys.close(fd);
      fd = -1;
    }
  }
}
