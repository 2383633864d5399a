package dev.paddock.runtime.session;

import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.policy.DefaultPolicies;
import dev.paddock.policy.Limits;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.runtime.tenant.Tenant;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.jail.JailCensus;
import dev.paddock.sandbox.jail.WorkspaceLimits;
import dev.paddock.sandbox.jail.Jail;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sessions of every tenant on this host. Every lookup is scoped by the caller's tenant: another
 * tenant's session (or exec) is answered exactly like an id that never existed.
 *
 * <p>A session is one live jail ({@link Jail}); creating one claims the tenant's ready jail
 * ({@link ReadyJails}) or starts one, and closing one kills its jail, which takes the workspace
 * (a tmpfs in the jail's mount namespace) and every process with it.
 */
public final class SessionManager {
  private static final Logger log = LoggerFactory.getLogger(SessionManager.class);
  static final String SESSION_PREFIX = "ses";
  private static final String DEFAULT_POLICY = "default";
  private static final String ISOLATED_POLICY = "isolated";

  private final JailGate jail;
  private final Function<String, Optional<Tenant>> tenants;
  /** Replaced as a whole when the operator file changes (see {@link #settings(SessionSettings)}). */
  private volatile SessionSettings settings;
  private volatile SpecValidator validator;
  private final ExecRunner execs;
  private final Clock clock;
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  /** Execs running per tenant, for the tenant's maxExecs. */
  private final Map<String, AtomicInteger> runningExecs = new ConcurrentHashMap<>();
  /**
   * Active sessions per tenant, kept apart from {@link #sessions}, which also holds every session
   * closed in the last {@code closedRetention} (tens of thousands on a busy host): every
   * CreateSession counts a tenant's twice, and every host write into a workspace under a tenant
   * budget sums their workspaces.
   */
  private final Map<String, Set<Session>> activeByTenant = new ConcurrentHashMap<>();
  /** Every session {@link #sessions} holds, closed ones included, by tenant: what ListSessions pages through. */
  private final Map<String, Set<Session>> heldByTenant = new ConcurrentHashMap<>();
  private final ReadyJails ready;
  private final TenantRates rates = new TenantRates();
  private final List<java.util.function.Consumer<Session>> openListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<java.util.function.Consumer<Session>> closeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean closing;

  /**
   * @param starter starts a session's jail (its cgroup under the tenant's, the workspace tmpfs)
   * @param maker   the background thread that prepares each tenant's next ready jail; shut down by
   *                the caller after {@link #closeAll}
   */
  public SessionManager(JailGate jail, ReadyJails.Starter starter, ExecutorService maker,
      Function<String, Optional<Tenant>> tenants, SessionSettings settings, ExecRunner execs, Clock clock) {
    this.jail = jail;
    this.tenants = tenants;
    this.settings = settings;
    this.validator = new SpecValidator(settings);
    this.execs = execs;
    this.clock = clock;
    this.ready = new ReadyJails(starter, maker);
  }

  /**
   * The exec machinery. In-process tools only: the benchmark that measures what an exec's audit
   * records cost swaps its {@code ExecAudit} between runs; the host sets it once, at start.
   */
  public ExecRunner execRunner() {
    return execs;
  }

  /** Creates a session: claims the tenant's ready jail, or starts one. */
  public Session create(Principal caller, SessionSpec spec) {
    Tenant tenant = tenant(caller);
    Limits limits = validator.sessionLimits(spec);
    Duration lifetime = lifetime(tenant, spec);
    SandboxPolicy policy = resolvePolicy(spec.policy()).withLimits(limits);
    WorkspaceLimits workspace = validator.workspace(spec, limits);
    checkHeaderSecrets(tenant, spec);
    jail.require();
    traced("paddock.admission", () -> {
      checkSessionLimit(tenant);
      rates.admitSession(tenant);
    });
    ReadyJails.Ready claimed = ready.take(tenant.id(), policy, workspace);
    if (claimed == null) {
      io.opentelemetry.api.trace.Span start = tracing.child("paddock.jail.start");
      try (io.opentelemetry.context.Scope ignored = start.makeCurrent()) {
        claimed = ready.startNow(tenant.id(), policy, workspace);
      } catch (SandboxSetupException e) {
        start.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, "setup failed");
        jail.reportSetupFailure(e.getMessage());
        throw new PaddockException.Internal(ErrorReason.SANDBOX_SETUP_FAILED, "the session's sandbox could not be started",
            Map.of("stage", "jail"), e);
      } finally {
        start.end();
      }
    }
    Session session;
    try {
      synchronized (this) {
        if (closing) {
          throw new PaddockException.Unavailable(ErrorReason.HOST_SHUTTING_DOWN, "the host is shutting down", Duration.ofSeconds(1));
        }
        checkSessionLimit(tenant);
        session = new Session(claimed.id(), tenant.id(), claimed.jail(), workspace, settings.retainedExecs(), clock.instant(),
            spec.idleTimeout() == null ? settings.defaultIdleTimeout() : spec.idleTimeout(),
            lifetime, policy, spec.policy().isEmpty() ? DEFAULT_POLICY : spec.policy(), spec.labels(), spec.env(),
            spec.egress(), spec.headerSecrets());
        sessions.put(session.id(), session);
        heldByTenant.computeIfAbsent(tenant.id(), t -> ConcurrentHashMap.newKeySet()).add(session);
        activeByTenant.computeIfAbsent(tenant.id(), t -> ConcurrentHashMap.newKeySet()).add(session);
      }
    } catch (RuntimeException e) {
      claimed.jail().close("the session was refused");
      throw e;
    }
    Session created = session;
    session.jail().onFailure(reason -> {
      log.warn("session {} of tenant {}: its sandbox failed ({}); closing it", created.id(), created.tenantId(), reason);
      close(created, Session.CloseReason.SANDBOX_FAILED);
    });
    if (!session.jail().alive()) {
      close(session, Session.CloseReason.SANDBOX_FAILED);
    }
    for (var listener : openListeners) {
      try {
        listener.accept(session);
      } catch (RuntimeException e) {
        log.error("session {}: an open listener failed", session.id(), e);
      }
    }
    ready.refill(tenant.id(), policy, workspace);
    log.info("session {} created for tenant {} by key {}", session.id(), tenant.id(), caller.keyId());
    return session;
  }

  /**
   * The session's lifetime: as asked, or the host's default, never more than the tenant's maximum
   * (a request for more is refused; the default is cut to it).
   */
  private Duration lifetime(Tenant tenant, SessionSpec spec) {
    Duration cap = tenant.maxSessionLifetime();
    if (spec.maxLifetime() != null) {
      if (cap != null && spec.maxLifetime().compareTo(cap) > 0) {
        throw new PaddockException.InvalidArgument("max_lifetime",
            "at most " + cap.toSeconds() + " s for this tenant, got " + spec.maxLifetime().toSeconds() + " s");
      }
      return spec.maxLifetime();
    }
    Duration lifetime = settings.defaultMaxLifetime();
    return cap != null && lifetime.compareTo(cap) > 0 ? cap : lifetime;
  }

  /** Every header secret the session names must be bound to a header by its tenant's egress settings. */
  private static void checkHeaderSecrets(Tenant tenant, SessionSpec spec) {
    if (spec.headerSecrets().size() > SessionSpec.MAX_HEADER_SECRETS) {
      throw new PaddockException.InvalidArgument("header_secrets", "at most " + SessionSpec.MAX_HEADER_SECRETS + " names");
    }
    for (String name : spec.headerSecrets()) {
      if (tenant.egress().headerSecret(name) == null) {
        throw new PaddockException.PermissionDenied(ErrorReason.PERMISSION_DENIED_POLICY,
            "the tenant's egress settings do not bind this secret to a request header", Map.of("secret",
                name.length() > 128 ? name.substring(0, 128) : name));
      }
    }
  }

  private void checkSessionLimit(Tenant tenant) {
    long open = openSessions(tenant.id());
    if (open >= tenant.maxSessions()) {
      throw new PaddockException.ResourceExhausted(ErrorReason.SESSION_LIMIT_EXCEEDED,
          "the tenant already has " + open + " open sessions, its limit", "tenant:" + tenant.id(),
          Map.of("maxSessions", Integer.toString(tenant.maxSessions())));
    }
  }

  private Tenant tenant(Principal caller) {
    return tenants.apply(caller.tenantId())
        .orElseThrow(() -> new PaddockException.Unauthenticated("the API key's tenant is not configured"));
  }

  /** The built-in policies, by name: every host has them, with or without a policy pack. */
  public static Map<String, SandboxPolicy> builtInPolicies() {
    return Map.of(DEFAULT_POLICY, DefaultPolicies.tool(), ISOLATED_POLICY, DefaultPolicies.isolated());
  }

  private volatile java.util.function.Supplier<Map<String, SandboxPolicy>> policies = SessionManager::builtInPolicies;

  /** Where the policies sessions may name come from (the built-in ones and the policy pack's). */
  public void policies(java.util.function.Supplier<Map<String, SandboxPolicy>> source) {
    this.policies = source;
  }

  private SandboxPolicy resolvePolicy(String name) {
    SandboxPolicy policy = policies.get().get(name.isEmpty() ? DEFAULT_POLICY : name);
    if (policy != null) {
      return policy;
    }
    throw new PaddockException.NotFound(ErrorReason.POLICY_NOT_FOUND, "policy not found", Map.of("policy", name));
  }

  /**
   * A session by id for the host's own use (its browsers' egress), whoever owns it; empty when
   * unknown. Never behind an API: callers go through {@link #get}.
   */
  public Optional<Session> lookupForHost(String sessionId) {
    return Optional.ofNullable(sessions.get(sessionId));
  }

  /** The caller's session (active, or closed within the retention period). */
  public Session get(Principal caller, String sessionId) {
    if (sessionId == null || sessionId.isEmpty()) {
      throw new PaddockException.InvalidArgument("session_id", "is required");
    }
    Session s = sessions.get(sessionId);
    if (s == null || !s.tenantId().equals(caller.tenantId())) {
      throw notFound(ErrorReason.SESSION_NOT_FOUND, "session not found", "sessionId", sessionId);
    }
    return s;
  }

  private static PaddockException notFound(ErrorReason reason, String message, String key, String id) {
    // Only the caller's own input goes back: nothing tells a foreign resource from a missing one.
    String shown = id.length() > 64 ? id.substring(0, 64) + "..." : id;
    return new PaddockException.NotFound(reason, message, Map.of(key, shown));
  }

  /** The caller's active session; counts as activity. */
  public Session active(Principal caller, String sessionId) {
    Session s = get(caller, sessionId);
    if (s.state() != Session.State.ACTIVE) {
      throw sessionClosed(s);
    }
    s.touch(clock.instant());
    return s;
  }

  /** A page of the caller's sessions, oldest first. */
  public Page list(Principal caller, int pageSize, String pageToken, Map<String, String> labelSelector) {
    validator.labelSelector(labelSelector);
    Set<Session> held = heldByTenant.getOrDefault(caller.tenantId(), Set.of());
    PageTokens.Paged<Session> page = PageTokens.page(new ArrayList<>(held), Session::createTime, Session::id,
        s -> s.labels().entrySet().containsAll(labelSelector.entrySet()), // held: the caller's tenant's only
        pageToken, pageSize <= 0 ? 100 : Math.min(pageSize, 1000), SESSION_PREFIX, "ListSessions");
    return new Page(page.items(), page.nextPageToken());
  }

  /** One page of sessions and the token of the next ("" when this is the last). */
  public record Page(List<Session> sessions, String nextPageToken) {}

  /**
   * A page of the execs of the caller's session {@code sessionId} (running and retained ones, or
   * only running ones), oldest first. {@code pageSize} is unsigned: 0 = 100, capped at 1000.
   */
  public ExecPage listExecs(Principal caller, String sessionId, int pageSize, String pageToken, boolean runningOnly) {
    Session s = get(caller, sessionId);
    long size = pageSize == 0 ? 100 : Math.min(Integer.toUnsignedLong(pageSize), 1000);
    PageTokens.Paged<ExecRecord> page = PageTokens.page(s.execs(), ExecRecord::startTime, ExecRecord::id,
        r -> !runningOnly || r.state() == ExecRecord.State.RUNNING, pageToken, (int) size, "exe", "ListExecs");
    return new ExecPage(s, page.items(), page.nextPageToken());
  }

  /** One page of a session's execs and the token of the next ("" when this is the last). */
  public record ExecPage(Session session, List<ExecRecord> execs, String nextPageToken) {}

  /** Closes the caller's session: kills its jail and everything in it. Repeating is fine. */
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
    }
    return s;
  }

  /**
   * Starts a command in the caller's session and returns at once. Validation, lookup and quota
   * errors are thrown before anything starts.
   */
  public ExecRecord exec(Principal caller, String sessionId, ExecSpec spec) {
    return exec(caller, sessionId, spec, false);
  }

  /**
   * Like {@link #exec(Principal, String, ExecSpec)}; with {@code primaryReader} the caller follows
   * the exec's output from byte 0 as its primary reader ({@link ExecFollower}), and the output
   * waits for it from the first byte on.
   */
  public ExecRecord exec(Principal caller, String sessionId, ExecSpec spec, boolean primaryReader) {
    Duration timeLimit = validator.exec(spec);
    Session s = active(caller, sessionId);
    Tenant tenant = tenant(caller);
    traced("paddock.admission", () -> rates.admitExec(tenant));
    AtomicInteger running = runningExecs.computeIfAbsent(tenant.id(), t -> new AtomicInteger());
    if (running.incrementAndGet() > tenant.maxExecs()) {
      running.decrementAndGet();
      throw new PaddockException.ResourceExhausted(ErrorReason.EXEC_LIMIT_EXCEEDED,
          "the tenant already has " + tenant.maxExecs() + " execs running, its limit", "tenant:" + tenant.id(),
          Map.of("maxExecs", Integer.toString(tenant.maxExecs()), "scope", "tenant"));
    }
    try {
      // The slot is free before anyone can see the exec finished: a caller's next exec is never
      // refused for an exec it already saw end.
      return execs.start(s, spec, timeLimit, spec.cpuTimeLimit() == null ? Duration.ZERO : spec.cpuTimeLimit(),
          tenant.maxOutputBytes(),
          primaryReader, () -> {
            running.decrementAndGet();
            s.touch(clock.instant());
          });
    } catch (RuntimeException e) {
      running.decrementAndGet();
      throw e;
    }
  }

  /** One exec of the caller's session, running or retained. */
  public ExecRecord execOf(Principal caller, String sessionId, String execId) {
    Session s = get(caller, sessionId);
    if (execId == null || execId.isEmpty()) {
      throw new PaddockException.InvalidArgument("exec_id", "is required");
    }
    ExecRecord r = s.exec(execId);
    if (r == null) {
      throw notFound(ErrorReason.EXEC_NOT_FOUND, "exec not found", "execId", execId);
    }
    return r;
  }

  /** Live processes of the session's jail by exec, as its supervisor counts them (empty when it cannot). */
  public Optional<JailCensus> census(Session s) {
    if (s.state() != Session.State.ACTIVE) {
      return Optional.empty();
    }
    try {
      return Optional.of(s.jail().census().get(3, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return Optional.empty();
    }
  }

  private volatile dev.paddock.runtime.trace.HostTracing tracing = dev.paddock.runtime.trace.HostTracing.OFF;

  /** Where the spans of admission and jail starts go. */
  public void tracing(dev.paddock.runtime.trace.HostTracing tracing) {
    this.tracing = tracing;
  }

  /** Runs {@code check} as a span named {@code name} of the current call; a refusal marks it. */
  private void traced(String name, Runnable check) {
    io.opentelemetry.api.trace.Span span = tracing.child(name);
    try {
      check.run();
    } catch (RuntimeException e) {
      span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, e.getClass().getSimpleName());
      throw e;
    } finally {
      span.end();
    }
  }

  static PaddockException sessionClosed(Session s) {
    return new PaddockException.FailedPrecondition(ErrorReason.SESSION_CLOSED, "the session is closed",
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
        forget(s);
      }
    }
  }

  /** Drops a closed session from everything that holds it. */
  private void forget(Session s) {
    sessions.remove(s.id());
    Set<Session> held = heldByTenant.get(s.tenantId());
    if (held != null) {
      held.remove(s);
    }
  }

  /** Host shutdown: refuses new sessions, closes every session and ready jail. */
  public void closeAll() {
    synchronized (this) {
      closing = true; // no session can be added after this
    }
    ready.stop();
    for (Session s : sessions.values()) {
      close(s, Session.CloseReason.HOST_SHUTDOWN);
    }
  }

  /**
   * Closes {@code s}: from the moment this returns no exec can be admitted, every running exec
   * ends as KILLED, and the jail is going (its processes, cgroup and scratch files are removed in
   * the background, retried until gone).
   */
  /**
   * What a tenant uses of its admission budgets now.
   *
   * @param openSessions      active sessions
   * @param runningExecs      execs running
   * @param sessionsThisMinute sessions created in the current minute (0 without a rate)
   * @param execsThisMinute   execs started in the current minute (0 without a rate)
   */
  public record AdmissionUsage(long openSessions, long runningExecs, long sessionsThisMinute, long execsThisMinute) {}

  /** The tenant's active sessions now. */
  List<Session> activeSessions(String tenantId) {
    Set<Session> active = activeByTenant.get(tenantId);
    return active == null ? List.of() : active.stream().filter(s -> s.state() == Session.State.ACTIVE).toList();
  }

  /** How many sessions the tenant has open (one closing this instant may still count). */
  private long openSessions(String tenantId) {
    Set<Session> active = activeByTenant.get(tenantId);
    return active == null ? 0 : active.size();
  }

  /** {@link AdmissionUsage} of {@code tenantId}. */
  public AdmissionUsage usage(String tenantId) {
    long open = openSessions(tenantId);
    AtomicInteger running = runningExecs.get(tenantId);
    long[] rate = rates.used(tenantId);
    return new AdmissionUsage(open, running == null ? 0 : running.get(), rate[0], rate[1]);
  }

  /**
   * New defaults and ceilings (the operator file changed): they hold for sessions and execs that
   * start from now on; running ones keep what they were admitted with.
   */
  public void settings(SessionSettings changed) {
    this.validator = new SpecValidator(changed);
    this.settings = changed;
    execs.settings(changed);
  }

  /**
   * Calls {@code listener} once for each session just created, before CreateSession answers; a
   * listener that throws does not stop the others.
   */
  public void onOpen(java.util.function.Consumer<Session> listener) {
    openListeners.add(listener);
  }

  /** Calls {@code listener} once for each session that closes (after its jail began to go). */
  public void onClose(java.util.function.Consumer<Session> listener) {
    closeListeners.add(listener);
  }

  private void close(Session s, Session.CloseReason reason) {
    synchronized (s) {
      if (!s.markClosed(reason, clock.instant())) {
        return;
      }
    }
    activeByTenant.get(s.tenantId()).remove(s); // added with the session; closed only once
    String why = "the session closed (" + reason + ")";
    s.killAll(why);
    s.jail().close(why);
    s.scratch().clear(); // a closed session stays listed for a while; its tools' state need not
    for (var listener : closeListeners) {
      try {
        listener.accept(s);
      } catch (RuntimeException e) {
        log.error("session {}: a close listener failed", s.id(), e);
      }
    }
    if (settings.closedRetention().isZero()) {
      forget(s);
    }
  }
}
