package dev.paddock.sandbox.fs.internal;

import dev.paddock.sandbox.linux.NativeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The descriptor-relative file calls behind {@code WorkspaceFiles}, over jnr-ffi. Descriptors are
 * plain {@code int}s here (this class is the only one that sees them come from the kernel);
 * failures are {@link NativeException}s naming the call and its errno. EINTR is retried for
 * lookups, stats, reads and writes; every descriptor opened here is close-on-exec. Names are raw bytes without the
 * terminating NUL, so names that are not valid UTF-8 still work.
 */
public final class FsSyscalls {
  // open(2) flags (x86_64 / generic values).
  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 01;
  public static final int O_CREAT = 0100;
  public static final int O_EXCL = 0200;
  public static final int O_NOCTTY = 0400;
  public static final int O_NONBLOCK = 04000;
  public static final int O_DIRECTORY = 0200000;
  public static final int O_NOFOLLOW = 0400000;
  public static final int O_CLOEXEC = 02000000;
  public static final int O_PATH = 010000000;

  // openat2(2) resolve flags.
  public static final long RESOLVE_NO_XDEV = 0x01;
  public static final long RESOLVE_NO_MAGICLINKS = 0x02;
  public static final long RESOLVE_BENEATH = 0x08;
  /** What every lookup below a workspace root uses. */
  public static final long RESOLVE_WORKSPACE = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

  // renameat2(2) flags.
  public static final int RENAME_NOREPLACE = 1;
  public static final int RENAME_EXCHANGE = 2;

  // errno values this package acts on.
  public static final int ENOENT = 2;
  public static final int EINTR = 4;
  public static final int ENXIO = 6;
  public static final int EAGAIN = 11;
  public static final int EEXIST = 17;
  public static final int EXDEV = 18;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int EFBIG = 27;
  public static final int ENOSPC = 28;
  public static final int EMLINK = 31;
  public static final int ENAMETOOLONG = 36;
  public static final int ENOSYS = 38;
  public static final int ENOTEMPTY = 39;
  public static final int ELOOP = 40;
  public static final int EDQUOT = 122;

  public static final int EPERM = 1;

  private static final long SYS_OPENAT2 = 437;
  private static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;
  /** Two struct __user_cap_data_struct {u32 effective, permitted, inheritable}. */
  private static final int CAP_DATA_BYTES = 24;
  private static final int OPEN_HOW_SIZE = 24;
  private static final int AT_SYMLINK_NOFOLLOW = 0x100;
  private static final int AT_REMOVEDIR = 0x200;
  private static final int AT_EMPTY_PATH = 0x1000;
  private static final int STATX_BASIC_STATS = 0x7ff;
  private static final int STATX_SIZE = 256;
  private static final int F_GETFL = 3;
  private static final int F_SETFL = 4;
  private static final int SEEK_SET = 0;
  /**
   * openat2 answers EAGAIN when a rename or mount raced a RESOLVE_BENEATH lookup; the lookup is
   * retried this many times before giving up (a tenant renaming in a tight loop can only slow its
   * own file operations down).
   */
  private static final int OPENAT2_ATTEMPTS = 256;
  /** Size of each thread's native transfer buffer, in bytes (read, write and getdents64 batches). */
  public static final int BUFFER_BYTES = 128 * 1024;
  private static final byte[] EMPTY_PATH = {0};

  private static final class Holder {
    static final FsSyscalls INSTANCE = new FsSyscalls();
  }

  private final FsLibC libc;
  private final Runtime runtime;
  private final ThreadLocal<Pointer> buffers;

  private FsSyscalls() {
    libc = LibraryLoader.create(FsLibC.class).load("c");
    runtime = Runtime.getRuntime(libc);
    buffers = ThreadLocal.withInitial(() -> Memory.allocateDirect(runtime, BUFFER_BYTES));
  }

  /** The process-wide binding, loaded on first use. */
  public static FsSyscalls instance() {
    return Holder.INSTANCE;
  }

