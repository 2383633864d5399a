package dev.paddock.runtime.session;

import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.sandbox.fs.FileStat;
import dev.paddock.sandbox.fs.Listing;
import dev.paddock.sandbox.fs.Upload;
import dev.paddock.sandbox.fs.WorkspaceFileException;
import dev.paddock.sandbox.fs.WorkspaceFiles;
import dev.paddock.sandbox.fs.WorkspaceInputStream;
import dev.paddock.sandbox.fs.WorkspaceRoot;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Files of a session's workspace, read and written from the host without starting anything in
 * the jail (the domain of FileService; see file.proto for the contract). Every call acts on the
 * caller's own ACTIVE session (another tenant's answers NOT_FOUND, a closed one SESSION_CLOSED)
 * and counts as activity. The work itself is done by {@link WorkspaceFiles}, beneath the
 * session's {@link WorkspaceRoot} descriptor, so nothing a tenant plants in its workspace
 * (symlinks out, FIFOs, hard links) can make the host read or write outside it.
 *
 * <p>Errors are {@link PaddockException}s carrying the reasons of errors.proto; their messages
 * name only the caller's own workspace-relative paths. Thread-safe.
 */
public final class WorkspaceService {
  private static final Logger log = LoggerFactory.getLogger(WorkspaceService.class);

  /** Mode of an uploaded file when the request gives 0: rw-r--r--. */
  public static final int DEFAULT_FILE_MODE = 0644;
  /** Mode of a new directory when the request gives 0: rwxr-xr-x. */
  public static final int DEFAULT_DIRECTORY_MODE = 0755;
  /** Entries of a listing page when the request gives 0. */
  public static final int DEFAULT_PAGE_SIZE = 1000;
  /** Largest listing page; larger requests get this many. */
  public static final int MAX_PAGE_SIZE = 10_000;
  /** Deepest recursive listing, in levels below the listed directory; 0 (no limit) means this. */
  public static final int MAX_LIST_DEPTH = WorkspaceFiles.MAX_LIST_DEPTH;

  private static final String TOKEN_VERSION = "f1";

  private final SessionManager sessions;
  private final int ownerUid;
  private final int ownerGid;

  /**
   * @param ownerUid host uid that owns what the host creates in a workspace (the sandbox user)
   * @param ownerGid host gid likewise
   */
  public WorkspaceService(SessionManager sessions, int ownerUid, int ownerGid) {
    this.sessions = sessions;
    this.ownerUid = ownerUid;
    this.ownerGid = ownerGid;
  }

  /**
   * What to upload (UploadFileHeader).
   *
   * @param mode permission bits, at most 0777; 0 = {@link #DEFAULT_FILE_MODE}
   * @param sizeBytes bytes the client announced; 0 = unknown, negative = more than 2^63 - 1
   */
  public record UploadSpec(String sessionId, String path, int mode, boolean overwrite, boolean makeParents,
      long sizeBytes) {}

  /** One page of a listing and the token of the next ("" when this is the last). */
  public record FilePage(List<FileStat> files, String nextPageToken) {
    public FilePage {
      files = List.copyOf(files);
    }
  }

  /** A directory and whether this call created it. */
  public record MadeDirectory(FileStat directory, boolean created) {}

  // ---- upload --------------------------------------------------------------------------------

  /**
   * Starts an upload. Nothing is visible at {@code spec.path()} until {@link PendingUpload#commit()}
   * succeeds; a failed or aborted upload leaves nothing behind.
   */
  public PendingUpload beginUpload(Principal caller, UploadSpec spec) {
    Session s = active(caller, spec.sessionId(), "header.session_id");
    checkTenantWorkspaces(s, Math.max(0, spec.sizeBytes()));
    if (isRoot(spec.path())) {
      throw new PaddockException.InvalidArgument("header.path", "is required (a file, not the workspace root)");
    }
    long maxFileBytes = maxFileBytes(s);
    if (spec.sizeBytes() < 0 || spec.sizeBytes() > maxFileBytes) {
      throw PaddockException.InvalidArgument.tooLarge("header.size_bytes", maxFileBytes,
          "announces " + Long.toUnsignedString(spec.sizeBytes()) + " bytes, more than the session's limit of "
              + maxFileBytes + " bytes per file");
    }
    Op op = new Op(s, "header.path", "header.mode", "file");
    try {
      Upload upload = files(s).beginUpload(spec.path(), spec.mode() == 0 ? DEFAULT_FILE_MODE : spec.mode(),
          spec.overwrite(), spec.makeParents());
      return new PendingUpload(caller, s, upload, spec.sizeBytes(), maxFileBytes);
    } catch (WorkspaceFileException e) {
      throw map(e, op);
    }
  }

