package dev.paddock.sandbox.jail;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One process to start in a live session jail. Everything here is already validated by the
 * caller (no NUL or control characters, sizes within the API's limits).
 *
 * @param argv          program and arguments; argv[0] without "/" is searched in the jail's
 *                      /usr/local/bin, /usr/bin, /bin
 * @param env           the whole environment, "NAME=value" each
 * @param cwd           absolute working directory inside the jail, under /workspace
 * @param wallTime      wall-clock limit, enforced by the host with millisecond resolution
 * @param cpuTime       CPU-time limit (RLIMIT_CPU, rounded up to whole seconds); ZERO = none
 * @param maxFileBytes  RLIMIT_FSIZE, bytes
 * @param maxOpenFiles  RLIMIT_NOFILE
 * @param ipc           give the process a typed IPC socket as its fd 3 ({@link JailProcess#ipc()})
 */
public record ExecCommand(
    List<String> argv, List<String> env, String cwd, Duration wallTime, Duration cpuTime,
    long maxFileBytes, int maxOpenFiles, boolean ipc) {
  public ExecCommand {
    argv = List.copyOf(argv);
    env = List.copyOf(env);
    Objects.requireNonNull(cwd, "cwd");
    Objects.requireNonNull(wallTime, "wallTime");
    Objects.requireNonNull(cpuTime, "cpuTime");
    if (argv.isEmpty() || argv.get(0).isEmpty()) {
      throw new IllegalArgumentException("argv[0] is required");
    }
  }

  /** A command without an IPC channel. */
  public ExecCommand(List<String> argv, List<String> env, String cwd, Duration wallTime, Duration cpuTime,
      long maxFileBytes, int maxOpenFiles) {
    this(argv, env, cwd, wallTime, cpuTime, maxFileBytes, maxOpenFiles, false);
  }

  /** The CPU-time limit as RLIMIT_CPU takes it: whole seconds, rounded up; 0 = none. */
  public long cpuSeconds() {
    return (cpuTime.toMillis() + 999) / 1000;
  }
}
