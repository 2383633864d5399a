package dev.paddock.sandbox.linux;

/**
 * How a process ended, from waitid(2).
 *
 * @param exitCode 0-255 when it exited; 0 when killed
 * @param signal   the killing signal's number; 0 when it exited
 */
public record ExitStatus(int exitCode, int signal) {
  /** True when it was killed by a signal. */
  public boolean signaled() {
    return signal != 0;
  }
}
