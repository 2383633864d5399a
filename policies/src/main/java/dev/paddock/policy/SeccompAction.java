package dev.paddock.policy;

/**
 * What the seccomp filter does when a process makes a syscall that a rule names.
 *
 * <p>{@link Kill} ends the whole process (the host reports it as a violation naming the syscall);
 * {@link Errno} makes the syscall fail with an error number, for syscalls that ordinary programs
 * probe and handle (for example {@code clone3}, which glibc retries as {@code clone}).
 */
public sealed interface SeccompAction {

  /** Kill the whole process with SIGSYS: a policy violation. */
  record Kill() implements SeccompAction {}

  /** Fail the syscall with {@code errno} (1..4095) and let the process go on. */
  record Errno(int errno) implements SeccompAction {
    public Errno {
      if (errno < 1 || errno > 4095) {
        throw new IllegalArgumentException("errno must be in 1..4095, got " + errno);
      }
    }
  }

  /** The shared kill action. */
  SeccompAction KILL = new Kill();
}
