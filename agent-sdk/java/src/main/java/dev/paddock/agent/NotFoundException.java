package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * The file, directory, key or tool does not exist ({@code IPC_ERROR_NOT_FOUND}; metadata
 * {@code "path"} or {@code "key"}).
 */
public class NotFoundException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_NOT_FOUND}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public NotFoundException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_NOT_FOUND, message, metadata);
  }
}
