package dev.paddock.runtime.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import org.slf4j.MDC;

/**
 * Gives every call a request id (the caller's {@code x-request-id}, or a new one), puts it in the
 * gRPC {@link Context} and the logging MDC, and returns it in the response trailers of every call,
 * successful or not. Installed outermost, so even authentication failures carry it.
 */
final class RequestIdInterceptor implements ServerInterceptor {
  static final String MDC_KEY = "requestId";

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String requestId = RequestIds.fromHeader(headers.get(RequestIds.HEADER));
    ServerCall<ReqT, RespT> withTrailer = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        trailers.discardAll(RequestIds.HEADER);
        trailers.put(RequestIds.HEADER, requestId);
        super.close(status, trailers);
      }
    };
    String supplied = headers.get(RequestIds.HEADER);
    Context context = Context.current().withValue(RequestIds.CONTEXT, requestId)
        .withValue(dev.paddock.runtime.audit.AuditContext.CLIENT_REQUEST_ID, requestId.equals(supplied) ? supplied : "");
    ServerCall.Listener<ReqT> listener = Contexts.interceptCall(context, withTrailer, headers, next);
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(ReqT message) {
        MDC.put(MDC_KEY, requestId);
        try {
          super.onMessage(message);
        } finally {
          MDC.remove(MDC_KEY);
        }
      }

      @Override
      public void onHalfClose() {
        MDC.put(MDC_KEY, requestId);
        try {
          super.onHalfClose();
        } finally {
          MDC.remove(MDC_KEY);
        }
      }
    };
  }
}
