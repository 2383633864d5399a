package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * The operation exists but is not available on this host yet ({@code IPC_ERROR_NOT_AVAILABLE}); in
 * this protocol version every {@link Agent#callTool} is answered so (metadata {@code "tool"}).
 */
public class NotAvailableException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_NOT_AVAILABLE}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public NotAvailableException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_NOT_AVAILABLE, message, metadata);
  }
}
