package dev.paddock.runtime.session;

import dev.paddock.policy.SandboxPolicy;
import dev.paddock.runtime.Ids;
import dev.paddock.sandbox.SandboxLauncher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ready-made session slot per tenant: a fresh id (128 random bits, never shown before it is
 * handed out), an empty workspace, and a jail already waiting in the session's cgroup. Creating a
 * session takes the slot and makes the next one in the background, so neither the workspace nor
 * the slow cgroup join is on the path of create-then-exec. A slot is used once, by one session of
 * the tenant it was made for.
 */
final class SpareSlots {
  private static final Logger log = LoggerFactory.getLogger(SpareSlots.class);

  /** A session id and its workspace, prepared for {@code policy}. */
  record Slot(String id, Path workspace, SandboxPolicy policy) {}

  private final Map<String, Slot> byTenant = new ConcurrentHashMap<>();
  private volatile boolean stopped;
  private final SandboxLauncher launcher;
  private final Executor background;

  SpareSlots(SandboxLauncher launcher, Executor background) {
    this.launcher = launcher;
    this.background = background;
  }

  /** The tenant's spare slot if it was made for {@code policy}, else a new slot made now. */
  Slot take(String tenantId, SandboxPolicy policy) throws IOException {
    Slot spare = byTenant.remove(tenantId);
    if (spare != null) {
      if (spare.policy().equals(policy)) {
        return spare;
      }
      discardLater(tenantId, spare);
    }
    return make(tenantId, policy);
  }

  /** Returns a slot that was taken but not used, as the spare if there is none, else discards it. */
  void giveBack(String tenantId, Slot slot) {
    if (stopped || byTenant.putIfAbsent(tenantId, slot) != null) {
      discardLater(tenantId, slot);
    }
  }

  /** Makes the tenant's next spare slot in the background, for {@code policy}, unless one exists. */
  void refill(String tenantId, SandboxPolicy policy) {
    if (stopped || byTenant.containsKey(tenantId)) {
      return;
    }
    run(() -> {
      try {
        Slot slot = make(tenantId, policy);
        if (stopped || byTenant.putIfAbsent(tenantId, slot) != null) {
          discard(tenantId, slot);
        }
      } catch (IOException | RuntimeException e) {
        log.warn("cannot prepare a spare session slot for tenant {}: {}", tenantId, e.getMessage());
      }
    });
  }

  /** Makes no more slots (host shutdown); {@link #discardAll} then removes the ones there are. */
  void stop() {
    stopped = true;
  }

  /** Discards every spare slot (host shutdown). */
  void discardAll() {
    for (String tenantId : byTenant.keySet()) {
      Slot slot = byTenant.remove(tenantId);
      if (slot != null) {
        discard(tenantId, slot);
      }
    }
  }

  private Slot make(String tenantId, SandboxPolicy policy) throws IOException {
    String id = Ids.newId(SessionManager.SESSION_PREFIX);
    Path workspace = launcher.createWorkspace(id);
    launcher.prepare(ExecRunner.sessionCgroup(tenantId, id), workspace, policy);
    return new Slot(id, workspace, policy);
  }

  private void discardLater(String tenantId, Slot slot) {
    run(() -> discard(tenantId, slot));
  }

  /** Runs {@code task} in the background, or here when the background no longer takes work. */
  private void run(Runnable task) {
    try {
      background.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      task.run();
    }
  }

  private void discard(String tenantId, Slot slot) {
    launcher.removeCgroups(ExecRunner.sessionCgroup(tenantId, slot.id()));
    launcher.deleteWorkspace(slot.workspace());
  }
}
