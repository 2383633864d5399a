package dev.paddock.browser.remote;

import dev.paddock.browser.Browser;
import dev.paddock.browser.BrowserException;
import dev.paddock.browser.WarmableProvider;
import dev.paddock.browser.BrowserRequest;
import dev.paddock.browser.ProviderException;
import dev.paddock.browser.cdp.CdpBrowser;
import dev.paddock.browser.cdp.CdpConnection;
import dev.paddock.browser.cdp.CdpWebSocket;
import java.io.IOException;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

/**
 * A remote DevTools endpoint: a browserless-, Steel- or Browserbase-style service ({@code ws:} or
 * {@code wss:} URL, usually carrying its token), or a Chromium's own {@code --remote-debugging-port}
 * ({@code http:} URL: the WebSocket is found at its {@code /json/version}). Each browser is a new
 * browser context there (as fresh as a new profile) with one page, and closing it disposes of the
 * context. An HTTP 429 from the endpoint is its quota, not its failure.
 *
 * <p>Its pages leave from the remote service's network, not through Paddock's egress proxy:
 * {@link #confined()} is false, and a tenant gets it only when the operator names it for that tenant.
 */
public final class RemoteCdpProvider implements WarmableProvider {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String name;
  private final URI endpoint;
  private final Map<String, String> headers;
  private final Duration timeout;

  /**
   * @param endpoint its DevTools URL (ws:, wss:, or http:/https: of a /json/version)
   * @param headers  sent with every connection, e.g. its credentials; never logged
   * @param timeout  for connecting and for each start-up command
   */
  public RemoteCdpProvider(String name, URI endpoint, Map<String, String> headers, Duration timeout) {
    String scheme = String.valueOf(endpoint.getScheme());
    if (!java.util.Set.of("ws", "wss", "http", "https").contains(scheme)) {
      throw new IllegalArgumentException("a remote browser endpoint is a ws:, wss:, http: or https: URL");
    }
    this.name = name;
    this.endpoint = endpoint;
    this.headers = Map.copyOf(headers);
    this.timeout = timeout;
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
    return start();
  }

  /**
   * A browser context opened ahead of any request (a service that bills per session bills for it
   * while it waits).
   */
  @Override
  public Warm startWarm() throws ProviderException {
    CdpBrowser browser = start();
    return WarmableProvider.ready(browser, browser::alive);
  }

  private CdpBrowser start() throws ProviderException {
    CdpConnection cdp;
    try {
      cdp = CdpWebSocket.connect(CdpWebSocket.HTTP, webSocketUrl(), headers, timeout);
    } catch (CdpWebSocket.Refused r) {
      throw refused(r.status(), r.retryAfter());
    } catch (IOException e) {
      throw new ProviderException(name + ": " + e.getMessage(), e);
    }
    try {
      String context = cdp.call(null, "Target.createBrowserContext", CdpConnection.params().put("disposeOnDetach", true),
          timeout).path("browserContextId").asText();
      CdpBrowser browser = new CdpBrowser("brw_" + HexFormat.of().formatHex(RANDOM.generateSeed(16)), name, cdp, context,
          () -> {});
      browser.open(timeout);
      return browser;
    } catch (BrowserException | RuntimeException e) {
      cdp.close();
      throw new ProviderException(name + ": the remote browser did not start: " + e.getMessage(), e);
    }
  }

  /** The endpoint's WebSocket: itself, or what its /json/version names. */
  private URI webSocketUrl() throws IOException {
    return endpoint.getScheme().startsWith("ws") ? endpoint : CdpWebSocket.discover(endpoint, headers, timeout);
  }

  private ProviderException refused(int status, java.util.Optional<String> retryAfter) {
    if (status == 429) {
      return new ProviderException.Quota(name + " answered 429 (at its quota)", retryAfter.flatMap(RemoteCdpProvider::seconds)
          .orElse(null));
    }
    return new ProviderException(name + " answered HTTP " + status);
  }

  /** A Retry-After of delta-seconds (an HTTP date is rare from these services and read as absent). */
  private static java.util.Optional<Duration> seconds(String value) {
    try {
      long s = Long.parseLong(value.trim());
      return s < 0 ? java.util.Optional.empty() : java.util.Optional.of(Duration.ofSeconds(Math.min(s, 3600)));
    } catch (NumberFormatException e) {
      return java.util.Optional.empty();
    }
  }
}
