package dev.paddock.sandbox.linux;

/** The errno values Paddock acts on; anything else is {@link #OTHER} with its number kept. */
public enum Errno {
  EPERM(1),
  ENOENT(2),
  ESRCH(3),
  EINTR(4),
  EIO(5),
  EBADF(9),
  ECHILD(10),
  EAGAIN(11),
  ENOMEM(12),
  EACCES(13),
  EBUSY(16),
  EEXIST(17),
  EXDEV(18),
  ENOTDIR(20),
  EISDIR(21),
  EINVAL(22),
  ENFILE(23),
  EMFILE(24),
  ENOSPC(28),
  EPIPE(32),
  ENAMETOOLONG(36),
  ENOSYS(38),
  ENOTEMPTY(39),
  ELOOP(40),
  ENOTSOCK(88),
  EMSGSIZE(90),
  EAFNOSUPPORT(97),
  ENETUNREACH(101),
  ECONNRESET(104),
  ENOBUFS(105),
  ETIMEDOUT(110),
  ECONNREFUSED(111),
  EHOSTUNREACH(113),
  OTHER(-1);

  private final int code;

  Errno(int code) {
    this.code = code;
  }

  /** The Linux errno number, or -1 for {@link #OTHER}. */
  public int code() {
    return code;
  }

  /** The constant for a raw errno number. */
  public static Errno of(int code) {
    for (Errno e : values()) {
      if (e.code == code) {
        return e;
      }
    }
    return OTHER;
  }
}
