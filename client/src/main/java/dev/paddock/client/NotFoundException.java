package dev.paddock.client;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;

/** No such session, exec, file or browser for the caller's tenant (another tenant's ids answer this too). */
public final class NotFoundException extends PaddockException {
  private static final long serialVersionUID = 1L;

  NotFoundException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(code, message, reason, requestId, metadata, retryAfter, cause);
  }
}
