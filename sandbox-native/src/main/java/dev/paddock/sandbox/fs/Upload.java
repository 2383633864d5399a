package dev.paddock.sandbox.fs;

import static dev.paddock.sandbox.fs.internal.FsSyscalls.EEXIST;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.EISDIR;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ENOTEMPTY;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.RENAME_NOREPLACE;

import dev.paddock.sandbox.fs.WorkspaceFileException.Kind;
import dev.paddock.sandbox.fs.internal.FsSyscalls;
import dev.paddock.sandbox.linux.NativeException;

/**
 * A file being uploaded, from {@link WorkspaceFiles#beginUpload}. The bytes go to a new temporary
 * file ({@code .paddock-upload-<random>}, 0600, created with the workspace owner's filesystem ids)
 * in the target's directory; {@link #commit()} gives it the owner and mode, then renames it onto
 * the target in one step, so the target is either untouched or wholly the new content.
 * {@link #abort()} (and {@link #close()} before a commit) removes the temporary file.
 *
 * <p>No fsync: the workspace is a tmpfs, where fsync does nothing, and a workspace does not
 * outlive its host.
 *
 * <p>Holds two descriptors (the directory and the temporary file) until committed or aborted.
 * Not thread-safe: one writer at a time.
 */
public final class Upload implements AutoCloseable {
  private final FsSyscalls sys;
  private final int dirFd;
  private final int fileFd;
  private final byte[] tempName;
  private final byte[] name;
  private final String path;
  private final String nameText;
  private final int mode;
  private final boolean overwrite;
  private final int ownerUid;
  private final int ownerGid;
  private final long maxBytes;
  private long written;
  private boolean finished;

  Upload(FsSyscalls sys, int dirFd, int fileFd, byte[] tempName, WorkspacePath target, int mode,
      boolean overwrite, int ownerUid, int ownerGid, long maxBytes) {
    this.sys = sys;
    this.dirFd = dirFd;
    this.fileFd = fileFd;
    this.tempName = tempName;
    this.name = target.name();
    this.path = target.display();
    this.nameText = target.nameText();
    this.mode = mode;
    this.overwrite = overwrite;
    this.ownerUid = ownerUid;
    this.ownerGid = ownerGid;
    this.maxBytes = maxBytes;
  }

  /** The workspace-relative target path. */
  public String path() {
    return path;
  }

  /** Bytes written so far. */
  public long bytesWritten() {
    return written;
  }

  /**
   * Appends {@code len} bytes. Past the per-file limit it fails with {@link Kind#TOO_LARGE}; a full
   * workspace gives {@link Kind#NO_SPACE}. Any failure aborts the upload (the temporary file is
   * removed); the target is untouched.
   */
  public void write(byte[] b, int off, int len) throws WorkspaceFileException {
    checkOpen();
    if (len > maxBytes - written) {
      abort();
      throw FsErrors.of(Kind.TOO_LARGE, path, "larger than the limit of " + maxBytes + " bytes");
    }
    try {
      sys.writeFully(fileFd, b, off, len);
      written += len;
    } catch (NativeException e) {
      abort();
      throw FsErrors.map(e, path);
    }
  }

  /** Appends all of {@code b}. */
  public void write(byte[] b) throws WorkspaceFileException {
    write(b, 0, b.length);
  }

  /**
   * Makes the upload the target: chown to the workspace owner, chmod to the requested mode, then
   * renameat2 onto the target (RENAME_NOREPLACE unless overwriting). A directory that appeared at
   * the target gives {@link Kind#WRONG_FILE_TYPE}; a file that appeared there when not
   * overwriting, {@link Kind#ALREADY_EXISTS}. Either way the upload is then aborted.
   *
   * @return the new file as committed
   */
  public FileStat commit() throws WorkspaceFileException {
    checkOpen();
    try {
      sys.fchown(fileFd, ownerUid, ownerGid);
      sys.fchmod(fileFd, mode);
      FsSyscalls.Stat mine = sys.fstat(fileFd);
      // The tenant can rename entries in its own directory; only move what is still our file.
      if (!sys.statAt(dirFd, tempName).sameFile(mine)) {
        throw FsErrors.changing(path);
      }
      try {
        // As the owner: a new name in a workspace mounted in the jail's user namespace (see FsSyscalls#asFsIds).
        sys.asFsIds(ownerUid, ownerGid, () -> {
          sys.renameat2(dirFd, tempName, dirFd, name, overwrite ? 0 : RENAME_NOREPLACE);
          return null;
        });
      } catch (NativeException e) {
        if (e.rawErrno() == EISDIR || e.rawErrno() == ENOTEMPTY) {
          throw FsErrors.of(Kind.WRONG_FILE_TYPE, path, "is a directory");
        }
        if (e.rawErrno() == EEXIST) {
          throw FsErrors.of(Kind.ALREADY_EXISTS, path, "already exists");
        }
        throw e;
      }
      finished = true;
      release();
      return WorkspaceFiles.toFileStat(path, nameText, mine, "");
    } catch (NativeException e) {
      abort();
      throw FsErrors.map(e, path);
    } catch (WorkspaceFileException e) {
      abort();
      throw e;
    }
  }

  /** Drops the upload: removes the temporary file and releases the descriptors. Idempotent. */
  public void abort() {
    if (finished) {
      return;
    }
    finished = true;
    try {
      sys.unlinkat(dirFd, tempName, false);
    } catch (NativeException e) {
      // already gone (or renamed by the tenant): nothing of ours left to remove
    }
    release();
  }

  /** Aborts unless committed. */
  @Override
  public void close() {
    abort();
  }

  private void release() {
    sys.close(fileFd);
    sys.close(dirFd);
  }

  private void checkOpen() {
    if (finished) {
      throw new IllegalStateException("upload already committed or aborted");
    }
  }
}
