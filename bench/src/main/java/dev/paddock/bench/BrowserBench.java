package dev.paddock.bench;

import com.sun.net.httpserver.HttpServer;
import dev.paddock.browser.FailoverSettings;
import dev.paddock.browser.cdp.CdpConnection;
import dev.paddock.browser.cdp.CdpWebSocket;
import dev.paddock.browser.local.LocalChromiumProvider;
import dev.paddock.ipc.v1.BrowserServiceGrpc;
import dev.paddock.ipc.v1.CloseBrowserRequest;
import dev.paddock.ipc.v1.CreateBrowserRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.NavigateRequest;
import dev.paddock.ipc.v1.ScreenshotRequest;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.RuntimeServer;
import dev.paddock.runtime.browser.BrowserSettings;
import dev.paddock.runtime.config.HostConfig;
import dev.paddock.runtime.egress.AddressRange;
import dev.paddock.runtime.egress.EgressSettings;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.tenant.TenantAdmin;
import dev.paddock.runtime.tenant.TenantsFile;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The browser targets, each beside its baseline in the same run:
 * <ol>
 *   <li>acquisition: CreateBrowser over gRPC served by the warm pool (target: p50 at most 20 ms),
 *       against CreateBrowser served cold, and against a bare Chromium on the host (no jail, no
 *       host) from spawn to a page ready over DevTools;
 *   <li>failover: CreateBrowser for a tenant whose first provider is dead (a remote endpoint whose
 *       port refuses), against the same for a tenant with only the local provider (target: at most
 *       100 ms added at p50);
 *   <li>20 browser sessions at once on this machine: each a session with one browser on a loopback
 *       page, every one taking screenshots at the same time; screenshot latency p50/p99 reported.
 * </ol>
 * Needs root (cgroups), nsjail and Chromium. Run it with scripts/bench-browser.
 */
public final class BrowserBench {
  private static final double TARGET_WARM_P50_MS = 20;
  private static final double TARGET_FAILOVER_ADDED_MS = 100;
  private static final String NAME = "origin.bench.test";

  private BrowserBench() {}

