package dev.paddock.bench;

import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.OutputStream;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.RuntimeServer;
import dev.paddock.runtime.config.HostConfig;
import dev.paddock.runtime.egress.AddressRange;
import dev.paddock.runtime.egress.EgressSettings;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.tenant.TenantAdmin;
import dev.paddock.runtime.tenant.TenantsFile;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.NativeException;
import dev.paddock.sandbox.linux.TcpSockets;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The egress proxy's two targets, each beside its baseline in the same run:
 * <ol>
 *   <li>a 100 MB HTTP download by curl inside a jail, through the proxy, against the same download
 *       by the same curl on the host, straight to the origin (target: at least 0.8x the throughput);
 *   <li>connection set-up: a CONNECT tunnel through the proxy, from a Python loop inside a jail
 *       (connect to the proxy, send CONNECT, read its 200: the proxy has resolved, decided and
 *       connected by then), against a plain TCP connect to the origin from the same Python loop on
 *       the host (target: the proxy adds at most 2 ms at p50).
 * </ol>
 * Series (a) also times the same curl on the host through {@link BareRelay}, a relay that only moves
 * bytes: the floor any relay has on this machine, so that the proxy's own cost and the second TCP
 * connection's cost can be told apart. The origin is a plain TCP server in this JVM on 127.0.0.1
 * that the tenant reaches by a fixed name. Needs root (cgroups) and nsjail, like {@link SessionBench}. Run it with scripts/bench-egress.
 */
public final class EgressBench {
  private static final double TARGET_THROUGHPUT_RATIO = 0.8;
  private static final double TARGET_SETUP_ADDED_MS = 2.0;
  private static final String NAME = "origin.bench.test";

  private EgressBench() {}

