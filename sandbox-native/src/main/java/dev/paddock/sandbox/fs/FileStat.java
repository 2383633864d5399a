package dev.paddock.sandbox.fs;

import java.time.Instant;

/**
 * What a workspace entry is, lstat-style: a symlink is described, never followed.
 *
 * @param path workspace-relative path, '/'-separated ("" for the workspace root); names that are
 *     not valid UTF-8 are shown with U+FFFD and cannot be passed back
 * @param name the last component ("" for the root)
 * @param type the entry's own type
 * @param sizeBytes size in bytes (for a symlink, the length of its target)
 * @param mode permission bits, {@code st_mode & 07777}
 * @param symlinkTarget the link's target text for a {@link FileType#SYMLINK} (not resolved, possibly
 *     pointing anywhere), "" for every other type
 * @param modifyTime last modification time (st_mtime), nanosecond precision
 */
public record FileStat(
    String path, String name, FileType type, long sizeBytes, int mode, String symlinkTarget,
    Instant modifyTime) {

  /** True for a directory. */
  public boolean isDirectory() {
    return type == FileType.DIRECTORY;
  }

  /** True for a symbolic link. */
  public boolean isSymlink() {
    return type == FileType.SYMLINK;
  }

  /** True for a regular file. */
  public boolean isRegularFile() {
    return type == FileType.REGULAR;
  }
}
