package dev.paddock.runtime.trace;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import java.util.Map;

/**
 * The host's traces, with OpenTelemetry: one span per gRPC call ({@link TracingInterceptor}),
 * continuing the caller's {@code traceparent}, and children for what the call does (admission,
 * jail start, exec, audit append), each carrying the call's request id. Configured the standard
 * way, from the {@code OTEL_*} environment (OTLP exporter, over HTTP by default here); off unless
 * an exporter or endpoint is set there, so a host nobody collects traces from spends nothing on them.
 */
public final class HostTracing implements AutoCloseable {
  /** The span attribute that carries the call's request id. */
  public static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("paddock.request_id");
  /** No traces. */
  public static final HostTracing OFF = new HostTracing(OpenTelemetry.noop(), () -> {});
  private static final String[] SWITCHES = {"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"};

  private final OpenTelemetry otel;
  private final Tracer tracer;
  private final Runnable close;

  private HostTracing(OpenTelemetry otel, Runnable close) {
    this.otel = otel;
    this.tracer = otel.getTracer("dev.paddock.runtime");
    this.close = close;
  }

  /** Traces to {@code otel} (a test's SDK with an in-memory exporter, say); closing this leaves it open. */
  public static HostTracing of(OpenTelemetry otel) {
    return new HostTracing(otel, () -> {});
  }

  /**
   * From the environment, the standard way (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_EXPORTER,
   * OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER...), or {@link #OFF} when none of the exporter settings
   * is there or OTEL_SDK_DISABLED=true. The service name defaults to "paddock".
   */
  public static HostTracing fromEnvironment(Map<String, String> env) {
    boolean wanted = java.util.Arrays.stream(SWITCHES).anyMatch(k -> env.containsKey(k) || System.getProperty(
        k.toLowerCase(java.util.Locale.ROOT).replace('_', '.')) != null);
    if (!wanted || "true".equalsIgnoreCase(env.get("OTEL_SDK_DISABLED"))) {
      return OFF;
    }
    io.opentelemetry.sdk.OpenTelemetrySdk sdk = io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> defaults(env))
        .build().getOpenTelemetrySdk();
    return new HostTracing(sdk, sdk::close);
  }

  /**
   * What the host sets where the environment does not: the service name "paddock", and OTLP over
   * HTTP (http/protobuf, port 4318), the protocol its exporter is built with here.
   */
  private static Map<String, String> defaults(Map<String, String> env) {
    Map<String, String> defaults = new java.util.HashMap<>();
    if (!env.containsKey("OTEL_SERVICE_NAME")) {
      defaults.put("otel.service.name", "paddock");
    }
    if (!env.containsKey("OTEL_EXPORTER_OTLP_PROTOCOL") && !env.containsKey("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")) {
      defaults.put("otel.exporter.otlp.protocol", "http/protobuf");
    }
    return defaults;
  }

  /** The propagators (W3C trace context) the caller's headers are read with. */
  OpenTelemetry openTelemetry() {
    return otel;
  }

  Tracer tracer() {
    return tracer;
  }

  /**
   * A child of the current call's span, named {@code name}, with the call's request id; a no-op
   * span outside a traced call (the ready pool's jail starts, say), so no orphan trace is made.
   * The caller ends it.
   */
  public Span child(String name) {
    Span parent = Span.current();
    if (!parent.getSpanContext().isValid()) {
      return Span.getInvalid();
    }
    String requestId = dev.paddock.runtime.audit.AuditContext.REQUEST_ID.get();
    var builder = tracer.spanBuilder(name);
    if (requestId != null) {
      builder.setAttribute(REQUEST_ID, requestId);
    }
    return builder.startSpan();
  }

  /**
   * A child of {@code parent} (a context captured in a traced call: an exec's), for work done
   * later on another thread, such as its tool's IPC calls; a no-op span when the parent was not
   * traced. The caller ends it.
   */
  public Span childOf(io.opentelemetry.context.Context parent, String requestId, String name) {
    if (!Span.fromContext(parent).getSpanContext().isValid()) {
      return Span.getInvalid();
    }
    var builder = tracer.spanBuilder(name).setParent(parent);
    if (requestId != null) {
      builder.setAttribute(REQUEST_ID, requestId);
    }
    return builder.startSpan();
  }

  /** False for {@link #OFF}: no span is made, so no call needs the interceptor. */
  public boolean enabled() {
    return this != OFF;
  }

  /** The gRPC server interceptor that makes a span of every call. */
  public io.grpc.ServerInterceptor interceptor() {
    return new TracingInterceptor(this);
  }

  @Override
  public void close() {
    close.run();
  }
}
