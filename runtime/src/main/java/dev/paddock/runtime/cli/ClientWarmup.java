package dev.paddock.runtime.cli;

/**
 * Loads and initialises what every client command needs (gRPC and netty, the API's descriptors)
 * on a second thread while the first parses the command line: on a machine with two cores a short
 * command then spends that time once instead of one after the other. Touches nothing the command
 * depends on: a failure here only leaves the work to the command. {@code -Dpaddock.noWarmup=true}
 * (through {@code PADDOCK_JAVA_OPTS}) turns it off, to measure what it saves.
 */
final class ClientWarmup {
  /** What the first call's connection and stream load (the HTTP/2 transport), by name: they are internal. */
  private static final String[] CONNECTION_CLASSES = {
      "io.grpc.netty.shaded.io.grpc.netty.NettyClientTransport",
      "io.grpc.netty.shaded.io.grpc.netty.NettyClientHandler",
      "io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiators",
      "io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2FrameWriter",
      "io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2FrameReader",
      "io.grpc.netty.shaded.io.netty.handler.codec.http2.HpackEncoder",
      "io.grpc.netty.shaded.io.netty.handler.codec.http2.HpackDecoder",
      "io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel",
      "io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator",
      "io.grpc.internal.ClientCallImpl",
      "io.grpc.stub.ClientCalls",
  };

  private ClientWarmup() {}

  static void start() {
    if (Boolean.getBoolean("paddock.noWarmup")) {
      return;
    }
    Thread t = new Thread(ClientWarmup::run, "paddock-warmup");
    t.setDaemon(true);
    t.start();
  }

  private static void run() {
    try {
      dev.paddock.ipc.v1.SessionProto.getDescriptor();
      dev.paddock.ipc.v1.ExecProto.getDescriptor();
      // A channel is lazy: building one (and dropping it) initialises the stack without connecting.
      io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
          .forAddress("127.0.0.1", 1).usePlaintext().build();
      channel.shutdownNow();
      com.google.rpc.ErrorInfo.getDescriptor();
      ClassLoader loader = ClientWarmup.class.getClassLoader();
      for (String name : CONNECTION_CLASSES) {
        Class.forName(name, true, loader);
      }
    } catch (RuntimeException | LinkageError | ClassNotFoundException ignored) {
      // the command does the same work itself
    }
  }
}
