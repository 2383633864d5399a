package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/**
 * A failed IPC call. Unchecked, like every exception of this SDK, so a tool may let it propagate.
 *
 * <p>Failures answered by the host carry its {@link #reason() reason}, its one-sentence
 * {@link #getMessage() message} (safe to show, not meant to be parsed) and its
 * {@link #metadata() metadata}; each reason has its own subclass (for example
 * {@link NotFoundException} for {@code IPC_ERROR_NOT_FOUND}), and a reason this SDK does not know
 * (from a newer host) arrives as a plain {@code AgentException}. Failures of the channel itself,
 * raised by the SDK and never sent by the host ({@link NoChannelException},
 * {@link ChannelClosedException}, {@link ProtocolException}), have the reason
 * {@code IPC_ERROR_UNSPECIFIED}. The one request the SDK refuses before sending, a frame over the
 * limit, is a {@link PayloadTooLargeException} shaped like the host's.
 */
public class AgentException extends RuntimeException {
  /** The category; never null. */
  private final IpcErrorReason reason;
  /** Details, unmodifiable; never null. */
  private final Map<String, String> metadata;

  /**
   * An exception with a reason, a message and details.
   *
   * @param reason the category; {@code null} means {@code IPC_ERROR_UNSPECIFIED}
   * @param message one sentence for humans
   * @param metadata details named by the reason (copied); {@code null} means none
   */
  public AgentException(IpcErrorReason reason, String message, Map<String, String> metadata) {
    this(reason, message, metadata, null);
  }

  /**
   * An exception with a reason, a message, details and a cause.
   *
   * @param reason the category; {@code null} means {@code IPC_ERROR_UNSPECIFIED}
   * @param message one sentence for humans
   * @param metadata details named by the reason (copied); {@code null} means none
   * @param cause what led to it, or {@code null}
   */
  public AgentException(
      IpcErrorReason reason, String message, Map<String, String> metadata, Throwable cause) {
    super(message, cause);
    this.reason = reason == null ? IpcErrorReason.IPC_ERROR_UNSPECIFIED : reason;
    this.metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }

  /**
   * The category of the failure.
   *
   * @return the host's reason, or {@code IPC_ERROR_UNSPECIFIED} for a failure of the channel raised
   *     by the SDK itself; never {@code null}
   */
  public IpcErrorReason reason() {
    return reason;
  }

  /**
   * Details of the failure, as named by the reason's documentation in ipc.proto (for example
   * {@code "path"} for NOT_FOUND, {@code "field"} and {@code "limitBytes"} for PAYLOAD_TOO_LARGE).
   *
   * @return an unmodifiable map, empty when there are none; never {@code null}
   */
  public Map<String, String> metadata() {
    return metadata;
  }
}
