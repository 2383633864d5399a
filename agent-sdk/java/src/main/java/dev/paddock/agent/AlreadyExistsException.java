package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * The name is taken: an artifact of that name exists for this exec, or a file where
 * {@link WriteOptions#createOnly()} was set ({@code IPC_ERROR_ALREADY_EXISTS}; metadata {@code "name"} or
 * {@code "path"}).
 */
public class AlreadyExistsException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_ALREADY_EXISTS}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public AlreadyExistsException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_ALREADY_EXISTS, message, metadata);
  }
}
