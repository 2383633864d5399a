package dev.paddock.agent;

/**
 * The channel to the host is gone, so the call has no answer. Raised for every call waiting when
 * the host closes the channel (end of stream, possibly in the middle of a frame), when reading or
 * writing it fails, when the host sends bytes that are not a valid frame (then the cause is a
 * {@link ProtocolException}), and for every call made after that or after {@link Agent#close()}.
 * A call that fails so may or may not have been carried out by the host. Reason
 * {@code IPC_ERROR_UNSPECIFIED} (raised by the SDK).
 */
public class ChannelClosedException extends AgentException {
  /**
   * An exception saying why the channel is gone.
   *
   * @param message what happened
   * @param cause the I/O or protocol failure, or {@code null} (orderly close)
   */
  public ChannelClosedException(String message, Throwable cause) {
    super(null, message, null, cause);
  }
}
