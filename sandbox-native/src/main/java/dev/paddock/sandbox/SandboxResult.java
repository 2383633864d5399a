package dev.paddock.sandbox;

import java.util.Objects;

/**
 * How a sandboxed execution ended: a value, not an exception (compare sandbox2's {@code Result}).
 *
 * <p>An exit code of 137 alone is evidence of nothing: the host tells the cases apart from its own
 * timer, the cgroup's OOM and pids counters and the jail's log.
 *
 * @param status           the kind of ending
 * @param exitCode         the process's exit code when {@code status} is {@link Status#OK} or
 *                         {@link Status#PIDS_EXHAUSTED}; otherwise -1
 * @param signal           the killing signal's number for {@link Status#SIGNALED}; otherwise 0
 * @param violationSyscall the forbidden syscall's name for {@link Status#VIOLATION} ("unknown" when
 *                         the kernel's record of it could not be read); otherwise empty
 * @param reason           one sentence for the caller; never a host path or another tenant's id
 * @param usage            resources used
 */
public record SandboxResult(
    Status status, int exitCode, int signal, String violationSyscall, String reason, ResourceUsage usage) {

  /** The kinds of ending. */
  public enum Status {
    /** The process exited on its own; see the exit code. */
    OK,
    /** The wall-time limit passed (the host killed the tree) or the CPU-time limit was reached. */
    TIMEOUT,
    /** The memory limit was hit and the kernel OOM-killed a process of the tree. */
    OOM,
    /** The process limit was hit (fork failed) and the program ended with a non-zero code. */
    PIDS_EXHAUSTED,
    /** A forbidden syscall: seccomp killed the process. */
    VIOLATION,
    /** Killed by a signal that no limit explains. */
    SIGNALED,
    /** Killed by the host on request: the caller cancelled, or the session closed. */
    KILLED,
    /** The jail could not be set up; nothing ran. */
    SETUP_ERROR,
    /** The host failed while supervising; the process was killed. */
    INTERNAL_ERROR
  }

  public SandboxResult {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(violationSyscall, "violationSyscall");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(usage, "usage");
  }

  public static SandboxResult ok(int exitCode, ResourceUsage usage) {
    return new SandboxResult(Status.OK, exitCode, 0, "", "exited with code " + exitCode, usage);
  }

  public static SandboxResult timeout(long limitMillis, ResourceUsage usage) {
    return new SandboxResult(Status.TIMEOUT, -1, 9, "", "wall time limit of " + limitMillis + " ms exceeded", usage);
  }

  /** The CPU-time limit (RLIMIT_CPU) was reached: SIGXCPU, or SIGKILL at the hard limit. */
  public static SandboxResult cpuTimeout(long limitSeconds, ResourceUsage usage) {
    return new SandboxResult(Status.TIMEOUT, -1, 24, "", "CPU time limit of " + limitSeconds + " s exceeded", usage);
  }

  public static SandboxResult oom(long limitBytes, ResourceUsage usage) {
    return new SandboxResult(Status.OOM, -1, 9, "", "memory limit of " + limitBytes + " bytes exceeded", usage);
  }

  public static SandboxResult pidsExhausted(int exitCode, int limit, ResourceUsage usage) {
    return new SandboxResult(Status.PIDS_EXHAUSTED, exitCode, 0, "",
        "process limit of " + limit + " reached; the program exited with code " + exitCode, usage);
  }

  public static SandboxResult violation(String syscall, ResourceUsage usage) {
    return new SandboxResult(Status.VIOLATION, -1, 31, syscall, "forbidden syscall: " + syscall, usage);
  }

  public static SandboxResult signaled(int signal, String reason, ResourceUsage usage) {
    return new SandboxResult(Status.SIGNALED, -1, signal, "", reason, usage);
  }

  public static SandboxResult killed(String reason, ResourceUsage usage) {
    return new SandboxResult(Status.KILLED, -1, 9, "", reason, usage);
  }

  public static SandboxResult setupError(String reason) {
    return new SandboxResult(Status.SETUP_ERROR, -1, 0, "", reason, ResourceUsage.NONE);
  }

  public static SandboxResult internalError(String reason, ResourceUsage usage) {
    return new SandboxResult(Status.INTERNAL_ERROR, -1, 0, "", reason, usage);
  }
}
