package dev.paddock.client;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The channel to the host with the key on every call, and the event loop it alone uses: closing
 * ends that loop's thread at once, so a short-lived program (the CLI) exits without waiting for
 * a shared loop's idle timeout.
 */
final class Connection implements AutoCloseable {
  private final ManagedChannel channel;
  private final EventLoopGroup loop;
  private final Duration deadline;

  private Connection(ManagedChannel channel, EventLoopGroup loop, Duration deadline) {
    this.channel = channel;
    this.loop = loop;
    this.deadline = deadline;
  }

  /** Opens a channel to {@code target}; {@code apiKey} null sends no key (the health service needs none). */
  static Connection open(String target, String apiKey, boolean tls, Path ca, Path cert, Path key, Duration deadline,
      Map<String, ?> serviceConfig) throws IOException {
    Metadata headers = new Metadata();
    if (apiKey != null) {
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + apiKey);
    }
    EventLoopGroup loop = new NioEventLoopGroup(1, new io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory(
        "paddock-client", true));
    try {
      ManagedChannel channel = NettyChannelBuilder.forTarget(target, credentials(tls, ca, cert, key))
          .eventLoopGroup(loop).channelType(NioSocketChannel.class)
          .defaultServiceConfig(serviceConfig).enableRetry()
          .maxInboundMessageSize(16 << 20)
          .intercept(MetadataUtils.newAttachHeadersInterceptor(headers))
          .build();
      return new Connection(channel, loop, deadline);
    } catch (IOException | RuntimeException e) {
      loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw e;
    }
  }

  private static ChannelCredentials credentials(boolean tls, Path ca, Path cert, Path key) throws IOException {
    if (!tls) {
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
    if (ca != null) {
      b.trustManager(ca.toFile());
    }
    if (cert != null) {
      b.keyManager(cert.toFile(), key.toFile());
    }
    return b.build();
  }

  ManagedChannel channel() {
    return channel;
  }

  Duration deadline() {
    return deadline;
  }

  /** Runs one call; its failure as the typed exception. */
  <T> T call(Supplier<T> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      throw PaddockException.from(e);
    }
  }

  @Override
  public void close() {
    try {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }
}
