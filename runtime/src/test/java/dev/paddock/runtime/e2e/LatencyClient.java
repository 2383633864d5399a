package dev.paddock.runtime.e2e;

import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * A well-behaved tenant's client in its own process: on each line read from stdin, runs
 * {@code Exec true} that many times and prints, space-separated on one line, each exec's latency,
 * the host's wall time of it in the jail ({@code usage.wall_time}) and the time until its
 * {@code ExecStarted} event as {@code took:jail:started} in ns (took -1: the exec failed).
 * Arguments: port, key, session.
 */
public final class LatencyClient {
  private LatencyClient() {}

  public static void main(String[] args) throws Exception {
    ExecServiceGrpc.ExecServiceBlockingStub execs = execs(args[0], args[1]);
    ExecRequest request = ExecRequest.newBuilder().setSessionId(args[2]).addArgv("true").build();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    String line;
    while ((line = in.readLine()) != null) {
      int n = Integer.parseInt(line.trim());
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        Iterator<ExecEvent> events = execs.withDeadlineAfter(60, TimeUnit.SECONDS).exec(request);
        boolean ok = false;
        long jail = 0;
        long started = 0;
        while (events.hasNext()) {
          ExecEvent e = events.next();
          if (e.hasStarted()) {
            started = System.nanoTime() - t0;
          }
          if (e.hasResult()) {
            ok = e.getResult().getExitCode() == 0;
            jail = com.google.protobuf.util.Durations.toNanos(e.getResult().getUsage().getWallTime());
          }
        }
        long took = System.nanoTime() - t0;
        out.append(ok ? took : -1).append(':').append(jail).append(':').append(started).append(i + 1 < n ? " " : "");
      }
      System.out.println(out);
      System.out.flush();
    }
  }

  /** A plaintext channel's ExecService stub to the host on loopback {@code port}, calling with {@code key}. */
  static ExecServiceGrpc.ExecServiceBlockingStub execs(String port, String key) {
    Metadata auth = new Metadata();
    auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", Integer.parseInt(port)).usePlaintext()
        .intercept(MetadataUtils.newAttachHeadersInterceptor(auth)).build();
    return ExecServiceGrpc.newBlockingStub(channel);
  }
}