  /**
   * A file being uploaded: bytes go to a hidden temporary file beside the target, which replaces
   * the target in one step on {@link #commit()}. Not thread-safe: one writer at a time (a gRPC
   * stream's callbacks are serialized).
   */
  public final class PendingUpload implements AutoCloseable {
    private final Principal caller;
    private final Session session;
    private final Upload upload;
    private final long announced;
    private final long maxFileBytes;
    private final Op op;

    private PendingUpload(Principal caller, Session session, Upload upload, long announced, long maxFileBytes) {
      this.caller = caller;
      this.session = session;
      this.upload = upload;
      this.announced = announced;
      this.maxFileBytes = maxFileBytes;
      this.op = new Op(session, "header.path", "header.mode", "file");
    }

    /** The workspace-relative target path. */
    public String path() {
      return upload.path();
    }

    /**
     * Appends bytes. More than the announced size, more than the session's max_file_bytes, a full
     * workspace, or the session closing aborts the upload and throws (INVALID_ARGUMENT,
     * PAYLOAD_TOO_LARGE, WORKSPACE_FULL, SESSION_CLOSED). Each write counts as session activity,
     * so a long upload keeps its session from idling out.
     */
    public void write(byte[] b, int off, int len) {
      try {
        sessions.active(caller, session.id());
      } catch (RuntimeException e) {
        upload.abort();
        throw e;
      }
      if (upload.bytesWritten() / CHECK_EVERY_BYTES != (upload.bytesWritten() + len) / CHECK_EVERY_BYTES) {
        try {
          checkTenantWorkspaces(session, len);
        } catch (RuntimeException e) {
          upload.abort();
          throw e;
        }
      }
      if (announced > 0 && len > announced - upload.bytesWritten()) {
        upload.abort();
        throw new PaddockException.InvalidArgument("header.size_bytes",
            "more bytes were sent than the " + announced + " announced; nothing was written");
      }
      try {
        upload.write(b, off, len);
      } catch (WorkspaceFileException e) {
        if (e.kind() == WorkspaceFileException.Kind.TOO_LARGE) {
          throw PaddockException.InvalidArgument.tooLarge("data", maxFileBytes, "more than the session's limit of " + maxFileBytes + " bytes per file");
        }
        throw map(e, op);
      }
    }

    /**
     * Makes the upload the file at its path, if the session is still active and exactly the
     * announced number of bytes (if any) arrived; otherwise aborts it and throws.
     *
     * @return the file as written
     */
    public FileStat commit() {
      if (announced > 0 && upload.bytesWritten() != announced) {
        upload.abort();
        throw new PaddockException.InvalidArgument("header.size_bytes",
            upload.bytesWritten() + " bytes were sent but " + announced + " announced; nothing was written");
      }
      try {
        sessions.active(caller, session.id());
      } catch (RuntimeException e) {
        upload.abort();
        throw e;
      }
      try {
        FileStat written = upload.commit();
        log.debug("session {}: file written: upload {} ({} bytes)", session.id(), written.path(), written.sizeBytes());
        return written;
      } catch (WorkspaceFileException e) {
        throw map(e, op);
      }
    }

    /** Drops the upload: the temporary file is removed, the target untouched. Idempotent. */
    public void abort() {
      upload.abort();
    }

    /** Aborts unless committed. */
    @Override
    public void close() {
      upload.abort();
    }
  }

  // ---- reading -------------------------------------------------------------------------------

  /**
   * Opens a regular file for reading {@code length} bytes from byte {@code offset} (a file's
   * description is in {@link WorkspaceInputStream#stat()}). The caller closes the stream.
   *
   * @param offset first byte, at least 0 (past the end: nothing to read)
   * @param length most bytes to read; 0 = to the end
   */
  public WorkspaceInputStream openRead(Principal caller, String sessionId, String path, long offset, long length) {
    Session s = active(caller, sessionId, "session_id");
    required(path, "path");
    try {
      WorkspaceInputStream in = files(s).openRead(path, offset, length == 0 ? Long.MAX_VALUE : length);
      log.debug("session {}: file read: {}", s.id(), in.stat().path());
      return in;
    } catch (WorkspaceFileException e) {
      throw map(e, new Op(s, "path", "offset", "file"));
    }
  }

