package dev.paddock.sandbox.fs.internal;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * The libc functions {@link FsSyscalls} calls, under their C names (as jnr-posix does). Not API:
 * it is public only because jnr-ffi generates its implementation in another class loader, which
 * cannot implement a package-private interface. Every path argument is a NUL-terminated byte array.
 */
public interface FsLibC {
  /** Only used for openat2(2) (no glibc wrapper): {@code syscall(437, dirfd, path, &how, sizeof how)}. */
  long syscall(long number, long dirfd, @In byte[] path, @In byte[] how, long size);

  int open(@In byte[] path, int flags, int mode);

  int statx(int dirfd, @In byte[] path, int flags, int mask, @Out byte[] statxbuf);

  int mkdirat(int dirfd, @In byte[] path, int mode);

  int unlinkat(int dirfd, @In byte[] path, int flags);

  int renameat2(int olddirfd, @In byte[] oldpath, int newdirfd, @In byte[] newpath, int flags);

  int fchmod(int fd, int mode);

  int fchown(int fd, int owner, int group);

  long readlinkat(int dirfd, @In byte[] path, @Out byte[] buf, long bufsiz);

  long getdents64(int fd, Pointer dirp, long count);

  long read(int fd, Pointer buf, long count);

  long write(int fd, Pointer buf, long count);

  long lseek(int fd, long offset, int whence);

  int fcntl(int fd, int cmd, int arg);

  int close(int fd);

  int fstatfs(int fd, @Out byte[] buf);

  /** Sets the calling thread's filesystem uid; returns the previous one (-1 only queries). */
  int setfsuid(int fsuid);

  /** Sets the calling thread's filesystem gid; returns the previous one (-1 only queries). */
  int setfsgid(int fsgid);

  /** capget(2): {@code header} is a __user_cap_header_struct, {@code data} two __user_cap_data_struct. */
  int capget(@In byte[] header, @Out byte[] data);

  /** capset(2), for the calling thread only (header.pid = 0). */
  int capset(@In byte[] header, @In byte[] data);
}
