package dev.paddock.runtime.tenant;

import dev.paddock.runtime.errors.PaddockException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers "which tenant does this API key belong to?" from the tenants file.
 *
 * <p>The file is re-read when its modification time changes (checked at most twice a second), so
 * {@code paddock keys} can add, rotate and revoke keys while the host runs. A change that does not
 * validate is refused as a whole: the report (every problem, with its line) goes to the log, and
 * the last good file stays in force until the file is fixed. ({@code paddock keys} itself never
 * writes an invalid file; {@code paddock config check FILE} checks a hand edit before it lands.)
 * A file that is invalid or missing at start stops the host from starting.
 */
public final class TenantDirectory {
  private static final Logger log = LoggerFactory.getLogger(TenantDirectory.class);

  private record Snapshot(Map<String, Principal> byHash, Map<String, Tenant> tenants, Map<String, String> host,
      FileTime mtime, Map<String, Principal> bySubject) {}

  private final Path file;
  private final Clock clock;
  private volatile Snapshot snapshot;
  private volatile Instant lastCheck = Instant.EPOCH;
  /** The modification time of a change that was refused: not read again until the file changes. */
  private volatile FileTime refused;
  private final java.util.List<Runnable> reloadListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final java.util.List<java.util.function.Consumer<String>> refusedListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final java.util.List<java.util.function.BiConsumer<Map<String, Principal>, Map<String, Principal>>> keyListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Loads {@code file}; throws when it is missing or invalid, so the host refuses to start. */
  public TenantDirectory(Path file, Clock clock) throws IOException {
    this.file = file;
    this.clock = clock;
    this.snapshot = load();
  }

  /**
   * The principal for {@code presentedKey}.
   *
   * @throws PaddockException.Unauthenticated for a missing, unknown or malformed key, or when the
   *     tenants file cannot be read
   */
  public Principal authenticate(String presentedKey) {
    if (presentedKey == null || presentedKey.isBlank() || presentedKey.length() > 512) {
      throw new PaddockException.Unauthenticated("missing or malformed API key");
    }
    Snapshot current = refreshIfChanged();
    Principal p = current.byHash().get(ApiKeys.sha256Hex(presentedKey));
    if (p == null) {
      throw new PaddockException.Unauthenticated("invalid API key");
    }
    return p;
  }

  /**
   * True while the key {@code caller} authenticated with still works (not revoked, rotated away or
   * removed): a long call (an exec's stream) asks again as it goes, so a revoked key stops there too.
   */
  public boolean stillValid(Principal caller) {
    Snapshot current = refreshIfChanged();
    if (caller.keyId().startsWith("cert:")) {
      return current.bySubject().containsKey(caller.keyId().substring(5));
    }
    for (Principal p : current.byHash().values()) {
      if (p.keyId().equals(caller.keyId()) && p.tenantId().equals(caller.tenantId())) {
        return true;
      }
    }
    return false;
  }

  /** Runs {@code listener} after each change of the file that was taken (on the thread that noticed it). */
  public void onReload(Runnable listener) {
    reloadListeners.add(listener);
  }

  /**
   * Runs {@code listener} whenever the keys in force change, with those before and after (see
   * {@link #keysInForce}): a change of the file that was taken, a refused change that still
   * withdraws keys, a file that can no longer be read (no key works then).
   */
  public void onKeysChanged(java.util.function.BiConsumer<Map<String, Principal>, Map<String, Principal>> listener) {
    keyListeners.add(listener);
  }

  /**
   * The keys that authenticate now: API keys by the SHA-256 (hex) the file stores of them, client
   * certificate subjects by their key id ({@code cert:} and the subject).
   */
  public Map<String, Principal> keysInForce() {
    return keysOf(snapshot);
  }

  private static Map<String, Principal> keysOf(Snapshot s) {
    Map<String, Principal> keys = new HashMap<>(s.byHash());
    s.bySubject().values().forEach(p -> keys.put(p.keyId(), p));
    return Map.copyOf(keys);
  }

  /** Puts {@code next} in force; tells the key listeners when the keys changed. */
  private void replace(Snapshot next) {
    Map<String, Principal> before = keysOf(snapshot);
    snapshot = next;
    Map<String, Principal> after = keysOf(next);
    if (!before.equals(after)) {
      keyListeners.forEach(l -> {
        try {
          l.accept(before, after);
        } catch (RuntimeException e) {
          log.error("a key-change listener failed", e);
        }
      });
    }
  }

  /** Runs {@code listener} after each change of the file that was refused, with the reason. */
  public void onRefused(java.util.function.Consumer<String> listener) {
    refusedListeners.add(listener);
  }

  /** The host-wide session and exec settings: {@code base} with the file's {@code host:} section over it. */
  public dev.paddock.runtime.session.SessionSettings hostSettings(dev.paddock.runtime.session.SessionSettings base) {
    return HostSettingsSection.apply(base, refreshIfChanged().host());
  }

  /**
   * The principal of a verified client certificate (mutual TLS) with subject {@code subject}, when
   * the file maps it to a tenant (TenantEntry.clientCertificates).
   */
  public Optional<Principal> authenticateCertificate(String subject) {
    return Optional.ofNullable(refreshIfChanged().bySubject().get(TenantsFile.canonicalSubject(subject)));
  }

