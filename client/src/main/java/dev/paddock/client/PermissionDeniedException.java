package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** The key lacks a scope, or the tenant's policy forbids the operation (reason PERMISSION_DENIED_SCOPE or PERMISSION_DENIED_POLICY). */
public final class PermissionDeniedException extends PaddockException {
  private static final long serialVersionUID = 1L;

  PermissionDeniedException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
