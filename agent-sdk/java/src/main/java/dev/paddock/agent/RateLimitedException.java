package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * Over the exec's request rate ({@code IPC_ERROR_RATE_LIMITED}; metadata {@code "limitPerSecond"}).
 * Nothing happened; retry later.
 */
public class RateLimitedException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_RATE_LIMITED}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public RateLimitedException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_RATE_LIMITED, message, metadata);
  }
}