  /**
   * The tenant with this id, if it is configured, as the host treats it: the file's settings, or,
   * with an overlay (the policy pack in force), the overlay's view of them.
   */
  public Optional<Tenant> tenant(String tenantId) {
    return overlay.apply(tenantId, Optional.ofNullable(refreshIfChanged().tenants().get(tenantId)));
  }

  private volatile java.util.function.BiFunction<String, Optional<Tenant>, Optional<Tenant>> overlay = (id, t) -> t;

  /**
   * Puts {@code overlay} between the file and every caller of {@link #tenant}: given a tenant's id
   * and the file's entry, it returns what the host uses (a policy pack replaces the settings).
   */
  public void overlay(java.util.function.BiFunction<String, Optional<Tenant>, Optional<Tenant>> overlay) {
    this.overlay = overlay;
  }

  private Snapshot refreshIfChanged() {
    Instant now = clock.instant();
    // Twice a second: a revoked or rotated key stops working within a second of the file's change.
    if (now.isBefore(lastCheck.plusMillis(500))) {
      return snapshot;
    }
    lastCheck = now;
    FileTime mtime;
    try {
      mtime = Files.getLastModifiedTime(file);
    } catch (IOException e) {
      // Gone or unreadable: no key works until it is back (deleting the file locks everyone out).
      if (!snapshot.byHash().isEmpty()) {
        log.error("tenants file {} cannot be read ({}); refusing every key until it can", file, e.getClass().getSimpleName());
      }
      replace(new Snapshot(Map.of(), snapshot.tenants(), snapshot.host(), null, Map.of()));
      refused = null;
      return snapshot;
    }
    if (mtime.equals(snapshot.mtime()) || mtime.equals(refused)) {
      return snapshot;
    }
    try {
      replace(load());
      refused = null;
      log.info("tenants file reloaded: {} tenants", snapshot.tenants().size());
      reloadListeners.forEach(l -> {
        try {
          l.run();
        } catch (RuntimeException e) {
          log.error("a tenants-file reload listener failed", e);
        }
      });
    } catch (IOException | RuntimeException e) {
      refused = mtime;
      replace(withoutWithdrawnKeys(snapshot));
      log.error("tenants file change refused; the last good one stays in force (but for keys it revokes or"
          + " removes). {}", e.getMessage());
      String why = e.getMessage();
      refusedListeners.forEach(l -> {
        try {
          l.accept(why);
        } catch (RuntimeException failure) {
          log.error("a tenants-file refusal listener failed", failure);
        }
      });
    }
    return snapshot;
  }

  /**
   * The last good snapshot less every key the refused file revokes or no longer lists: a hand edit
   * that revokes a leaked key and also has a typo elsewhere must still stop that key. When the file
   * cannot be parsed at all, nothing can be read from it, and the last good keys stay.
   */
  private Snapshot withoutWithdrawnKeys(Snapshot last) {
    TenantsFile.Document partial;
    try {
      partial = TenantsFile.readPartially(file);
    } catch (IOException e) {
      return last;
    }
    if (partial == null) {
      return last;
    }
    java.util.Set<String> stillListed = new java.util.HashSet<>();
    for (TenantsFile.TenantEntry t : partial.tenants == null ? java.util.List.<TenantsFile.TenantEntry>of() : partial.tenants) {
      for (TenantsFile.KeyEntry k : t == null || t.keys == null ? java.util.List.<TenantsFile.KeyEntry>of() : t.keys) {
        if (k != null && k.sha256 != null && k.revoked == null) {
          stillListed.add(k.sha256);
        }
      }
    }
    Map<String, Principal> kept = new HashMap<>(last.byHash());
    kept.keySet().retainAll(stillListed);
    if (kept.size() < last.byHash().size()) {
      log.warn("tenants file change refused, but {} key(s) it revokes or removes stop working now",
          last.byHash().size() - kept.size());
    }
    return new Snapshot(Map.copyOf(kept), last.tenants(), last.host(), last.mtime(), last.bySubject());
  }

  private Snapshot load() throws IOException {
    FileTime mtime = Files.getLastModifiedTime(file);
    TenantsFile.Document doc = TenantsFile.read(file);
    Map<String, Principal> byHash = new HashMap<>();
    Map<String, Tenant> tenants = new HashMap<>();
    for (TenantsFile.TenantEntry t : doc.tenants) {
      tenants.put(t.id, TenantsFile.toTenant(t));
      for (TenantsFile.KeyEntry k : t.keys == null ? java.util.List.<TenantsFile.KeyEntry>of() : t.keys) {
        if (k.revoked == null) {
          byHash.put(k.sha256, new Principal(t.id, k.id, TenantsFile.scopes(k)));
        }
      }
    }
    Map<String, Principal> bySubject = new HashMap<>();
    for (TenantsFile.TenantEntry t : doc.tenants) {
      for (String subject : t.clientCertificates == null ? java.util.List.<String>of() : t.clientCertificates) {
        String canonical = TenantsFile.canonicalSubject(subject);
        bySubject.put(canonical, new Principal(t.id, "cert:" + canonical, Scope.DEFAULTS));
      }
    }
    return new Snapshot(Map.copyOf(byHash), Map.copyOf(tenants),
        doc.host == null ? Map.of() : Map.copyOf(doc.host), mtime, Map.copyOf(bySubject));
  }
}
