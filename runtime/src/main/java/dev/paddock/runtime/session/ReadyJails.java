package dev.paddock.runtime.session;

import dev.paddock.policy.SandboxPolicy;
import dev.paddock.runtime.Ids;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.jail.Jail;
import dev.paddock.sandbox.jail.WorkspaceLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each tenant's ready jail: a fresh session id (128 random bits, never shown before it is handed
 * out) and a live jail already Ready in that session's cgroup, so CreateSession costs a hand-over
 * instead of a jail start (nsjail's namespaces and mounts, and the kernel's slow cgroup join). A
 * ready jail is used once, by one session of the tenant it was made for, and only for the policy
 * and limits it was made with; any other request starts its own jail.
 */
public final class ReadyJails {
  private static final Logger log = LoggerFactory.getLogger(ReadyJails.class);

  /** Starts the jail of session {@code sessionId} of {@code tenantId}. */
  public interface Starter {
    Jail start(String sessionId, String tenantId, SandboxPolicy policy, WorkspaceLimits workspace)
        throws SandboxSetupException;
  }

  /** A session id and its jail. */
  record Ready(String id, Jail jail, SandboxPolicy policy, WorkspaceLimits workspace) {}

  /**
   * How long after a CreateSession the tenant's next ready jail starts. Starting a jail is 10-40
   * ms of work, most of it in the kernel (namespaces, mounts, a cgroup move that waits for an RCU
   * grace period on cgroup v1), and lowering its CPU priority did not help. Started at once, it
   * overlaps the new session's first exec, which planners send right after the create, and slows
   * the create's own audit write; 50 ms later it mostly overlaps nothing (BENCHMARKS.md, "Latest
   * run (2026-11-27, second session)": create + exec + close 11.3 -> 9.7 ms p50 side by side).
   */
  static final long REFILL_DELAY_MILLIS = 50;

  private final Map<String, Ready> byTenant = new ConcurrentHashMap<>();
  private final Map<String, Boolean> making = new ConcurrentHashMap<>();
  private final Starter starter;
  private final ExecutorService maker;
  private volatile boolean stopped;

  ReadyJails(Starter starter, ExecutorService maker) {
    this.starter = starter;
    this.maker = maker;
  }

  /** The tenant's ready jail if it was made for {@code policy} and {@code workspace} and still lives, else null. */
  Ready take(String tenantId, SandboxPolicy policy, WorkspaceLimits workspace) {
    Ready ready = byTenant.remove(tenantId);
    if (ready == null) {
      return null;
    }
    if (ready.policy().equals(policy) && ready.workspace().equals(workspace) && ready.jail().alive()) {
      return ready;
    }
    ready.jail().close("a ready jail made for other limits");
    return null;
  }

  /** Starts a jail now, for a session that found no ready one. */
  Ready startNow(String tenantId, SandboxPolicy policy, WorkspaceLimits workspace) throws SandboxSetupException {
    String id = Ids.newId(SessionManager.SESSION_PREFIX);
    return new Ready(id, starter.start(id, tenantId, policy, workspace), policy, workspace);
  }

  /**
   * Makes the tenant's next ready jail in the background, {@link #REFILL_DELAY_MILLIS} from now,
   * unless one exists or is being made.
   */
  void refill(String tenantId, SandboxPolicy policy, WorkspaceLimits workspace) {
    if (stopped || byTenant.containsKey(tenantId) || making.putIfAbsent(tenantId, true) != null) {
      return;
    }
    try {
      CompletableFuture.delayedExecutor(REFILL_DELAY_MILLIS, TimeUnit.MILLISECONDS, this::runOnMaker).execute(() -> {
        try {
          if (stopped) {
            return;
          }
          Ready ready = startNow(tenantId, policy, workspace);
          if (stopped || byTenant.putIfAbsent(tenantId, ready) != null) {
            ready.jail().close("not needed");
          }
        } catch (SandboxSetupException e) {
          log.warn("cannot prepare a ready jail for tenant {}: {}", tenantId, e.getMessage());
        } finally {
          making.remove(tenantId);
        }
      });
    } catch (RuntimeException e) {
      making.remove(tenantId);
    }
  }

  /** Runs {@code task} on the maker thread; once the host has shut that down, it is dropped. */
  private void runOnMaker(Runnable task) {
    try {
      maker.execute(task);
    } catch (RejectedExecutionException e) {
      making.clear(); // only at shutdown: nothing is made any more
    }
  }

  /** No more ready jails are made; the ones made are closed. */
  void stop() {
    stopped = true;
    List<Ready> all = new ArrayList<>(byTenant.values());
    byTenant.clear();
    all.forEach(r -> r.jail().close("the host is shutting down"));
  }
}
