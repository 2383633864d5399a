package dev.paddock.runtime.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.paddock.ipc.v1.ErrorReason;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A failed call as the CLI shows it: the client library's typed exception ({@link
 * dev.paddock.client.PaddockException}, which reads the {@code google.rpc.Status} details the host
 * always sends) as one human line or one JSON object. Errors made by the gRPC library itself (host
 * unreachable, deadline passed) have no details: their reason is the gRPC code.
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
  /** One BadRequest field violation. */
  record Violation(String field, String description) {}

  /** The client library's typed exception (it reads the details), as the CLI shows it. */
  static CallError of(dev.paddock.client.PaddockException e) {
    return new CallError(e.code().name(), e.reason(), e.getMessage(), e.requestId(), new TreeMap<>(e.metadata()),
        e.violations().stream().map(v -> new Violation(v.field(), v.description())).toList(), e.retryAfter().orElse(null));
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