  public static void main(String[] args) throws Exception {
    if (System.getProperty("PADDOCK_LOG_LEVEL") == null) {
      String env = System.getenv("PADDOCK_LOG_LEVEL");
      System.setProperty("PADDOCK_LOG_LEVEL", env == null || env.isBlank() ? "WARN" : env);
    }
    int rounds = 15;
    int sessions = 20;
    int shots = 10;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--sessions" -> sessions = Integer.parseInt(args[++i]);
        case "--shots" -> shots = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("usage: BrowserBench [--rounds 15] [--sessions 20] [--shots 10]");
          System.exit(2);
        }
      }
    }
    System.exit(run(rounds, sessions, shots, System.out));
  }

  private static int run(int rounds, int sessions, int shots, PrintStream out) throws Exception {
    Path root = Path.of(System.getProperty("paddock.root", ".")).toAbsolutePath().normalize();
    Path nsjail = Path.of(System.getenv().getOrDefault("PADDOCK_NSJAIL",
        root.resolve(".paddock/tools/nsjail/nsjail/bin/nsjail").toString()));
    Machine.describe(out, nsjail);
    HttpServer origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    byte[] page = ("<html><head><title>bench</title></head><body><h1>Paddock</h1><p>"
        + "a page served on loopback. ".repeat(200) + "</p></body></html>").getBytes(StandardCharsets.UTF_8);
    origin.createContext("/", ex -> {
      ex.getResponseHeaders().set("Content-Type", "text/html");
      ex.sendResponseHeaders(200, page.length);
      ex.getResponseBody().write(page);
      ex.close();
    });
    origin.start();
    String url = "http://" + NAME + ":" + origin.getAddress().getPort() + "/";
    try {
      // Host 1: no warm pool; a dead remote provider first for one tenant.
      long[] raw = new long[rounds];
      long[] cold = new long[rounds];
      long[] failover = new long[rounds];
      Stats shotStats;
      long concurrentWallMs;
      try (Host host = new Host(nsjail, BrowserSettings.DEFAULTS.withRemotes(List.of(new BrowserSettings.Remote("dead",
          URI.create("http://127.0.0.1:" + closedPort())))), Map.of("plain", List.of("local"),
          "failover", List.of("dead", "local")))) {
        String plain = host.session("plain");
        String failing = host.session("failover");
        host.createAndClose("plain", plain); // not measured: the first jail, JIT
        host.createAndClose("failover", failing);
        for (int i = 0; i < rounds; i++) { // alternated, so all three see the same machine
          raw[i] = rawChromium();
          cold[i] = host.createAndClose("plain", plain);
          failover[i] = host.createAndClose("failover", failing);
        }
        long start = System.nanoTime();
        shotStats = concurrent(host, sessions, shots, url);
        concurrentWallMs = (System.nanoTime() - start) / 1_000_000;
      }
      // Host 2: a warm pool of one.
      long[] warm = new long[rounds];
      int warmHits = 0;
      try (Host host = new Host(nsjail, BrowserSettings.DEFAULTS.withWarmPool(1), Map.of("plain", List.of("local")))) {
        String session = host.session("plain");
        for (int i = -1; i < rounds; i++) {
          // A warm start takes about as long as a cold one (a second here): 3 s is time to refill.
          Thread.sleep(3000);
          long t = System.nanoTime();
          String id = host.browsers("plain").createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build())
              .getBrowserId();
          long took = System.nanoTime() - t;
          boolean wasWarm = startedWarm(id);
          host.browsers("plain").closeBrowser(CloseBrowserRequest.newBuilder().setSessionId(session).setBrowserId(id).build());
          if (i >= 0) { // the first not measured
            warm[i] = took;
            warmHits += wasWarm ? 1 : 0;
          }
        }
      }

      Stats r = Stats.of(raw);
      Stats c = Stats.of(cold);
      Stats f = Stats.of(failover);
      Stats w = Stats.of(warm);
      out.println();
      out.printf(Locale.ROOT, "(a) acquiring a browser, %d rounds (ms):%n", rounds);
      row(out, "bare Chromium on the host, spawn to page", r);
      row(out, "CreateBrowser, cold (jail + Chromium)", c);
      row(out, "CreateBrowser, warm pool (" + warmHits + "/" + rounds + " warm)", w);
      out.printf(Locale.ROOT, "    warm p50 is %.3fx the cold start; target p50 <= %.0f ms: %s%n",
          (double) w.p50() / r.p50(), TARGET_WARM_P50_MS, w.p50() / 1e6 <= TARGET_WARM_P50_MS ? "MET" : "MISSED");
      out.printf(Locale.ROOT, "(b) failover, %d rounds (ms):%n", rounds);
      row(out, "CreateBrowser, local only", c);
      row(out, "CreateBrowser, dead remote first", f);
      double added = (f.p50() - c.p50()) / 1e6;
      out.printf(Locale.ROOT, "    added at p50 %.1f ms; target <= %.0f ms: %s%n", added, TARGET_FAILOVER_ADDED_MS,
          added <= TARGET_FAILOVER_ADDED_MS ? "MET" : "MISSED");
      out.printf(Locale.ROOT, "(c) %d browser sessions at once, %d screenshots each, all at the same time (ms):%n", sessions,
          shots);
      row(out, "Screenshot (PNG, 1280x800)", shotStats);
      out.printf(Locale.ROOT, "    wall time for start + navigate + screenshots: %d ms%n", concurrentWallMs);
      return 0;
    } finally {
      origin.stop(0);
    }
  }

  private static void row(PrintStream out, String what, Stats s) {
    out.printf(Locale.ROOT, "    %-46s p50 %8.1f  p90 %8.1f  p99 %8.1f  max %8.1f%n", what, s.p50() / 1e6, s.p90() / 1e6,
        s.p99() / 1e6, s.max() / 1e6);
  }

  /** Screenshot latencies of {@code n} sessions' browsers shooting at once. */
  private static Stats concurrent(Host host, int n, int shots, String url) throws Exception {
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    CountDownLatch ready = new CountDownLatch(n);
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Thread t = new Thread(() -> {
        try {
          String session = host.session("plain");
          var b = host.browsers("plain");
          String id = b.createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build()).getBrowserId();
          b.navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(id).setUrl(url).build());
          ready.countDown();
          go.await();
          for (int s = 0; s < shots; s++) {
            long t0 = System.nanoTime();
            b.screenshot(ScreenshotRequest.newBuilder().setSessionId(session).setBrowserId(id).build());
            latencies.add(System.nanoTime() - t0);
          }
        } catch (Throwable e) {
          failures.add(e);
          ready.countDown();
        }
      });
      t.start();
      threads.add(t);
    }
    ready.await();
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
    if (!failures.isEmpty()) {
      throw new IllegalStateException(failures.size() + " of " + n + " sessions failed", failures.peek());
    }
    return Stats.of(latencies.stream().mapToLong(Long::longValue).toArray());
  }

  /** Whether browser {@code id}'s jail is one the warm pool started (its cgroup is "warm-<id>"). */
  private static boolean startedWarm(String id) {
    return ProcessHandle.current().descendants().map(BrowserBench::cgroup).anyMatch(c -> c.contains("/warm-" + id));
  }

  private static String cgroup(ProcessHandle p) {
    try {
      return Files.readString(Path.of("/proc/" + p.pid() + "/cgroup"));
    } catch (java.io.IOException e) {
      return "";
    }
  }

  /** A bare Chromium on the host: spawn, DevTools port up, a blank page made. Nanoseconds. */
  private static long rawChromium() throws Exception {
    Path profile = Files.createTempDirectory("paddock-bench-chromium-");
    long start = System.nanoTime();
    Process p = new ProcessBuilder(LocalChromiumProvider.CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
        "--user-data-dir=" + profile, "about:blank").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    try {
      Path active = profile.resolve("DevToolsActivePort");
      List<String> lines = List.of();
      while (lines.size() < 2) {
        if (!p.isAlive()) {
          throw new IllegalStateException("Chromium exited at start");
        }
        Thread.sleep(2);
        lines = Files.exists(active) ? Files.readAllLines(active) : List.of();
      }
      URI ws = URI.create("ws://127.0.0.1:" + lines.get(0).trim() + lines.get(1).trim());
      try (CdpConnection cdp = CdpWebSocket.connect(CdpWebSocket.HTTP, ws, Map.of(), Duration.ofSeconds(10))) {
        cdp.call(null, "Target.createTarget", CdpConnection.params().put("url", "about:blank"), Duration.ofSeconds(10));
      }
      return System.nanoTime() - start;
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      try (var walk = Files.walk(profile)) {
        walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private static int closedPort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort(); // closed again at once: connections to it are refused
    }
  }

  /** A real host on a fresh data directory, with one tenant per entry of {@code providers}. */
  private static final class Host implements AutoCloseable {
    private final Path work;
    private final RuntimeServer server;
    private final Map<String, ManagedChannel> channels = new java.util.concurrent.ConcurrentHashMap<>();

    Host(Path nsjail, BrowserSettings browsers, Map<String, List<String>> providers) throws Exception {
      work = Files.createTempDirectory("paddock-browser-bench-");
      Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
      Path tenants = work.resolve("tenants.yaml");
      TenantAdmin admin = new TenantAdmin(tenants, Clock.systemUTC());
      Map<String, String> keys = new java.util.HashMap<>();
      for (String tenant : providers.keySet()) {
        keys.put(tenant, admin.rotateKey(tenant, "bench").key());
      }
      TenantsFile.Document doc = TenantsFile.read(tenants);
      for (TenantsFile.TenantEntry t : doc.tenants) {
        t.browser = new TenantsFile.BrowserEntry();
        t.browser.providers = providers.get(t.id);
        t.browser.maxOpen = 64;
        t.egress = new TenantsFile.EgressEntry();
        t.egress.allow = List.of(NAME);
      }
      TenantsFile.write(tenants, doc);
      HostConfig config = new HostConfig(new InetSocketAddress("127.0.0.1", 0), work, nsjail, 99999, 99999,
          Machine.CGROUP_ROOT, SessionSettings.defaults())
          .withEgress(EgressSettings.DEFAULTS.withFixedNames(EgressSettings.parseFixedNames(List.of(NAME + "=127.0.0.1")))
              .withReachable(List.of(AddressRange.parse("127.0.0.1/32"))))
          .withBrowsers(browsers.withFailover(FailoverSettings.DEFAULTS));
      server = RuntimeServer.start(config, Clock.systemUTC());
      keys.forEach((tenant, key) -> {
        Metadata auth = new Metadata();
        auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
        channels.put(tenant, NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
            .maxInboundMessageSize(32 << 20).intercept(MetadataUtils.newAttachHeadersInterceptor(auth)).build());
      });
    }

    String session(String tenant) {
      return SessionServiceGrpc.newBlockingStub(channels.get(tenant)).createSession(CreateSessionRequest.getDefaultInstance())
          .getSessionId();
    }

    BrowserServiceGrpc.BrowserServiceBlockingStub browsers(String tenant) {
      return BrowserServiceGrpc.newBlockingStub(channels.get(tenant)).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    /** CreateBrowser's latency, then the browser closed. Nanoseconds. */
    long createAndClose(String tenant, String session) {
      long t = System.nanoTime();
      String id = browsers(tenant).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build())
          .getBrowserId();
      long took = System.nanoTime() - t;
      browsers(tenant).closeBrowser(CloseBrowserRequest.newBuilder().setSessionId(session).setBrowserId(id).build());
      return took;
    }

    @Override
    public void close() throws Exception {
      for (ManagedChannel c : channels.values()) {
        c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      server.close();
      try (var walk = Files.walk(work)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
