package dev.paddock.client;

import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.ToolArtifact;
import dev.paddock.ipc.v1.ToolProgress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * How a command ended, with everything it printed.
 *
 * @param execId    its id in the session
 * @param result    status, exit code or signal, resource usage (paddock.v1.ExecResult)
 * @param stdout    everything it wrote to stdout (up to the host's per-exec output cap)
 * @param stderr    everything it wrote to stderr
 * @param progress  its progress messages, in order (with {@link Command#ipc})
 * @param artifacts the artifacts it published (with {@link Command#ipc})
 */
public record ExecOutcome(String execId, ExecResult result, byte[] stdout, byte[] stderr, List<ToolProgress> progress,
    List<ToolArtifact> artifacts) {
  public ExecOutcome {
    progress = List.copyOf(progress);
    artifacts = List.copyOf(artifacts);
  }

  /** Exited on its own with status 0. */
  public boolean ok() {
    return result.getStatus() == ExecStatus.EXEC_STATUS_OK && result.getExitCode() == 0;
  }

  /** Its exit code when it exited on its own (status OK); -1 when it was killed or never ran. */
  public int exitCode() {
    return result.getStatus() == ExecStatus.EXEC_STATUS_OK ? result.getExitCode() : -1;
  }

  /** stdout as UTF-8 text. */
  public String stdoutText() {
    return new String(stdout, StandardCharsets.UTF_8);
  }

  /** stderr as UTF-8 text. */
  public String stderrText() {
    return new String(stderr, StandardCharsets.UTF_8);
  }
}
