package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * The path is not what the operation needs, such as a directory to read or a file to list
 * ({@code IPC_ERROR_FAILED_PRECONDITION}).
 */
public class FailedPreconditionException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_FAILED_PRECONDITION}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public FailedPreconditionException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_FAILED_PRECONDITION, message, metadata);
  }
}
