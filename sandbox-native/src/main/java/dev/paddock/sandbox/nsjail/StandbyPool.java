package dev.paddock.sandbox.nsjail;

import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At most one {@link StandbyJail} per cgroup parent (that is, per session), prepared in the
 * background so that the session's next exec finds its jail already in its cgroup.
 */
final class StandbyPool {
  private static final Logger log = LoggerFactory.getLogger(StandbyPool.class);

  /** Makes a standby now. */
  interface Factory {
    StandbyJail make(StandbyJail.Key key) throws SandboxSetupException;
  }

  private final Map<String, CompletableFuture<StandbyJail>> byParent = new ConcurrentHashMap<>();
  private final Factory factory;
  private final Executor preparer;
  private final LinuxSyscalls linux;

  StandbyPool(Factory factory, Executor preparer, LinuxSyscalls linux) {
    this.factory = factory;
    this.preparer = preparer;
    this.linux = linux;
  }

  /** The prepared standby for {@code key} (waiting for it if it is being made), else a new one. */
  StandbyJail take(StandbyJail.Key key) throws SandboxSetupException {
    CompletableFuture<StandbyJail> prepared = byParent.remove(key.cgroupParent());
    if (prepared != null) {
      StandbyJail standby = joinQuietly(prepared);
      if (standby != null && standby.key.equals(key) && standby.alive()) {
        return standby;
      }
      if (standby != null) {
        standby.discard(linux);
      }
    }
    return factory.make(key);
  }

  /** Starts preparing a standby for {@code key} unless one exists for its parent. */
  void prepareAsync(StandbyJail.Key key) {
    byParent.computeIfAbsent(key.cgroupParent(), parent -> CompletableFuture.supplyAsync(() -> {
      try {
        return factory.make(key);
      } catch (SandboxSetupException e) {
        throw new CompletionException(e);
      }
    }, preparer));
  }

  /** Discards, and waits for, every standby whose parent is {@code path} or lies under it. */
  void discardUnder(String path) {
    for (String parent : byParent.keySet()) {
      if (parent.equals(path) || parent.startsWith(path + "/")) {
        CompletableFuture<StandbyJail> prepared = byParent.remove(parent);
        StandbyJail standby = prepared == null ? null : joinQuietly(prepared);
        if (standby != null) {
          standby.discard(linux);
        }
      }
    }
  }

  private static StandbyJail joinQuietly(CompletableFuture<StandbyJail> prepared) {
    try {
      return prepared.join();
    } catch (CompletionException e) {
      log.warn("a standby jail could not be prepared: {}", e.getCause().getMessage());
      return null;
    }
  }
}
