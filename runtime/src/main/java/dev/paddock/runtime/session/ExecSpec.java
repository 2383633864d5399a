package dev.paddock.runtime.session;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One command to run in a session.
 *
 * @param argv          program and arguments
 * @param env           variables merged over the session's (may hold secrets: never logged)
 * @param cwd           working directory relative to the workspace, "" = the workspace
 * @param stdin         bytes for standard input
 * @param timeLimit     wall time, or null for the default
 * @param cpuTimeLimit  CPU time (RLIMIT_CPU), or null for none
 * @param keepStdinOpen keep stdin open after {@code stdin} for WriteStdin
 * @param ipc           give the process a typed IPC channel as fd 3
 * @param secretEnv     the tenant's secrets as environment variables: variable name to secret name
 */
public record ExecSpec(List<String> argv, Map<String, String> env, String cwd, byte[] stdin, Duration timeLimit,
    Duration cpuTimeLimit, boolean keepStdinOpen, boolean ipc, Map<String, String> secretEnv) {
  public ExecSpec {
    argv = List.copyOf(argv);
    env = Map.copyOf(env);
    secretEnv = secretEnv == null ? Map.of() : Map.copyOf(secretEnv);
    cwd = cwd == null ? "" : cwd;
    stdin = stdin == null ? new byte[0] : stdin;
  }

  /** A command with stdin closed after {@code stdin} and no CPU-time limit. */
  public ExecSpec(List<String> argv, Map<String, String> env, String cwd, byte[] stdin, Duration timeLimit) {
    this(argv, env, cwd, stdin, timeLimit, null, false, false, Map.of());
  }

  /** A command without an IPC channel. */
  public ExecSpec(List<String> argv, Map<String, String> env, String cwd, byte[] stdin, Duration timeLimit,
      Duration cpuTimeLimit, boolean keepStdinOpen) {
    this(argv, env, cwd, stdin, timeLimit, cpuTimeLimit, keepStdinOpen, false, Map.of());
  }

  /** A command with no secrets. */
  public ExecSpec(List<String> argv, Map<String, String> env, String cwd, byte[] stdin, Duration timeLimit,
      Duration cpuTimeLimit, boolean keepStdinOpen, boolean ipc) {
    this(argv, env, cwd, stdin, timeLimit, cpuTimeLimit, keepStdinOpen, ipc, Map.of());
  }

  @Override
  public String toString() {
    return "ExecSpec[argv0=" + (argv.isEmpty() ? "" : argv.get(0)) + ", args=" + (argv.size() - 1) + "]";
  }
}
