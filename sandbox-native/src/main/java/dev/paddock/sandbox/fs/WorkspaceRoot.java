package dev.paddock.sandbox.fs;

import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_DIRECTORY;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_NOFOLLOW;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_PATH;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.RESOLVE_WORKSPACE;

import dev.paddock.sandbox.fs.WorkspaceFileException.Kind;
import dev.paddock.sandbox.fs.internal.FsSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The one directory descriptor through which the host reaches a session's workspace
 * ({@code O_PATH|O_DIRECTORY}, close-on-exec). Everything {@link WorkspaceFiles} does is resolved
 * beneath it with openat2, so after it is opened no host path string is used again.
 *
 * <p>Owned by whoever opened it (the session), and closed by them. Closing waits for operations
 * running on it to finish, so its descriptor number can never be reused under a running
 * operation; operations started after close fail with {@link Kind#IO}. Streams and uploads
 * already handed out hold descriptors of their own and keep working.
 */
public final class WorkspaceRoot implements AutoCloseable {
  private final FsSyscalls sys;
  private final int fd;
  private final FsSyscalls.Stat stat;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private boolean closed; // guarded by lock's write lock; read under its read lock

  private WorkspaceRoot(FsSyscalls sys, int fd, FsSyscalls.Stat stat) {
    this.sys = sys;
    this.fd = fd;
    this.stat = stat;
  }

  /**
   * Opens {@code hostDirectory}, for example {@code /proc/<jail-init-pid>/root/workspace}. Every
   * component but the last is trusted (host-controlled, or a {@code /proc/<pid>/root} magic link);
   * the last must be a real directory, not a symlink (O_NOFOLLOW). Fails with ENOSYS on kernels
   * without openat2 (before 5.6), so a host that cannot confine lookups never starts using it.
   */
  public static WorkspaceRoot open(Path hostDirectory) throws NativeException {
    FsSyscalls sys = FsSyscalls.instance();
    int fd = sys.open(hostDirectory.toString(), O_PATH | O_DIRECTORY | O_NOFOLLOW);
    try {
      sys.close(sys.openat2(fd, new byte[] {'.'}, O_PATH | O_DIRECTORY, RESOLVE_WORKSPACE));
      return new WorkspaceRoot(sys, fd, sys.fstat(fd));
    } catch (NativeException | RuntimeException e) {
      sys.close(fd);
      throw e;
    }
  }

  /** A use of the root descriptor; holds off {@link #close()} until it is closed. */
  final class Lease implements AutoCloseable {
    private Lease() {}

    /** The root directory descriptor, valid until this lease is closed. */
    int fd() {
      return fd;
    }

    @Override
    public void close() {
      lock.readLock().unlock();
    }
  }

  /** Starts a use of the root descriptor; the caller closes the lease in the same thread. */
  Lease lease() throws WorkspaceFileException {
    lock.readLock().lock();
    if (closed) {
      lock.readLock().unlock();
      throw new WorkspaceFileException(Kind.IO, "", "the workspace is no longer available");
    }
    return new Lease();
  }

  FsSyscalls sys() {
    return sys;
  }

  /** Bytes the workspace's filesystem holds now (its tmpfs: files, directories, metadata). */
  public long usedBytes() throws WorkspaceFileException {
    try (Lease lease = lease()) {
      return sys.usedBytes(lease.fd());
    } catch (dev.paddock.sandbox.linux.NativeException e) {
      throw new WorkspaceFileException(WorkspaceFileException.Kind.IO, "", "cannot read the workspace's usage");
    }
  }

  /** The root directory's own metadata, taken when it was opened (its device identifies the workspace filesystem). */
  FsSyscalls.Stat stat() {
    return stat;
  }

  /** Closes the descriptor once every running operation has finished; later calls do nothing. */
  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        sys.close(fd);
      }
    } finally {
      lock.writeLock().unlock();
    }
  }
}
