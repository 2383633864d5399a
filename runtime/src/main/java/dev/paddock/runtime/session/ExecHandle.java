package dev.paddock.runtime.session;

import dev.paddock.sandbox.SandboxProcess;

/**
 * One exec of a session from the moment it is admitted until it ends. It exists before its jail
 * does, so that closing the session can stop an exec that is still starting: a cancel that comes
 * first is applied the moment the process is attached.
 */
final class ExecHandle {
  private SandboxProcess process;
  private String cancelReason;

  /** Attaches the started process; kills it at once if the exec was already cancelled. */
  synchronized void attach(SandboxProcess started) {
    process = started;
    if (cancelReason != null) {
      started.cancel(cancelReason);
    }
  }

  /** Kills the exec's process tree now, or as soon as it is attached. The first reason wins. */
  synchronized void cancel(String reason) {
    if (cancelReason == null) {
      cancelReason = reason;
    }
    if (process != null) {
      process.cancel(cancelReason);
    }
  }

  /** True once the exec was cancelled (its jail must then not be started at all). */
  synchronized boolean cancelled() {
    return cancelReason != null;
  }

  /** The reason of the first cancel, or null. */
  synchronized String cancelReason() {
    return cancelReason;
  }
}
