package dev.paddock.runtime.grpc;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoFileDescriptorSupplier;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * The API's services as server reflection should show them: with their proto comments. Generated
 * classes carry their files without comments, so reflection alone serves none and {@code grpcurl
 * describe} shows bare signatures. The API jar holds every file with its comments
 * ({@code paddock/api.desc}, written by protoc); this puts those descriptors on a service's
 * definition, leaving its handlers as they are.
 */
final class DescribedServices {
  private static final String RESOURCE = "/paddock/api.desc";
  /** File descriptors with comments, by file name; empty when the jar has none. */
  private static final Map<String, FileDescriptor> FILES = load();

  private DescribedServices() {}

  /** {@code service} with its file's commented descriptor as its schema, or as it is when there is none. */
  static ServerServiceDefinition withComments(ServerServiceDefinition service) {
    ServiceDescriptor plain = service.getServiceDescriptor();
    if (!(plain.getSchemaDescriptor() instanceof ProtoFileDescriptorSupplier generated)) {
      return service;
    }
    FileDescriptor file = FILES.get(generated.getFileDescriptor().getName());
    if (file == null) {
      return service;
    }
    ProtoFileDescriptorSupplier commented = () -> file;
    ServiceDescriptor.Builder described = ServiceDescriptor.newBuilder(plain.getName()).setSchemaDescriptor(commented);
    Map<String, MethodDescriptor<?, ?>> methods = new HashMap<>();
    for (MethodDescriptor<?, ?> m : plain.getMethods()) {
      MethodDescriptor<?, ?> copy = m.toBuilder().setSchemaDescriptor(commented).build();
      methods.put(m.getFullMethodName(), copy);
      described.addMethod(copy);
    }
    ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(described.build());
    for (ServerMethodDefinition<?, ?> def : service.getMethods()) {
      out.addMethod(rebind(def, methods.get(def.getMethodDescriptor().getFullMethodName())));
    }
    return out.build();
  }

  /** {@code def}'s handler on {@code to}, the same method with the commented schema. */
  @SuppressWarnings("unchecked")
  private static <Q, R> ServerMethodDefinition<Q, R> rebind(ServerMethodDefinition<Q, R> def, MethodDescriptor<?, ?> to) {
    return ServerMethodDefinition.create((MethodDescriptor<Q, R>) to, def.getServerCallHandler());
  }

  private static Map<String, FileDescriptor> load() {
    Map<String, FileDescriptor> built = new HashMap<>();
    try (InputStream in = DescribedServices.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return built;
      }
      Map<String, FileDescriptorProto> protos = new HashMap<>();
      for (FileDescriptorProto f : FileDescriptorSet.parseFrom(in).getFileList()) {
        protos.put(f.getName(), f);
      }
      for (String name : protos.keySet()) {
        build(name, protos, built);
      }
    } catch (IOException | DescriptorValidationException | RuntimeException e) {
      // Reflection then serves the generated descriptors: the same API, without comments.
      org.slf4j.LoggerFactory.getLogger(DescribedServices.class).warn("{} cannot be read; reflection shows no comments: {}",
          RESOURCE, e.getMessage());
      built.clear();
    }
    return built;
  }

  private static FileDescriptor build(String name, Map<String, FileDescriptorProto> protos, Map<String, FileDescriptor> built)
      throws DescriptorValidationException {
    FileDescriptor done = built.get(name);
    if (done != null) {
      return done;
    }
    FileDescriptorProto proto = protos.get(name);
    if (proto == null) {
      throw new IllegalStateException("it lacks " + name);
    }
    FileDescriptor[] deps = new FileDescriptor[proto.getDependencyCount()];
    for (int i = 0; i < deps.length; i++) {
      deps[i] = build(proto.getDependency(i), protos, built);
    }
    FileDescriptor file = FileDescriptor.buildFrom(proto, deps);
    built.put(name, file);
    return file;
  }
}
