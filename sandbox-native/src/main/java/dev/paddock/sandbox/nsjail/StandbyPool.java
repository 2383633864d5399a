package dev.paddock.sandbox.nsjail;

import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At most one {@link StandbyJail} per cgroup parent (that is, per session), prepared in the
 * background so that the session's next exec finds its jail already in its cgroup.
 *
 * <p>Once a parent's cgroups are removed ({@link #discardUnder}), the pool refuses to make anything
 * under it again, for {@link #TOMBSTONE_MILLIS}: a late exec of a closed session must not recreate
 * the session's cgroups or leave a waiting jail behind.
 */
final class StandbyPool {
  private static final Logger log = LoggerFactory.getLogger(StandbyPool.class);
  /** How long a removed parent stays refused; far longer than any exec takes to start. */
  static final long TOMBSTONE_MILLIS = 10 * 60 * 1000;

  /** Makes a standby now. */
  interface Factory {
    StandbyJail make(StandbyJail.Key key) throws SandboxSetupException;
  }

  private final Object lock = new Object();
  private final Map<String, CompletableFuture<StandbyJail>> byParent = new HashMap<>();
  /** Removed parents in the order they were removed, so expired ones are pruned from the front. */
  private final java.util.LinkedHashMap<String, Long> removedAt = new java.util.LinkedHashMap<>();
  private final Factory factory;
  private final Executor preparer;
  private final LinuxSyscalls linux;

  StandbyPool(Factory factory, Executor preparer, LinuxSyscalls linux) {
    this.factory = factory;
    this.preparer = preparer;
    this.linux = linux;
  }

  /**
   * The prepared standby for {@code key} if it is ready, else a new one made now (one still being
   * prepared is discarded when done: waiting for it could mean waiting behind other sessions).
   */
  StandbyJail take(StandbyJail.Key key) throws SandboxSetupException {
    CompletableFuture<StandbyJail> prepared;
    synchronized (lock) {
      refuseIfRemoved(key.cgroupParent());
      prepared = byParent.remove(key.cgroupParent());
    }
    if (prepared != null) {
      if (prepared.isDone()) {
        StandbyJail standby = joinQuietly(prepared);
        if (standby != null && standby.key.equals(key) && standby.alive()) {
          return standby;
        }
        if (standby != null) {
          standby.discard(linux);
        }
      } else {
        prepared.thenAccept(late -> late.discard(linux));
      }
    }
    StandbyJail made = factory.make(key);
    synchronized (lock) {
      if (!isRemoved(key.cgroupParent())) {
        return made;
      }
    }
    made.discard(linux);
    throw new SandboxSetupException("the session is closed");
  }

  /** Starts preparing a standby for {@code key} unless one exists for its parent or it was removed. */
  void prepareAsync(StandbyJail.Key key) {
    CompletableFuture<StandbyJail> future = new CompletableFuture<>();
    synchronized (lock) {
      if (isRemoved(key.cgroupParent()) || byParent.containsKey(key.cgroupParent())) {
        return;
      }
      byParent.put(key.cgroupParent(), future);
    }
    try {
      preparer.execute(() -> {
        try {
          StandbyJail made = factory.make(key);
          boolean removed;
          synchronized (lock) {
            removed = isRemoved(key.cgroupParent());
          }
          if (removed) {
            made.discard(linux);
            future.completeExceptionally(new SandboxSetupException("the session is closed"));
          } else {
            future.complete(made);
          }
        } catch (SandboxSetupException | RuntimeException e) {
          future.completeExceptionally(e);
        }
      });
    } catch (RejectedExecutionException e) {
      synchronized (lock) {
        byParent.remove(key.cgroupParent(), future);
      }
    }
  }

  /**
   * Discards, and waits for, every standby whose parent is {@code path} or lies under it, and
   * refuses to make any there from now on.
   */
  void discardUnder(String path) {
    List<CompletableFuture<StandbyJail>> doomed = new ArrayList<>();
    synchronized (lock) {
      long now = System.currentTimeMillis();
      for (Iterator<Long> at = removedAt.values().iterator(); at.hasNext() && now - at.next() > TOMBSTONE_MILLIS; ) {
        at.remove();
      }
      removedAt.remove(path);
      removedAt.put(path, now);
      for (Iterator<Map.Entry<String, CompletableFuture<StandbyJail>>> it = byParent.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, CompletableFuture<StandbyJail>> e = it.next();
        if (under(e.getKey(), path)) {
          doomed.add(e.getValue());
          it.remove();
        }
      }
    }
    for (CompletableFuture<StandbyJail> prepared : doomed) {
      StandbyJail standby = joinQuietly(prepared);
      if (standby != null) {
        standby.discard(linux);
      }
    }
  }

  private void refuseIfRemoved(String parent) throws SandboxSetupException {
    if (isRemoved(parent)) {
      throw new SandboxSetupException("the session is closed");
    }
  }

  /** True when {@code parent} or one of its ancestors was removed recently. Caller holds {@code lock}. */
  private boolean isRemoved(String parent) {
    long now = System.currentTimeMillis();
    for (int slash = parent.indexOf('/'); ; slash = parent.indexOf('/', slash + 1)) {
      Long at = removedAt.get(slash < 0 ? parent : parent.substring(0, slash));
      if (at != null && now - at <= TOMBSTONE_MILLIS) {
        return true;
      }
      if (slash < 0) {
        return false;
      }
    }
  }

  private static boolean under(String parent, String path) {
    return parent.equals(path) || parent.startsWith(path + "/");
  }

  private static StandbyJail joinQuietly(CompletableFuture<StandbyJail> prepared) {
    try {
      return prepared.join();
    } catch (CompletionException e) {
      log.debug("a standby jail was not prepared: {}", e.getCause().getMessage());
      return null;
    }
  }
}