  /** Describes {@code path} without following a final symlink; empty when nothing is there. */
  public Optional<FileStat> stat(Principal caller, String sessionId, String path) {
    Session s = active(caller, sessionId, "session_id");
    try {
      return files(s).stat(path);
    } catch (WorkspaceFileException e) {
      throw map(e, new Op(s, "path", "path", "file"));
    }
  }

  /**
   * One page of the entries under directory {@code path}, in path order (see
   * {@link WorkspaceFiles#list}). Symlinks are listed, never followed.
   *
   * @param depth with {@code recursive}: levels to descend, 1 to {@value #MAX_LIST_DEPTH}; 0 = {@value #MAX_LIST_DEPTH}
   * @param pageSize 0 = {@value #DEFAULT_PAGE_SIZE}; capped at {@value #MAX_PAGE_SIZE}
   * @param pageToken "" for the first page, else the previous page's token for the same path,
   *     recursive and depth
   */
  public FilePage list(Principal caller, String sessionId, String path, boolean recursive, long depth, long pageSize,
      String pageToken) {
    if (recursive && (depth < 0 || depth > MAX_LIST_DEPTH)) {
      throw new PaddockException.InvalidArgument("depth", "must be 0 (no limit: " + MAX_LIST_DEPTH
          + " levels) to " + MAX_LIST_DEPTH);
    }
    int levels = !recursive ? 1 : depth == 0 ? MAX_LIST_DEPTH : (int) depth;
    int size = pageSize <= 0 ? DEFAULT_PAGE_SIZE : (int) Math.min(pageSize, MAX_PAGE_SIZE);
    String dir = path == null || path.equals(".") ? "" : path;
    String after = decodePageToken(pageToken, dir, recursive, levels);
    Session s = active(caller, sessionId, "session_id");
    Listing listing;
    try {
      listing = files(s).list(dir, recursive, levels, size, after);
    } catch (WorkspaceFileException e) {
      throw map(e, new Op(s, "path", after.isEmpty() ? "path" : "page_token", "directory"));
    }
    List<FileStat> entries = listing.entries();
    String next = listing.truncated() && !entries.isEmpty()
        ? encodePageToken(dir, recursive, levels, entries.get(entries.size() - 1).path())
        : "";
    return new FilePage(entries, next);
  }

  // ---- changing ------------------------------------------------------------------------------

  /** Removes a file, symlink (never its target) or directory (with {@code recursive}, a whole tree). */
  public void remove(Principal caller, String sessionId, String path, boolean recursive) {
    Session s = active(caller, sessionId, "session_id");
    if (isRoot(path)) {
      throw new PaddockException.InvalidArgument("path", "the workspace root cannot be removed");
    }
    try {
      files(s).remove(path, recursive);
      log.debug("session {}: file written: remove {}", s.id(), path);
    } catch (WorkspaceFileException e) {
      throw map(e, new Op(s, "path", "recursive", "file"));
    }
  }

  /**
   * Creates a directory ({@code mode} 0 = {@value #DEFAULT_DIRECTORY_MODE} octal); an existing
   * directory is not an error (created = false), anything else there is FILE_ALREADY_EXISTS.
   */
  public MadeDirectory makeDirectory(Principal caller, String sessionId, String path, int mode, boolean parents) {
    Session s = active(caller, sessionId, "session_id");
    required(path, "path");
    Op op = new Op(s, "path", "mode", "directory");
    WorkspaceFiles files = files(s);
    try {
      boolean created;
      try {
        created = files.makeDirectory(path, mode == 0 ? DEFAULT_DIRECTORY_MODE : mode, parents);
      } catch (WorkspaceFileException e) {
        if (e.kind() != WorkspaceFileException.Kind.ALREADY_EXISTS
            || !files.stat(path).map(FileStat::isDirectory).orElse(false)) {
          throw e;
        }
        created = false;
      }
      FileStat dir = files.stat(path).orElseThrow(() -> new PaddockException.NotFound(ErrorReason.FILE_NOT_FOUND,
          "'" + path + "': removed while it was being created", Map.of("path", path)));
      if (created) {
        log.debug("session {}: file written: mkdir {}", s.id(), dir.path());
      }
      return new MadeDirectory(dir, created);
    } catch (WorkspaceFileException e) {
      throw map(e, op);
    }
  }

