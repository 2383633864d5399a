package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * A value is over its size limit ({@code IPC_ERROR_PAYLOAD_TOO_LARGE}; metadata {@code "field"},
 * {@code "limitBytes"}).
 *
 * <p>Raised by the host for a field over its own limit, and by the SDK, before sending anything,
 * for a request whose frame would exceed the frame limit ({@link Agent#maxFrameBytes()}); then the
 * metadata is {@code "field" = "frame"}, {@code "limitBytes"} and {@code "sizeBytes"} (the
 * serialized request, bytes).
 */
public class PayloadTooLargeException extends AgentException {
  /**
   * An exception with the reason {@code IPC_ERROR_PAYLOAD_TOO_LARGE}.
   *
   * @param message one sentence for humans
   * @param metadata details (copied); {@code null} means none
   */
  public PayloadTooLargeException(String message, Map<String, String> metadata) {
    super(IpcErrorReason.IPC_ERROR_PAYLOAD_TOO_LARGE, message, metadata);
  }
}
