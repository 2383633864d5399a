package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** A budget or rate limit of the tenant: wait ({@link #retryAfter()}) or ask for less. */
public final class ResourceExhaustedException extends PaddockException {
  private static final long serialVersionUID = 1L;

  ResourceExhaustedException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
