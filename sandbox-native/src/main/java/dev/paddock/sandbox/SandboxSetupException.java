package dev.paddock.sandbox;

/**
 * The jail could not be set up, so nothing ran. The message is safe to show a tenant (no host paths);
 * the cause, if any, is for the host's log only.
 */
public final class SandboxSetupException extends Exception {
  private static final long serialVersionUID = 1L;

  public SandboxSetupException(String safeMessage) {
    super(safeMessage);
  }

  public SandboxSetupException(String safeMessage, Throwable cause) {
    super(safeMessage, cause);
  }
}
