package dev.paddock.runtime;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An exclusive lock on a host's data directory, held for the host's life: a second {@code serve}
 * on the same directory stops before it touches anything (it would otherwise remove the first
 * host's leftovers, which are its live jails' files). The kernel drops the lock when the process
 * dies, so a crashed host never blocks its successor.
 *
 * <p>The lock is a POSIX record lock, which belongs to the process and is dropped when the process
 * closes <em>any</em> descriptor of the file. So a second host in the same JVM is refused from a
 * JVM-wide set of held lock files, before it opens the file: opening and closing it would silently
 * free the data directory for a host in another process.
 */
final class DataDirLock implements AutoCloseable {
  /** Lock files held in this JVM, by real directory and name. */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Path key;
  private final FileChannel channel;
  private final FileLock lock;
  private final AtomicBoolean closed = new AtomicBoolean();

  private DataDirLock(Path key, FileChannel channel, FileLock lock) {
    this.key = key;
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes the lock, or throws with a reason an operator can act on. */
  static DataDirLock acquire(Path dataDir, Path lockFile) throws IOException {
    Files.createDirectories(dataDir);
    Path absolute = lockFile.toAbsolutePath();
    Path key = absolute.getParent().toRealPath().resolve(absolute.getFileName());
    if (!HELD.add(key)) {
      throw held(dataDir, lockFile);
    }
    try {
      FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      try {
        Files.setPosixFilePermissions(lockFile, PosixFilePermissions.fromString("rw-------"));
        FileLock lock;
        try {
          lock = channel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
          lock = null; // locked in this JVM by something other than a host
        }
        if (lock == null) {
          throw held(dataDir, lockFile);
        }
        return new DataDirLock(key, channel, lock);
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
    } catch (IOException | RuntimeException e) {
      HELD.remove(key);
      throw e;
    }
  }

  private static IOException held(Path dataDir, Path lockFile) {
    return new IOException("another paddock host is serving data directory " + dataDir
        + " (it holds the lock " + lockFile + "); stop it first or choose another --data-dir");
  }

  /** Releases the lock. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      // the process is ending; the kernel releases the lock anyway
    } finally {
      HELD.remove(key);
    }
  }
}
