package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * The workspace is full, in bytes or inodes ({@code IPC_ERROR_WORKSPACE_FULL}).
 */
public class WorkspaceFullException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_WORKSPACE_FULL}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public WorkspaceFullException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_WORKSPACE_FULL, message, metadata);
  }
}
