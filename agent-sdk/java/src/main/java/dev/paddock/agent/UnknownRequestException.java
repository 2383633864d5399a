package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * The host does not know the request, typically an SDK newer than the host
 * ({@code IPC_ERROR_UNKNOWN_REQUEST}).
 */
public class UnknownRequestException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_UNKNOWN_REQUEST}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public UnknownRequestException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_UNKNOWN_REQUEST, message, metadata);
  }
}
