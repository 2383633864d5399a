package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** The host does not serve this call or option (an older host, or one built without it). */
public final class UnimplementedException extends PaddockException {
  private static final long serialVersionUID = 1L;

  UnimplementedException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
