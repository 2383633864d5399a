package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** The call's deadline passed, or a tool's own time limit (reason BROWSER_TIMEOUT and the like). */
public final class DeadlineExceededException extends PaddockException {
  private static final long serialVersionUID = 1L;

  DeadlineExceededException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
