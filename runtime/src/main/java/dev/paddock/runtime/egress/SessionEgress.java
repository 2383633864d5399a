package dev.paddock.runtime.egress;

import dev.paddock.runtime.session.ExecRecord;
import dev.paddock.runtime.session.Session;
import dev.paddock.runtime.session.ToolEvent;
import dev.paddock.sandbox.jail.EgressListeners;
import dev.paddock.sandbox.linux.Errno;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.NativeException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's egress: a thread that accepts on the jail's two listeners and hands each
 * connection to a worker, and the connections still open. Only this thread ever closes the
 * listeners, after it stopped polling them, so a descriptor number is never reused under it.
 */
final class SessionEgress {
  private static final Logger log = LoggerFactory.getLogger(SessionEgress.class);

  /** Direct attempts reported at most per check; the last report's detail counts the rest. */
  static final int MAX_DIRECT_REPORTS = 16;
  private static final ProxyTarget DIRECT = new ProxyTarget("", 0, "direct");

  final EgressProxy proxy;
  final Session session;
  private final EgressListeners listeners;
  private final Fd[] wake;
  private final Set<ProxiedConnection> connections = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;
  /** The jail's no-route counts (IPv4, IPv6) already reported; guarded by this. */
  private final long[] noRoutesReported = new long[2];
  private final java.util.concurrent.atomic.AtomicBoolean directCheckDue = new java.util.concurrent.atomic.AtomicBoolean();

  SessionEgress(EgressProxy proxy, Session session, EgressListeners listeners) throws NativeException {
    this.proxy = proxy;
    this.session = session;
    this.listeners = listeners;
    this.wake = proxy.linux.pipe();
  }

  void start() {
    Thread t = new Thread(null, this::acceptLoop, "egress-accept-" + session.id().substring(0, Math.min(12, session.id().length())),
        256 * 1024);
    t.setDaemon(true);
    t.start();
  }

  private void acceptLoop() {
    List<Fd> polled = List.of(listeners.http(), listeners.socks(), wake[0]);
    try {
      while (!closed) {
        boolean[] ready = proxy.linux.pollReadable(polled, -1);
        if (ready[2] || closed) {
          break;
        }
        for (int i = 0; i < 2; i++) {
          if (ready[i]) {
            acceptOne(polled.get(i));
          }
        }
      }
    } catch (NativeException | RuntimeException e) {
      log.error("session {}: the egress acceptor failed; the jail has no way out from now on", session.id(), e);
    } finally {
      listeners.close();
      synchronized (this) { // close() writes to the pipe under this lock: never to a reused number
        wake[0].close();
        wake[1].close();
      }
    }
  }

