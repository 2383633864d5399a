package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** No key, or a key the host does not know or has revoked. */
public final class UnauthenticatedException extends PaddockException {
  private static final long serialVersionUID = 1L;

  UnauthenticatedException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
