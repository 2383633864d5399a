package dev.paddock.runtime.errors;

import dev.paddock.ipc.v1.ErrorReason;
import java.util.List;
import java.util.Map;

/**
 * A typed, tenant-safe error. Each subclass fixes its canonical {@link #code()}; {@link #reason()} is
 * the machine-readable {@code ErrorInfo.reason} (see errors.proto); the message and metadata go to
 * the caller, so they never carry host paths, stack traces, secrets or other tenants' ids.
 */
public abstract sealed class PaddockException extends RuntimeException
    permits PaddockException.InvalidArgument,
        PaddockException.NotFound,
        PaddockException.Unauthenticated,
        PaddockException.PermissionDenied,
        PaddockException.FailedPrecondition,
        PaddockException.ResourceExhausted,
        PaddockException.Unavailable,
        PaddockException.Unimplemented,
        PaddockException.AlreadyExists,
        PaddockException.DeadlineExceeded,
        PaddockException.Internal {
  private static final long serialVersionUID = 1L;

  private final ErrorReason reason;
  private final transient Map<String, String> metadata;

  private PaddockException(ErrorReason reason, String message, Map<String, String> metadata, Throwable cause) {
    super(message, cause, false, cause != null);
    this.reason = reason;
    this.metadata = Map.copyOf(metadata);
  }

  /** The canonical code. */
  public abstract ErrorCode code();

  /** {@code ErrorInfo.reason}, e.g. {@link ErrorReason#SESSION_NOT_FOUND}: the generated enum, never a free string. */
  public ErrorReason reason() {
    return reason;
  }

  /** {@code ErrorInfo.metadata}: safe, caller-owned facts such as a limit's value. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** A field of the request that is wrong, and why (becomes {@code BadRequest.FieldViolation}). */
  public record FieldViolation(String field, String description) {}

  /** The request is malformed; nothing was done. */
  public static final class InvalidArgument extends PaddockException {
    private static final long serialVersionUID = 1L;
    private final transient List<FieldViolation> violations;

    /** Reason INVALID_ARGUMENT; metadata {@code field} names the first offending field. */
    public InvalidArgument(List<FieldViolation> violations) {
      this(ErrorReason.INVALID_ARGUMENT, violations, Map.of("field", violations.get(0).field()));
    }

    /** A more specific reason, e.g. PAYLOAD_TOO_LARGE, with its own metadata. */
    public InvalidArgument(ErrorReason reason, List<FieldViolation> violations, Map<String, String> metadata) {
      super(reason, describe(violations), metadata, null);
      this.violations = List.copyOf(violations);
    }

    public InvalidArgument(String field, String description) {
      this(List.of(new FieldViolation(field, description)));
    }

    /**
     * PAYLOAD_TOO_LARGE: {@code field} is over its byte limit. Metadata {@code field} and
     * {@code limitBytes}; BadRequest names the field with {@code description}.
     */
    public static InvalidArgument tooLarge(String field, long limitBytes, String description) {
      return new InvalidArgument(ErrorReason.PAYLOAD_TOO_LARGE, List.of(new FieldViolation(field, description)),
          Map.of("field", field, "limitBytes", Long.toString(limitBytes)));
    }

    public List<FieldViolation> violations() {
      return violations;
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.INVALID_ARGUMENT;
    }

    private static String describe(List<FieldViolation> violations) {
      StringBuilder b = new StringBuilder("invalid request: ");
      for (int i = 0; i < violations.size(); i++) {
        b.append(i == 0 ? "" : "; ").append(violations.get(i).field()).append(": ").append(violations.get(i).description());
      }
      return b.toString();
    }
  }

  /** The resource does not exist for this tenant: exactly the answer for another tenant's resource. */
  public static final class NotFound extends PaddockException {
    private static final long serialVersionUID = 1L;

    public NotFound(ErrorReason reason, String message, Map<String, String> metadata) {
      super(reason, message, metadata, null);
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.NOT_FOUND;
    }
  }

  /** No valid API key. */
  public static final class Unauthenticated extends PaddockException {
    private static final long serialVersionUID = 1L;

    public Unauthenticated(String message) {
      super(ErrorReason.UNAUTHENTICATED_API_KEY, message, Map.of(), null);
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.UNAUTHENTICATED;
    }
  }

  /** A valid key without the scope this call needs. */
  public static final class PermissionDenied extends PaddockException {
    private static final long serialVersionUID = 1L;

    /** Reason PERMISSION_DENIED_SCOPE; metadata {@code requiredScope}. */
    public PermissionDenied(String requiredScope) {
      super(ErrorReason.PERMISSION_DENIED_SCOPE, "the API key lacks the scope this call needs: " + requiredScope,
          Map.of("requiredScope", requiredScope), null);
    }

    /** Another refusal, e.g. PERMISSION_DENIED_POLICY (the session's policy forbids it). */
    public PermissionDenied(ErrorReason reason, String message, Map<String, String> metadata) {
      super(reason, message, metadata, null);
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.PERMISSION_DENIED;
    }
  }

  /** The host or the resource is not in a state to do this (no working jail, session closed). */
  public static final class FailedPrecondition extends PaddockException {
    private static final long serialVersionUID = 1L;

    public FailedPrecondition(ErrorReason reason, String message) {
      this(reason, message, Map.of());
    }

    public FailedPrecondition(ErrorReason reason, String message, Map<String, String> metadata) {
      super(reason, message, metadata, null);
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.FAILED_PRECONDITION;
    }
  }

  /** A quota or limit was hit (becomes {@code QuotaFailure}). */
  public static final class ResourceExhausted extends PaddockException {
    private static final long serialVersionUID = 1L;
    private final String subject;
    private final java.time.Duration retryAfter;

    public ResourceExhausted(ErrorReason reason, String message, String subject, Map<String, String> metadata) {
      this(reason, message, subject, metadata, null);
    }

    /** A quota that frees up with time (a rate): {@code retryAfter} becomes RetryInfo. */
    public ResourceExhausted(ErrorReason reason, String message, String subject, Map<String, String> metadata,
        java.time.Duration retryAfter) {
      super(reason, message, metadata, null);
      this.subject = subject;
      this.retryAfter = retryAfter;
    }

    /** How long until retrying may succeed; null when waiting does not help by itself. */
    public java.time.Duration retryAfter() {
      return retryAfter;
    }

    /** What the quota applies to, e.g. {@code tenant:demo}. */
    public String subject() {
      return subject;
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.RESOURCE_EXHAUSTED;
    }
  }

  /** Try again later (becomes {@code RetryInfo}). */
  public static final class Unavailable extends PaddockException {
    private static final long serialVersionUID = 1L;
    private final java.time.Duration retryAfter;

    public Unavailable(ErrorReason reason, String message, java.time.Duration retryAfter) {
      super(reason, message, Map.of(), null);
      this.retryAfter = retryAfter;
    }

    public java.time.Duration retryAfter() {
      return retryAfter;
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.UNAVAILABLE;
    }
  }

  /** Designed in the API, not built yet. */
  public static final class Unimplemented extends PaddockException {
    private static final long serialVersionUID = 1L;

    /** {@code method} is the RPC or feature, e.g. {@code "SignalExec"}. */
    public Unimplemented(String method) {
      super(ErrorReason.NOT_IMPLEMENTED, method + " is not implemented in this version", Map.of("method", method), null);
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.UNIMPLEMENTED;
    }
  }

  /** The host failed. The cause stays in the host's log; the caller sees only the request id. */
  public static final class Internal extends PaddockException {
    private static final long serialVersionUID = 1L;

    public Internal(String safeMessage, Throwable cause) {
      this(ErrorReason.INTERNAL, safeMessage, Map.of(), cause);
    }

    public Internal(ErrorReason reason, String safeMessage, Map<String, String> metadata, Throwable cause) {
      super(reason, safeMessage, metadata, cause);
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.INTERNAL;
    }
  }

  /** The thing the caller wants to create is there already. */
  public static final class AlreadyExists extends PaddockException {
    private static final long serialVersionUID = 1L;

    public AlreadyExists(ErrorReason reason, String message, Map<String, String> metadata) {
      super(reason, message, metadata, null);
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.ALREADY_EXISTS;
    }
  }

  /** The call's deadline passed while the host waited on the jail; what was done stays done. */
  public static final class DeadlineExceeded extends PaddockException {
    private static final long serialVersionUID = 1L;

    public DeadlineExceeded(String message) {
      super(ErrorReason.DEADLINE_EXCEEDED, message, Map.of(), null);
    }

    /** A more specific reason, e.g. BROWSER_TIMEOUT, with its own metadata. */
    public DeadlineExceeded(ErrorReason reason, String message, Map<String, String> metadata) {
      super(reason, message, metadata, null);
    }

    @Override
    public ErrorCode code() {
      return ErrorCode.DEADLINE_EXCEEDED;
    }
  }
}
