package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * The action did not finish within its timeout ({@code IPC_ERROR_DEADLINE_EXCEEDED}): a page that
 * never loaded, a script that never yielded (it was stopped).
 */
public class DeadlineExceededException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_DEADLINE_EXCEEDED}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public DeadlineExceededException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_DEADLINE_EXCEEDED, message, metadata);
  }
}
