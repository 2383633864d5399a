package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * A field of the request is missing or malformed ({@code IPC_ERROR_INVALID_ARGUMENT}; metadata
 * {@code "field"}).
 */
public class InvalidArgumentException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_INVALID_ARGUMENT}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public InvalidArgumentException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_INVALID_ARGUMENT, message, metadata);
  }
}