  /** Renames or moves an entry within the workspace; returns it at its new path. */
  public FileStat rename(Principal caller, String sessionId, String fromPath, String toPath, boolean overwrite) {
    Session s = active(caller, sessionId, "session_id");
    required(fromPath, "from_path");
    required(toPath, "to_path");
    checkPath(s, fromPath, "from_path");
    checkPath(s, toPath, "to_path");
    if (isRoot(fromPath)) {
      throw new PaddockException.InvalidArgument("from_path", "the workspace root cannot be renamed");
    }
    if (isRoot(toPath)) {
      throw new PaddockException.InvalidArgument("to_path", "the workspace root cannot be replaced");
    }
    WorkspaceFiles files = files(s);
    try {
      FileStat moved = files.rename(fromPath, toPath, overwrite);
      log.debug("session {}: file written: rename {} -> {}", s.id(), fromPath, toPath);
      return moved;
    } catch (WorkspaceFileException e) {
      boolean aboutTo = e.path().equals(toPath) && !e.path().equals(fromPath);
      String expected = "file";
      if (e.kind() == WorkspaceFileException.Kind.WRONG_FILE_TYPE) {
        // renameat2 refuses a directory onto a file, and a file onto a directory: name what to_path needs
        expected = statQuietly(files, toPath).map(FileStat::isDirectory).orElse(false) ? "file" : "directory";
      }
      throw map(e, new Op(s, aboutTo ? "to_path" : "from_path", "overwrite", expected));
    }
  }

  /**
   * Sets the permission bits (at most 0777) of a regular file or directory. A symbolic link is
   * refused with INVALID_ARGUMENT: links are never followed and their own mode cannot change.
   */
  public FileStat chmod(Principal caller, String sessionId, String path, int mode) {
    Session s = active(caller, sessionId, "session_id");
    required(path, "path");
    WorkspaceFiles files = files(s);
    try {
      FileStat changed = files.chmod(path, mode);
      log.debug("session {}: file written: chmod {} {}", s.id(), changed.path(), Integer.toOctalString(mode));
      return changed;
    } catch (WorkspaceFileException e) {
      if (e.kind() == WorkspaceFileException.Kind.WRONG_FILE_TYPE
          && statQuietly(files, path).map(FileStat::isSymlink).orElse(false)) {
        throw new PaddockException.InvalidArgument("path",
            e.path().isEmpty() ? e.getMessage() : quote(e.path()) + ": is a symbolic link; its own mode cannot change");
      }
      throw map(e, new Op(s, "path", "mode", "file"));
    }
  }

  // ---- shared --------------------------------------------------------------------------------

  private Session active(Principal caller, String sessionId, String field) {
    if (sessionId == null || sessionId.isEmpty()) {
      throw new PaddockException.InvalidArgument(field, "is required");
    }
    return sessions.active(caller, sessionId);
  }

  /** How often a long upload re-checks its tenant's workspaces, bytes. */
  private static final long CHECK_EVERY_BYTES = 8L << 20;
  private volatile java.util.function.ToLongFunction<String> tenantBudget = tenantId -> 0;

  /**
   * The bytes a tenant's workspaces may hold together ({@code 0} = no limit), asked before the host
   * writes into one. Files the host writes (uploads, tools' IPC writes) are charged to the host's
   * memory cgroup, not the tenant's, so its kernel budget does not hold them: this does.
   */
  public void tenantBudget(java.util.function.ToLongFunction<String> budget) {
    this.tenantBudget = budget;
  }

  /** Refuses a host write of {@code more} bytes that would take the tenant's workspaces past its budget. */
  private void checkTenantWorkspaces(Session s, long more) {
    long budget = tenantBudget.applyAsLong(s.tenantId());
    if (budget <= 0) {
      return;
    }
    long used = 0;
    for (Session other : sessions.activeSessions(s.tenantId())) {
      WorkspaceRoot root = other.jail().workspace();
      if (root != null) {
        try {
          used += root.usedBytes();
        } catch (WorkspaceFileException e) {
          // a workspace going away holds nothing more
        }
      }
    }
    if (used + more > budget) {
      throw new PaddockException.ResourceExhausted(ErrorReason.TENANT_MEMORY_BUDGET_EXCEEDED,
          "the tenant's workspaces hold " + used + " bytes; writing " + more + " more would pass its memory budget of "
              + budget + " bytes", "tenant:" + s.tenantId(),
          Map.of("tenantId", s.tenantId(), "memoryLimitBytes", Long.toString(budget),
              "memoryInUseBytes", Long.toString(used), "memoryRequestedBytes", Long.toString(more)));
    }
  }

