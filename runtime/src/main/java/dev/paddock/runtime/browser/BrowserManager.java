package dev.paddock.runtime.browser;

import dev.paddock.browser.Browser;
import dev.paddock.browser.BrowserException;
import dev.paddock.browser.BrowserRequest;
import dev.paddock.browser.BrowserUnavailableException;
import dev.paddock.browser.Navigation;
import dev.paddock.browser.ProviderFailover;
import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.runtime.Ids;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.session.Session;
import dev.paddock.runtime.session.SessionManager;
import dev.paddock.runtime.tenant.Principal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The browsers of every session: each one for one tenant's one session, from the providers in
 * failover order, closed (and its profile wiped with its jail) when it is closed or its session
 * closes. Never handed to another session.
 */
public final class BrowserManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BrowserManager.class);
  /** Most browsers open at once in one session (a tenant's own limit, Tenant.maxBrowsers, holds too). */
  public static final int MAX_PER_SESSION = 4;

  /** One browser as the API shows it. */
  public static final class Entry {
    final String id;
    final String sessionId;
    final String tenantId;
    final Browser browser;
    final Instant created;
    volatile String url = "about:blank";
    volatile Instant closed;

    Entry(String id, String sessionId, String tenantId, Browser browser, Instant created) {
      this.id = id;
      this.sessionId = sessionId;
      this.tenantId = tenantId;
      this.browser = browser;
      this.created = created;
    }

    public String id() {
      return id;
    }

    public String sessionId() {
      return sessionId;
    }

    public String provider() {
      return browser.provider();
    }

    public Instant created() {
      return created;
    }

    public String url() {
      return url;
    }

    /** When it was closed; null while it is open. */
    public Instant closedAt() {
      return closed;
    }
  }

  private final ProviderFailover providers;
  private final SessionManager sessions;
  private final java.util.function.Function<String, java.util.Optional<dev.paddock.runtime.tenant.Tenant>> tenants;
  private final Clock clock;
  private final Map<String, Entry> browsers = new ConcurrentHashMap<>();
  /** Browsers being started, by tenant and by session: counted against the limits already. Guarded by this. */
  private final Map<String, Integer> starting = new java.util.HashMap<>();

  public BrowserManager(ProviderFailover providers, SessionManager sessions,
      java.util.function.Function<String, java.util.Optional<dev.paddock.runtime.tenant.Tenant>> tenants, Clock clock) {
    this.providers = providers;
    this.sessions = sessions;
    this.tenants = tenants;
    this.clock = clock;
  }

  /** The tenant's browser budget as a usage row: its limit, and its browsers open now. */
  public dev.paddock.ipc.v1.BudgetUsage usage(dev.paddock.runtime.tenant.Tenant tenant) {
    long open = browsers.values().stream().filter(e -> e.tenantId.equals(tenant.id()) && e.closed == null).count();
    return dev.paddock.ipc.v1.BudgetUsage.newBuilder().setName("open_browsers").setLimit(tenant.maxBrowsers()).setUsed(open)
        .setEnforcedBy("admission").build();
  }

  /** Counts a browser about to start against the session's and the tenant's limits, or refuses it. */
  private synchronized void reserve(Session session) {
    int maxForTenant = tenants.apply(session.tenantId()).map(dev.paddock.runtime.tenant.Tenant::maxBrowsers)
        .orElse(dev.paddock.runtime.tenant.Tenant.DEFAULT_MAX_BROWSERS);
    long inSession = browsers.values().stream().filter(e -> e.sessionId.equals(session.id()) && e.closed == null).count()
        + starting.getOrDefault("session:" + session.id(), 0);
    if (inSession >= MAX_PER_SESSION) {
      throw new PaddockException.ResourceExhausted(ErrorReason.BROWSER_LIMIT_EXCEEDED, "the session already has "
          + inSession + " open browsers, its limit", "session:" + session.id(),
          Map.of("maxBrowsers", Integer.toString(MAX_PER_SESSION)));
    }
    long inTenant = browsers.values().stream().filter(e -> e.tenantId.equals(session.tenantId()) && e.closed == null).count()
        + starting.getOrDefault("tenant:" + session.tenantId(), 0);
    if (inTenant >= maxForTenant) {
      throw new PaddockException.ResourceExhausted(ErrorReason.BROWSER_LIMIT_EXCEEDED, "the tenant already has "
          + inTenant + " open browsers, its limit", "tenant:" + session.tenantId(),
          Map.of("maxBrowsers", Integer.toString(maxForTenant)));
    }
    starting.merge("session:" + session.id(), 1, Integer::sum);
    starting.merge("tenant:" + session.tenantId(), 1, Integer::sum);
  }

  private synchronized void unreserve(Session session) {
    starting.computeIfPresent("session:" + session.id(), (k, v) -> v > 1 ? v - 1 : null);
    starting.computeIfPresent("tenant:" + session.tenantId(), (k, v) -> v > 1 ? v - 1 : null);
  }

  /** A new browser for the caller's active session; {@code provider} "" = the operator's order. */
  public Entry create(Principal caller, String sessionId, String provider) {
    Session session = sessions.active(caller, sessionId);
    if (!provider.isEmpty() && !providers.providers().contains(provider)) {
      throw new PaddockException.InvalidArgument("provider", "unknown browser provider; known: " + providers.providers());
    }
    reserve(session);
    Entry entry;
    try {
      Browser browser = providers.acquire(new BrowserRequest(session.tenantId(), session.id()),
          provider.isEmpty() ? null : provider, true);
      entry = new Entry(Ids.newId("brw"), session.id(), session.tenantId(), browser, clock.instant());
      browsers.put(entry.id, entry);
    } catch (BrowserUnavailableException e) {
      log.warn("session {}: no browser: {}", sessionId, e.getMessage());
      throw new PaddockException.Unavailable(ErrorReason.PROVIDER_UNAVAILABLE, "no browser provider can serve now",
          e.retryAfter());
    } finally {
      unreserve(session);
    }
    if (session.state() != Session.State.ACTIVE) { // closed while the browser started
      close(entry);
      throw new PaddockException.FailedPrecondition(ErrorReason.SESSION_CLOSED, "the session closed");
    }
    return entry;
  }

  /** One browser of the caller's session, open or closed. */
  public Entry get(Principal caller, String sessionId, String browserId) {
    sessions.get(caller, sessionId);
    Entry e = browsers.get(browserId == null ? "" : browserId);
    if (e == null || !e.sessionId.equals(sessionId)) {
      String shown = browserId == null ? "" : browserId.length() > 64 ? browserId.substring(0, 64) + "..." : browserId;
      throw new PaddockException.NotFound(ErrorReason.BROWSER_NOT_FOUND, "browser not found",
          Map.of("sessionId", sessionId, "browserId", shown));
    }
    return e;
  }

  /** The browsers of the caller's session, oldest first. */
  public List<Entry> list(Principal caller, String sessionId) {
    sessions.get(caller, sessionId);
    List<Entry> out = new ArrayList<>();
    browsers.values().stream().filter(e -> e.sessionId.equals(sessionId)).sorted((a, b) -> a.created.compareTo(b.created))
        .forEach(out::add);
    return out;
  }

  /** Closes a browser; closing a closed one is fine. */
  public void close(Principal caller, String sessionId, String browserId) {
    close(get(caller, sessionId, browserId));
  }

  public Navigation navigate(Principal caller, String sessionId, String browserId, String url, Duration timeout) {
    Entry e = open(caller, sessionId, browserId);
    if (!url.regionMatches(true, 0, "http://", 0, 7) && !url.regionMatches(true, 0, "https://", 0, 8)) {
      throw new PaddockException.InvalidArgument("url", "must be an http:// or https:// URL");
    }
    try {
      Navigation n = e.browser.navigate(url, timeout);
      e.url = n.url();
      return n;
    } catch (BrowserException ex) {
      throw failed(e, ex);
    }
  }

  public byte[] screenshot(Principal caller, String sessionId, String browserId) {
    Entry e = open(caller, sessionId, browserId);
    try {
      return e.browser.screenshot();
    } catch (BrowserException ex) {
      throw failed(e, ex);
    }
  }

  /** Closes the browsers of a session that closed. */
  public void sessionClosed(Session session) {
    browsers.values().stream().filter(e -> e.sessionId.equals(session.id())).forEach(this::close);
  }

  @Override
  public void close() {
    browsers.values().forEach(this::close);
  }

  private Entry open(Principal caller, String sessionId, String browserId) {
    sessions.active(caller, sessionId);
    Entry e = get(caller, sessionId, browserId);
    if (e.closed != null) {
      throw new PaddockException.FailedPrecondition(ErrorReason.BROWSER_CLOSED, "the browser is closed",
          Map.of("browserId", e.id, "state", "CLOSED"));
    }
    return e;
  }

  private PaddockException failed(Entry e, BrowserException ex) {
    log.warn("browser {} of session {}: {}", e.id, e.sessionId, ex.getMessage());
    return new PaddockException.FailedPrecondition(ErrorReason.BROWSER_CLOSED, "the browser did not answer: " + ex.getMessage(),
        Map.of("browserId", e.id, "state", e.closed == null ? "ACTIVE" : "CLOSED"));
  }

  private void close(Entry e) {
    synchronized (e) {
      if (e.closed != null) {
        return;
      }
      e.closed = clock.instant();
    }
    try {
      e.browser.close();
    } catch (RuntimeException ex) {
      log.error("browser {}: closing failed", e.id, ex);
    }
  }
}
