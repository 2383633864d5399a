package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * The session's policy does not grant this operation ({@code IPC_ERROR_PERMISSION_DENIED}; metadata
 * {@code "operation"}).
 */
public class PermissionDeniedException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_PERMISSION_DENIED}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public PermissionDeniedException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_PERMISSION_DENIED, message, metadata);
  }
}
