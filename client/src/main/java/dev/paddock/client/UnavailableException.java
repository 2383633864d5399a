package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** The host cannot serve now (starting, shutting down, its audit log or a provider down): retry with backoff. */
public final class UnavailableException extends PaddockException {
  private static final long serialVersionUID = 1L;

  UnavailableException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
