package dev.paddock.runtime.policy;

import dev.paddock.policy.SandboxPolicy;
import dev.paddock.runtime.tenant.Tenant;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's policy pack in force, if any, and the view of tenants and policies it gives. Without a
 * pack the tenants file's settings hold (the embedded default). With one, the pack is the one
 * authority: a tenant it does not list gets the built-in defaults (no egress at all), and its
 * policies are added to the built-in ones. The pack file is re-read when it changes (the host's
 * tick calls {@link #refresh}); a pack that is unsigned, altered, signed by an unknown key,
 * invalid or not newer is refused, reported, and the last good one stays in force.
 */
public final class PolicyPacks {
  private static final Logger log = LoggerFactory.getLogger(PolicyPacks.class);

  private final PolicyPackStore store;
  private final Map<String, SandboxPolicy> builtIn;
  /** The pack in force with who signed it and its label, made once: every audit record reads the label. */
  private record InForce(PolicyPack pack, String signedBy, String label) {
    static final InForce NONE = new InForce(null, "", "");

    static InForce of(PolicyPackStore.Verified v) {
      return new InForce(v.pack(), v.signedBy(), v.pack().label());
    }
  }

  private volatile InForce current;
  private volatile FileTime seen;
  private final CopyOnWriteArrayList<Consumer<PolicyPackStore.Verified>> loaded = new CopyOnWriteArrayList<>();
  private final CopyOnWriteArrayList<BiConsumer<String, String>> refused = new CopyOnWriteArrayList<>();

  private PolicyPacks(PolicyPackStore store, Map<String, SandboxPolicy> builtIn, InForce current, FileTime seen) {
    this.store = store;
    this.builtIn = Map.copyOf(builtIn);
    this.current = current;
    this.seen = seen;
  }

  /**
   * Loads the data directory's pack. None: the tenants file rules. A bad pack file falls back to
   * the newest applied pack that verifies (reported through {@link #startupProblem}); with none,
   * the host must not start (IOException), since running without the operator's policy would
   * mean running with a weaker one.
   */
  public static PolicyPacks load(PolicyPackStore store, Map<String, SandboxPolicy> builtIn) throws IOException {
    FileTime mtime = mtime(store);
    try {
      Optional<PolicyPackStore.Verified> current = store.current();
      current.ifPresent(v -> log.info("policy pack {} in force (signed by {})", v.pack().label(), v.signedBy()));
      return new PolicyPacks(store, builtIn, current.map(InForce::of).orElse(InForce.NONE), mtime);
    } catch (PackException e) {
      Optional<PolicyPackStore.Verified> fallback = store.newestApplied();
      if (fallback.isEmpty()) {
        throw new IOException("the policy pack " + store.packFile() + " is refused (" + e.getMessage()
            + ") and no earlier applied pack verifies; the host does not start without its policy");
      }
      log.error("the policy pack {} is refused ({}); the last good one, {}, stays in force", store.packFile(), e.getMessage(),
          fallback.get().pack().label());
      PolicyPacks packs = new PolicyPacks(store, builtIn, InForce.of(fallback.get()), mtime);
      packs.startupProblem = e.getMessage();
      return packs;
    }
  }

  private String startupProblem;

  /** Why the pack file was refused at start (a fallback is in force), or null. */
  public String startupProblem() {
    return startupProblem;
  }

  /** The pack in force, if any. */
  public Optional<PolicyPack> inForce() {
    return Optional.ofNullable(current.pack());
  }

  /** The label of the pack in force ({@code v7@sha256:...}), "" when none. */
  public String label() {
    return current.label();
  }

  /** Who signed the pack in force (the verifier key's name), "" when none. */
  public String signedBy() {
    return current.signedBy();
  }

  /** Runs {@code listener} with each pack that comes into force after start. */
  public void onLoaded(Consumer<PolicyPackStore.Verified> listener) {
    loaded.add(listener);
  }

  /** Runs {@code listener} with (the pack file's name, why) for each change refused. */
  public void onRefused(BiConsumer<String, String> listener) {
    refused.add(listener);
  }

  /**
   * The tenant as the host treats it: {@code fromFile} (the tenants file's) without a pack; with a
   * pack, the pack's settings for a tenant the tenants file knows (defaults when the pack lists it not).
   */
  public Optional<Tenant> tenant(String id, Optional<Tenant> fromFile) {
    PolicyPack p = current.pack();
    if (p == null || fromFile.isEmpty()) {
      return fromFile;
    }
    Tenant packed = p.tenants().get(id);
    return Optional.of(packed != null ? packed : new Tenant(id, Tenant.DEFAULT_MAX_SESSIONS, Tenant.DEFAULT_MAX_EXECS));
  }

  /** The policies sessions may name: the built-in ones and the pack's. */
  public Map<String, SandboxPolicy> policies() {
    PolicyPack p = current.pack();
    if (p == null) {
      return builtIn;
    }
    Map<String, SandboxPolicy> all = new LinkedHashMap<>(builtIn);
    all.putAll(p.policies());
    return all;
  }

  /** Looks at the pack file; takes a changed one that verifies and is newer, else refuses it. */
  public synchronized void refresh() {
    FileTime mtime = mtime(store);
    if (java.util.Objects.equals(mtime, seen)) {
      return;
    }
    seen = mtime;
    if (mtime == null) {
      if (current.pack() != null) {
        report("the pack file was removed; the last good pack stays in force (apply a newer one to change it)");
      }
      return;
    }
    try {
      Optional<PolicyPackStore.Verified> next = store.current();
      if (next.isEmpty()) {
        return;
      }
      PolicyPack pack = next.get().pack();
      PolicyPack now = current.pack();
      if (now != null && pack.sha256().equals(now.sha256())) {
        return;
      }
      if (now != null && pack.version() <= now.version()) {
        report("version " + pack.version() + " is not higher than the pack in force (" + now.label() + ")");
        return;
      }
      current = InForce.of(next.get());
      log.info("policy pack {} in force (signed by {})", pack.label(), next.get().signedBy());
      loaded.forEach(l -> l.accept(next.get()));
    } catch (PackException | IOException e) {
      report(e.getMessage());
    }
  }

  private void report(String why) {
    log.error("policy pack change refused; {} stays in force: {}", current.pack() == null ? "no pack" : current.label(), why);
    refused.forEach(l -> l.accept(store.packFile().getFileName().toString(), why));
  }

  private static FileTime mtime(PolicyPackStore store) {
    try {
      return Files.getLastModifiedTime(store.packFile());
    } catch (IOException e) {
      return null;
    }
  }
}
