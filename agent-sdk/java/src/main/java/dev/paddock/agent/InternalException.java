package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * The host failed ({@code IPC_ERROR_INTERNAL}); quote the request in a report to the planner's
 * operator.
 */
public class InternalException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_INTERNAL}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public InternalException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_INTERNAL, message, metadata);
  }
}
