package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.RetryInfo;
import com.sun.net.httpserver.HttpServer;
import dev.paddock.audit.log.Segments;
import dev.paddock.browser.FailoverSettings;
import dev.paddock.browser.local.LocalChromiumProvider;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.BrowserServiceGrpc;
import dev.paddock.ipc.v1.CloseBrowserRequest;
import dev.paddock.ipc.v1.CreateBrowserRequest;
import dev.paddock.ipc.v1.ListBrowsersRequest;
import dev.paddock.ipc.v1.NavigateRequest;
import dev.paddock.ipc.v1.ScreenshotRequest;
import dev.paddock.runtime.browser.BrowserSettings;
import dev.paddock.runtime.tenant.TenantAdmin;
import dev.paddock.runtime.tenant.TenantsFile;
import dev.paddock.sandbox.DockerEngine;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failover between real browser providers: the host's local Chromium (in jails) and a "remote"
 * DevTools provider that is a real Chromium the test starts, kills and starts again on a loopback
 * port, plus a "busy" provider whose endpoint answers every request with 429 and Retry-After.
 * Fast breaker settings (2 calls, 50%, open for 5 s, 1 probe) make the breaker's life fit a test.
 */
class BrowserFailoverEndToEndTest {
  private static final FailoverSettings FAST = new FailoverSettings(Duration.ofSeconds(30), 2, 50, Duration.ofSeconds(20),
      100, Duration.ofSeconds(5), 1);

  @TempDir
  Path temp;
  private TestHost host;
  private Process remote;
  private HttpServer busy;

  @AfterEach
  void stop() throws Exception {
    stopRemote();
    if (busy != null) {
      busy.stop(0);
    }
    if (host != null) {
      host.close();
    }
  }

  @Test
  void aDeadProviderIsFailedOverItsBreakerOpensHalfOpensAndClosesAnd429sNeverOpenIt() throws Exception {
    int remotePort = dev.paddock.sandbox.LoopbackPorts.free();
    AtomicInteger busyHits = new AtomicInteger();
    busy = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    busy.createContext("/", ex -> {
      busyHits.incrementAndGet();
      ex.getResponseHeaders().set("Retry-After", "1");
      ex.sendResponseHeaders(429, -1);
      ex.close();
    });
    busy.start();

    var keys = startHost(java.util.Map.of("theta", List.of("remote", "local"), "iota", List.of("busy", "local"),
        "kappa", List.of("remote")), b -> b.withRemotes(List.of(
            new BrowserSettings.Remote("remote", URI.create("http://127.0.0.1:" + remotePort)),
            new BrowserSettings.Remote("busy", URI.create("http://127.0.0.1:" + busy.getAddress().getPort())))));
    String theta = keys.get("theta");
    String iota = keys.get("iota");
    String kappa = keys.get("kappa");

    try (OriginServer origin = new OriginServer()) {
      startRemote(remotePort);
      String session = host.newSession(theta);
      var first = browsers(theta).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build());
      assertThat(first.getProvider()).isEqualTo("remote");
      var page = browsers(theta).navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(first.getBrowserId())
          .setUrl("http://127.0.0.1:" + origin.port() + "/page").build());
      assertThat(page.getTitle()).isEqualTo("Origin page");

