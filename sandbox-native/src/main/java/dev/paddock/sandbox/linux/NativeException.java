package dev.paddock.sandbox.linux;

/** A libc call failed; carries which call and the errno, never a raw return code. */
public final class NativeException extends Exception {
  private static final long serialVersionUID = 1L;
  private final Errno errno;
  private final int rawErrno;
  private final String call;

  public NativeException(String call, int rawErrno) {
    super(call + " failed: errno " + rawErrno + " (" + Errno.of(rawErrno) + ")");
    this.call = call;
    this.rawErrno = rawErrno;
    this.errno = Errno.of(rawErrno);
  }

  /** The errno, {@link Errno#OTHER} when it is not one Paddock names. */
  public Errno errno() {
    return errno;
  }

  /** The errno number as the kernel gave it. */
  public int rawErrno() {
    return rawErrno;
  }

  /** The libc function that failed, for example {@code "kill"}. */
  public String call() {
    return call;
  }
}
