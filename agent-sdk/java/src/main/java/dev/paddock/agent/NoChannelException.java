package dev.paddock.agent;

/**
 * There is no IPC channel to connect to: {@code PADDOCK_IPC_FD} is not set, is not a descriptor
 * number, or names a descriptor that is not open or not a socket. The exec was started without
 * {@code ExecRequest.ipc = true}. Reason {@code IPC_ERROR_UNSPECIFIED} (raised by the SDK).
 */
public class NoChannelException extends AgentException {
  /**
   * An exception saying why there is no channel.
   *
   * @param message what is missing or wrong
   * @param cause what led to it, or {@code null}
   */
  public NoChannelException(String message, Throwable cause) {
    super(null, message, null, cause);
  }
}
