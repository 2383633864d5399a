package dev.paddock.audit.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Small files that must survive a power cut whole or not at all: checkpoints, key files, vault
 * files. Each is written to a temporary file beside it, fsynced, renamed over, and the directory is
 * fsynced, so after a crash the name holds either the old bytes or the new ones.
 */
public final class DurableFiles {
  /** Readable and writable by the owner only. */
  public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private DurableFiles() {}

  /** Replaces (or creates) {@code target} with {@code bytes}; {@code mode} applies when non-null. */
  public static void replace(Path target, byte[] bytes, Set<PosixFilePermission> mode) throws IOException {
    Path temp = writeTemp(target, bytes, mode);
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.deleteIfExists(temp);
      throw new IOException("the file system of " + target.toAbsolutePath().getParent() + " cannot rename atomically", e);
    }
    syncDirectory(target.toAbsolutePath().getParent());
  }

  /** Creates {@code target} with {@code bytes}, durably; never over an existing file. */
  public static void createNew(Path target, byte[] bytes, Set<PosixFilePermission> mode) throws IOException {
    if (Files.exists(target)) {
      throw new FileAlreadyExistsException(target.toString());
    }
    Path temp = writeTemp(target, bytes, mode);
    if (Files.exists(target)) {
      Files.delete(temp);
      throw new FileAlreadyExistsException(target.toString());
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    syncDirectory(target.toAbsolutePath().getParent());
  }

  /** Makes the directory's entries (a rename, a new file) durable. */
  public static void syncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /**
   * Refuses a secret-holding file that its group or others may read or change.
   *
   * @param what names the file in the error, e.g. "the vault master key"
   */
  public static void requireOwnerOnly(Path file, String what) throws IOException {
    Set<PosixFilePermission> open = EnumSet.copyOf(Files.getPosixFilePermissions(file));
    open.retainAll(EnumSet.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE));
    if (!open.isEmpty()) {
      throw new IOException(what + " " + file + " may be read or changed by others (" + open
          + "); make it readable by its owner only (chmod 600)");
    }
  }

  /** {@code bytes} in a fresh, fsynced {@code <target>.tmp}. */
  private static Path writeTemp(Path target, byte[] bytes, Set<PosixFilePermission> mode) throws IOException {
    Path temp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.deleteIfExists(temp);
    FileAttribute<?>[] attributes = mode == null ? new FileAttribute<?>[0]
        : new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)};
    try (FileChannel channel = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        attributes)) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    }
    return temp;
  }
}
