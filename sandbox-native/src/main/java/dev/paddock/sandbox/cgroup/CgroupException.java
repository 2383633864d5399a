package dev.paddock.sandbox.cgroup;

/** A cgroup could not be found, created, limited or read. The message may name host paths: log it, never send it to a tenant. */
public final class CgroupException extends Exception {
  private static final long serialVersionUID = 1L;

  public CgroupException(String message) {
    super(message);
  }

  public CgroupException(String message, Throwable cause) {
    super(message, cause);
  }
}
