package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** The request is wrong (a field, a size, a path): fix it; retrying the same request fails the same way. */
public final class InvalidArgumentException extends PaddockException {
  private static final long serialVersionUID = 1L;

  InvalidArgumentException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
