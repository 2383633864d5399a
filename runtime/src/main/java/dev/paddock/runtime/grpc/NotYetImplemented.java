package dev.paddock.runtime.grpc;

import dev.paddock.runtime.errors.PaddockException;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;

/**
 * Serves a designed-but-unbuilt service: every method answers UNIMPLEMENTED with Paddock's usual
 * details (ErrorInfo NOT_IMPLEMENTED naming the method, RequestInfo), after authentication, and the
 * service shows up in reflection, so callers can discover the whole API.
 */
final class NotYetImplemented {
  private NotYetImplemented() {}

  static ServerServiceDefinition service(ServiceDescriptor descriptor) {
    ServerServiceDefinition.Builder builder = ServerServiceDefinition.builder(descriptor);
    for (MethodDescriptor<?, ?> method : descriptor.getMethods()) {
      add(builder, method);
    }
    return builder.build();
  }

  private static <ReqT, RespT> void add(ServerServiceDefinition.Builder builder, MethodDescriptor<ReqT, RespT> method) {
    builder.addMethod(method, (ServerCall<ReqT, RespT> call, Metadata headers) ->
        ErrorMapper.closeWith(call, new PaddockException.Unimplemented(method.getBareMethodName())));
  }
}
