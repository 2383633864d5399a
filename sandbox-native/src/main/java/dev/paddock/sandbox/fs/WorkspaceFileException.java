package dev.paddock.sandbox.fs;

/**
 * A workspace file operation was refused or failed. The message is meant for the tenant: it names
 * the workspace-relative path the caller gave (sanitised) and never a host path, errno or stack
 * trace. The cause, when there is one, is a {@code NativeException} for host logs only.
 */
public final class WorkspaceFileException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why the operation failed; each maps to one canonical gRPC code (given in brackets). */
  public enum Kind {
    /** The path broke a path rule: absolute, "..", NUL or control characters, too long [INVALID_ARGUMENT]. */
    INVALID_PATH,
    /** Another argument was out of range, e.g. mode bits outside 0777 [INVALID_ARGUMENT]. */
    INVALID_ARGUMENT,
    /** The path, or a directory on the way to it, does not exist [NOT_FOUND]. */
    NOT_FOUND,
    /** Something already exists where the operation would create something [ALREADY_EXISTS]. */
    ALREADY_EXISTS,
    /**
     * The entry is not of a type the operation accepts: a directory where a file is needed, a
     * symlink, FIFO or socket where a regular file is needed, and so on [FAILED_PRECONDITION].
     */
    WRONG_FILE_TYPE,
    /** A directory to remove or replace is not empty [FAILED_PRECONDITION]. */
    NOT_EMPTY,
    /**
     * Resolving the path would leave the workspace: through a symlink pointing outside (absolute
     * or via ".."), across a mount point, or through a symlink loop [INVALID_ARGUMENT, as file.proto
     * documents: the path is unusable, whatever the caller is allowed].
     */
    ESCAPES_WORKSPACE,
    /**
     * A regular file has more than one hard link, so its inode may be shared with a file outside
     * the workspace; it is not read or changed (it may still be stat-ed, renamed or removed)
     * [FAILED_PRECONDITION].
     */
    HARD_LINKED,
    /** The workspace filesystem is full (ENOSPC, EDQUOT) [RESOURCE_EXHAUSTED]. */
    NO_SPACE,
    /** An upload went past the per-file byte limit [INVALID_ARGUMENT, reason PAYLOAD_TOO_LARGE]. */
    TOO_LARGE,
    /** Anything else: an unexpected error, or a tree that kept changing under the operation [INTERNAL or ABORTED]. */
    IO
  }

  private final Kind kind;
  private final String path;

  WorkspaceFileException(Kind kind, String path, String message) {
    super(message);
    this.kind = kind;
    this.path = path;
  }

  WorkspaceFileException(Kind kind, String path, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.path = path;
  }

  /** Why it failed. */
  public Kind kind() {
    return kind;
  }

  /** The workspace-relative path the failure concerns, sanitised for display ("" for the root). */
  public String path() {
    return path;
  }
}
