package dev.paddock.client;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RequestInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A call the host refused or could not finish. Its subclass follows the gRPC code (what to do:
 * fix the request, wait, retry); {@link #reason()} is the host's ErrorInfo reason, such as
 * {@code SESSION_NOT_FOUND} (paddock.v1.ErrorReason), and {@link #requestId()} ties it to the
 * host's logs and audit records. The message is one line meant for people; act on the reason.
 */
public class PaddockException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final Status.Code code;
  private final String reason;
  private final String requestId;
  private final Map<String, String> metadata;
  private final Duration retryAfter;
  private java.util.List<FieldViolation> violations = java.util.List.of();

  /** One bad field of an INVALID_ARGUMENT answer (google.rpc.BadRequest), e.g. {@code argv}: "must not be empty". */
  public record FieldViolation(String field, String description) {}

  PaddockException(Status.Code code, String message, String reason, String requestId, Map<String, String> metadata,
      Duration retryAfter, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.reason = reason;
    this.requestId = requestId;
    this.metadata = Map.copyOf(metadata);
    this.retryAfter = retryAfter;
  }

  /** The gRPC status code. */
  public Status.Code code() {
    return code;
  }

  /**
   * The host's reason (ErrorInfo.reason, a paddock.v1.ErrorReason name such as
   * {@code SESSION_NOT_FOUND}); the code's name when the error did not come from Paddock code
   * (a connection failure, a deadline passed in the client).
   */
  public String reason() {
    return reason;
  }

  /** The call's request id ({@code req_...}); "" when the host did not answer. */
  public String requestId() {
    return requestId;
  }

  /** ErrorInfo.metadata: which session, budget, field... (keys documented at each reason). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The fields the host found wrong (BadRequest), for INVALID_ARGUMENT; empty otherwise. */
  public java.util.List<FieldViolation> violations() {
    return violations;
  }

  /** How long the host asks callers to wait before trying again (RetryInfo), when it said. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + ": " + getMessage() + " (" + reason
        + (requestId.isEmpty() ? "" : ", request " + requestId) + ")";
  }

  /** The typed exception for a failed call. */
  static PaddockException from(StatusRuntimeException e) {
    Status status = e.getStatus();
    String reason = status.getCode().name();
    String requestId = "";
    Map<String, String> metadata = Map.of();
    Duration retryAfter = null;
    boolean fromPaddock = false;
    java.util.List<FieldViolation> violations = new java.util.ArrayList<>();
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    if (details != null) {
      for (com.google.protobuf.Any any : details.getDetailsList()) {
        try {
          if (any.is(ErrorInfo.class)) {
            ErrorInfo info = any.unpack(ErrorInfo.class);
            reason = info.getReason().isEmpty() ? reason : info.getReason();
            metadata = info.getMetadataMap();
            fromPaddock = true;
          } else if (any.is(RequestInfo.class)) {
            requestId = any.unpack(RequestInfo.class).getRequestId();
          } else if (any.is(com.google.rpc.BadRequest.class)) {
            for (var v : any.unpack(com.google.rpc.BadRequest.class).getFieldViolationsList()) {
              violations.add(new FieldViolation(v.getField(), v.getDescription()));
            }
          } else if (any.is(RetryInfo.class)) {
            com.google.protobuf.Duration d = any.unpack(RetryInfo.class).getRetryDelay();
            retryAfter = Duration.ofSeconds(d.getSeconds(), d.getNanos());
          }
        } catch (InvalidProtocolBufferException malformed) {
          // a detail that does not parse is left out; the code and message still say what happened
        }
      }
    }
    io.grpc.Metadata trailers = Status.trailersFromThrowable(e);
    if (requestId.isEmpty() && trailers != null) {
      String trailer = trailers.get(REQUEST_ID);
      requestId = trailer == null ? "" : trailer;
    }
    String message = status.getDescription() == null ? "" : status.getDescription();
    if (!fromPaddock && status.getCause() != null && status.getCause().getMessage() != null) {
      // Made by the gRPC library (host unreachable...): the cause says what went wrong.
      message = (message.isEmpty() ? "" : message + ": ") + status.getCause().getMessage();
    }
    message = message.isEmpty() ? "(no message)" : message;
    PaddockException typed = typed(status.getCode(), message, reason, requestId, metadata, retryAfter, e);
    typed.violations = java.util.List.copyOf(violations);
    return typed;
  }

  private static PaddockException typed(Status.Code code, String message, String reason, String requestId,
      Map<String, String> metadata, Duration retryAfter, StatusRuntimeException e) {
    return switch (code) {
      case INVALID_ARGUMENT, OUT_OF_RANGE -> new InvalidArgumentException(code, message, reason, requestId, metadata, retryAfter, e);
      case NOT_FOUND -> new NotFoundException(code, message, reason, requestId, metadata, retryAfter, e);
      case ALREADY_EXISTS -> new AlreadyExistsException(code, message, reason, requestId, metadata, retryAfter, e);
      case PERMISSION_DENIED -> new PermissionDeniedException(code, message, reason, requestId, metadata, retryAfter, e);
      case UNAUTHENTICATED -> new UnauthenticatedException(code, message, reason, requestId, metadata, retryAfter, e);
      case RESOURCE_EXHAUSTED -> new ResourceExhaustedException(code, message, reason, requestId, metadata, retryAfter, e);
      case FAILED_PRECONDITION, ABORTED ->
          new FailedPreconditionException(code, message, reason, requestId, metadata, retryAfter, e);
      case UNAVAILABLE -> new UnavailableException(code, message, reason, requestId, metadata, retryAfter, e);
      case DEADLINE_EXCEEDED -> new DeadlineExceededException(code, message, reason, requestId, metadata, retryAfter, e);
      case CANCELLED -> new CancelledException(code, message, reason, requestId, metadata, retryAfter, e);
      case UNIMPLEMENTED -> new UnimplementedException(code, message, reason, requestId, metadata, retryAfter, e);
      default -> new PaddockException(code, message, reason, requestId, metadata, retryAfter, e);
    };
  }

  static final io.grpc.Metadata.Key<String> REQUEST_ID =
      io.grpc.Metadata.Key.of("x-request-id", io.grpc.Metadata.ASCII_STRING_MARSHALLER);
}