      // The remote provider dies mid-task: its browser is replaced from the healthy one, and so are the next ones.
      stopRemote();
      assertThat(awaitReplaced(theta, session, first.getBrowserId()).getProvider()).isEqualTo("local");
      for (int i = 0; i < 2; i++) {
        var next = browsers(theta).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build());
        assertThat(next.getProvider()).isEqualTo("local");
        browsers(theta).closeBrowser(CloseBrowserRequest.newBuilder().setSessionId(session).setBrowserId(next.getBrowserId())
            .build());
      }
      assertThat(breakerChanges("remote")).containsExactly("CLOSED>OPEN");

      // Every provider of kappa's is down: refused at once, with when to retry.
      String kappaSession = host.newSession(kappa);
      browsers(kappa).listBrowsers(ListBrowsersRequest.newBuilder().setSessionId(kappaSession).build()); // channel up
      long start = System.nanoTime();
      StatusRuntimeException down = catchThrowableOfType(StatusRuntimeException.class, () -> browsers(kappa).createBrowser(
          CreateBrowserRequest.newBuilder().setSessionId(kappaSession).build()));
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(down.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(TestHost.failure(down).info().getReason()).isEqualTo("PROVIDER_UNAVAILABLE");
      assertThat(StatusProto.fromThrowable(down).getDetailsList()).anySatisfy(d -> assertThat(d.is(RetryInfo.class)).isTrue());
      assertThat(tookMs).as("all providers down answers in under 100 ms").isLessThan(100);

      // The remote comes back: after its open time one probe gets through, and the breaker closes.
      startRemote(remotePort);
      Thread.sleep(FAST.openFor().toMillis() + 200);
      var back = browsers(theta).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build());
      assertThat(back.getProvider()).isEqualTo("remote");
      assertThat(breakerChanges("remote")).containsExactly("CLOSED>OPEN", "OPEN>HALF_OPEN", "HALF_OPEN>CLOSED");
      host.sessions(theta).closeSession(dev.paddock.ipc.v1.CloseSessionRequest.newBuilder().setSessionId(session).build());

      // A provider at its quota is skipped without counting against it, however often it says so.
      String iotaSession = host.newSession(iota);
      for (int i = 0; i < 3; i++) {
        var b = browsers(iota).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(iotaSession).build());
        assertThat(b.getProvider()).isEqualTo("local");
        browsers(iota).closeBrowser(CloseBrowserRequest.newBuilder().setSessionId(iotaSession).setBrowserId(b.getBrowserId())
            .build());
        Thread.sleep(1100); // past its Retry-After, so the next request asks it again
      }
      assertThat(busyHits.get()).isGreaterThanOrEqualTo(3);
      assertThat(breakerChanges("busy")).isEmpty();
    }
  }

  @Test
  void aContainerProviderKilledMidTaskIsFailedOverAndServesAgainOnceItsEngineIsBack() throws Exception {
    try (DockerEngine engine = DockerEngine.start()) {
      assertThat(engine.hasImage("paddock/chromium:local")).as("the image scripts/setup builds (scripts/browser-image)")
          .isTrue();
      var keys = startHost(java.util.Map.of("theta", List.of("container", "local"), "kappa", List.of("container")),
          b -> b.withContainers(List.of(new BrowserSettings.Container("container", "paddock/chromium:local"))));
      String theta = keys.get("theta");
      String kappa = keys.get("kappa");
      try (OriginServer origin = new OriginServer()) {
        String session = host.newSession(theta);
        var first = browsers(theta).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build());
        assertThat(first.getProvider()).isEqualTo("container");
        assertThat(engine.docker("ps", "--format", "{{.Image}}")).contains("paddock/chromium:local");
        var page = browsers(theta).navigate(NavigateRequest.newBuilder().setSessionId(session)
            .setBrowserId(first.getBrowserId()).setUrl("http://127.0.0.1:" + origin.port() + "/page").build());
        assertThat(page.getTitle()).isEqualTo("Origin page");

        // Paused, it answers nothing: an action times out (the browser is not lost), and goes on once resumed.
        String container = engine.docker("ps", "-q").strip();
        engine.docker("pause", container);
        StatusRuntimeException paused = catchThrowableOfType(StatusRuntimeException.class, () -> browsers(theta).navigate(
            NavigateRequest.newBuilder().setSessionId(session).setBrowserId(first.getBrowserId())
                .setUrl("http://127.0.0.1:" + origin.port() + "/hello")
                .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2)).build()));
        assertThat(paused.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(TestHost.failure(paused).info().getReason()).isEqualTo("BROWSER_TIMEOUT");
        engine.docker("unpause", container);
        assertThat(browsers(theta).navigate(NavigateRequest.newBuilder().setSessionId(session)
            .setBrowserId(first.getBrowserId()).setUrl("http://127.0.0.1:" + origin.port() + "/page").build()).getTitle())
            .isEqualTo("Origin page");

        // kappa's browser can come from the container provider only.
        String kappaSession = host.newSession(kappa);
        String kappaBrowser = browsers(kappa).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(kappaSession)
            .build()).getBrowserId();

        // The engine dies mid-task, with the browsers' containers: theta's is replaced from the local provider;
        // kappa's has no provider left, and fails.
        engine.down();
        assertThat(awaitReplaced(theta, session, first.getBrowserId()).getProvider()).isEqualTo("local");
        StatusRuntimeException lost = null;
        for (int i = 0; i < 100 && lost == null; i++) {
          lost = catchThrowableOfType(StatusRuntimeException.class, () -> browsers(kappa).screenshot(
              ScreenshotRequest.newBuilder().setSessionId(kappaSession).setBrowserId(kappaBrowser).build()));
          Thread.sleep(lost == null ? 100 : 0);
        }
        assertThat(lost.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(browsers(kappa).getBrowser(dev.paddock.ipc.v1.GetBrowserRequest.newBuilder().setSessionId(kappaSession)
            .setBrowserId(kappaBrowser).build()).getState()).isEqualTo(dev.paddock.ipc.v1.BrowserState.BROWSER_STATE_FAILED);
        for (int i = 0; i < 2; i++) {
          var next = browsers(theta).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build());
          assertThat(next.getProvider()).isEqualTo("local");
          browsers(theta).closeBrowser(CloseBrowserRequest.newBuilder().setSessionId(session)
              .setBrowserId(next.getBrowserId()).build());
        }
        assertThat(breakerChanges("container")).containsExactly("CLOSED>OPEN");
        browsers(kappa).listBrowsers(ListBrowsersRequest.newBuilder().setSessionId(kappaSession).build()); // channel up
        long start = System.nanoTime();
        StatusRuntimeException down = catchThrowableOfType(StatusRuntimeException.class, () -> browsers(kappa)
            .createBrowser(CreateBrowserRequest.newBuilder().setSessionId(kappaSession).build()));
        assertThat(down.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat((System.nanoTime() - start) / 1_000_000).as("all providers down answers in under 100 ms").isLessThan(100);

        // The engine is back: after the breaker's open time a probe gets through and it closes.
        engine.up();
        Thread.sleep(FAST.openFor().toMillis() + 200);
        var back = browsers(theta).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build());
        assertThat(back.getProvider()).isEqualTo("container");
        assertThat(breakerChanges("container")).containsExactly("CLOSED>OPEN", "OPEN>HALF_OPEN", "HALF_OPEN>CLOSED");
        // Closing the session removes its browser's container.
        host.sessions(theta).closeSession(dev.paddock.ipc.v1.CloseSessionRequest.newBuilder().setSessionId(session).build());
        assertThat(engine.docker("ps", "-q")).isBlank();
      }
    }
  }

  /** Waits up to 30 s for browser {@code id} to have been replaced once; the browser then. */
  private dev.paddock.ipc.v1.Browser awaitReplaced(String key, String session, String id) throws InterruptedException {
    dev.paddock.ipc.v1.Browser b = null;
    for (int i = 0; i < 300 && (b == null || b.getReplacements() == 0); i++) {
      Thread.sleep(100);
      b = browsers(key).getBrowser(dev.paddock.ipc.v1.GetBrowserRequest.newBuilder().setSessionId(session).setBrowserId(id)
          .build());
    }
    assertThat(b.getReplacements()).as("replaced within 30 s").isEqualTo(1);
    assertThat(b.getState()).isEqualTo(dev.paddock.ipc.v1.BrowserState.BROWSER_STATE_ACTIVE);
    return b;
  }

  /** Starts the test's host with one tenant per entry, each with its own provider order; their keys. */
  private java.util.Map<String, String> startHost(java.util.Map<String, List<String>> providers,
      java.util.function.UnaryOperator<BrowserSettings> browsers) throws Exception {
    Path data = temp.resolve("data");
    Files.createDirectories(data);
    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwx--x--x"));
    TenantAdmin admin = new TenantAdmin(data.resolve("tenants.yaml"), Clock.systemUTC());
    java.util.Map<String, String> keys = new java.util.HashMap<>();
    for (String tenant : providers.keySet()) {
      keys.put(tenant, admin.rotateKey(tenant, "test").key());
    }
    TenantsFile.Document doc = TenantsFile.read(data.resolve("tenants.yaml"));
    for (TenantsFile.TenantEntry t : doc.tenants) {
      t.browser = new TenantsFile.BrowserEntry();
      t.browser.providers = providers.get(t.id);
    }
    TenantsFile.write(data.resolve("tenants.yaml"), doc);
    host = TestHost.onDataDir(data, c -> c.withBrowsers(browsers.apply(BrowserSettings.DEFAULTS.withFailover(FAST))));
    return keys;
  }

  private List<String> breakerChanges(String provider) throws Exception {
    return Segments.readAll(host.dataDir.resolve("audit")).stream()
        .filter(r -> r.getAction() == AuditAction.AUDIT_ACTION_BROWSER_ACTION && r.getTarget().equals("provider:" + provider))
        .map((AuditRecord r) -> r.getAttributesMap().get("breakerFrom") + ">" + r.getAttributesMap().get("breakerTo")).toList();
  }

  private BrowserServiceGrpc.BrowserServiceBlockingStub browsers(String key) {
    return BrowserServiceGrpc.newBlockingStub(host.channel(key, null)).withDeadlineAfter(90, TimeUnit.SECONDS);
  }

  /** A Chromium of the test's own, with a DevTools port on loopback: the remote service's stand-in. */
  private void startRemote(int port) throws Exception {
    Path profile = Files.createTempDirectory(temp, "remote-profile");
    remote = new ProcessBuilder(LocalChromiumProvider.CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=" + port, "--user-data-dir=" + profile, "about:blank")
        .redirectErrorStream(true).redirectOutput(temp.resolve("remote-" + port + ".log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        dev.paddock.browser.cdp.CdpWebSocket.discover(URI.create("http://127.0.0.1:" + port), java.util.Map.of(),
            Duration.ofSeconds(2));
        return;
      } catch (java.io.IOException e) {
        // not listening yet
      }
      assertThat(remote.isAlive()).as("the remote Chromium exited").isTrue();
      assertThat(System.nanoTime()).as("the remote Chromium did not listen in 20 s").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private void stopRemote() throws InterruptedException {
    if (remote != null) {
      remote.descendants().forEach(ProcessHandle::destroyForcibly);
      remote.destroyForcibly();
      remote.waitFor(10, TimeUnit.SECONDS);
      remote = null;
    }
  }
}
