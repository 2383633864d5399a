package dev.paddock.runtime.ipc;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/** A tool's request refused with a typed IPC error; the message is safe to show the tenant. */
public final class ToolRefusal extends RuntimeException {
  private final IpcErrorReason reason;
  private final Map<String, String> metadata;

  public ToolRefusal(IpcErrorReason reason, String message, Map<String, String> metadata) {
    super(message, null, false, false);
    this.reason = reason;
    this.metadata = Map.copyOf(metadata);
  }

  public ToolRefusal(IpcErrorReason reason, String message) {
    this(reason, message, Map.of());
  }

  public IpcErrorReason reason() {
    return reason;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  static ToolRefusal invalid(String field, String message) {
    return new ToolRefusal(IpcErrorReason.IPC_ERROR_INVALID_ARGUMENT, field + " " + message, Map.of("field", field));
  }

  static ToolRefusal tooLarge(String field, long limitBytes) {
    return new ToolRefusal(IpcErrorReason.IPC_ERROR_PAYLOAD_TOO_LARGE,
        field + " is over its limit of " + limitBytes + " bytes",
        Map.of("field", field, "limitBytes", Long.toString(limitBytes)));
  }

  static ToolRefusal exhausted(String limit, String message) {
    return new ToolRefusal(IpcErrorReason.IPC_ERROR_RESOURCE_EXHAUSTED, message, Map.of("limit", limit));
  }
}
