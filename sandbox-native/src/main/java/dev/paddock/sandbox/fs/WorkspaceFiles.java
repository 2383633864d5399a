package dev.paddock.sandbox.fs;

import static dev.paddock.sandbox.fs.internal.FsSyscalls.EEXIST;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.EINVAL;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.EISDIR;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ELOOP;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ENOENT;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ENOTDIR;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ENOTEMPTY;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.ENXIO;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.EXDEV;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_CREAT;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_DIRECTORY;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_EXCL;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_NOCTTY;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_NOFOLLOW;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_NONBLOCK;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_PATH;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_RDONLY;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_WRONLY;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.RENAME_NOREPLACE;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.RESOLVE_WORKSPACE;

import dev.paddock.sandbox.fs.WorkspaceFileException.Kind;
import dev.paddock.sandbox.fs.internal.FsSyscalls;
import dev.paddock.sandbox.fs.internal.FsSyscalls.Stat;
import dev.paddock.sandbox.linux.NativeException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * File operations on one session's workspace from the host, safe against the tenant's code
 * changing the workspace at the same moment. See the package documentation for the threat model;
 * in short:
 *
 * <ul>
 *   <li>Every lookup is an openat2 beneath the {@link WorkspaceRoot} descriptor with
 *       RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV: symlinks inside the workspace
 *       are followed in the middle of a path, anything that would leave it (absolute symlinks,
 *       ".." past the root, magic links, mount points) fails with {@link Kind#ESCAPES_WORKSPACE}.
 *   <li>The last component is never followed: it is acted on with a *at call relative to its
 *       parent's descriptor (AT_SYMLINK_NOFOLLOW / O_NOFOLLOW). A symlink is described, renamed,
 *       replaced or removed as a link, and refused where a file or directory is needed.
 *   <li>Nothing is opened in a way that can block: FIFOs are opened O_NONBLOCK and refused.
 *   <li>Recursive walks go from directory descriptor to directory descriptor, never by path
 *       strings, so trees deeper than PATH_MAX work, and they hold a bounded number of descriptors.
 *   <li>Whatever the host creates belongs to the workspace owner (the sandbox user) with the
 *       requested mode (permission bits only: at most 0777).
 * </ul>
 *
 * <p>Paths are workspace-relative and validated before any syscall (see {@link WorkspacePath}
 * rules: no absolute paths, no ".", "..", NUL or control characters, at most 4095 bytes in all
 * and 255 per component); a broken rule gives {@link Kind#INVALID_PATH}.
 *
 * <p>Thread-safe. Does not own the root: whoever opened the {@link WorkspaceRoot} closes it.
 */
public final class WorkspaceFiles {
  /** Deepest recursive listing, in directory levels below the listed directory (one descriptor each). */
  public static final int MAX_LIST_DEPTH = 64;
  /** Most entries one listing returns. */
  public static final int MAX_LIST_ENTRIES = 100_000;
  /** Most directory entries one listing reads (the work bound for huge directories). */
  static final int MAX_SCANNED_NAMES = 4 << 20;
  /** Most directory descriptors a recursive removal holds at once (see {@link #remove}). */
  static final int REMOVE_OPEN_DIRS = 32;
  /** Most entries a recursive removal handles before giving up on a tree that keeps growing. */
  static final long MAX_REMOVE_STEPS = 1L << 26;
  /** How often an operation re-tries after losing a race to the tenant before giving up. */
  static final int MAX_RACE_RETRIES = 64;
  /** Mode of parent directories created on the way by {@code makeParents} / {@code parents}. */
  static final int PARENT_DIRECTORY_MODE = 0755;
  private static final int OPEN_EXISTING = O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
  private static final byte[] DOT = {'.'};

  private final WorkspaceRoot root;
  private final FsSyscalls sys;
  private final int ownerUid;
  private final int ownerGid;
  private final long maxFileBytes;
  private final SecureRandom random = new SecureRandom();

  /**
   * @param root the workspace's root directory descriptor (not owned: not closed here)
   * @param ownerUid host uid that owns what the host creates (the sandbox user, e.g. 99999)
   * @param ownerGid host gid that owns what the host creates
   * @param maxFileBytes largest file an upload may write, in bytes
   */
  public WorkspaceFiles(WorkspaceRoot root, int ownerUid, int ownerGid, long maxFileBytes) {
    if (ownerUid < 0 || ownerGid < 0) {
      throw new IllegalArgumentException("owner uid and gid must be >= 0");
    }
    if (maxFileBytes <= 0) {
      throw new IllegalArgumentException("maxFileBytes must be positive, got " + maxFileBytes);
    }
    this.root = root;
    this.sys = root.sys();
    this.ownerUid = ownerUid;
    this.ownerGid = ownerGid;
    this.maxFileBytes = maxFileBytes;
  }

  /**
   * Checks {@code path} against the path rules without touching the filesystem, for callers that
   * must tell which of several paths is malformed; a broken rule gives {@link Kind#INVALID_PATH}.
   */
  public static void checkPath(String path) throws WorkspaceFileException {
    WorkspacePath.parse(path);
  }

  // ---- reading -------------------------------------------------------------------------------

  /**
   * Describes {@code path} without following a final symlink (lstat). Empty when it, or a
   * directory on the way, does not exist.
   */
  public Optional<FileStat> stat(String path) throws WorkspaceFileException {
    WorkspacePath p = WorkspacePath.parse(path);
    try (WorkspaceRoot.Lease lease = root.lease()) {
      int parentFd;
      try {
        parentFd = sys.openat2(lease.fd(), p.parentBytes(), O_PATH | O_DIRECTORY, RESOLVE_WORKSPACE);
      } catch (NativeException e) {
        if (e.rawErrno() == ENOENT || e.rawErrno() == ENOTDIR) {
          return Optional.empty();
        }
        throw FsErrors.map(e, p.display());
      }
      try (OpenFd parent = new OpenFd(sys, parentFd)) {
        Stat st;
        try {
          st = sys.statAt(parent.fd(), p.name());
        } catch (NativeException e) {
          if (e.rawErrno() == ENOENT) {
            return Optional.empty();
          }
          throw FsErrors.map(e, p.display());
        }
        return Optional.of(describe(parent.fd(), p.name(), p.display(), p.nameText(), st));
      }
    }
  }

  /**
   * Lists directory {@code dir} ("" for the root). Entries come in path order, compared
   * component by component with names in unsigned byte order, so a directory's entries follow
   * it directly (a depth-first walk: "a", "a/z", "a-c", "b"). Symlinks, including symlinks to
   * directories, are listed and never followed.
   *
   * <p>Bounded work: at most {@code maxEntries} entries (capped at {@value #MAX_LIST_ENTRIES}),
   * {@code maxDepth} levels (capped at {@value #MAX_LIST_DEPTH}; one descriptor per level is held
   * while walking), and {@value #MAX_SCANNED_NAMES} names read; memory holds at most
   * {@code maxEntries + 2} pending names however large the directories are.
   *
   * @param recursive false lists direct entries only (as {@code maxDepth = 1})
   * @param maxDepth levels below {@code dir} to list when recursive, at least 1
   * @param maxEntries most entries to return, at least 1
   */
  public Listing list(String dir, boolean recursive, int maxDepth, int maxEntries)
      throws WorkspaceFileException {
    return list(dir, recursive, maxDepth, maxEntries, "");
  }

  /**
   * Lists like {@link #list(String, boolean, int, int)}, resuming after {@code startAfter}: the
   * {@link FileStat#path()} of an entry a previous listing of the same {@code dir} returned ("" =
   * from the start). Only entries after it in path order are returned, and subtrees that lie
   * wholly before it are not walked again, so paging through a large tree costs each page its own
   * size, not the size of everything before it. {@code startAfter} need not exist any more: the
   * listing resumes where it would sort. It is compared by its UTF-8 bytes, so at a page boundary
   * next to a name that is not valid UTF-8 (shown with U+FFFD) an entry may repeat or be skipped.
   *
   * @param startAfter workspace-relative path beneath {@code dir}, or "" for the first page
   */
  public Listing list(String dir, boolean recursive, int maxDepth, int maxEntries, String startAfter)
      throws WorkspaceFileException {
    WorkspacePath p = WorkspacePath.parse(dir);
    if (maxEntries < 1) {
      throw FsErrors.of(Kind.INVALID_ARGUMENT, p.display(), "maxEntries must be at least 1");
    }
    if (recursive && maxDepth < 1) {
      throw FsErrors.of(Kind.INVALID_ARGUMENT, p.display(), "maxDepth must be at least 1");
    }
    List<byte[]> after = resumePoint(p, startAfter);
    int wantedDepth = recursive ? maxDepth : 1;
    int depth = Math.min(wantedDepth, MAX_LIST_DEPTH);
    int limit = Math.min(maxEntries, MAX_LIST_ENTRIES);
    try (WorkspaceRoot.Lease lease = root.lease()) {
      return new ListWalk(depth, wantedDepth, limit, after).run(openDirectory(lease.fd(), p), p.display());
    }
  }

  /** The components of {@code startAfter} below {@code dir}, as UTF-8 bytes; empty for "". */
  private static List<byte[]> resumePoint(WorkspacePath dir, String startAfter) throws WorkspaceFileException {
    if (startAfter == null || startAfter.isEmpty()) {
      return List.of();
    }
    String prefix = dir.isRoot() ? "" : dir.display() + "/";
    if (!startAfter.startsWith(prefix) || startAfter.length() == prefix.length()) {
      throw FsErrors.of(Kind.INVALID_ARGUMENT, dir.display(), "the resume point is not beneath the listed directory");
    }
    List<byte[]> parts = new ArrayList<>();
    for (String part : startAfter.substring(prefix.length()).split("/", -1)) {
      if (part.isEmpty()) {
        throw FsErrors.of(Kind.INVALID_ARGUMENT, dir.display(), "the resume point has an empty component");
      }
      parts.add(part.getBytes(StandardCharsets.UTF_8));
    }
    return List.copyOf(parts);
  }

  /**
   * Opens regular file {@code path} for reading from its start. See
   * {@link #openRead(String, long, long)}.
   */
  public WorkspaceInputStream openRead(String path) throws WorkspaceFileException {
    return openRead(path, 0, Long.MAX_VALUE);
  }

  /**
   * Opens regular file {@code path} for reading {@code maxBytes} bytes from byte {@code offset}.
   * The entry is checked on an O_PATH|O_NOFOLLOW descriptor before it is opened for real
   * (O_RDONLY|O_NOFOLLOW|O_NONBLOCK, compared with the checked inode, then made blocking again),
   * so a FIFO, socket or device node is never opened and a symlink never followed: anything but
   * a regular file gives {@link Kind#WRONG_FILE_TYPE}, a regular file with other hard links
   * {@link Kind#HARD_LINKED}.
   *
   * @param offset first byte to read, at least 0
   * @param maxBytes most bytes to read, at least 0 ({@link Long#MAX_VALUE}: to the end)
   */
  public WorkspaceInputStream openRead(String path, long offset, long maxBytes) throws WorkspaceFileException {
    WorkspacePath p = WorkspacePath.parse(path);
    if (offset < 0 || maxBytes < 0) {
      throw FsErrors.of(Kind.INVALID_ARGUMENT, p.display(), "offset and length must not be negative");
    }
    if (p.isRoot()) {
      throw FsErrors.of(Kind.WRONG_FILE_TYPE, p.display(), "is a directory");
    }
    try (WorkspaceRoot.Lease lease = root.lease();
        OpenFd parent = openParent(lease.fd(), p);
        OpenFd file = openChecked(parent.fd(), p, false)) {
      Stat st = sys.fstat(file.fd());
      if (!st.sameDevice(root.stat())) {
        throw FsErrors.escapes(p.display(), null);
      }
      sys.setNonBlocking(file.fd(), false);
      if (offset > 0) {
        sys.seek(file.fd(), offset);
      }
      FileStat stat = toFileStat(p.display(), p.nameText(), st, "");
      return new WorkspaceInputStream(sys, file.release(), stat, maxBytes);
    } catch (NativeException e) {
      throw FsErrors.map(e, p.display());
    }
  }

  // ---- writing -------------------------------------------------------------------------------

  /**
   * Starts an upload to {@code path}; see {@link Upload} for how it lands atomically. Checked
   * now and again at commit: a directory at {@code path} gives {@link Kind#WRONG_FILE_TYPE};
   * an existing entry without {@code overwrite}, {@link Kind#ALREADY_EXISTS}. With
   * {@code overwrite}, an existing file, symlink or FIFO is replaced as a directory entry (a
   * symlink is never written through).
   *
   * @param mode permission bits of the new file, at most 0777
   * @param makeParents create missing parent directories (mode {@value #PARENT_DIRECTORY_MODE}
   *     octal, owned by the workspace owner)
   */
  public Upload beginUpload(String path, int mode, boolean overwrite, boolean makeParents)
      throws WorkspaceFileException {
    WorkspacePath p = WorkspacePath.parse(path);
    checkMode(mode, p);
    if (p.isRoot()) {
      throw FsErrors.of(Kind.WRONG_FILE_TYPE, p.display(), "is a directory");
    }
    try (WorkspaceRoot.Lease lease = root.lease();
        OpenFd parent = makeParents ? openParentCreating(lease.fd(), p) : openParent(lease.fd(), p)) {
      try {
        Stat existing = sys.statAt(parent.fd(), p.name());
        if (existing.isDirectory()) {
          throw FsErrors.of(Kind.WRONG_FILE_TYPE, p.display(), "is a directory");
        }
        if (!overwrite) {
          throw FsErrors.of(Kind.ALREADY_EXISTS, p.display(), "already exists");
        }
      } catch (NativeException e) {
        if (e.rawErrno() != ENOENT) {
          throw FsErrors.map(e, p.display());
        }
      }
      for (int attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
        byte[] temp = randomName(".paddock-upload-");
        try {
          int fd = sys.asFsIds(ownerUid, ownerGid, () -> sys.openat2(parent.fd(), temp,
              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600, RESOLVE_WORKSPACE));
          return new Upload(sys, parent.release(), fd, temp, p, mode, overwrite, ownerUid, ownerGid,
              maxFileBytes);
        } catch (NativeException e) {
          if (e.rawErrno() != EEXIST) {
            throw FsErrors.map(e, p.display());
          }
        }
      }
      throw FsErrors.changing(p.display());
    }
  }

  /**
   * Creates directory {@code path} with permission bits {@code mode} (at most 0777), owned by the
   * workspace owner. With {@code parents}, missing parents are created too (mode
   * {@value #PARENT_DIRECTORY_MODE} octal) and an existing directory is fine (returns false);
   * without, an existing entry gives {@link Kind#ALREADY_EXISTS}. An existing non-directory
   * (including a symlink to a directory) always gives {@link Kind#ALREADY_EXISTS}.
   *
   * @return true if this call created the directory
   */
  public boolean makeDirectory(String path, int mode, boolean parents) throws WorkspaceFileException {
    WorkspacePath p = WorkspacePath.parse(path);
    checkMode(mode, p);
    if (p.isRoot()) {
      if (parents) {
        return false;
      }
      throw FsErrors.of(Kind.ALREADY_EXISTS, p.display(), "already exists");
    }
    try (WorkspaceRoot.Lease lease = root.lease();
        OpenFd parent = parents ? openParentCreating(lease.fd(), p) : openParent(lease.fd(), p)) {
      if (createDirectory(parent.fd(), p.name(), mode, p.display())) {
        return true;
      }
      if (parents) {
        try {
          if (sys.statAt(parent.fd(), p.name()).isDirectory()) {
            return false;
          }
        } catch (NativeException e) {
          throw FsErrors.map(e, p.display());
        }
        throw FsErrors.of(Kind.ALREADY_EXISTS, p.display(), "already exists and is not a directory");
      }
      throw FsErrors.of(Kind.ALREADY_EXISTS, p.display(), "already exists");
    }
  }

  /**
   * Removes {@code path}: a file, symlink (the link itself, never its target), FIFO or socket,
   * an empty directory, or with {@code recursive} a whole tree. A non-empty directory without
   * {@code recursive} gives {@link Kind#NOT_EMPTY}; the root cannot be removed.
   *
   * <p>The recursive walk goes by directory descriptors only (each child opened O_DIRECTORY |
   * O_NOFOLLOW beneath its parent's descriptor), iteratively with an explicit stack, so any depth
   * works. It holds at most {@value #REMOVE_OPEN_DIRS} directory descriptors: when the stack is
   * full and yet another non-empty directory lies below, that directory is first renamed up into
   * the directory being removed (as {@code .paddock-rm-<random>}), where the walk meets it again
   * at a shallow depth. So a tree of any depth is removed with bounded descriptors, without
   * re-resolving paths from the root and without following "..". A removal that fails half-way
   * may leave such renamed directories inside what remains of {@code path}.
   */
  public void remove(String path, boolean recursive) throws WorkspaceFileException {
    WorkspacePath p = WorkspacePath.parse(path);
    if (p.isRoot()) {
      throw FsErrors.of(Kind.INVALID_PATH, p.display(), "the workspace root cannot be removed");
    }
    try (WorkspaceRoot.Lease lease = root.lease(); OpenFd parent = openParent(lease.fd(), p)) {
      for (int attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
        try {
          sys.unlinkat(parent.fd(), p.name(), false);
          return;
        } catch (NativeException e) {
          if (e.rawErrno() != EISDIR) {
            throw FsErrors.map(e, p.display());
          }
        }
        try {
          sys.unlinkat(parent.fd(), p.name(), true);
          return;
        } catch (NativeException e) {
          if (e.rawErrno() == ENOTEMPTY || e.rawErrno() == EEXIST) {
            if (!recursive) {
              throw FsErrors.of(Kind.NOT_EMPTY, p.display(), "directory not empty");
            }
            new RemoveWalk(parent.fd(), p).run();
            return;
          }
          if (e.rawErrno() != ENOTDIR) { // ENOTDIR: replaced by a file meanwhile, go round
            throw FsErrors.map(e, p.display());
          }
        }
      }
      throw FsErrors.changing(p.display());
    }
  }

  /**
   * Renames {@code from} to {@code to} (renameat2 between the two parent descriptors). Neither
   * last component is followed: a symlink is moved, or replaced, as a link. Without
   * {@code overwrite} an existing {@code to} gives {@link Kind#ALREADY_EXISTS} (RENAME_NOREPLACE);
   * with it, a file replaces a file and a directory an empty directory.
   *
   * @return {@code to} as it is after the rename
   */
  public FileStat rename(String from, String to, boolean overwrite) throws WorkspaceFileException {
    WorkspacePath f = WorkspacePath.parse(from);
    WorkspacePath t = WorkspacePath.parse(to);
    if (f.isRoot() || t.isRoot()) {
      throw FsErrors.of(Kind.INVALID_PATH, "", "the workspace root cannot be renamed or replaced");
    }
    try (WorkspaceRoot.Lease lease = root.lease();
        OpenFd fromParent = openParent(lease.fd(), f);
        OpenFd toParent = openParent(lease.fd(), t)) {
      try {
        asOwner(() -> sys.renameat2(fromParent.fd(), f.name(), toParent.fd(), t.name(),
            overwrite ? 0 : RENAME_NOREPLACE));
      } catch (NativeException e) {
        int errno = e.rawErrno();
        if (errno == ENOENT) {
          throw FsErrors.map(e, f.display());
        }
        if (errno == EEXIST && !overwrite) {
          throw FsErrors.of(Kind.ALREADY_EXISTS, t.display(), "already exists");
        }
        if (errno == EEXIST || errno == ENOTEMPTY) {
          throw FsErrors.of(Kind.NOT_EMPTY, t.display(), "directory not empty");
        }
        if (errno == EISDIR) {
          throw FsErrors.of(Kind.WRONG_FILE_TYPE, t.display(), "is a directory");
        }
        if (errno == ENOTDIR) {
          throw FsErrors.of(Kind.WRONG_FILE_TYPE, t.display(), "is not a directory");
        }
        if (errno == EINVAL) {
          throw FsErrors.of(Kind.INVALID_PATH, t.display(), "a directory cannot be moved into itself");
        }
        throw FsErrors.map(e, t.display());
      }
      try {
        return describe(toParent.fd(), t.name(), t.display(), t.nameText(), sys.statAt(toParent.fd(), t.name()));
      } catch (NativeException e) {
        throw FsErrors.map(e, t.display());
      }
    }
  }

  /**
   * Sets the permission bits of a regular file or directory ("" for the root) to {@code mode}
   * (at most 0777: no setuid, setgid or sticky bits). A symlink, FIFO or socket gives
   * {@link Kind#WRONG_FILE_TYPE}; a regular file with other hard links {@link Kind#HARD_LINKED}.
   *
   * <p>The entry is opened O_PATH|O_NOFOLLOW and checked, then reopened O_RDONLY|O_NOFOLLOW|
   * O_NONBLOCK (fchmod needs a real descriptor; reopening through /proc/self/fd would be a magic
   * link) and changed only if the reopened inode is the checked one.
   *
   * @return the entry after the change
   */
  public FileStat chmod(String path, int mode) throws WorkspaceFileException {
    WorkspacePath p = WorkspacePath.parse(path);
    checkMode(mode, p);
    try (WorkspaceRoot.Lease lease = root.lease();
        OpenFd parent = openParent(lease.fd(), p);
        OpenFd file = openChecked(parent.fd(), p, true)) {
      sys.fchmod(file.fd(), mode);
      return toFileStat(p.display(), p.nameText(), sys.fstat(file.fd()), "");
    } catch (NativeException e) {
      throw FsErrors.map(e, p.display());
    }
  }

  // ---- shared steps --------------------------------------------------------------------------

  /** A syscall that creates a directory entry. */
  @FunctionalInterface
  private interface EntryCall {
    void run() throws NativeException;
  }

  /**
   * Runs a call that creates an inode or a new name (mkdirat, renameat2) with the workspace
   * owner's filesystem ids: in a workspace mounted in the jail's user namespace the host's root
   * ids have no mapping, and the kernel refuses such calls from them (see
   * {@link FsSyscalls#asFsIds}).
   */
  private void asOwner(EntryCall call) throws NativeException {
    sys.asFsIds(ownerUid, ownerGid, () -> {
      call.run();
      return null;
    });
  }

  /** The parent directory of {@code p} (O_PATH), resolved beneath the root. */
  private OpenFd openParent(int rootFd, WorkspacePath p) throws WorkspaceFileException {
    try {
      return new OpenFd(sys, sys.openat2(rootFd, p.parentBytes(), O_PATH | O_DIRECTORY, RESOLVE_WORKSPACE));
    } catch (NativeException e) {
      throw FsErrors.map(e, p.display());
    }
  }

  /**
   * The parent directory of {@code p}, creating missing directories on the way. Each existing
   * prefix is resolved from the root like any path; each missing one is created relative to the
   * descriptor of the one before, then opened O_NOFOLLOW beneath it. Holds at most two
   * descriptors at a time.
   */
  private OpenFd openParentCreating(int rootFd, WorkspacePath p) throws WorkspaceFileException {
    List<byte[]> parts = p.components();
    OpenFd current = openParent(rootFd, WorkspacePath.root());
    try {
      for (int i = 0; i < parts.size() - 1; i++) {
        byte[] prefix = WorkspacePath.join(parts.subList(0, i + 1));
        String shown = new String(prefix, StandardCharsets.UTF_8);
        int next;
        try {
          next = sys.openat2(rootFd, prefix, O_PATH | O_DIRECTORY, RESOLVE_WORKSPACE);
        } catch (NativeException e) {
          if (e.rawErrno() == ENOTDIR) {
            throw FsErrors.of(Kind.ALREADY_EXISTS, shown, "exists and is not a directory");
          }
          if (e.rawErrno() != ENOENT) {
            throw FsErrors.map(e, shown);
          }
          createDirectory(current.fd(), parts.get(i), PARENT_DIRECTORY_MODE, shown);
          try {
            next = sys.openat2(current.fd(), parts.get(i), O_PATH | O_DIRECTORY | O_NOFOLLOW, 0,
                RESOLVE_WORKSPACE);
          } catch (NativeException again) {
            throw FsErrors.map(again, shown);
          }
        }
        current.close();
        current = new OpenFd(sys, next);
      }
      OpenFd result = current;
      current = null;
      return result;
    } finally {
      if (current != null) {
        current.close();
      }
    }
  }

  /**
   * mkdirat {@code name} in {@code dirFd}, then chown and chmod it through a descriptor opened
   * O_DIRECTORY|O_NOFOLLOW beneath {@code dirFd} (never by name, so a swapped-in symlink or hard
   * link is never what gets changed). Returns false if something already exists there.
   */
  private boolean createDirectory(int dirFd, byte[] name, int mode, String shown) throws WorkspaceFileException {
    try {
      asOwner(() -> sys.mkdirat(dirFd, name, 0700));
    } catch (NativeException e) {
      if (e.rawErrno() == EEXIST) {
        return false;
      }
      throw FsErrors.map(e, shown);
    }
    try (OpenFd dir = new OpenFd(sys,
        sys.openat2(dirFd, name, O_RDONLY | O_DIRECTORY | OPEN_EXISTING, 0, RESOLVE_WORKSPACE))) {
      sys.fchown(dir.fd(), ownerUid, ownerGid);
      sys.fchmod(dir.fd(), mode);
      return true;
    } catch (NativeException e) {
      throw FsErrors.map(e, shown);
    }
  }

  /**
   * The last component of {@code p} in {@code parentFd}, opened O_RDONLY, if it is a regular file
   * with a single link (or, with {@code allowDirectory}, a directory). It is first opened O_PATH
   * and checked, so nothing else (symlink, FIFO, socket, device node) is ever opened for real;
   * then reopened O_RDONLY|O_NOFOLLOW|O_NONBLOCK (reopening through /proc/self/fd would be a
   * magic link) and used only if the reopened inode is the one checked.
   */
  private OpenFd openChecked(int parentFd, WorkspacePath p, boolean allowDirectory) throws WorkspaceFileException {
    Stat checked;
    try (OpenFd handle = new OpenFd(sys, sys.openat2(parentFd, p.name(), O_PATH | O_NOFOLLOW, RESOLVE_WORKSPACE))) {
      checked = sys.fstat(handle.fd());
    } catch (NativeException e) {
      throw FsErrors.map(e, p.display());
    }
    if (checked.isSymlink()) {
      throw FsErrors.of(Kind.WRONG_FILE_TYPE, p.display(), "is a symbolic link (links are never followed)");
    }
    if (checked.isDirectory() && !allowDirectory) {
      throw FsErrors.of(Kind.WRONG_FILE_TYPE, p.display(), "is a directory");
    }
    if (!checked.isRegular() && !checked.isDirectory()) {
      throw FsErrors.of(Kind.WRONG_FILE_TYPE, p.display(),
          allowDirectory ? "is not a regular file or directory" : "is not a regular file");
    }
    checkSingleLink(checked, p.display());
    int flags = O_RDONLY | OPEN_EXISTING | (checked.isDirectory() ? O_DIRECTORY : 0);
    OpenFd file;
    try {
      file = new OpenFd(sys, sys.openat2(parentFd, p.name(), flags, RESOLVE_WORKSPACE));
    } catch (NativeException e) {
      if (e.rawErrno() == ELOOP || e.rawErrno() == ENOTDIR || e.rawErrno() == ENXIO) {
        throw FsErrors.changing(p.display()); // swapped for something else since the check
      }
      throw FsErrors.map(e, p.display());
    }
    try {
      if (!sys.fstat(file.fd()).sameFile(checked)) {
        throw FsErrors.changing(p.display());
      }
      return file;
    } catch (NativeException e) {
      file.close();
      throw FsErrors.map(e, p.display());
    } catch (WorkspaceFileException | RuntimeException e) {
      file.close();
      throw e;
    }
  }

  /** Directory {@code p} opened O_RDONLY|O_DIRECTORY|O_NOFOLLOW for reading entries. */
  private int openDirectory(int rootFd, WorkspacePath p) throws WorkspaceFileException {
    try (OpenFd parent = openParent(rootFd, p)) {
      try {
        return sys.openat2(parent.fd(), p.name(), O_RDONLY | O_DIRECTORY | OPEN_EXISTING, 0, RESOLVE_WORKSPACE);
      } catch (NativeException e) {
        if (e.rawErrno() == ENOTDIR || e.rawErrno() == ELOOP) {
          Stat st;
          try {
            st = sys.statAt(parent.fd(), p.name());
          } catch (NativeException gone) {
            throw FsErrors.map(gone, p.display());
          }
          throw FsErrors.of(Kind.WRONG_FILE_TYPE, p.display(), st.isSymlink()
              ? "is a symbolic link (links are never followed)" : "is not a directory");
        }
        throw FsErrors.map(e, p.display());
      }
    }
  }

  private FileStat describe(int dirFd, byte[] name, String path, String nameText, Stat st) {
    String target = "";
    if (st.isSymlink()) {
      try {
        target = new String(sys.readlinkat(dirFd, name), StandardCharsets.UTF_8);
      } catch (NativeException e) {
        // replaced since the stat: describe what the stat saw, without a target
      }
    }
    return toFileStat(path, nameText, st, target);
  }

  static FileStat toFileStat(String path, String name, Stat st, String symlinkTarget) {
    FileType type = st.isRegular() ? FileType.REGULAR
        : st.isDirectory() ? FileType.DIRECTORY
        : st.isSymlink() ? FileType.SYMLINK
        : FileType.OTHER;
    return new FileStat(path, name, type, st.size(), st.mode() & 07777, symlinkTarget,
        Instant.ofEpochSecond(st.mtimeSeconds(), st.mtimeNanos()));
  }

  /**
   * Hard-link policy: a regular file with more than one link is neither read nor changed. Its
   * inode may be shared with a file outside the workspace (possible only when the workspace is
   * not a filesystem of its own), and reading or chmod-ing it would then reach outside.
   */
  private static void checkSingleLink(Stat st, String path) throws WorkspaceFileException {
    if (st.isRegular() && st.nlink() > 1) {
      throw FsErrors.of(Kind.HARD_LINKED, path,
          "has " + st.nlink() + " hard links; only files with a single link can be read or changed (copy it first)");
    }
  }

  private static void checkMode(int mode, WorkspacePath p) throws WorkspaceFileException {
    if ((mode & ~0777) != 0) {
      throw FsErrors.of(Kind.INVALID_ARGUMENT, p.display(),
          "mode " + Integer.toOctalString(mode) + " has bits outside 0777");
    }
  }

  private byte[] randomName(String prefix) {
    byte[] bits = new byte[8];
    random.nextBytes(bits);
    return (prefix + HexFormat.of().formatHex(bits)).getBytes(StandardCharsets.US_ASCII);
  }

  private static String child(String dir, String name) {
    return dir.isEmpty() ? name : dir + "/" + name;
  }

  // ---- recursive list ------------------------------------------------------------------------

  /**
   * One directory being listed: its descriptor and the names still to visit, sorted. When the
   * directory lies on the way to the resume point, {@code resumeLevel} is the index of the resume
   * point's component that names one of its entries (else -1).
   */
  private static final class ListFrame {
    final int fd;
    final String path;
    final int resumeLevel;
    final ArrayDeque<byte[]> pending = new ArrayDeque<>();

    ListFrame(int fd, String path, int resumeLevel) {
      this.fd = fd;
      this.path = path;
      this.resumeLevel = resumeLevel;
    }
  }

  private final class ListWalk {
    private final int depth;
    private final int wantedDepth;
    private final int limit;
    /** Components of the resume point below the listed directory (empty: from the start). */
    private final List<byte[]> after;
    private final Deque<ListFrame> stack = new ArrayDeque<>();
    private final List<FileStat> out = new ArrayList<>();
    private long scanned;
    private boolean truncated;

    ListWalk(int depth, int wantedDepth, int limit, List<byte[]> after) {
      this.depth = depth;
      this.wantedDepth = wantedDepth;
      this.limit = limit;
      this.after = after;
    }

    Listing run(int dirFd, String dirPath) throws WorkspaceFileException {
      try {
        ListFrame first = new ListFrame(dirFd, dirPath, after.isEmpty() ? -1 : 0);
        stack.push(first);
        if (load(first)) {
          walk();
        }
      } catch (NativeException e) {
        throw FsErrors.map(e, dirPath);
      } finally {
        for (ListFrame f : stack) {
          sys.close(f.fd);
        }
      }
      if (out.size() > limit) {
        out.remove(out.size() - 1);
        truncated = true;
      }
      return new Listing(out, truncated);
    }

    /** Collects up to limit + 1 entries (one more than asked, to know whether there are more). */
    private void walk() throws NativeException {
      while (!stack.isEmpty() && out.size() <= limit) {
        ListFrame top = stack.peek();
        byte[] name = top.pending.pollFirst();
        if (name == null) {
          sys.close(stack.pop().fd);
          continue;
        }
        Stat st;
        try {
          st = sys.statAt(top.fd, name);
        } catch (NativeException e) {
          if (e.rawErrno() == ENOENT) {
            continue; // removed since it was read
          }
          throw e;
        }
        String text = new String(name, StandardCharsets.UTF_8);
        String path = child(top.path, text);
        // The resume point and its ancestors were returned by an earlier page: walked, not listed.
        boolean resumed = top.resumeLevel >= 0 && Arrays.equals(name, after.get(top.resumeLevel));
        if (!resumed) {
          out.add(describe(top.fd, name, path, text, st));
        }
        if (!st.isDirectory() || out.size() > limit) {
          continue;
        }
        if (stack.size() >= depth) {
          if (!resumed && depth < wantedDepth && hasEntries(top.fd, name)) {
            truncated = true; // the depth cap, not the caller, stopped us here
          }
          continue;
        }
        int childFd = openChild(top.fd, name);
        if (childFd < 0) {
          continue;
        }
        int childResume = resumed && top.resumeLevel + 1 < after.size() ? top.resumeLevel + 1 : -1;
        ListFrame frame = new ListFrame(childFd, path, childResume);
        stack.push(frame);
        if (!load(frame)) {
          return;
        }
        trimPending();
      }
    }

    /**
     * Reads every name of {@code frame}'s directory, keeping only the smallest ones that could
     * still be returned. False when the scan budget ran out (the listing is then cut here).
     */
    private boolean load(ListFrame frame) throws NativeException {
      // Names before the resume point's component were listed by earlier pages; the component
      // itself is walked but not listed, so it takes one extra slot.
      byte[] floor = frame.resumeLevel >= 0 ? after.get(frame.resumeLevel) : null;
      int keep = limit + 1 - out.size() + (floor == null ? 0 : 1);
      PriorityQueue<byte[]> smallest = new PriorityQueue<>(Collections.reverseOrder(Arrays::compareUnsigned));
      List<byte[]> batch = new ArrayList<>();
      boolean more = true;
      while (more) {
        batch.clear();
        more = sys.readDirectoryBatch(frame.fd, batch);
        scanned += batch.size();
        if (scanned > MAX_SCANNED_NAMES) {
          truncated = true;
          return false;
        }
        for (byte[] name : batch) {
          if (floor != null && Arrays.compareUnsigned(name, floor) < 0) {
            continue;
          }
          smallest.add(name);
          if (smallest.size() > keep) {
            smallest.poll();
          }
        }
      }
      byte[][] sorted = smallest.toArray(new byte[0][]);
      Arrays.sort(sorted, Arrays::compareUnsigned);
      frame.pending.addAll(Arrays.asList(sorted));
      return true;
    }

    /** Names deeper in the stack come first, so ancestors need only what budget is left after them. */
    private void trimPending() {
      int budget = limit + 1 - out.size();
      for (ListFrame f : stack) { // from the deepest frame to the first
        int unlisted = holdsResumeName(f) ? 1 : 0; // walked, not listed: needs no budget
        while (f.pending.size() > Math.max(budget, 0) + unlisted) {
          f.pending.pollLast();
        }
        budget -= f.pending.size() - unlisted;
      }
    }

    /** True while {@code f}'s next name is the resume point's component (names before it were dropped). */
    private boolean holdsResumeName(ListFrame f) {
      return f.resumeLevel >= 0 && !f.pending.isEmpty() && Arrays.equals(f.pending.peekFirst(), after.get(f.resumeLevel));
    }

    private int openChild(int dirFd, byte[] name) throws NativeException {
      try {
        return sys.openat2(dirFd, name, O_RDONLY | O_DIRECTORY | OPEN_EXISTING, 0, RESOLVE_WORKSPACE);
      } catch (NativeException e) {
        int errno = e.rawErrno();
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
          return -1; // replaced since the stat: list it as seen, without descending
        }
        if (errno == EXDEV) {
          return -1; // a mount point: listed, never entered
        }
        throw e;
      }
    }

    private boolean hasEntries(int dirFd, byte[] name) throws NativeException {
      int fd = openChild(dirFd, name);
      if (fd < 0) {
        return false;
      }
      try {
        List<byte[]> names = new ArrayList<>();
        while (names.isEmpty() && sys.readDirectoryBatch(fd, names)) {
          // a first batch may hold only "." and ".."
        }
        return !names.isEmpty();
      } finally {
        sys.close(fd);
      }
    }
  }

  // ---- recursive remove ----------------------------------------------------------------------

  /** One directory being emptied: its descriptor and its name in the directory below it on the stack. */
  private record RemoveFrame(int fd, byte[] name) {}

  private final class RemoveWalk {
    private final int parentFd;
    private final WorkspacePath target;
    private final Deque<RemoveFrame> stack = new ArrayDeque<>();
    private long steps;
    private int retries;

    RemoveWalk(int parentFd, WorkspacePath target) {
      this.parentFd = parentFd;
      this.target = target;
    }

    void run() throws WorkspaceFileException {
      try {
        int fd = openForRemoval(parentFd, target.name());
        if (fd < 0) {
          return; // gone, or no longer a directory: nothing of the tree is left
        }
        stack.push(new RemoveFrame(fd, target.name()));
        List<byte[]> batch = new ArrayList<>();
        while (!stack.isEmpty()) {
          RemoveFrame top = stack.peek();
          if (!emptyOrDescend(top, batch)) {
            continue; // a child was pushed
          }
          stack.pop();
          sys.close(top.fd());
          removeEmptied(stack.isEmpty() ? parentFd : stack.peek().fd(), top.name());
        }
      } catch (NativeException e) {
        throw FsErrors.map(e, target.display());
      } finally {
        for (RemoveFrame f : stack) {
          sys.close(f.fd());
        }
      }
    }

    /**
     * Scans {@code top} from its start, removing every entry it can. Returns true when the scan
     * ended with nothing left to descend into; false after pushing a non-empty child directory.
     */
    private boolean emptyOrDescend(RemoveFrame top, List<byte[]> batch)
        throws NativeException, WorkspaceFileException {
      sys.rewind(top.fd());
      boolean more = true;
      while (more) {
        batch.clear();
        more = sys.readDirectoryBatch(top.fd(), batch);
        for (byte[] name : batch) {
          if (++steps > MAX_REMOVE_STEPS) {
            throw FsErrors.changing(target.display());
          }
          if (removeEntry(top.fd(), name)) {
            continue;
          }
          if (stack.size() >= REMOVE_OPEN_DIRS) {
            moveUp(top.fd(), name);
            continue;
          }
          int fd = openForRemoval(top.fd(), name);
          if (fd >= 0) {
            stack.push(new RemoveFrame(fd, name));
            return false;
          }
        }
      }
      return true;
    }

    /** Unlinks a non-directory or an empty directory; false for a non-empty directory. */
    private boolean removeEntry(int dirFd, byte[] name) throws NativeException {
      try {
        sys.unlinkat(dirFd, name, false);
        return true;
      } catch (NativeException e) {
        if (e.rawErrno() == ENOENT) {
          return true;
        }
        if (e.rawErrno() != EISDIR) {
          throw e;
        }
      }
      try {
        sys.unlinkat(dirFd, name, true);
        return true;
      } catch (NativeException e) {
        int errno = e.rawErrno();
        if (errno == ENOTEMPTY || errno == EEXIST) {
          return false;
        }
        if (errno == ENOENT || errno == ENOTDIR) {
          return true; // gone or replaced; the final rmdir of the parent notices anything left
        }
        throw e;
      }
    }

    /** Renames a too-deep directory into the removal root, where the walk finds it again shallow. */
    private void moveUp(int dirFd, byte[] name) throws NativeException, WorkspaceFileException {
      int bottom = stack.peekLast().fd();
      for (int attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
        try {
          byte[] hidden = randomName(".paddock-rm-");
          asOwner(() -> sys.renameat2(dirFd, name, bottom, hidden, RENAME_NOREPLACE));
          return;
        } catch (NativeException e) {
          if (e.rawErrno() == ENOENT) {
            return;
          }
          if (e.rawErrno() != EEXIST) {
            throw e;
          }
        }
      }
      throw FsErrors.changing(target.display());
    }

    /** rmdir of a directory just emptied; if something was added meanwhile, walk it again. */
    private void removeEmptied(int dirFd, byte[] name) throws NativeException, WorkspaceFileException {
      try {
        sys.unlinkat(dirFd, name, true);
      } catch (NativeException e) {
        int errno = e.rawErrno();
        if (errno == ENOENT) {
          return;
        }
        if (errno == ENOTDIR) {
          if (stack.isEmpty()) {
            removeEntry(dirFd, name); // the target itself was replaced by a file: remove that
          }
          return; // deeper: the rescan of dirFd removes it
        }
        if (errno != ENOTEMPTY && errno != EEXIST) {
          throw e;
        }
        if (++retries > MAX_RACE_RETRIES) {
          throw FsErrors.changing(target.display());
        }
        int fd = openForRemoval(dirFd, name);
        if (fd >= 0) {
          stack.push(new RemoveFrame(fd, name));
        }
      }
    }

    /** Opens a child directory O_DIRECTORY|O_NOFOLLOW beneath its parent; -1 if gone or no longer a directory. */
    private int openForRemoval(int dirFd, byte[] name) throws NativeException {
      try {
        return sys.openat2(dirFd, name, O_RDONLY | O_DIRECTORY | OPEN_EXISTING, 0, RESOLVE_WORKSPACE);
      } catch (NativeException e) {
        int errno = e.rawErrno();
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
          return -1;
        }
        throw e;
      }
    }
  }
}
