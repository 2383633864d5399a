package dev.paddock.runtime;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * An exclusive lock on a host's data directory, held for the host's life: a second {@code serve}
 * on the same directory stops before it touches anything (it would otherwise remove the first
 * host's leftovers, which are its live jails' files). The kernel drops the lock when the process
 * dies, so a crashed host never blocks its successor.
 */
final class DataDirLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes the lock, or throws with a reason an operator can act on. */
  static DataDirLock acquire(Path dataDir, Path lockFile) throws IOException {
    Files.createDirectories(dataDir);
    FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      Files.setPosixFilePermissions(lockFile, PosixFilePermissions.fromString("rw-------"));
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (java.nio.channels.OverlappingFileLockException e) {
        lock = null; // this very process holds it already
      }
      if (lock == null) {
        throw new IOException("another paddock host is serving data directory " + dataDir
            + "; stop it first or choose another --data-dir");
      }
      return new DataDirLock(channel, lock);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      // the process is ending; the kernel releases the lock anyway
    }
  }
}
