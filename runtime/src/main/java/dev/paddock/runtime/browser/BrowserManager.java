package dev.paddock.runtime.browser;

import dev.paddock.browser.Browser;
import dev.paddock.browser.BrowserException;
import dev.paddock.browser.BrowserRequest;
import dev.paddock.browser.BrowserUnavailableException;
import dev.paddock.browser.Evaluation;
import dev.paddock.browser.Navigation;
import dev.paddock.browser.ProviderFailover;
import dev.paddock.ipc.v1.BudgetUsage;
import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.session.Session;
import dev.paddock.runtime.session.SessionManager;
import dev.paddock.runtime.tenant.ApiKeys;
import dev.paddock.runtime.tenant.BrowserGrant;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.runtime.tenant.Tenant;
import dev.paddock.runtime.vault.SecretSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The browsers of every session: each one for one tenant's one session, from the tenant's
 * providers in failover order, closed (and its profile wiped with its jail) when it is closed, its
 * session closes, its browser is lost, or its tenant's browser-minutes run out. Never handed to
 * another session.
 */
public final class BrowserManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BrowserManager.class);
  /** Most browsers open at once in one session (a tenant's own limit, BrowserGrant.maxOpen, holds too). */
  public static final int MAX_PER_SESSION = 4;
  /** Largest answer of a page (content, a script's value): what one gRPC message or IPC frame carries. */
  public static final int MAX_RESULT_BYTES = 4 << 20;

  /** Where what happens to browsers beside the API's calls is recorded. */
  public interface Events {
    Events NONE = new Events() {};

    /** The host closed a browser on its own: outcome, and why. */
    default void closedByHost(Entry browser, String outcome, String why) {}

    /** A stock client attached to a browser's DevTools endpoint. */
    default void devToolsAttached(Entry browser) {}

    /** A lost browser was replaced by a fresh one (from {@code browser.provider()} now). */
    default void replaced(Entry browser, String why) {}

    /**
     * The vault secret {@code secret} is about to go into a password field of the browser, on a page
     * of one of {@code origins}; throwing stops it (an audit record that cannot be written).
     */
    default void secretUsed(Entry browser, String secret, List<String> origins) {}
  }

  /** A new browser, and its DevTools URLs (shown once: only the token's SHA-256 is kept). */
  public record Created(Entry entry, String devtoolsUrl, String devtoolsWsUrl) {}

  /** A browser's state, as the API shows it. */
  public enum State { ACTIVE, CLOSED, FAILED }

  /** One browser as the API shows it. */
  public static final class Entry {
    final String id;
    final String sessionId;
    final String tenantId;
    /** The browser serving it now: a lost one is replaced by a fresh one, under the same id and token. */
    volatile Browser browser;
    /** Times its browser was lost and replaced. */
    volatile int replacements;
    /** Held while its lost browser is being replaced: one replacement per loss. */
    final java.util.concurrent.locks.ReentrantLock replacing = new java.util.concurrent.locks.ReentrantLock();
    final Instant created;
    volatile String url = "about:blank";
    volatile Instant closed;
    volatile State state = State.ACTIVE;
    /** Until when its time is counted against the tenant's browser-minutes. Guarded by itself. */
    Instant chargedTo;
    /** SHA-256 (hex) of its DevTools token, as API keys are kept; null when it has no DevTools endpoint. */
    volatile String devtoolsTokenSha256;
    /** The caller's scripts ran in it, or a DevTools client attached: it gets no secrets. Guarded by this. */
    private boolean scripted;
    /** A secret went into one of its fields: no scripts, no DevTools client. Guarded by this. */
    private boolean holdsSecret;

    Entry(String id, String sessionId, String tenantId, Browser browser, Instant created) {
      this.id = id;
      this.sessionId = sessionId;
      this.tenantId = tenantId;
      this.browser = browser;
      this.created = created;
      this.chargedTo = created;
    }

    public String id() {
      return id;
    }

    public String sessionId() {
      return sessionId;
    }

    public String tenantId() {
      return tenantId;
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

    public State state() {
      return state;
    }

    /** Times its browser was lost and replaced by a fresh one. */
    public int replacements() {
      return replacements;
    }

    /** When it was closed or lost; null while it is open. */
    public Instant closedAt() {
      return closed;
    }

    /** Marks it as running the caller's code; false (and unmarked) when it holds a secret. */
    synchronized boolean markScripted() {
      scripted = scripted || !holdsSecret;
      return !holdsSecret;
    }

    /** Marks it as holding a secret; false (and unmarked) when the caller's code ran in it. */
    synchronized boolean markHoldsSecret() {
      holdsSecret = holdsSecret || !scripted;
      return !scripted;
    }
  }

  private final ProviderFailover providers;
  private final SessionManager sessions;
  private final Function<String, Optional<Tenant>> tenants;
  private final Clock clock;
  private final BrowserMinutes minutes;
  private final Events events;
  private volatile DevToolsEndpoint devtools;
  private volatile SecretSource secrets;
  /** Replaces lost browsers in the background (starting one takes about a second). */
  private final java.util.concurrent.ExecutorService replacer = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "browser-replacer");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, Entry> browsers = new ConcurrentHashMap<>();
  /** Browsers being started, by tenant and by session: counted against the limits already. Guarded by this. */
  private final Map<String, Integer> starting = new HashMap<>();

  public BrowserManager(ProviderFailover providers, SessionManager sessions, Function<String, Optional<Tenant>> tenants,
      Clock clock, Events events) {
    this.providers = providers;
    this.sessions = sessions;
    this.tenants = tenants;
    this.clock = clock;
    this.minutes = new BrowserMinutes(clock);
    this.events = events;
  }

  /** The tenant's browser budgets as usage rows: browsers open now, and browser-minutes used today. */
  public List<BudgetUsage> usage(Tenant tenant) {
    long open = browsers.values().stream().filter(e -> e.tenantId.equals(tenant.id()) && e.closed == null).count();
    return List.of(
        BudgetUsage.newBuilder().setName("open_browsers").setLimit(tenant.browser().maxOpen()).setUsed(open)
            .setEnforcedBy("admission").build(),
        BudgetUsage.newBuilder().setName("browser_minutes_today").setLimit(tenant.browser().minutesPerDay())
            .setUsed(minutes.usedMinutes(tenant.id())).setEnforcedBy("host").build());
  }

  private BrowserGrant grant(String tenantId) {
    return tenants.apply(tenantId).map(Tenant::browser).orElse(BrowserGrant.DEFAULTS);
  }

  /** Counts a browser about to start against the session's and the tenant's limits, or refuses it. */
  private synchronized void reserve(Session session, BrowserGrant grant) {
    if (minutes.exhausted(session.tenantId(), grant.minutesPerDay())) {
      throw minutesExhausted(session.tenantId(), grant);
    }
    long inSession = browsers.values().stream().filter(e -> e.sessionId.equals(session.id()) && e.closed == null).count()
        + starting.getOrDefault("session:" + session.id(), 0);
    if (inSession >= MAX_PER_SESSION) {
      throw new PaddockException.ResourceExhausted(ErrorReason.BROWSER_LIMIT_EXCEEDED, "the session already has "
          + inSession + " open browsers, its limit", "session:" + session.id(),
          Map.of("maxBrowsers", Integer.toString(MAX_PER_SESSION)));
    }
    long inTenant = browsers.values().stream().filter(e -> e.tenantId.equals(session.tenantId()) && e.closed == null).count()
        + starting.getOrDefault("tenant:" + session.tenantId(), 0);
    if (inTenant >= grant.maxOpen()) {
      throw new PaddockException.ResourceExhausted(ErrorReason.BROWSER_LIMIT_EXCEEDED, "the tenant already has "
          + inTenant + " open browsers, its limit", "tenant:" + session.tenantId(),
          Map.of("maxBrowsers", Integer.toString(grant.maxOpen())));
    }
    starting.merge("session:" + session.id(), 1, Integer::sum);
    starting.merge("tenant:" + session.tenantId(), 1, Integer::sum);
  }

  private PaddockException minutesExhausted(String tenantId, BrowserGrant grant) {
    return new PaddockException.ResourceExhausted(ErrorReason.BROWSER_MINUTES_EXHAUSTED,
        "the tenant has used its " + grant.minutesPerDay() + " browser-minutes for today (UTC)", "tenant:" + tenantId,
        Map.of("minutesPerDay", Integer.toString(grant.minutesPerDay())), minutes.untilTomorrow());
  }

  private synchronized void unreserve(Session session) {
    starting.computeIfPresent("session:" + session.id(), (k, v) -> v > 1 ? v - 1 : null);
    starting.computeIfPresent("tenant:" + session.tenantId(), (k, v) -> v > 1 ? v - 1 : null);
  }

  /**
   * The providers a tenant's request tries, in order: the tenant's own list (those this host has),
   * or the host's; {@code preferred} first when given.
   */
  private List<String> order(BrowserGrant grant, String preferred) {
    if (!preferred.isEmpty() && !providers.providers().contains(preferred)) {
      throw new PaddockException.InvalidArgument("provider", "unknown browser provider; known: " + providers.providers());
    }
    // Unnamed, a tenant gets only providers whose pages go through its egress allow-list.
    List<String> order = new ArrayList<>(grant.providers().isEmpty()
        ? providers.providers().stream().filter(providers::confined).toList()
        : grant.providers().stream().filter(providers.providers()::contains).toList());
    if (order.isEmpty()) {
      throw new PaddockException.PermissionDenied(ErrorReason.PERMISSION_DENIED_POLICY,
          "none of the tenant's browser providers " + grant.providers() + " runs on this host", Map.of("operation", "browser"));
    }
    if (!preferred.isEmpty()) {
      if (!order.remove(preferred)) {
        throw new PaddockException.PermissionDenied(ErrorReason.PERMISSION_DENIED_POLICY,
            "the tenant may not use browser provider " + preferred, Map.of("operation", "provider"));
      }
      order.add(0, preferred);
    }
    return order;
  }

  /** Where secrets for password fields come from (the host's vault); until set, none are. */
  public void secrets(SecretSource source) {
    this.secrets = source;
  }

  /** Serves each new browser's DevTools endpoint on {@code endpoint}, when its provider's browsers can be shared. */
  public void devTools(DevToolsEndpoint endpoint) {
    this.devtools = endpoint;
  }

  /**
   * The DevTools connection of browser {@code browserId} when {@code token} is its and it is open
   * (the {@link DevToolsEndpoint}'s resolver).
   */
  public Optional<DevToolsEndpoint.Attach> resolveDevTools(String browserId, String token) {
    Entry e = browsers.get(browserId);
    if (e == null || e.closed != null || e.devtoolsTokenSha256 == null || !java.security.MessageDigest.isEqual(
        ApiKeys.sha256Hex(token).getBytes(java.nio.charset.StandardCharsets.US_ASCII),
        e.devtoolsTokenSha256.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
      return Optional.empty();
    }
    if (!e.markScripted()) {
      log.warn("browser {}: a DevTools client was refused: a secret is in one of its fields", e.id);
      return Optional.empty();
    }
    return e.browser.devTools().map(c -> new DevToolsEndpoint.Attach(c, () -> events.devToolsAttached(e)));
  }

  /** A new browser for the caller's active session, with its DevTools URLs; {@code provider} "" = the tenant's order. */
  public Created createWithDevTools(Principal caller, String sessionId, String provider) {
    Entry e = create(caller, sessionId, provider);
    DevToolsEndpoint endpoint = devtools;
    // Only a browser of its own (a local one in its jail): a shared remote browser's DevTools would reach other contexts.
    if (endpoint == null || !providers.confined(e.provider()) || e.browser.devTools().isEmpty()) {
      return new Created(e, "", "");
    }
    String token = java.util.HexFormat.of().formatHex(dev.paddock.runtime.Ids.randomBytes(16));
    e.devtoolsTokenSha256 = ApiKeys.sha256Hex(token);
    return new Created(e, endpoint.httpUrl(e.id, token), endpoint.wsUrl(e.id, token));
  }

  /** A new browser for the caller's active session; {@code provider} "" = the tenant's order. */
  public Entry create(Principal caller, String sessionId, String provider) {
    Session session = sessions.active(caller, sessionId);
    BrowserGrant grant = grant(session.tenantId());
    List<String> order = order(grant, provider);
    reserve(session, grant);
    Entry entry;
    try {
      Browser browser = providers.acquire(new BrowserRequest(session.tenantId(), session.id()), order, grant.failover());
      // The provider's id (128 random bits): one name for the browser in the API, logs, cgroups and egress records.
      entry = new Entry(browser.id(), session.id(), session.tenantId(), browser, clock.instant());
      browsers.put(entry.id, entry);
      watch(entry, browser);
    } catch (BrowserUnavailableException e) {
      log.warn("session {}: no browser: {}", sessionId, e.getMessage());
      throw new PaddockException.Unavailable(ErrorReason.PROVIDER_UNAVAILABLE, "no browser provider can serve now",
          e.retryAfter());
    } finally {
      unreserve(session);
    }
    if (session.state() != Session.State.ACTIVE) { // closed while the browser started
      close(entry, State.CLOSED);
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
    close(get(caller, sessionId, browserId), State.CLOSED);
  }

  public Navigation navigate(Principal caller, String sessionId, String browserId, String url, Duration timeout) {
    Entry e = open(caller, sessionId, browserId);
    if (!url.regionMatches(true, 0, "http://", 0, 7) && !url.regionMatches(true, 0, "https://", 0, 8)) {
      throw new PaddockException.InvalidArgument("url", "must be an http:// or https:// URL");
    }
    if (url.length() > 8192) {
      throw PaddockException.InvalidArgument.tooLarge("url", 8192, "at most 8192 bytes");
    }
    Navigation n = call(e, "", timeout, b -> b.navigate(url, timeout));
    e.url = n.loaded() ? n.url() : e.url;
    return n;
  }

  public byte[] screenshot(Principal caller, String sessionId, String browserId) {
    Entry e = open(caller, sessionId, browserId);
    byte[] png = call(e, "", null, Browser::screenshot);
    if (png.length > MAX_RESULT_BYTES) {
      throw PaddockException.InvalidArgument.tooLarge("image", MAX_RESULT_BYTES, "the screenshot is over 4 MiB");
    }
    return png;
  }

  /** The page's visible text ({@code html} false) or its DOM as HTML. */
  public String content(Principal caller, String sessionId, String browserId, boolean html) {
    Entry e = open(caller, sessionId, browserId);
    String content = call(e, "", null, html ? Browser::html : Browser::text);
    if (content.length() > MAX_RESULT_BYTES / 4 && content.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
        > MAX_RESULT_BYTES) {
      throw PaddockException.InvalidArgument.tooLarge("content", MAX_RESULT_BYTES, "the page's content is over 4 MiB");
    }
    return content;
  }

  /** Evaluates the caller's script in the page, when its tenant may run scripts. */
  public Evaluation evaluate(Principal caller, String sessionId, String browserId, String expression, Duration timeout) {
    Entry e = open(caller, sessionId, browserId);
    if (!grant(e.tenantId).scripts()) {
      throw new PaddockException.PermissionDenied(ErrorReason.PERMISSION_DENIED_POLICY,
          "the tenant may not run its own scripts in a browser (the operator's browser.scripts)",
          Map.of("operation", "evaluate"));
    }
    if (expression.isEmpty()) {
      throw new PaddockException.InvalidArgument("expression", "required");
    }
    if (expression.length() > 1 << 20) {
      throw PaddockException.InvalidArgument.tooLarge("expression", 1 << 20, "at most 1 MiB");
    }
    if (!e.markScripted()) {
      throw new PaddockException.PermissionDenied(ErrorReason.PERMISSION_DENIED_POLICY,
          "a secret was put into a field of this browser: its page runs no scripts of the caller's (they could read it)",
          Map.of("operation", "evaluate"));
    }
    return call(e, "", timeout, b -> b.evaluate(expression, timeout, MAX_RESULT_BYTES));
  }

  public void click(Principal caller, String sessionId, String browserId, String selector, int clickCount, Duration timeout) {
    Entry e = open(caller, sessionId, browserId);
    checkSelector(selector);
    if (clickCount < 0 || clickCount > 3) {
      throw new PaddockException.InvalidArgument("click_count", "0 to 3");
    }
    call(e, selector, timeout, b -> {
      b.click(selector, Math.max(1, clickCount), timeout);
      return null;
    });
  }

  /**
   * Types {@code text} into the element {@code selector} matches or, with {@code secret} (not ""),
   * puts that vault secret into it where the operator bound it to the page's origin.
   */
  public void type(Principal caller, String sessionId, String browserId, String selector, String text, String secret,
      boolean clear, Duration keyDelay, Duration timeout) {
    Entry e = open(caller, sessionId, browserId);
    checkSelector(selector);
    if (text.length() > 65536) {
      throw PaddockException.InvalidArgument.tooLarge("text", 65536, "at most 64 KiB");
    }
    if (keyDelay.isNegative() || keyDelay.compareTo(Duration.ofSeconds(1)) > 0) {
      throw new PaddockException.InvalidArgument("key_delay", "0 to 1 second");
    }
    if (!secret.isEmpty()) {
      if (!text.isEmpty()) {
        throw new PaddockException.InvalidArgument("text", "give text or secret, not both");
      }
      fillSecret(e, selector, secret, timeout);
      return;
    }
    call(e, selector, timeout, b -> {
      b.type(selector, text, clear, keyDelay, timeout);
      return null;
    });
  }

  private void fillSecret(Entry e, String selector, String secret, Duration timeout) {
    List<String> origins = grant(e.tenantId).formOrigins(secret);
    if (origins.isEmpty()) {
      throw new PaddockException.PermissionDenied(ErrorReason.PERMISSION_DENIED_POLICY, "the operator bound secret "
          + secret + " to no site's password fields (the tenant's browser.formSecrets)", Map.of("operation", "type", "secret", secret));
    }
    SecretSource source = secrets;
    if (source == null) {
      throw new PaddockException.FailedPrecondition(ErrorReason.SECRET_NOT_FOUND, "this host keeps no secrets");
    }
    if (!e.markHoldsSecret()) {
      throw new PaddockException.PermissionDenied(ErrorReason.PERMISSION_DENIED_POLICY, "this browser ran the caller's"
          + " scripts or had a DevTools client, which could read the field: secrets go only into browsers that did not",
          Map.of("operation", "type", "secret", secret));
    }
    events.secretUsed(e, secret, origins);
    byte[] value;
    try {
      value = source.reveal(e.tenantId, secret);
    } catch (java.io.IOException failure) {
      log.error("browser {}: secret {} could not be read: {}", e.id, secret, failure.getMessage());
      throw new PaddockException.Internal("the secret store could not be used", failure);
    }
    try {
      String text = java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(value)).toString();
      call(e, selector, timeout, b -> {
        b.fillSecret(selector, origins, text, timeout);
        return null;
      });
    } catch (java.nio.charset.CharacterCodingException notText) {
      throw new PaddockException.InvalidArgument("secret", "secret " + secret + " is not UTF-8 text, which a field holds");
    } finally {
      java.util.Arrays.fill(value, (byte) 0);
    }
  }

  private static void checkSelector(String selector) {
    if (selector.isEmpty()) {
      throw new PaddockException.InvalidArgument("selector", "required");
    }
    if (selector.length() > 4096) {
      throw PaddockException.InvalidArgument.tooLarge("selector", 4096, "at most 4096 bytes");
    }
  }

  /** A browser's answer that may fail. */
  @FunctionalInterface
  private interface BrowserCall<T> {
    T run(Browser browser) throws BrowserException;
  }

  /**
   * Runs {@code action} on the entry's browser; its failure as the caller's typed error. A lost
   * browser is replaced by a fresh one before the answer (state ACTIVE, "REPLACED"), or, when no
   * provider can serve one, closed as FAILED.
   */
  private <T> T call(Entry e, String selector, Duration timeout, BrowserCall<T> action) {
    Browser used = e.browser;
    try {
      return action.run(used);
    } catch (BrowserException ex) {
      switch (ex.kind()) {
        case TIMEOUT -> throw new PaddockException.DeadlineExceeded(ErrorReason.BROWSER_TIMEOUT, ex.getMessage(),
            Map.of("browserId", e.id, "timeout", timeout == null ? "" : timeout.toMillis() + "ms"));
        case NO_SUCH_ELEMENT -> throw new PaddockException.NotFound(ErrorReason.ELEMENT_NOT_FOUND, ex.getMessage(),
            Map.of("browserId", e.id, "selector", selector.length() > 200 ? selector.substring(0, 200) + "..." : selector));
        case BAD_SELECTOR -> throw new PaddockException.InvalidArgument("selector", ex.getMessage());
        case TOO_LARGE -> throw PaddockException.InvalidArgument.tooLarge("result_json", MAX_RESULT_BYTES, ex.getMessage());
        case REFUSED -> throw new PaddockException.PermissionDenied(ErrorReason.PERMISSION_DENIED_POLICY, ex.getMessage(),
            Map.of("browserId", e.id));
        default -> {
          replace(e, used, ex.getMessage());
          if (e.closed == null) {
            throw new PaddockException.FailedPrecondition(ErrorReason.BROWSER_CLOSED, "the browser was lost ("
                + ex.getMessage() + ") and replaced by a fresh one from " + e.provider()
                + ": its pages, cookies and storage are gone; call again", Map.of("browserId", e.id, "state", "REPLACED"));
          }
          throw new PaddockException.FailedPrecondition(ErrorReason.BROWSER_CLOSED,
              "the browser was lost (" + ex.getMessage() + ") and no provider can serve a fresh one; create a new one",
              Map.of("browserId", e.id, "state", e.state.name()));
        }
      }
    }
  }

  /** Replaces {@code browser} of {@code e} in the background when it is lost. */
  private void watch(Entry e, Browser browser) {
    browser.onLost(why -> replacer.execute(() -> replace(e, browser, why)));
  }

  /**
   * Replaces the lost {@code lost} of {@code e} with a fresh browser from the tenant's providers,
   * under the same id and DevTools token (a stock client reconnects with the same URL); closes
   * {@code e} as FAILED when none can serve. Once per loss, whoever notices first.
   */
  private void replace(Entry e, Browser lost, String why) {
    e.replacing.lock();
    try {
      if (e.closed != null || e.browser != lost) {
        return; // closed meanwhile, or replaced already
      }
      log.warn("browser {} of session {} is lost ({}); replacing it", e.id, e.sessionId, why);
      closeQuietly(lost);
      BrowserGrant grant = grant(e.tenantId);
      Browser fresh;
      try {
        fresh = providers.acquire(new BrowserRequest(e.tenantId, e.sessionId), order(grant, ""), grant.failover());
      } catch (BrowserUnavailableException | RuntimeException ex) {
        if (close(e, State.FAILED)) {
          events.closedByHost(e, "FAILED", "the browser was lost (" + why + ") and no provider could serve a fresh one");
        }
        return;
      }
      synchronized (e) {
        if (e.closed == null) {
          e.browser = fresh;
          e.replacements++;
          e.holdsSecret = false; // a fresh profile: the secret went with the lost one
          e.url = "about:blank";
        }
      }
      if (e.browser != fresh) { // closed while the fresh one started
        closeQuietly(fresh);
        return;
      }
      watch(e, fresh);
      events.replaced(e, why);
    } finally {
      e.replacing.unlock();
    }
  }

  private static void closeQuietly(Browser b) {
    try {
      b.close();
    } catch (RuntimeException ex) {
      log.warn("closing a lost browser failed", ex);
    }
  }

  /** Closes the browsers of a session that closed. */
  public void sessionClosed(Session session) {
    browsers.values().stream().filter(e -> e.sessionId.equals(session.id())).forEach(e -> close(e, State.CLOSED));
  }

  /**
   * Counts open browsers' time against their tenants' browser-minutes, and closes the browsers of
   * tenants that have used theirs. Called by the host's ticker every second.
   */
  public void tick() {
    for (Entry e : browsers.values()) {
      if (e.closed != null) {
        continue;
      }
      charge(e);
      BrowserGrant grant = grant(e.tenantId);
      if (minutes.exhausted(e.tenantId, grant.minutesPerDay()) && close(e, State.CLOSED)) {
        log.info("browser {} of tenant {} closed: its browser-minutes for today are used", e.id, e.tenantId);
        events.closedByHost(e, ErrorReason.BROWSER_MINUTES_EXHAUSTED.name(), "the tenant's browser-minutes for today are used");
      }
    }
  }

  private void charge(Entry e) {
    synchronized (e) {
      e.chargedTo = minutes.charge(e.tenantId, e.chargedTo);
    }
  }

  @Override
  public void close() {
    replacer.shutdownNow();
    browsers.values().forEach(e -> close(e, State.CLOSED));
  }

  private Entry open(Principal caller, String sessionId, String browserId) {
    sessions.active(caller, sessionId);
    Entry e = get(caller, sessionId, browserId);
    if (e.closed != null) {
      throw new PaddockException.FailedPrecondition(ErrorReason.BROWSER_CLOSED, "the browser is closed",
          Map.of("browserId", e.id, "state", e.state.name()));
    }
    return e;
  }

  /** Closes {@code e} as {@code state}; false when it was closed already. */
  private boolean close(Entry e, State state) {
    synchronized (e) {
      if (e.closed != null) {
        return false;
      }
      e.closed = clock.instant();
      e.state = state;
      e.chargedTo = minutes.charge(e.tenantId, e.chargedTo);
    }
    try {
      e.browser.close();
    } catch (RuntimeException ex) {
      log.error("browser {}: closing failed", e.id, ex);
    }
    return true;
  }
}
