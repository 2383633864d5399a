package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** The call was cancelled, by this client or by the host on shutdown. */
public final class CancelledException extends PaddockException {
  private static final long serialVersionUID = 1L;

  CancelledException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