  /** The metadata statx(2) returned, in the units the kernel uses (bytes, seconds + nanoseconds). */
  public record Stat(
      long devMajor, long devMinor, long ino, int mode, long nlink, int uid, int gid, long size,
      long mtimeSeconds, int mtimeNanos) {
    public static final int S_IFMT = 0170000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFLNK = 0120000;

    public boolean isDirectory() {
      return (mode & S_IFMT) == S_IFDIR;
    }

    public boolean isRegular() {
      return (mode & S_IFMT) == S_IFREG;
    }

    public boolean isSymlink() {
      return (mode & S_IFMT) == S_IFLNK;
    }

    /** Same inode on the same device. */
    public boolean sameFile(Stat other) {
      return ino == other.ino && devMajor == other.devMajor && devMinor == other.devMinor;
    }

    /** Same device (filesystem instance). */
    public boolean sameDevice(Stat other) {
      return devMajor == other.devMajor && devMinor == other.devMinor;
    }
  }

  /** open(2) of a trusted host path (no resolve restrictions); for the workspace root only. */
  public int open(String hostPath, int flags) throws NativeException {
    byte[] path = cString(hostPath.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    while (true) {
      int fd = libc.open(path, flags | O_CLOEXEC, 0);
      if (fd >= 0) {
        return fd;
      }
      int errno = runtime.getLastError();
      if (errno != EINTR) {
        throw new NativeException("open", errno);
      }
    }
  }

  /** {@link #openat2(int, byte[], int, int, long)} without O_CREAT (mode 0). */
  public int openat2(int dirfd, byte[] path, int flags, long resolve) throws NativeException {
    return openat2(dirfd, path, flags, 0, resolve);
  }

  /**
   * openat2(2) of {@code path} (a relative, '/'-separated byte path, or {@code "."}) below
   * {@code dirfd} with {@code resolve} flags; O_CLOEXEC is always added. Retries EAGAIN (a
   * concurrent rename) up to {@value #OPENAT2_ATTEMPTS} times.
   */
  public int openat2(int dirfd, byte[] path, int flags, int mode, long resolve) throws NativeException {
    byte[] how = ByteBuffer.allocate(OPEN_HOW_SIZE).order(ByteOrder.nativeOrder())
        .putLong(Integer.toUnsignedLong(flags | O_CLOEXEC))
        .putLong(mode)
        .putLong(resolve)
        .array();
    byte[] cpath = cString(path);
    int errno = 0;
    for (int attempt = 0; attempt < OPENAT2_ATTEMPTS; attempt++) {
      long fd = libc.syscall(SYS_OPENAT2, dirfd, cpath, how, OPEN_HOW_SIZE);
      if (fd >= 0) {
        return (int) fd;
      }
      errno = runtime.getLastError();
      if (errno != EAGAIN && errno != EINTR) {
        break;
      }
    }
    throw new NativeException("openat2", errno);
  }

  /** statx(2) of {@code name} in {@code dirfd}, never following a symlink (lstat semantics). */
  public Stat statAt(int dirfd, byte[] name) throws NativeException {
    return statx(dirfd, cString(name), AT_SYMLINK_NOFOLLOW);
  }

  /** statx(2) of an open descriptor (AT_EMPTY_PATH; works on O_PATH descriptors). */
  public Stat fstat(int fd) throws NativeException {
    return statx(fd, EMPTY_PATH, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  }

  private Stat statx(int dirfd, byte[] cpath, int flags) throws NativeException {
    byte[] buf = new byte[STATX_SIZE];
    while (libc.statx(dirfd, cpath, flags, STATX_BASIC_STATS, buf) != 0) {
      int errno = runtime.getLastError();
      if (errno != EINTR) {
        throw new NativeException("statx", errno);
      }
    }
    // struct statx is the same on every architecture (include/uapi/linux/stat.h).
    ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
    return new Stat(
        Integer.toUnsignedLong(b.getInt(136)), Integer.toUnsignedLong(b.getInt(140)),
        b.getLong(32), Short.toUnsignedInt(b.getShort(28)), Integer.toUnsignedLong(b.getInt(16)),
        b.getInt(20), b.getInt(24), b.getLong(40), b.getLong(112), b.getInt(120));
  }

  /**
   * Bytes in use on the filesystem of {@code fd} (fstatfs(2): (f_blocks - f_bfree) * f_bsize).
   * x86-64 and arm64 layout: f_type, f_bsize, f_blocks, f_bfree, ... each 8 bytes.
   */
  public long usedBytes(int fd) throws NativeException {
    byte[] buf = new byte[120];
    while (libc.fstatfs(fd, buf) != 0) {
      int errno = runtime.getLastError();
      if (errno != EINTR) {
        throw new NativeException("fstatfs", errno);
      }
    }
    ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.nativeOrder());
    return (b.getLong(16) - b.getLong(24)) * b.getLong(8);
  }

  /** mkdirat(2); the mode is filtered by the process umask, so callers fchmod afterwards. */
  public void mkdirat(int dirfd, byte[] name, int mode) throws NativeException {
    check(libc.mkdirat(dirfd, cString(name), mode), "mkdirat");
  }

  /** unlinkat(2) of a non-directory, or with {@code directory} an empty directory (AT_REMOVEDIR). */
  public void unlinkat(int dirfd, byte[] name, boolean directory) throws NativeException {
    check(libc.unlinkat(dirfd, cString(name), directory ? AT_REMOVEDIR : 0), "unlinkat");
  }

  /** renameat2(2) with {@link #RENAME_NOREPLACE}, {@link #RENAME_EXCHANGE} or 0. */
  public void renameat2(int fromDir, byte[] from, int toDir, byte[] to, int flags) throws NativeException {
    check(libc.renameat2(fromDir, cString(from), toDir, cString(to), flags), "renameat2");
  }

  /** fchmod(2); {@code mode} is the permission bits. */
  public void fchmod(int fd, int mode) throws NativeException {
    check(libc.fchmod(fd, mode), "fchmod");
  }

  /** fchown(2). */
  public void fchown(int fd, int uid, int gid) throws NativeException {
    check(libc.fchown(fd, uid, gid), "fchown");
  }

  /** readlinkat(2): the raw target bytes of symlink {@code name} in {@code dirfd}. */
  public byte[] readlinkat(int dirfd, byte[] name) throws NativeException {
    byte[] buf = new byte[4097];
    long n;
    while ((n = libc.readlinkat(dirfd, cString(name), buf, buf.length)) < 0) {
      int errno = runtime.getLastError();
      if (errno != EINTR) {
        throw new NativeException("readlinkat", errno);
      }
    }
    return Arrays.copyOf(buf, (int) n);
  }

  /**
   * One getdents64(2) batch from directory descriptor {@code fd} (opened O_RDONLY|O_DIRECTORY):
   * appends each entry's name, except "." and "..", to {@code names}. Returns false at the end of
   * the directory.
   */
  public boolean readDirectoryBatch(int fd, List<byte[]> names) throws NativeException {
    Pointer buf = buffers.get();
    long n;
    while ((n = libc.getdents64(fd, buf, BUFFER_BYTES)) < 0) {
      int errno = runtime.getLastError();
      if (errno != EINTR) {
        throw new NativeException("getdents64", errno);
      }
    }
    // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
    long pos = 0;
    while (pos < n) {
      int reclen = Short.toUnsignedInt(buf.getShort(pos + 16));
      long nameStart = pos + 19;
      int len = 0;
      while (nameStart + len < pos + reclen && buf.getByte(nameStart + len) != 0) {
        len++;
      }
      byte[] name = new byte[len];
      buf.get(nameStart, name, 0, len);
      if (!(len == 1 && name[0] == '.') && !(len == 2 && name[0] == '.' && name[1] == '.')) {
        names.add(name);
      }
      pos += reclen;
    }
    return n > 0;
  }

  /** Rewinds a directory (or file) descriptor to its start. */
  public void rewind(int fd) throws NativeException {
    seek(fd, 0);
  }

  /** lseek(2) to absolute {@code offset} bytes. */
  public void seek(int fd, long offset) throws NativeException {
    if (libc.lseek(fd, offset, SEEK_SET) < 0) {
      throw new NativeException("lseek", runtime.getLastError());
    }
  }

  /** One read(2) of at most {@code len} bytes into {@code dst}; 0 at end of file. */
  public int read(int fd, byte[] dst, int off, int len) throws NativeException {
    Pointer buf = buffers.get();
    int want = Math.min(len, BUFFER_BYTES);
    while (true) {
      long n = libc.read(fd, buf, want);
      if (n >= 0) {
        buf.get(0, dst, off, (int) n);
        return (int) n;
      }
      int errno = runtime.getLastError();
      if (errno != EINTR) {
        throw new NativeException("read", errno);
      }
    }
  }

  /** write(2) until all {@code len} bytes are written. */
  public void writeFully(int fd, byte[] src, int off, int len) throws NativeException {
    Pointer buf = buffers.get();
    while (len > 0) {
      int chunk = Math.min(len, BUFFER_BYTES);
      buf.put(0, src, off, chunk);
      int done = 0;
      while (done < chunk) {
        long n = libc.write(fd, buf.slice(done), chunk - done);
        if (n < 0) {
          int errno = runtime.getLastError();
          if (errno == EINTR) {
            continue;
          }
          throw new NativeException("write", errno);
        }
        done += (int) n;
      }
      off += chunk;
      len -= chunk;
    }
  }

  /** A syscall sequence run by {@link #asFsIds}. */
  @FunctionalInterface
  public interface NativeAction<T> {
    T run() throws NativeException;
  }

  /**
   * Runs {@code action} on the calling thread with filesystem uid and gid {@code uid}/{@code gid}
   * (setfsuid/setfsgid, which change only this thread's credentials), keeping the thread's
   * capabilities as they were, then restores both.
   *
   * <p>Why: a workspace is a tmpfs mounted inside the jail's user namespace, which maps only the
   * sandbox user. The kernel refuses (EOVERFLOW) to create an inode there, or to rename an entry
   * to a new name, for a caller whose filesystem ids have no mapping in that namespace, and the
   * host's root has none. Doing those calls with the sandbox user's ids makes new inodes the
   * sandbox user's from the start; the capabilities are re-raised after the switch (which drops
   * them from the effective set) so permission checks stay the host's, not the tenant's.
   *
   * <p>The action must only make syscalls on this thread (no blocking Java I/O, no handing work
   * to other threads): the switched ids belong to the OS thread. A no-op switch when the thread
   * already has these ids.
   */
  public <T> T asFsIds(int uid, int gid, NativeAction<T> action) throws NativeException {
    int oldUid = libc.setfsuid(-1);
    int oldGid = libc.setfsgid(-1);
    if (oldUid == uid && oldGid == gid) {
      return action.run();
    }
    byte[] header = capHeader();
    byte[] caps = new byte[CAP_DATA_BYTES];
    check(libc.capget(header, caps), "capget");
    try {
      libc.setfsgid(gid);
      libc.setfsuid(uid);
      if (libc.setfsuid(-1) != uid || libc.setfsgid(-1) != gid) {
        throw new NativeException("setfsuid", EPERM);
      }
      check(libc.capset(header, caps), "capset");
      return action.run();
    } finally {
      libc.setfsuid(oldUid);
      libc.setfsgid(oldGid);
      libc.capset(header, caps); // exactly the capabilities the thread had before
    }
  }

  private static byte[] capHeader() {
    return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(LINUX_CAPABILITY_VERSION_3).putInt(0).array();
  }

  /** Switches O_NONBLOCK on or off. */
  public void setNonBlocking(int fd, boolean nonBlocking) throws NativeException {
    int flags = libc.fcntl(fd, F_GETFL, 0);
    if (flags < 0) {
      throw new NativeException("fcntl", runtime.getLastError());
    }
    int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    if (wanted != flags) {
      check(libc.fcntl(fd, F_SETFL, wanted), "fcntl");
    }
  }

  /** close(2); errors are ignored (the descriptor is released either way on Linux). */
  public void close(int fd) {
    if (fd >= 0) {
      libc.close(fd);
    }
  }

  private void check(int rc, String call) throws NativeException {
    if (rc != 0) {
      throw new NativeException(call, runtime.getLastError());
    }
  }

  private static byte[] cString(byte[] path) {
    return Arrays.copyOf(path, path.length + 1);
  }
}
