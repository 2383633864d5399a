package dev.paddock.sandbox.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link TcpSockets#system()} against the real kernel on loopback: a listener of our own, a
 * connection to it, and bytes moved between two connections with splice, end of input passed on.
 */
class JnrTcpSocketsTest {
  private final TcpSockets sockets = TcpSockets.system();

  @BeforeAll
  static void onLinux() {
    assumeTrue(System.getProperty("os.name").startsWith("Linux"), "needs a Linux kernel");
  }

  @Test
  void listenerTakesAPortAndRelayMovesEveryByteThenTheEnd() throws Exception {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    byte[] payload = new byte[3 << 20];
    new Random(7).nextBytes(payload);
    try (Fd listener = sockets.listen(loopback, 4)) {
      TcpSockets.SocketInfo info = sockets.describe(listener);
      assertThat(info.listening()).isTrue();
      assertThat(info.port()).isBetween(1, 65535);
      assertThat(info.address()).containsExactly(127, 0, 0, 1);
      // source --> [accepted | relay | connected] --> sink
      try (java.net.ServerSocket sinkServer = new java.net.ServerSocket(0, 1, loopback);
          Socket source = new Socket(loopback, info.port());
          Fd accepted = sockets.accept(listener);
          Fd toSink = sockets.connect(loopback, sinkServer.getLocalPort(), 5_000);
          Socket sink = sinkServer.accept()) {
        CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
          try (InputStream in = sink.getInputStream()) {
            return in.readAllBytes(); // to end of input: the relay must pass the end on
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
        CompletableFuture.runAsync(() -> {
          try {
            OutputStream out = source.getOutputStream();
            out.write(payload);
            source.shutdownOutput();
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
        Fd[] pipe = sockets.relayPipe(1 << 20);
        long moved = 0;
        try {
          long n;
          while ((n = sockets.relay(accepted, pipe, toSink, 1 << 20)) > 0) {
            moved += n;
          }
          sockets.shutdown(toSink, true);
        } finally {
          pipe[0].close();
          pipe[1].close();
        }
        assertThat(moved).isEqualTo(payload.length);
        assertThat(Arrays.equals(received.get(10, TimeUnit.SECONDS), payload)).as("bytes out equal bytes in").isTrue();
      }
    }
  }
}