  private void acceptOne(Fd listener) throws NativeException {
    Fd client;
    try {
      client = proxy.sockets.accept(listener);
    } catch (NativeException e) {
      if (e.errno() == Errno.EAGAIN || e.errno() == Errno.ECONNRESET || e.rawErrno() == 103 /* ECONNABORTED */) {
        return;
      }
      if (e.errno() == Errno.EMFILE || e.errno() == Errno.ENFILE || e.errno() == Errno.ENOBUFS || e.errno() == Errno.ENOMEM) {
        log.warn("session {}: cannot accept an egress connection now: {}", session.id(), e.getMessage());
        sleepQuietly();
        return;
      }
      throw e;
    }
    ProxiedConnection c = new ProxiedConnection(this, client);
    connections.add(c);
    if (closed) {
      c.abort();
    }
    try {
      proxy.workers.execute(() -> {
        try {
          c.run();
        } finally {
          connections.remove(c);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      connections.remove(c);
      client.close();
    }
  }

  private static void sleepQuietly() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Reports a refusal: counted against the tenant, logged, recorded in the audit log (returning once
   * the record is durable: a refusal nobody can audit does not pass silently), and sent as an event
   * to every exec of the session running now. Before the tool hears of it, so its exec still runs.
   * {@code execId} is "" unless exactly one exec is running ({@link #runningExec}).
   */
  void report(ProxyTarget target, Denial denial, String execId) {
    proxy.budget(session.tenantId()).counters.denied(denial.reason());
    String host = target.host();
    log.info("session {} of tenant {}: egress to {}:{} denied ({}): {}", session.id(), session.tenantId(),
        host.isEmpty() ? "?" : host, target.port(), denial.reasonName(), denial.detail());
    proxy.audit().denied(session, execId, target, denial);
    for (ExecRecord exec : session.execs()) {
      if (exec.state() != ExecRecord.State.RUNNING) {
        continue;
      }
      try {
        exec.recordEvent(seq -> new ToolEvent.EgressDenied(host, target.port(), denial.address(), denial.reasonName(),
            denial.detail(), target.protocol(), seq, proxy.clock.instant()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
  }

  /**
   * Reports every connection that tried to leave the session's jail without the proxy since the
   * last check: one {@code DIRECT_CONNECTION} refusal each, at most {@link #MAX_DIRECT_REPORTS} a
   * check. The jail's only interface is its own loopback, so the kernel refuses such a connection
   * (or datagram) at once with ENETUNREACH and counts it in the jail's network namespace
   * (OutNoRoutes, Ip6OutNoRoutes), which the host reads through the jail's init. Where to, the
   * kernel does not say. Called when an exec's output has ended (see
   * {@link EgressProxy#directAttemptsCheck}).
   */
  synchronized void reportDirectAttempts() {
    long[] now = JailNetCounters.noRoutes(JailNetCounters.netDir(session.jail()));
    if (now == null) {
      return; // the jail is gone, or its counters cannot be read: nothing to report on
    }
    long attempts = 0;
    for (int i = 0; i < 2; i++) {
      attempts += Math.max(0, now[i] - noRoutesReported[i]);
      noRoutesReported[i] = now[i];
    }
    String execId = runningExec();
    for (long i = 0; i < Math.min(attempts, MAX_DIRECT_REPORTS); i++) {
      boolean last = i == MAX_DIRECT_REPORTS - 1 && attempts > MAX_DIRECT_REPORTS;
      report(DIRECT, Denial.of(dev.paddock.ipc.v1.EgressDenyReason.EGRESS_DENY_REASON_DIRECT_CONNECTION,
          "a connection tried to leave the jail without the proxy; the jail has no route out"
              + (last ? " (and " + (attempts - MAX_DIRECT_REPORTS) + " more since the last check)" : "")), execId);
    }
    if (attempts > MAX_DIRECT_REPORTS) {
      proxy.budget(session.tenantId()).counters.denied(dev.paddock.ipc.v1.EgressDenyReason.EGRESS_DENY_REASON_DIRECT_CONNECTION,
          attempts - MAX_DIRECT_REPORTS);
    }
  }

  /** A short exec ended: check at the next {@link EgressProxy#reportMarkedDirectAttempts}. */
  void markForDirectCheck() {
    directCheckDue.set(true);
  }

  /** True once after {@link #markForDirectCheck}. */
  boolean takeDirectCheckMark() {
    return directCheckDue.getAndSet(false);
  }

  /** The id of the session's one running exec, or "" when none or several are running. */
  String runningExec() {
    String found = "";
    for (ExecRecord exec : session.execs()) {
      if (exec.state() == ExecRecord.State.RUNNING) {
        if (!found.isEmpty()) {
          return "";
        }
        found = exec.id();
      }
    }
    return found;
  }

  /** Stops accepting and cuts every open connection. */
  void close() {
    closed = true;
    synchronized (this) {
      if (wake[1].isOpen()) {
        try {
          proxy.linux.write(wake[1], new byte[] {1}, 0, 1);
        } catch (NativeException e) {
          log.warn("session {}: could not wake the egress acceptor: {}", session.id(), e.getMessage());
        }
      }
    }
    connections.forEach(ProxiedConnection::abort);
  }
}