  public static void main(String[] args) throws Exception {
    if (System.getProperty("PADDOCK_LOG_LEVEL") == null) {
      String env = System.getenv("PADDOCK_LOG_LEVEL");
      System.setProperty("PADDOCK_LOG_LEVEL", env == null || env.isBlank() ? "WARN" : env);
    }
    long megabytes = 100;
    int downloads = 10;
    int connects = 2000;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--megabytes" -> megabytes = Long.parseLong(args[++i]);
        case "--downloads" -> downloads = Integer.parseInt(args[++i]);
        case "--connects" -> connects = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("usage: EgressBench [--megabytes 100] [--downloads 10] [--connects 2000]");
          System.exit(2);
        }
      }
    }
    System.exit(run(megabytes << 20, downloads, connects, System.out));
  }

  private static int run(long bytes, int downloads, int connects, PrintStream out) throws Exception {
    Path root = Path.of(System.getProperty("paddock.root", ".")).toAbsolutePath().normalize();
    Path nsjail = Path.of(System.getenv().getOrDefault("PADDOCK_NSJAIL",
        root.resolve(".paddock/tools/nsjail/nsjail/bin/nsjail").toString()));
    Machine.describe(out, nsjail);
    Path work = Files.createTempDirectory("paddock-egress-bench-");
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
    try (Origin origin = new Origin(bytes); BareRelay relay = new BareRelay(origin.port())) {
      Path tenants = work.resolve("tenants.yaml");
      String key = new TenantAdmin(tenants, Clock.systemUTC()).rotateKey("bench", "bench").key();
      TenantsFile.Document doc = TenantsFile.read(tenants);
      doc.tenants.get(0).egress = new TenantsFile.EgressEntry();
      doc.tenants.get(0).egress.allow = List.of(NAME);
      // The set-up series opens and closes tunnels back to back; each counts until both sides closed.
      doc.tenants.get(0).egress.maxConnections = 4096;
      TenantsFile.write(tenants, doc);
      HostConfig config = new HostConfig(new InetSocketAddress("127.0.0.1", 0), work, nsjail, 99999, 99999,
          Machine.CGROUP_ROOT, SessionSettings.defaults())
          .withEgress(EgressSettings.DEFAULTS.withFixedNames(EgressSettings.parseFixedNames(List.of(NAME + "=127.0.0.1")))
              .withReachable(List.of(AddressRange.parse("127.0.0.1/32"))));
      try (RuntimeServer host = RuntimeServer.start(config, Clock.systemUTC())) {
        Metadata auth = new Metadata();
        auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", host.port()).usePlaintext()
            .intercept(MetadataUtils.newAttachHeadersInterceptor(auth)).build();
        try {
          // Every core for the jail, as the host's own curl has: a session's default is one core.
          int cores = Runtime.getRuntime().availableProcessors();
          String session = SessionServiceGrpc.newBlockingStub(channel).createSession(CreateSessionRequest.newBuilder()
              .setLimits(dev.paddock.ipc.v1.ResourceLimits.newBuilder().setCpuMillicores(cores * 1000)).build()).getSessionId();
          out.printf(Locale.ROOT, "origin: 127.0.0.1:%d (%s for the jail), %d bytes per download%n", origin.port(), NAME, bytes);
          return measure(channel, session, origin, relay, bytes, downloads, connects, out);
        } finally {
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      }
    } finally {
      try (var walk = Files.walk(work)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static int measure(ManagedChannel channel, String session, Origin origin, BareRelay relay, long bytes,
      int downloads, int connects, PrintStream out) throws Exception {
    String curl = "curl -s -o /dev/null -w '%{size_download} %{time_total}\\n' ";
    // One download each way first, not measured (page cache, JIT, the jail's first curl).
    host(curl + "--noproxy '*' http://127.0.0.1:" + origin.port() + "/big");
    jail(channel, session, curl + "http://" + NAME + ":" + origin.port() + "/big");
    host(curl + "--noproxy '*' http://127.0.0.1:" + relay.port() + "/big");
    double[] direct = new double[downloads];
    double[] proxied = new double[downloads];
    double[] relayed = new double[downloads];
    for (int i = 0; i < downloads; i++) { // alternated, so all three see the same machine
      direct[i] = throughput(host(curl + "--noproxy '*' http://127.0.0.1:" + origin.port() + "/big"), bytes);
      proxied[i] = throughput(jail(channel, session, curl + "http://" + NAME + ":" + origin.port() + "/big"), bytes);
      relayed[i] = throughput(host(curl + "--noproxy '*' http://127.0.0.1:" + relay.port() + "/big"), bytes);
    }
    double directMb = median(direct);
    double proxiedMb = median(proxied);
    double relayedMb = median(relayed);

    String setup = "import socket, sys, time\n"
        + "mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])\n"
        + "req = ('CONNECT " + NAME + ":%d HTTP/1.1\\r\\nHost: " + NAME + ":%d\\r\\n\\r\\n' % (port, port)).encode()\n"
        + "out = []\n"
        + "for i in range(n):\n"
        + "    t = time.perf_counter_ns()\n"
        + "    if mode == 'direct':\n"
        + "        s = socket.create_connection(('127.0.0.1', port))\n"
        + "    else:\n"
        + "        s = socket.create_connection(('127.0.0.1', 3128))\n"
        + "        s.sendall(req)\n"
        + "        buf = b''\n"
        + "        while b'\\r\\n\\r\\n' not in buf:\n"
        + "            buf += s.recv(4096)\n"
        + "        assert buf.startswith(b'HTTP/1.1 200'), buf\n"
        + "    out.append(time.perf_counter_ns() - t)\n"
        + "    s.close()\n"
        + "print(' '.join(map(str, out)))\n";
    String quoted = "'" + setup.replace("'", "'\\''") + "'";
    long[] directSetup = nanos(host("python3 -c " + quoted + " direct " + origin.port() + " " + connects));
    long[] proxiedSetup = nanos(jail(channel, session, "python3 -c " + quoted + " proxy " + origin.port() + " " + connects));
    Stats d = Stats.of(Arrays.copyOfRange(directSetup, connects / 10, connects));
    Stats p = Stats.of(Arrays.copyOfRange(proxiedSetup, connects / 10, connects));
    double addedMs = (p.p50() - d.p50()) / 1e6;

    double ratio = proxiedMb / directMb;
    out.println();
    out.printf(Locale.ROOT, "(a) %d MB download, curl to /dev/null, median of %d (MB/s = 10^6 bytes/s):%n", bytes >> 20, downloads);
    out.printf(Locale.ROOT, "    direct on the host   %8.0f MB/s   (all: %s)%n", directMb, list(direct));
    out.printf(Locale.ROOT, "    in a jail via proxy  %8.0f MB/s   (all: %s)%n", proxiedMb, list(proxied));
    out.printf(Locale.ROOT, "    ratio %.2fx   target >= %.1fx: %s%n", ratio, TARGET_THROUGHPUT_RATIO,
        ratio >= TARGET_THROUGHPUT_RATIO ? "MET" : "MISSED");
    out.printf(Locale.ROOT, "    reference: on the host via a bare splice relay %8.0f MB/s = %.2fx direct (all: %s)%n", relayedMb,
        relayedMb / directMb, list(relayed));
    out.printf(Locale.ROOT, "    the proxy against the bare relay: %.2fx%n", proxiedMb / relayedMb);
    out.printf(Locale.ROOT, "(b) connection set-up, %d per series, first 10%% dropped (ms):%n", connects);
    out.printf(Locale.ROOT, "    %-34s p50 %.3f  p90 %.3f  p99 %.3f%n", "direct TCP connect (host)", d.p50() / 1e6, d.p90() / 1e6,
        d.p99() / 1e6);
    out.printf(Locale.ROOT, "    %-34s p50 %.3f  p90 %.3f  p99 %.3f%n", "CONNECT tunnel via proxy (jail)", p.p50() / 1e6,
        p.p90() / 1e6, p.p99() / 1e6);
    out.printf(Locale.ROOT, "    added at p50 %.3f ms   target <= %.1f ms: %s%n", addedMs, TARGET_SETUP_ADDED_MS,
        addedMs <= TARGET_SETUP_ADDED_MS ? "MET" : "MISSED");
    return 0;
  }

  private static double throughput(String curlLine, long bytes) {
    String[] f = curlLine.trim().split(" ");
    if (Long.parseLong(f[0]) != bytes) {
      throw new IllegalStateException("a download was cut short: " + curlLine);
    }
    return bytes / Double.parseDouble(f[1]) / 1e6;
  }

  private static long[] nanos(String line) {
    return Arrays.stream(line.trim().split(" ")).mapToLong(Long::parseLong).toArray();
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[(sorted.length - 1) / 2];
  }

  private static String list(double[] values) {
    List<String> out = new ArrayList<>();
    for (double v : values) {
      out.add(String.format(Locale.ROOT, "%.0f", v));
    }
    return String.join(" ", out);
  }

  /** Runs {@code script} with sh on the host; its stdout. */
  private static String host(String script) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("/bin/sh", "-c", script).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("on the host, exit " + p.exitValue() + ": " + script);
    }
    return stdout;
  }

  /** Runs {@code script} with sh in the session's jail; its stdout. */
  private static String jail(ManagedChannel channel, String session, String script) {
    Iterator<ExecEvent> events = ExecServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.MINUTES)
        .exec(ExecRequest.newBuilder().setSessionId(session).addArgv("/bin/sh").addArgv("-c").addArgv(script).build());
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int exit = -1;
    while (events.hasNext()) {
      ExecEvent e = events.next();
      if (e.hasOutput()) {
        (e.getOutput().getStream() == OutputStream.OUTPUT_STREAM_STDOUT ? stdout : stderr).writeBytes(
            e.getOutput().getData().toByteArray());
      } else if (e.hasResult()) {
        exit = e.getResult().getExitCode();
      }
    }
    if (exit != 0) {
      throw new IllegalStateException("in the jail, exit " + exit + ": " + stderr.toString(StandardCharsets.UTF_8));
    }
    return stdout.toString(StandardCharsets.UTF_8);
  }

  /**
   * The least any relay does on this machine, for reference: a transparent TCP forwarder on
   * 127.0.0.1 to the origin, one thread per direction moving bytes with the proxy's own splice
   * primitive ({@link TcpSockets#relay}, the same 1 MiB pipe), with no request parsing, no policy,
   * no jail and no accounting. The proxy cannot beat it: the gap between the two is what the proxy
   * itself costs, and the gap between it and the direct download is what a second TCP connection
   * costs here.
   */
  private static final class BareRelay implements AutoCloseable {
    private static final int CHUNK_BYTES = 1 << 20;
    private final TcpSockets sockets = TcpSockets.system();
    private final InetAddress loopback = InetAddress.getLoopbackAddress();
    private final Fd listener;
    private final int originPort;

    BareRelay(int originPort) throws NativeException {
      this.originPort = originPort;
      this.listener = sockets.listen(loopback, 16);
      Thread t = new Thread(this::acceptLoop, "bare-relay");
      t.setDaemon(true);
      t.start();
    }

    int port() throws NativeException {
      return sockets.describe(listener).port();
    }

    private void acceptLoop() {
      while (listener.isOpen()) {
        Fd client;
        try {
          client = sockets.accept(listener);
        } catch (NativeException | IllegalStateException e) {
          return; // closed
        }
        try {
          Fd upstream = sockets.connect(loopback, originPort, 5_000);
          Thread down = new Thread(() -> pump(upstream, client), "bare-relay-down");
          down.setDaemon(true);
          down.start();
          Thread up = new Thread(() -> {
            pump(client, upstream);
            try {
              down.join();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            client.close();
            upstream.close();
          }, "bare-relay-up");
          up.setDaemon(true);
          up.start();
        } catch (NativeException e) {
          client.close();
        }
      }
    }

    private void pump(Fd from, Fd to) {
      try {
        Fd[] pipe = sockets.relayPipe(CHUNK_BYTES);
        try {
          while (sockets.relay(from, pipe, to, CHUNK_BYTES) > 0) {
            // moved; go on
          }
          sockets.shutdown(to, true);
        } finally {
          pipe[0].close();
          pipe[1].close();
        }
      } catch (NativeException e) {
        sockets.shutdown(from, false);
        sockets.shutdown(to, false);
      }
    }

    @Override
    public void close() {
      // shutdown wakes the blocked accept; close then releases the descriptor
      sockets.shutdown(listener, false);
      listener.close();
    }
  }

  /**
   * A bare HTTP/1.1 origin: answers any request with {@code bytes} of zeros (and closes), and holds a
   * connection that sends nothing until the peer closes it (the set-up series' tunnels).
   */
  private static final class Origin implements AutoCloseable {
    private final ServerSocket server;
    private final long bytes;

    Origin(long bytes) throws IOException {
      this.bytes = bytes;
      this.server = new ServerSocket();
      server.bind(new InetSocketAddress("127.0.0.1", 0), 1024);
      Thread t = new Thread(this::acceptLoop, "origin");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void acceptLoop() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          Thread t = new Thread(() -> serve(s), "origin-conn");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serve(Socket s) {
      try (s) {
        s.setTcpNoDelay(true);
        InputStream in = s.getInputStream();
        int last4 = 0;
        int b;
        while ((b = in.read()) >= 0 && last4 != 0x0d0a0d0a) { // up to the blank line
          last4 = last4 << 8 | b;
          if (last4 == 0x0d0a0d0a) {
            break;
          }
        }
        if (last4 != 0x0d0a0d0a) {
          return;
        }
        var o = s.getOutputStream();
        o.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + bytes
            + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        byte[] chunk = new byte[1 << 20];
        for (long left = bytes; left > 0; left -= chunk.length) {
          o.write(chunk, 0, (int) Math.min(chunk.length, left));
        }
        o.flush();
      } catch (IOException e) {
        // the client went away
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
