package dev.paddock.agent;

/**
 * The host broke the protocol. Thrown by a call whose reply is of the wrong type (say
 * {@code file_data} for a ping): only that call fails and the channel stays usable, since the byte
 * stream is still in step. Bytes that are not a frame at all (a length over the frame limit, a body
 * that does not parse as an {@code Envelope}) end the channel instead: every waiting call then gets
 * a {@link ChannelClosedException} whose cause is a {@code ProtocolException}. Reason
 * {@code IPC_ERROR_UNSPECIFIED} (raised by the SDK).
 */
public class ProtocolException extends AgentException {
  /**
   * An exception describing the violation.
   *
   * @param message what the host sent that it should not have
   * @param cause the parse failure, or {@code null}
   */
  public ProtocolException(String message, Throwable cause) {
    super(null, message, null, cause);
  }
}
