package dev.paddock.audit.log;

/**
 * The audit log cannot be opened as it is on disk (damaged, edited, or behind its own signed
 * checkpoint), or can no longer write. The host must not run actions unrecorded: it refuses them.
 */
public final class AuditLogException extends Exception {
  private static final long serialVersionUID = 1L;

  public AuditLogException(String message) {
    super(message);
  }

  public AuditLogException(String message, Throwable cause) {
    super(message, cause);
  }
}
