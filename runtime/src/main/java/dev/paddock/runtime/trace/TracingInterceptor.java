package dev.paddock.runtime.trace;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;

/**
 * One SERVER span per gRPC call, named {@code service/method}, continuing the caller's W3C
 * {@code traceparent}; current on the call's thread while Paddock code runs for it, so what the
 * call does becomes its children; ended with the call's status. The trace id goes into the log
 * context ({@code traceId}) beside the request id. Runs inside the request-id interceptor.
 */
final class TracingInterceptor implements ServerInterceptor {
  private static final TextMapGetter<Metadata> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Metadata carrier) {
      return carrier.keys();
    }

    @Override
    public String get(Metadata carrier, String key) {
      return carrier == null ? null : carrier.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
    }
  };
  /** The log context key of the call's trace id. */
  static final String MDC_TRACE_ID = "traceId";

  private final HostTracing tracing;

  TracingInterceptor(HostTracing tracing) {
    this.tracing = tracing;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Context parent = tracing.openTelemetry().getPropagators().getTextMapPropagator().extract(Context.root(), headers, HEADERS);
    String method = call.getMethodDescriptor().getFullMethodName();
    var builder = tracing.tracer().spanBuilder(method).setParent(parent).setSpanKind(SpanKind.SERVER)
        .setAttribute("rpc.system", "grpc")
        .setAttribute("rpc.service", call.getMethodDescriptor().getServiceName())
        .setAttribute("rpc.method", String.valueOf(call.getMethodDescriptor().getBareMethodName()));
    String requestId = dev.paddock.runtime.audit.AuditContext.REQUEST_ID.get();
    if (requestId != null) {
      builder.setAttribute(HostTracing.REQUEST_ID, requestId);
    }
    Span span = builder.startSpan();
    if (!span.getSpanContext().isValid()) {
      return next.startCall(call, headers); // tracing is off
    }
    Context context = parent.with(span);
    String traceId = span.getSpanContext().getTraceId();
    java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
    ServerCall<Q, R> ending = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        if (ended.compareAndSet(false, true)) {
          span.setAttribute("rpc.grpc.status_code", status.getCode().value());
          if (!status.isOk()) {
            span.setStatus(StatusCode.ERROR, status.getCode().name());
          }
          span.end();
        }
        super.close(status, trailers);
      }
    };
    ServerCall.Listener<Q> listener;
    try (Scope ignored = context.makeCurrent()) {
      listener = next.startCall(ending, headers);
    }
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        within(() -> super.onMessage(message));
      }

      @Override
      public void onHalfClose() {
        within(super::onHalfClose);
      }

      @Override
      public void onCancel() {
        within(super::onCancel);
        if (ended.compareAndSet(false, true)) { // the caller went away: no close comes
          span.setStatus(StatusCode.ERROR, "CANCELLED");
          span.end();
        }
      }

      @Override
      public void onReady() {
        within(super::onReady);
      }

      private void within(Runnable callback) {
        org.slf4j.MDC.put(MDC_TRACE_ID, traceId);
        try (Scope ignored = context.makeCurrent()) {
          callback.run();
        } finally {
          org.slf4j.MDC.remove(MDC_TRACE_ID);
        }
      }
    };
  }
}
