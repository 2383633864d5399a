package dev.paddock.runtime.browser;

import dev.paddock.browser.FailoverSettings;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator's browser settings, host-wide.
 *
 * @param warmPool blank browsers kept started ahead of requests by each provider (each handed out
 *                 once, and replaced in the background); 0 = none (the default): every browser
 *                 starts cold, about a second here. A waiting local or container browser holds
 *                 about 200 MiB (191 MiB resident measured for a local one, docs/operations.md);
 *                 a waiting remote one is a session the remote service may bill.
 * @param remotes  remote DevTools providers, after the local one in the host's order; default none.
 *                 Their pages leave from their own networks, not through the egress proxy, so a
 *                 tenant gets one only when the operator names it in the tenant's browser.providers.
 * @param failover how each provider's circuit breaker judges it
 * @param devtools where the browsers' DevTools endpoint for stock clients (Playwright, Puppeteer)
 *                 listens; null = none. Default 127.0.0.1, a free port (each browser's URLs name it).
 * @param warmRefill how many of a provider's warm browsers may be starting at once (1 to
 *                 warmPool; default 1): more refills a drained pool sooner, at that many cold
 *                 starts' CPU at the same time
 * @param containers container providers (Chromium in a container of the Docker engine that
 *                 DOCKER_HOST names, one per browser), after the remote ones in the host's order;
 *                 default none. Their pages do not pass the egress proxy either.
 */
public record BrowserSettings(int warmPool, int warmRefill, List<Remote> remotes, FailoverSettings failover,
    java.net.InetSocketAddress devtools, List<Container> containers) {
  public static final BrowserSettings DEFAULTS = new BrowserSettings(0, 1, List.of(), FailoverSettings.DEFAULTS,
      new java.net.InetSocketAddress("127.0.0.1", 0), List.of());

  /**
   * A container provider.
   *
   * @param name  its name in tenants' browser.providers, logs and breaker records ([a-z0-9-])
   * @param image a local image whose entrypoint is Chromium (scripts/browser-image builds
   *              paddock/chromium:local); never pulled
   */
  public record Container(String name, String image) {
    public Container {
      if (!NAME.matcher(name).matches() || name.equals("local")) {
        throw new IllegalArgumentException("a container browser provider's name is 1-63 of [a-z0-9-], not 'local': " + name);
      }
      if (image == null || image.isBlank()) {
        throw new IllegalArgumentException("container browser provider " + name + " needs an image");
      }
    }

    /** Parses {@code NAME=IMAGE} (the operator's {@code --browser-container}). */
    public static Container parse(String pair) {
      int eq = pair.indexOf('=');
      if (eq < 1) {
        throw new IllegalArgumentException("expected NAME=IMAGE, e.g. container=paddock/chromium:local");
      }
      return new Container(pair.substring(0, eq), pair.substring(eq + 1));
    }
  }
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

  /**
   * A remote DevTools provider.
   *
   * @param name     its name in tenants' browser.providers, logs and breaker records ([a-z0-9-])
   * @param endpoint ws:/wss: of a browser service (its token in the URL, as those services take
   *                 it), or http: of a Chromium's --remote-debugging-port
   */
  public record Remote(String name, URI endpoint) {
    public Remote {
      if (!NAME.matcher(name).matches() || name.equals("local")) {
        throw new IllegalArgumentException("a remote browser provider's name is 1-63 of [a-z0-9-], not 'local': " + name);
      }
    }

    @Override
    public String toString() { // the endpoint may carry a token
      return "Remote[" + name + "]";
    }
  }

  public BrowserSettings {
    if (warmPool < 0 || warmPool > 64) {
      throw new IllegalArgumentException("the browser warm pool must be 0 to 64 browsers");
    }
    if (warmRefill < 1 || warmPool > 0 && warmRefill > warmPool) {
      throw new IllegalArgumentException("the browser warm pool refills 1 to its size (" + warmPool + ") at once");
    }
    remotes = List.copyOf(remotes);
    containers = List.copyOf(containers);
    if (java.util.stream.Stream.concat(remotes.stream().map(Remote::name), containers.stream().map(Container::name))
        .distinct().count() != remotes.size() + containers.size()) {
      throw new IllegalArgumentException("two browser providers have the same name");
    }
  }

  /** The same settings keeping {@code n} warm browsers. */
  public BrowserSettings withWarmPool(int n) {
    return new BrowserSettings(n, Math.min(warmRefill, Math.max(1, n)), remotes, failover, devtools, containers);
  }

  /** The same settings starting up to {@code n} warm browsers of a provider at once. */
  public BrowserSettings withWarmRefill(int n) {
    return new BrowserSettings(warmPool, n, remotes, failover, devtools, containers);
  }

  /** The same settings with {@code remotes}. */
  public BrowserSettings withRemotes(List<Remote> remotes) {
    return new BrowserSettings(warmPool, warmRefill, remotes, failover, devtools, containers);
  }

  /** The same settings with the DevTools endpoint on {@code address} (null: none). */
  public BrowserSettings withDevTools(java.net.InetSocketAddress address) {
    return new BrowserSettings(warmPool, warmRefill, remotes, failover, address, containers);
  }

  /** The same settings with {@code containers}. */
  public BrowserSettings withContainers(List<Container> containers) {
    return new BrowserSettings(warmPool, warmRefill, remotes, failover, devtools, containers);
  }

  /** The same settings judging providers by {@code failover}. */
  public BrowserSettings withFailover(FailoverSettings failover) {
    return new BrowserSettings(warmPool, warmRefill, remotes, failover, devtools, containers);
  }

  /**
   * Parses {@code NAME=URL} (the operator's {@code --browser-remote}); {@code ${VAR}} in the URL is
   * replaced by that environment variable, so a token need not appear on a command line.
   */
  public static Remote parseRemote(String pair, Map<String, String> environment) {
    int eq = pair.indexOf('=');
    if (eq < 1) {
      throw new IllegalArgumentException("expected NAME=URL, e.g. cloud=wss://browsers.example.com?token=${BROWSER_TOKEN}");
    }
    String name = pair.substring(0, eq);
    Matcher m = VARIABLE.matcher(pair.substring(eq + 1));
    StringBuilder url = new StringBuilder();
    while (m.find()) {
      String value = environment.get(m.group(1));
      if (value == null) {
        throw new IllegalArgumentException("remote browser provider " + name + ": environment variable " + m.group(1)
            + " is not set");
      }
      m.appendReplacement(url, Matcher.quoteReplacement(value));
    }
    m.appendTail(url);
    try {
      return new Remote(name, new URI(url.toString()));
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException("remote browser provider " + name + ": not a URL"); // never echo the token
    }
  }
}
