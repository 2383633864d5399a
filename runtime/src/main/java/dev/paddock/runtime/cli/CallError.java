package dev.paddock.runtime.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RequestInfo;
import com.google.rpc.RetryInfo;
import dev.paddock.ipc.v1.ErrorReason;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A failed call as the CLI shows it, read from the {@code google.rpc.Status} details the host always
 * sends (errors.proto): {@code ErrorInfo} for the reason and metadata, {@code RequestInfo} for the
 * request id, and {@code BadRequest} / {@code RetryInfo} where present. Errors made by the gRPC
 * library itself (host unreachable, deadline passed) have no details: their reason is the gRPC code
 * and the request id comes from the {@code x-request-id} trailer when there is one.
 *
 * @param code the gRPC code name, e.g. {@code NOT_FOUND}
 * @param reason the ErrorInfo reason, e.g. {@code SESSION_NOT_FOUND}; the code name when absent
 * @param message one line for humans (never parse it)
 * @param requestId the call's request id; "" when unknown
 * @param metadata ErrorInfo metadata (lowerCamelCase keys), sorted; empty when absent
 * @param violations BadRequest field violations as {@code field: description}; empty when absent
 * @param retryDelay RetryInfo's delay; null when absent
 */
record CallError(String code, String reason, String message, String requestId, Map<String, String> metadata,
    List<Violation> violations, Duration retryDelay) {
  private static final Metadata.Key<String> REQUEST_ID = Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

  /** One BadRequest field violation. */
  record Violation(String field, String description) {}

  static CallError of(StatusRuntimeException e) {
    Status status = e.getStatus();
    String code = status.getCode().name();
    String reason = null;
    String requestId = null;
    Map<String, String> metadata = new TreeMap<>();
    List<Violation> violations = new ArrayList<>();
    Duration retryDelay = null;
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    if (details != null) {
      for (Any detail : details.getDetailsList()) {
        try {
          if (detail.is(ErrorInfo.class)) {
            ErrorInfo info = detail.unpack(ErrorInfo.class);
            reason = info.getReason();
            metadata.putAll(info.getMetadataMap());
          } else if (detail.is(RequestInfo.class)) {
            requestId = detail.unpack(RequestInfo.class).getRequestId();
          } else if (detail.is(BadRequest.class)) {
            for (BadRequest.FieldViolation v : detail.unpack(BadRequest.class).getFieldViolationsList()) {
              violations.add(new Violation(v.getField(), v.getDescription()));
            }
          } else if (detail.is(RetryInfo.class)) {
            retryDelay = Durations.fromProto(detail.unpack(RetryInfo.class).getRetryDelay());
          }
        } catch (InvalidProtocolBufferException ignored) {
          // a detail we cannot read adds nothing
        }
      }
    }
    if (requestId == null) {
      Metadata trailers = Status.trailersFromThrowable(e);
      requestId = trailers == null ? null : trailers.get(REQUEST_ID);
    }
    String message = status.getDescription();
    if (reason == null && status.getCause() != null && status.getCause().getMessage() != null) {
      // Library-made errors: the cause says what went wrong ("Connection refused: /127.0.0.1:1").
      message = (message == null ? "" : message + ": ") + status.getCause().getMessage();
    }
    return new CallError(code, reason == null || reason.isEmpty() ? code : reason,
        message == null || message.isEmpty() ? "(no message)" : message,
        requestId == null ? "" : requestId, metadata, violations, retryDelay);
  }

  /**
   * The exit code of a command that failed this way: 121 when the host has no working jail
   * ({@code JAIL_UNAVAILABLE}: nothing can run there now), else 120 (host or call error).
   */
  int exitCode() {
    return reason.equals(ErrorReason.JAIL_UNAVAILABLE.name()) ? ExecCommand.EXIT_SETUP_ERROR : ExecCommand.EXIT_HOST_ERROR;
  }

  /**
   * {@code error: REASON: message (request ID)}, then one indented line per field violation.
   */
  String human() {
    return human("");
  }

  /** As {@link #human()}, with {@code context} after {@code error: } ("stdin: ", "could not close session X: "). */
  String human(String context) {
    StringBuilder b = new StringBuilder("error: ").append(context).append(reason).append(": ").append(message);
    if (retryDelay != null) {
      b.append(" (retry after ").append(Durations.format(retryDelay)).append(')');
    }
    if (!requestId.isEmpty()) {
      b.append(" (request ").append(requestId).append(')');
    }
    for (Violation v : violations) {
      b.append(System.lineSeparator()).append("  ").append(v.field()).append(": ").append(v.description());
    }
    return b.toString();
  }

  /**
   * {@code {"error": {"code", "reason", "message", "requestId", "metadata"[, "fieldViolations"]
   * [, "retryDelay"]}}}: code, reason, message, requestId (maybe "") and metadata (maybe {}) always.
   */
  ObjectNode toJson() {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    ObjectNode error = nodes.objectNode();
    error.put("code", code).put("reason", reason).put("message", message).put("requestId", requestId);
    ObjectNode meta = error.putObject("metadata");
    metadata.forEach(meta::put);
    if (!violations.isEmpty()) {
      ArrayNode list = error.putArray("fieldViolations");
      for (Violation v : violations) {
        list.addObject().put("field", v.field()).put("description", v.description());
      }
    }
    if (retryDelay != null) {
      error.set("retryDelay", ProtoJson.toJson(Durations.toProto(retryDelay)));
    }
    ObjectNode root = nodes.objectNode();
    root.set("error", error);
    return root;
  }
}
