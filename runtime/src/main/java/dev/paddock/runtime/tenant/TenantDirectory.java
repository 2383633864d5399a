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
 * Answers "which tenant does this API key belong to?" from the tenants file, failing closed.
 *
 * <p>The file is re-read when its modification time changes (checked at most twice a second), so
 * {@code paddock keys} can add or rotate keys while the host runs. If a re-read fails, every key is
 * refused until the file is valid again: a broken file must not leave stale keys working.
 */
public final class TenantDirectory {
  private static final Logger log = LoggerFactory.getLogger(TenantDirectory.class);

  private record Snapshot(Map<String, Principal> byHash, Map<String, Tenant> tenants, FileTime mtime, boolean valid) {}

  private final Path file;
  private final Clock clock;
  private volatile Snapshot snapshot;
  private volatile Instant lastCheck = Instant.EPOCH;

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
    Principal p = current.valid() ? current.byHash().get(ApiKeys.sha256Hex(presentedKey)) : null;
    if (p == null) {
      throw new PaddockException.Unauthenticated("invalid API key");
    }
    return p;
  }

  /** The tenant with this id, if it is configured. */
  public Optional<Tenant> tenant(String tenantId) {
    Snapshot current = refreshIfChanged();
    return current.valid() ? Optional.ofNullable(current.tenants().get(tenantId)) : Optional.empty();
  }

  private Snapshot refreshIfChanged() {
    Instant now = clock.instant();
    // Twice a second: a revoked or rotated key stops working within a second of the file's change.
    if (now.isBefore(lastCheck.plusMillis(500))) {
      return snapshot;
    }
    lastCheck = now;
    try {
      FileTime mtime = Files.getLastModifiedTime(file);
      if (!mtime.equals(snapshot.mtime()) || !snapshot.valid()) {
        snapshot = load();
        log.info("tenants file reloaded: {} tenants", snapshot.tenants().size());
      }
    } catch (IOException | RuntimeException e) {
      // Fail closed: a file that cannot be read must not leave removed keys working.
      log.error("tenants file cannot be read; refusing every key until it can: {}", e.getMessage());
      snapshot = new Snapshot(Map.of(), Map.of(), null, false);
    }
    return snapshot;
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
    return new Snapshot(Map.copyOf(byHash), Map.copyOf(tenants), mtime, true);
  }
}
