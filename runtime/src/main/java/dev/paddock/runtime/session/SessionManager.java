package dev.paddock.runtime.session;

import dev.paddock.policy.DefaultPolicies;
import dev.paddock.policy.Limits;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.runtime.tenant.Tenant;
import dev.paddock.sandbox.SandboxLauncher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sessions of every tenant on this host. Every lookup is scoped by the caller's tenant: another
 * tenant's session is answered exactly like an id that never existed.
 */
public final class SessionManager {
  private static final Logger log = LoggerFactory.getLogger(SessionManager.class);
  static final String SESSION_PREFIX = "ses";
  private static final String DEFAULT_POLICY = "default";

  private final SandboxLauncher launcher;
  private final JailGate jail;
  private final Function<String, java.util.Optional<Tenant>> tenants;
  private final SessionSettings settings;
  private final SpecValidator validator;
  private final ExecRunner execs;
  private final Clock clock;
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  /** Execs running per tenant, for the tenant's maxExecs. */
  private final Map<String, AtomicInteger> runningExecs = new ConcurrentHashMap<>();
  private final SpareSlots spares;
  /** Checks, 10 ms apart, that cleanup waits for a closed session's execs to wind down. */
  private static final int CLEANUP_PATIENCE_CHECKS = 1000;

  private final java.util.concurrent.ScheduledExecutorService cleanup =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "paddock-session-cleanup");
        t.setDaemon(true);
        return t;
      });
  private volatile boolean closing;
  private final java.util.concurrent.ExecutorService spareMaker = singleDaemonThread("paddock-session-spares");

  public SessionManager(SandboxLauncher launcher, JailGate jail, Function<String, java.util.Optional<Tenant>> tenants,
      SessionSettings settings, ExecRunner execs, Clock clock) {
    this.launcher = launcher;
    this.jail = jail;
    this.tenants = tenants;
    this.settings = settings;
    this.validator = new SpecValidator(settings);
    this.execs = execs;
    this.clock = clock;
    this.spares = new SpareSlots(launcher, spareMaker);
  }

  /** Creates a session with its own workspace. */
  public Session create(Principal caller, SessionSpec spec) {
    Tenant tenant = tenants.apply(caller.tenantId())
        .orElseThrow(() -> new PaddockException.Unauthenticated("the API key's tenant is not configured"));
    Limits limits = validator.sessionLimits(spec);
    SandboxPolicy policy = resolvePolicy(spec.policy()).withLimits(limits);
    jail.require();
    // The slot (workspace, waiting jail) is taken outside the lock: making one can take a while,
    // and every tenant's CreateSession goes through this lock.
    SpareSlots.Slot slot;
    try {
      slot = spares.take(tenant.id(), policy);
    } catch (IOException e) {
      throw new PaddockException.Internal("SANDBOX_SETUP_FAILED", "the session workspace could not be created",
          Map.of("stage", "workspace"), e);
    }
    Session session;
    try {
      synchronized (this) {
        if (closing) {
          throw new PaddockException.Unavailable("HOST_SHUTTING_DOWN", "the host is shutting down", Duration.ofSeconds(1));
        }
        long open = sessions.values().stream()
            .filter(s -> s.tenantId().equals(tenant.id()) && s.state() == Session.State.ACTIVE).count();
        if (open >= tenant.maxSessions()) {
          throw new PaddockException.ResourceExhausted("SESSION_LIMIT_EXCEEDED",
              "the tenant already has " + open + " open sessions, its limit", "tenant:" + tenant.id(),
              Map.of("maxSessions", Integer.toString(tenant.maxSessions())));
        }
        session = new Session(slot.id(), tenant.id(), slot.workspace(), clock.instant(),
            spec.idleTimeout() == null ? settings.defaultIdleTimeout() : spec.idleTimeout(),
            spec.maxLifetime() == null ? settings.defaultMaxLifetime() : spec.maxLifetime(),
            policy, DEFAULT_POLICY, spec.labels(), spec.env());
        sessions.put(session.id(), session);
      }
    } catch (RuntimeException e) {
      spares.giveBack(tenant.id(), slot);
      throw e;
    }
    spares.refill(tenant.id(), policy);
    log.info("session {} created for tenant {} by key {}", session.id(), tenant.id(), caller.keyId());
    return session;
  }

  private static SandboxPolicy resolvePolicy(String name) {
    if (name.isEmpty() || name.equals(DEFAULT_POLICY)) {
      return DefaultPolicies.tool();
    }
    throw new PaddockException.NotFound("POLICY_NOT_FOUND", "policy not found", Map.of("policy", name));
  }

  /** The caller's session (active, or closed within the retention period). */
  public Session get(Principal caller, String sessionId) {
    if (sessionId == null || sessionId.isEmpty()) {
      throw new PaddockException.InvalidArgument("session_id", "is required");
    }
    Session s = sessions.get(sessionId);
    if (s == null || !s.tenantId().equals(caller.tenantId())) {
      throw notFound(sessionId);
    }
    return s;
  }

  private static PaddockException notFound(String sessionId) {
    // Only the caller's own input goes back: nothing tells a foreign session from a missing one.
    String shown = sessionId.length() > 64 ? sessionId.substring(0, 64) + "..." : sessionId;
    return new PaddockException.NotFound("SESSION_NOT_FOUND", "session not found", Map.of("sessionId", shown));
  }

  /** A page of the caller's sessions, oldest first. */
  public Page list(Principal caller, int pageSize, String pageToken, Map<String, String> labelSelector) {
    validator.labelSelector(labelSelector);
    int size = pageSize <= 0 ? 100 : Math.min(pageSize, 1000);
    String after = decodeToken(pageToken);
    List<Session> mine = new ArrayList<>();
    for (Session s : sessions.values()) {
      if (s.tenantId().equals(caller.tenantId()) && s.labels().entrySet().containsAll(labelSelector.entrySet())) {
        mine.add(s);
      }
    }
    mine.sort(Comparator.comparing(Session::createTime).thenComparing(Session::id));
    List<Session> page = new ArrayList<>();
    for (Session s : mine) {
      if (after != null && sortKey(s).compareTo(after) <= 0) {
        continue;
      }
      if (page.size() == size) {
        return new Page(page, encodeToken(sortKey(page.get(page.size() - 1))));
      }
      page.add(s);
    }
    return new Page(page, "");
  }

  /** One page of sessions and the token of the next ("" when this is the last). */
  public record Page(List<Session> sessions, String nextPageToken) {}

  private static String sortKey(Session s) {
    return String.format("%020d.%09d/%s", s.createTime().getEpochSecond(), s.createTime().getNano(), s.id());
  }

  private static String encodeToken(String key) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  private static String decodeToken(String token) {
    if (token == null || token.isEmpty()) {
      return null;
    }
    try {
      String key = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (key.matches("\\d{20}\\.\\d{9}/ses_[0-9a-f]{32}")) {
        return key;
      }
    } catch (IllegalArgumentException e) {
      // fall through
    }
    throw new PaddockException.InvalidArgument("page_token", "is not a token from a previous ListSessions answer");
  }

  /** Closes the caller's session: kills its execs, deletes its workspace. Repeating is fine. */
  public Session close(Principal caller, String sessionId) {
    Session s = get(caller, sessionId);
    close(s, Session.CloseReason.CLIENT);
    return s;
  }

  /** Resets the idle timer, optionally with a new idle timeout. */
  public Session refresh(Principal caller, String sessionId, Duration idleTimeout) {
    Session s = active(caller, sessionId);
    if (idleTimeout != null) {
      if (idleTimeout.isNegative() || idleTimeout.isZero() || idleTimeout.compareTo(settings.maxIdleTimeout()) > 0) {
        throw new PaddockException.InvalidArgument("idle_timeout",
            "must be positive and at most " + settings.maxIdleTimeout().toSeconds() + " s");
      }
      s.setIdleTimeout(idleTimeout, clock.instant());
    } else {
      s.touch(clock.instant());
    }
    return s;
  }

  /**
   * Runs a command in a fresh jail of the caller's session, on the calling thread, reporting to
   * {@code listener}. Validation and lookup errors are thrown before anything starts.
   */
  public void exec(Principal caller, String sessionId, ExecSpec spec, ExecListener listener) {
    Duration timeLimit = validator.exec(spec);
    Session s = active(caller, sessionId);
    Tenant tenant = tenants.apply(caller.tenantId())
        .orElseThrow(() -> new PaddockException.Unauthenticated("the API key's tenant is not configured"));
    jail.require();
    AtomicInteger running = runningExecs.computeIfAbsent(tenant.id(), t -> new AtomicInteger());
    if (running.incrementAndGet() > tenant.maxExecs()) {
      running.decrementAndGet();
      throw new PaddockException.ResourceExhausted("EXEC_LIMIT_EXCEEDED",
          "the tenant already has " + tenant.maxExecs() + " execs running, its limit", "tenant:" + tenant.id(),
          Map.of("maxExecs", Integer.toString(tenant.maxExecs()), "scope", "tenant"));
    }
    s.touch(clock.instant());
    try {
      execs.run(s, spec, timeLimit, listener);
    } finally {
      running.decrementAndGet();
      s.touch(clock.instant());
    }
  }

  private Session active(Principal caller, String sessionId) {
    Session s = get(caller, sessionId);
    if (s.state() != Session.State.ACTIVE) {
      throw sessionClosed(s);
    }
    return s;
  }

  static PaddockException sessionClosed(Session s) {
    return new PaddockException.FailedPrecondition("SESSION_CLOSED", "the session is closed",
        Map.of("sessionId", s.id(), "closeReason", String.valueOf(s.closeReason())));
  }

  /** Closes sessions past their idle timeout or lifetime; forgets closed ones past retention. */
  public void reap() {
    Instant now = clock.instant();
    for (Session s : sessions.values()) {
      Session.CloseReason why = s.expiry(now);
      if (why != null) {
        log.info("session {} of tenant {} closes: {}", s.id(), s.tenantId(), why);
        close(s, why);
      } else if (s.state() == Session.State.CLOSED && !now.isBefore(s.closeTime().plus(settings.closedRetention()))) {
        sessions.remove(s.id());
      }
    }
  }

  /**
   * Host shutdown: refuses new sessions, closes every session and spare slot, and waits (up to
   * about 40 s) for their workspaces and cgroups to be removed.
   */
  public void closeAll() {
    synchronized (this) {
      closing = true; // no session can be added after this
    }
    spares.stop();
    for (Session s : sessions.values()) {
      close(s, Session.CloseReason.HOST_SHUTDOWN);
    }
    spareMaker.shutdown();
    awaitQuietly(spareMaker, 10);
    spares.discardAll();
    // Pending cleanups re-schedule themselves; wait until none is left, then stop the thread.
    for (int i = 0; i < 3000 && sessions.values().stream().anyMatch(s -> !s.cleanedUp()); i++) {
      sleep(10);
    }
    cleanup.shutdown();
    awaitQuietly(cleanup, 10);
  }

  private static void awaitQuietly(java.util.concurrent.ExecutorService executor, long seconds) {
    try {
      if (!executor.awaitTermination(seconds, java.util.concurrent.TimeUnit.SECONDS)) {
        log.warn("shutdown: {} did not finish within {} s", executor, seconds);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static java.util.concurrent.ExecutorService singleDaemonThread(String name) {
    return java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Closes {@code s}: from the moment this returns no exec can be admitted and every running jail
   * of the session is dead (or, if still starting, dies as it attaches). Removing the workspace and
   * cgroups follows on the cleanup thread.
   */
  private void close(Session s, Session.CloseReason reason) {
    if (!s.markClosed(reason, clock.instant())) {
      return;
    }
    s.killAll("the session closed (" + reason + ")");
    removeLeftovers(s, 0);
  }

  /**
   * Every jail of the session is dead, or dies as it attaches. The execs still finish their
   * bookkeeping (they read their cgroup's counters), so the workspace and cgroups go once they are
   * done; checks are re-scheduled rather than slept on, so one stalled session does not hold up
   * every other session's cleanup. After {@link #CLEANUP_PATIENCE_CHECKS} checks they go anyway.
   */
  private void removeLeftovers(Session s, int check) {
    if (s.runningExecs() > 0 && check < CLEANUP_PATIENCE_CHECKS) {
      cleanup.schedule(() -> removeLeftovers(s, check + 1), 10, java.util.concurrent.TimeUnit.MILLISECONDS);
      return;
    }
    cleanup.execute(() -> removeNow(s));
  }

  private void removeNow(Session s) {
    if (s.runningExecs() > 0) {
      log.warn("session {}: {} execs still winding down after 10 s; removing its workspace anyway",
          s.id(), s.runningExecs());
    }
    launcher.deleteWorkspace(s.workspace());
    launcher.removeCgroups(ExecRunner.sessionCgroup(s));
    s.markCleanedUp();
    if (settings.closedRetention().isZero()) {
      sessions.remove(s.id());
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
