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
      discard(tenantId, spare);
    }
    return make(tenantId, policy);
  }

  /** Makes the tenant's next spare slot in the background, for {@code policy}, unless one exists. */
  void refill(String tenantId, SandboxPolicy policy) {
    if (byTenant.containsKey(tenantId)) {
      return;
    }
    background.execute(() -> {
      try {
        Slot slot = make(tenantId, policy);
        if (byTenant.putIfAbsent(tenantId, slot) != null) {
          discard(tenantId, slot);
        }
      } catch (IOException | RuntimeException e) {
        log.warn("cannot prepare a spare session slot for tenant {}: {}", tenantId, e.getMessage());
      }
    });
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

  private void discard(String tenantId, Slot slot) {
    launcher.removeCgroups(ExecRunner.sessionCgroup(tenantId, slot.id()));
    launcher.deleteWorkspace(slot.workspace());
  }
}
