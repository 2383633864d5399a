package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** The thing is in the wrong state (a closed session, an ended exec, a lost browser). */
public final class FailedPreconditionException extends PaddockException {
  private static final long serialVersionUID = 1L;

  FailedPreconditionException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
