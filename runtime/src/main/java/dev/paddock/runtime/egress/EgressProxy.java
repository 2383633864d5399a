package dev.paddock.runtime.egress;

import dev.paddock.runtime.session.Session;
import dev.paddock.sandbox.jail.EgressListeners;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.TcpSockets;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host side of every jail's one way out. Each session's jail hands the host two listening
 * sockets on its own loopback (HTTP proxy on 3128, SOCKS5 on 1080); the host accepts on them
 * ({@link SessionEgress}) and decides every connection ({@link ProxiedConnection}): by the name
 * asked for, then by every address it resolves to (on the host; the jail has no resolver), then
 * by the tenant's connection budget. No TLS is intercepted.
 *
 * <p>Threads: one acceptor per session (blocked in poll) and two per open connection (one per
 * direction, blocked in splice), bounded by the tenants' and the host's connection budgets.
 */
public final class EgressProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EgressProxy.class);

  final LinuxSyscalls linux;
  final TcpSockets sockets;
  final Clock clock;
  final ExecutorService workers;
  private final Function<String, EgressGrant> grants;
  private volatile EgressSettings settings;
  private volatile HostResolver resolver;
  private volatile EgressAudit audit = EgressAudit.NONE;
  private volatile dev.paddock.runtime.vault.SecretSource secrets = (tenant, name) -> {
    throw new java.io.IOException("no vault");
  };
  private final Map<String, SessionEgress> sessions = new ConcurrentHashMap<>();
  private final Map<String, TenantBudget> tenants = new ConcurrentHashMap<>();
  private final AtomicInteger open = new AtomicInteger();

  /** A tenant's open connections, bandwidth and counters. */
  static final class TenantBudget {
    final AtomicInteger open = new AtomicInteger();
    final EgressCounters counters = new EgressCounters();
    volatile Throttle throttle;
    volatile long rate = -1;
  }

  /**
   * @param grants each tenant's egress grant by id (the operator's current settings; NONE for an
   *     unknown tenant)
   */
  public EgressProxy(LinuxSyscalls linux, TcpSockets sockets, EgressSettings settings, Function<String, EgressGrant> grants,
      Clock clock) {
    this.linux = linux;
    this.sockets = sockets;
    this.clock = clock;
    this.grants = grants;
    settings(settings);
    AtomicInteger n = new AtomicInteger();
    this.workers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(null, r, "egress-" + n.incrementAndGet(), 256 * 1024);
      t.setDaemon(true);
      return t;
    });
  }

  /** New operator settings, for connections from now on. */
  public void settings(EgressSettings changed) {
    this.settings = changed;
    this.resolver = HostResolver.system(changed.fixedNames());
  }

  /** Records decisions with {@code audit}. */
  public void audit(EgressAudit audit) {
    this.audit = audit;
  }

  /** Where header secrets' values come from. */
  public void secrets(dev.paddock.runtime.vault.SecretSource secrets) {
    this.secrets = secrets;
  }

  /**
   * Starts serving {@code session}'s jail: takes its listeners and accepts on them until
   * {@link #close(Session)}. A jail without listeners has no way out at all; nothing to serve.
   */
  public void open(Session session) {
    session.jail().takeEgressListeners().ifPresent(l -> open(session, session.id(), l));
  }

  /**
   * Serves {@code listeners} of another jail of {@code session} (its browser's), under the
   * session's lists and budgets, until {@link #close(String)} with {@code key}.
   */
  public void open(Session session, String key, EgressListeners listeners) {
    SessionEgress egress;
    try {
      egress = new SessionEgress(this, session, listeners);
    } catch (dev.paddock.sandbox.linux.NativeException e) {
      log.warn("session {}: its egress cannot be served ({}); the jail has no way out", session.id(), e.getMessage());
      listeners.close();
      return;
    }
    SessionEgress before = sessions.put(key, egress);
    if (before != null) {
      before.close();
    }
    egress.start();
  }

  /**
   * Reports the connections that tried to leave a session's jail without the proxy (see
   * {@link SessionEgress#reportDirectAttempts}), when an exec's output ends: at once for an exec
   * that ran a while, so that the reports reach its stream; for a short one, by the next
   * {@link #reportMarkedDirectAttempts} (the host calls it every second), since reading the jail's
   * counters costs about 0.06 ms and a {@code /bin/true} should not pay it. Nothing is lost by
   * waiting: the counts add up.
   */
  public dev.paddock.runtime.session.OutputEndCheck directAttemptsCheck() {
    return new dev.paddock.runtime.session.OutputEndCheck() {
      @Override
      public void beforeResult(Session session) {
        SessionEgress egress = sessions.get(session.id());
        if (egress != null) {
          egress.reportDirectAttempts();
        }
      }

      @Override
      public void afterResult(Session session) {
        SessionEgress egress = sessions.get(session.id());
        if (egress != null) {
          egress.markForDirectCheck();
        }
      }
    };
  }

  /** Checks every session marked by a short exec since the last call; see {@link #directAttemptsCheck}. */
  public void reportMarkedDirectAttempts() {
    for (SessionEgress egress : sessions.values()) {
      if (egress.takeDirectCheckMark()) {
        egress.reportDirectAttempts();
      }
    }
  }

  /** Stops serving {@code session}: no new connection, and every open one is cut. */
  public void close(Session session) {
    close(session.id());
  }

  /** Stops serving what was opened with {@code key}. */
  public void close(String key) {
    SessionEgress egress = sessions.remove(key);
    if (egress != null) {
      egress.close();
    }
  }

  /** The tenant's egress budgets as usage rows: connections open now, and the bandwidth limit. */
  public java.util.List<dev.paddock.ipc.v1.BudgetUsage> budgetUsage(String tenant) {
    EgressGrant grant = grant(tenant);
    return java.util.List.of(
        dev.paddock.ipc.v1.BudgetUsage.newBuilder().setName("egress_connections").setLimit(grant.maxConnections())
            .setUsed(Math.max(0, budget(tenant).open.get())).setEnforcedBy("proxy").build(),
        dev.paddock.ipc.v1.BudgetUsage.newBuilder().setName("egress_bytes_per_second").setLimit(grant.bytesPerSecond())
            .setEnforcedBy("proxy").build());
  }

  /** The tenant's counters as the API shows them. */
  public dev.paddock.ipc.v1.EgressCounts counts(String tenant) {
    EgressCounters c = budget(tenant).counters;
    dev.paddock.ipc.v1.EgressCounts.Builder b = dev.paddock.ipc.v1.EgressCounts.newBuilder().setAllowed(c.allowedCount())
        .setBytesOut(c.bytesOut()).setBytesIn(c.bytesIn());
    for (dev.paddock.ipc.v1.EgressDenyReason r : dev.paddock.ipc.v1.EgressDenyReason.values()) {
      if (r != dev.paddock.ipc.v1.EgressDenyReason.UNRECOGNIZED && c.deniedCount(r) > 0) {
        b.addDenied(dev.paddock.ipc.v1.DenialCount.newBuilder().setReason(r.name().substring("EGRESS_DENY_REASON_".length()))
            .setCount(c.deniedCount(r)));
      }
    }
    return b.build();
  }

  EgressSettings settings() {
    return settings;
  }

  HostResolver resolver() {
    return resolver;
  }

  EgressAudit audit() {
    return audit;
  }

  dev.paddock.runtime.vault.SecretSource secretSource() {
    return secrets;
  }

  EgressGrant grant(String tenant) {
    EgressGrant g = grants.apply(tenant);
    return g == null ? EgressGrant.NONE : g;
  }

  TenantBudget budget(String tenant) {
    return tenants.computeIfAbsent(tenant, t -> new TenantBudget());
  }

  /**
   * Takes one connection of the tenant's budget and of the host's; null when either is spent,
   * else the tenant's throttle (the caller gives the connection back with {@link #release}).
   */
  Throttle admit(String tenant, EgressGrant grant) {
    TenantBudget b = budget(tenant);
    if (open.incrementAndGet() > settings.maxConnections()) {
      open.decrementAndGet();
      return null;
    }
    if (b.open.incrementAndGet() > grant.maxConnections()) {
      b.open.decrementAndGet();
      open.decrementAndGet();
      return null;
    }
    if (b.rate != grant.bytesPerSecond()) {
      synchronized (b) {
        if (b.rate != grant.bytesPerSecond()) {
          b.throttle = new Throttle(grant.bytesPerSecond());
          b.rate = grant.bytesPerSecond();
        }
      }
    }
    return b.throttle;
  }

  void release(String tenant) {
    budget(tenant).open.decrementAndGet();
    open.decrementAndGet();
  }

  @Override
  public void close() {
    sessions.values().forEach(SessionEgress::close);
    sessions.clear();
    workers.shutdownNow();
  }
}
