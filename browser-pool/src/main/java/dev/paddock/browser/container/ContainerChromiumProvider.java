package dev.paddock.browser.container;

import dev.paddock.browser.Browser;
import dev.paddock.browser.BrowserException;
import dev.paddock.browser.WarmableProvider;
import dev.paddock.browser.BrowserRequest;
import dev.paddock.browser.ProviderException;
import dev.paddock.browser.cdp.CdpBrowser;
import dev.paddock.browser.cdp.CdpConnection;
import dev.paddock.browser.cdp.CdpWebSocket;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.images.ImagePullPolicy;
import org.testcontainers.utility.DockerImageName;

/**
 * Chromium in a container of a Docker-compatible engine (Testcontainers, with the engine named by
 * {@code DOCKER_HOST}), a new container for each browser: as fresh as a new machine, removed when
 * the browser closes. The image is built locally (scripts/setup builds {@code paddock/chromium:local}
 * from Debian packages) and never pulled: no registry is reachable, and an image a registry could
 * swap would be code nobody reviewed. Its entrypoint is Chromium; the provider adds the DevTools
 * port.
 *
 * <p>The container shares the host's network (the engine runs without a bridge here), so its pages
 * do not go through the egress proxy: {@link #confined()} is false, and a tenant gets it only when
 * the operator names it for that tenant.
 */
public final class ContainerChromiumProvider implements WarmableProvider {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String name;
  private final DockerImageName image;
  private final Duration startTimeout;

  /** @param image a local image whose entrypoint is Chromium, e.g. {@code paddock/chromium:local} */
  public ContainerChromiumProvider(String name, String image, Duration startTimeout) {
    this.name = name;
    this.image = DockerImageName.parse(image);
    this.startTimeout = startTimeout;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean confined() {
    return false;
  }

  @Override
  public Browser acquire(BrowserRequest request) throws ProviderException {
    return start(request.tenant());
  }

  /** A container started ahead of any request: it belongs to nobody until claimed. */
  @Override
  public Warm startWarm() throws ProviderException {
    CdpBrowser browser = start("");
    return WarmableProvider.ready(browser, browser::alive);
  }

  private CdpBrowser start(String tenant) throws ProviderException {
    int port = freePort();
    GenericContainer<?> container;
    try {
      container = startContainer(tenant, port);
    } catch (RuntimeException e) {
      if (!(root(e) instanceof IOException)) {
        throw new ProviderException(name + ": the container did not start: " + rootMessage(e), e);
      }
      // The engine's client keeps connections open; after the engine restarted, the first call on an old
      // one breaks (EPIPE) before reaching it. One more try, on a fresh connection.
      try {
        container = startContainer(tenant, port);
      } catch (RuntimeException again) {
        throw new ProviderException(name + ": the container did not start: " + rootMessage(again), again);
      }
    }
    CdpConnection cdp = null;
    try {
      cdp = CdpWebSocket.connect(CdpWebSocket.HTTP, webSocketUrl(port), Map.of(), startTimeout);
      CdpBrowser browser = new CdpBrowser("brw_" + HexFormat.of().formatHex(RANDOM.generateSeed(16)), name, cdp, null,
          container::stop);
      browser.open(startTimeout);
      return browser;
    } catch (IOException | BrowserException | RuntimeException e) {
      if (cdp != null) {
        cdp.close();
      }
      container.stop();
      throw new ProviderException(name + ": Chromium in the container did not answer: " + rootMessage(e), e);
    }
  }

  private GenericContainer<?> startContainer(String tenant, int port) {
    GenericContainer<?> container = new GenericContainer<>(image)
        .withImagePullPolicy(NEVER_PULL)
        .withNetworkMode("host")
        .withCommand("--no-sandbox", "--remote-debugging-port=" + port, "about:blank")
        .withLabel("dev.paddock.tenant", tenant) // "" while it waits in a warm pool
        // The engine removes it once it stops, however it stops: also when the engine itself went
        // down first (it stops its containers, and removes these when it starts again), which no
        // stop() of ours could reach.
        .withCreateContainerCmdModifier(create -> create.getHostConfig().withAutoRemove(true))
        .withStartupTimeout(startTimeout);
    container.setWaitStrategy(null);
    try {
      container.start();
      return container;
    } catch (RuntimeException e) {
      container.stop();
      throw e;
    }
  }

  /** Waits for the container's Chromium to name its DevTools WebSocket. */
  private URI webSocketUrl(int port) throws IOException {
    long deadline = System.nanoTime() + startTimeout.toNanos();
    URI endpoint = URI.create("http://127.0.0.1:" + port);
    while (true) {
      try {
        return CdpWebSocket.discover(endpoint, Map.of(), Duration.ofSeconds(2));
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IOException("no DevTools endpoint within " + startTimeout.toMillis() + " ms: " + e.getMessage(), e);
        }
      }
      try {
        Thread.sleep(50); // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
    }
  }

  private static int freePort() throws ProviderException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new ProviderException("no free loopback port for a container's DevTools: " + e.getMessage(), e);
    }
  }

  private static Throwable root(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = root(e);
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  /** Images are built here, never pulled. */
  private static final ImagePullPolicy NEVER_PULL = imageName -> false;
}
