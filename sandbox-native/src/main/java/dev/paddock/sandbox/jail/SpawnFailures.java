package dev.paddock.sandbox.jail;

import dev.paddock.ipc.jail.v1.SpawnFailed;

/** Turns a SpawnFailed frame into one sentence for the tenant (no host paths, nothing from the tenant). */
final class SpawnFailures {
  private static final int ENOENT = 2;
  private static final int EAGAIN = 11;
  private static final int EACCES = 13;
  private static final int ENOTDIR = 20;
  private static final int ENOEXEC = 8;

  private SpawnFailures() {}

  static String reason(SpawnFailed failed) {
    int errno = failed.getErrno();
    switch (failed.getStage()) {
      case STAGE_EXEC:
        if (errno == ENOENT) {
          return "the program was not found";
        }
        if (errno == EACCES || errno == ENOEXEC) {
          return "the program is not executable";
        }
        return "the program could not be executed (errno " + errno + ")";
      case STAGE_CHDIR:
        return errno == ENOENT || errno == ENOTDIR
            ? "the working directory does not exist in the workspace"
            : "the working directory cannot be entered (errno " + errno + ")";
      case STAGE_FORK:
        return errno == EAGAIN
            ? "the session's process limit is reached; nothing was started"
            : "the process could not be started (errno " + errno + ")";
      case STAGE_RLIMIT:
        return "the exec's resource limits could not be applied (errno " + errno + ")";
      case STAGE_FDS:
        return "the exec's standard streams could not be set up (errno " + errno + ")";
      default:
        return "the exec could not be started";
    }
  }
}
