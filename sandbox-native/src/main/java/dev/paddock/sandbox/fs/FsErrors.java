package dev.paddock.sandbox.fs;

import static dev.paddock.sandbox.fs.internal.FsSyscalls.EDQUOT;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.EEXIST;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.EFBIG;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.EISDIR;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ELOOP;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.EMLINK;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ENAMETOOLONG;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ENOENT;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ENOSPC;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ENOTDIR;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ENOTEMPTY;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.EXDEV;

import dev.paddock.sandbox.fs.WorkspaceFileException.Kind;
import dev.paddock.sandbox.linux.NativeException;

/** The one place errno values become {@link Kind}s and tenant-facing messages. */
final class FsErrors {
  private FsErrors() {}

  static WorkspaceFileException of(Kind kind, String path, String what) {
    return new WorkspaceFileException(kind, path, WorkspacePath.quote(path) + ": " + what);
  }

  static WorkspaceFileException escapes(String path, NativeException cause) {
    return new WorkspaceFileException(Kind.ESCAPES_WORKSPACE, path, WorkspacePath.quote(path)
        + ": resolves outside the workspace (a symbolic link leading out, a mount point, or a symlink loop)",
        cause);
  }

  static WorkspaceFileException changing(String path) {
    return of(Kind.IO, path, "kept changing while the operation ran; try again");
  }

  /**
   * The usual meaning of {@code e} for an operation on {@code path}. Call sites that know better
   * (e.g. which of two names an EEXIST is about) handle those errno values before calling this.
   */
  static WorkspaceFileException map(NativeException e, String path) {
    int errno = e.rawErrno();
    if (errno == ENOENT || errno == ENOTDIR) {
      return new WorkspaceFileException(Kind.NOT_FOUND, path,
          WorkspacePath.quote(path) + ": no such file or directory", e);
    }
    if (errno == EXDEV || errno == ELOOP) {
      return escapes(path, e);
    }
    String quoted = WorkspacePath.quote(path);
    if (errno == EEXIST) {
      return new WorkspaceFileException(Kind.ALREADY_EXISTS, path, quoted + ": already exists", e);
    }
    if (errno == ENOTEMPTY) {
      return new WorkspaceFileException(Kind.NOT_EMPTY, path, quoted + ": directory not empty", e);
    }
    if (errno == EISDIR) {
      return new WorkspaceFileException(Kind.WRONG_FILE_TYPE, path, quoted + ": is a directory", e);
    }
    if (errno == ENOSPC || errno == EDQUOT || errno == EMLINK) {
      return new WorkspaceFileException(Kind.NO_SPACE, path, quoted + ": no space left in the workspace", e);
    }
    if (errno == EFBIG) {
      return new WorkspaceFileException(Kind.TOO_LARGE, path, quoted + ": file too large", e);
    }
    if (errno == ENAMETOOLONG) {
      return new WorkspaceFileException(Kind.INVALID_PATH, path, quoted + ": name too long", e);
    }
    return new WorkspaceFileException(Kind.IO, path, quoted + ": the operation failed", e);
  }
}