  private WorkspaceFiles files(Session s) {
    WorkspaceRoot root = s.jail().workspace();
    if (root == null) {
      throw new PaddockException.Internal(ErrorReason.SANDBOX_SETUP_FAILED, "the session's workspace is not available",
          Map.of("stage", "workspace"), null);
    }
    return new WorkspaceFiles(root, ownerUid, ownerGid, maxFileBytes(s));
  }

  private static long maxFileBytes(Session s) {
    return s.policy().limits().maxFileBytes();
  }

  /** A path field documented as required: "" is refused ("." still names the root where that is allowed). */
  private static void required(String path, String field) {
    if (path == null || path.isEmpty()) {
      throw new PaddockException.InvalidArgument(field, "is required");
    }
  }

  private static boolean isRoot(String path) {
    return path == null || path.isEmpty() || path.equals(".");
  }

  private void checkPath(Session s, String path, String field) {
    try {
      WorkspaceFiles.checkPath(path);
    } catch (WorkspaceFileException e) {
      throw map(e, new Op(s, field, field, "file"));
    }
  }

  private static Optional<FileStat> statQuietly(WorkspaceFiles files, String path) {
    try {
      return files.stat(path);
    } catch (WorkspaceFileException e) {
      return Optional.empty();
    }
  }

  /**
   * How one operation names things in its errors: the request field of its path, of its other
   * argument (a mode), and the file type it needs where a path has the wrong one.
   */
  private record Op(Session session, String pathField, String argumentField, String expected) {}

  /** The one place a workspace failure becomes a typed, tenant-safe error. */
  private PaddockException map(WorkspaceFileException e, Op op) {
    String path = e.path();
    String message = e.getMessage();
    return switch (e.kind()) {
      case INVALID_PATH, ESCAPES_WORKSPACE -> new PaddockException.InvalidArgument(op.pathField(), message);
      case INVALID_ARGUMENT -> new PaddockException.InvalidArgument(op.argumentField(), message);
      case NOT_FOUND -> new PaddockException.NotFound(ErrorReason.FILE_NOT_FOUND, message, Map.of("path", path));
      case ALREADY_EXISTS -> new PaddockException.AlreadyExists(ErrorReason.FILE_ALREADY_EXISTS, message, Map.of("path", path));
      case WRONG_FILE_TYPE, HARD_LINKED -> new PaddockException.FailedPrecondition(ErrorReason.WRONG_FILE_TYPE, message,
          Map.of("path", path, "expected", op.expected()));
      case NOT_EMPTY -> new PaddockException.FailedPrecondition(ErrorReason.DIRECTORY_NOT_EMPTY, message, Map.of("path", path));
      case NO_SPACE -> new PaddockException.ResourceExhausted(ErrorReason.WORKSPACE_FULL,
          "the session's workspace is full (its size or inode limit was reached)" + (path.isEmpty() ? "" : " writing "
              + quote(path)),
          "session:" + op.session().id(), Map.of("sessionId", op.session().id()));
      case TOO_LARGE -> PaddockException.InvalidArgument.tooLarge(op.pathField(), maxFileBytes(op.session()), message);
      case IO -> op.session().state() != Session.State.ACTIVE
          ? SessionManager.sessionClosed(op.session()) // the workspace went with the session
          : new PaddockException.Internal(message, e);
    };
  }

  private static String quote(String path) {
    return "'" + path + "'";
  }

  // ---- page tokens ---------------------------------------------------------------------------

  /**
   * A page token: the listing it belongs to (path, recursive, depth) and the last path returned,
   * NUL-separated (no path contains NUL), base64url. Not signed: a forged token can only resume
   * somewhere else in the caller's own workspace.
   */
  private static String encodePageToken(String dir, boolean recursive, int depth, String lastPath) {
    String raw = String.join("\0", TOKEN_VERSION, dir, recursive ? "r" : "-", Integer.toString(depth), lastPath);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** The last path of the previous page ("" for the first page). */
  private static String decodePageToken(String token, String dir, boolean recursive, int depth) {
    if (token == null || token.isEmpty()) {
      return "";
    }
    try {
      String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      String[] parts = raw.split("\0", 5);
      if (parts.length == 5 && parts[0].equals(TOKEN_VERSION) && parts[1].equals(dir)
          && parts[2].equals(recursive ? "r" : "-") && parts[3].equals(Integer.toString(depth))
          && !parts[4].isEmpty()) {
        return parts[4];
      }
    } catch (IllegalArgumentException e) {
      // not base64: fall through
    }
    throw new PaddockException.InvalidArgument("page_token",
        "is not a token from a previous ListFiles answer with the same path, recursive and depth");
  }
}
