package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** What the call would create exists already. */
public final class AlreadyExistsException extends PaddockException {
  private static final long serialVersionUID = 1L;

  AlreadyExistsException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
