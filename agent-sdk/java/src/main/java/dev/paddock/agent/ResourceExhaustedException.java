package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * A session or exec budget is used up: artifact count or bytes, scratch keys or bytes
 * ({@code IPC_ERROR_RESOURCE_EXHAUSTED}; metadata {@code "limit"}).
 */
public class ResourceExhaustedException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_RESOURCE_EXHAUSTED}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public ResourceExhaustedException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_RESOURCE_EXHAUSTED, message, metadata);
  }
}
