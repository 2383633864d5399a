package dev.paddock.runtime.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.QuotaFailure;
import com.google.rpc.RequestInfo;
import com.google.rpc.RetryInfo;
import dev.paddock.runtime.errors.PaddockException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.protobuf.StatusProto;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where errors become wire statuses: {@code google.rpc.Status} with
 * {@code ErrorInfo{reason, domain="paddock.dev", metadata}} and {@code RequestInfo{request_id}}
 * always, plus {@code BadRequest}, {@code QuotaFailure} or {@code RetryInfo} where they apply.
 * Anything that is not a {@link PaddockException} becomes a bare INTERNAL: its message and stack
 * stay in the host's log, under the request id.
 */
final class ErrorMapper {
  static final String DOMAIN = "paddock.dev";
  private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);

  private ErrorMapper() {}

  /** Ends {@code call} with the typed status of {@code error}; the listener ignores what follows. */
  static <ReqT, RespT> io.grpc.ServerCall.Listener<ReqT> closeWith(io.grpc.ServerCall<ReqT, RespT> call, Throwable error) {
    StatusException e = toStatusException(error, RequestIds.current());
    call.close(e.getStatus(), e.getTrailers() == null ? new io.grpc.Metadata() : e.getTrailers());
    return new io.grpc.ServerCall.Listener<>() {};
  }

  static StatusException toStatusException(Throwable error, String requestId) {
    PaddockException e;
    if (error instanceof PaddockException pe) {
      e = pe;
    } else {
      log.error("internal error in request {}", requestId, error);
      e = new PaddockException.Internal("internal error; quote request id " + requestId + " to the operator", error);
    }
    if (e instanceof PaddockException.Internal && e.getCause() != null && e.getCause() != error) {
      log.error("internal error in request {}", requestId, e.getCause());
    }
    com.google.rpc.Status.Builder status = com.google.rpc.Status.newBuilder()
        .setCode(Status.Code.valueOf(e.code().name()).value())
        .setMessage(e.getMessage());
    status.addDetails(Any.pack(ErrorInfo.newBuilder()
        .setReason(e.reason().name()).setDomain(DOMAIN).putAllMetadata(e.metadata()).build()));
    status.addDetails(Any.pack(RequestInfo.newBuilder().setRequestId(requestId).build()));
    if (e instanceof PaddockException.InvalidArgument invalid) {
      BadRequest.Builder bad = BadRequest.newBuilder();
      for (PaddockException.FieldViolation v : invalid.violations()) {
        bad.addFieldViolations(BadRequest.FieldViolation.newBuilder().setField(v.field()).setDescription(v.description()));
      }
      status.addDetails(Any.pack(bad.build()));
    } else if (e instanceof PaddockException.ResourceExhausted exhausted) {
      status.addDetails(Any.pack(QuotaFailure.newBuilder()
          .addViolations(QuotaFailure.Violation.newBuilder().setSubject(exhausted.subject()).setDescription(e.getMessage()))
          .build()));
      if (exhausted.retryAfter() != null) {
        status.addDetails(Any.pack(RetryInfo.newBuilder()
            .setRetryDelay(com.google.protobuf.util.Durations.fromMillis(Math.max(1, exhausted.retryAfter().toMillis())))
            .build()));
      }
    } else if (e instanceof PaddockException.Unavailable unavailable) {
      status.addDetails(Any.pack(RetryInfo.newBuilder()
          .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(unavailable.retryAfter().toSeconds()))
          .build()));
    }
    return StatusProto.toStatusException(status.build());
  }
}
