package dev.paddock.runtime.vault;

import java.time.Duration;
import java.util.Objects;

/**
 * How the host keeps secrets.
 *
 * @param masterKey the master key, or null for the data directory's own ({@link Vault#MASTER_KEY_FILE},
 *                  made on first start)
 * @param rotation  a tenant's data key older than this is replaced by the host (checked hourly).
 *                  Default {@link Vault#DEFAULT_ROTATION}, 90 days; at least one day
 */
public record VaultConfig(KeyWrapper masterKey, Duration rotation) {
  public VaultConfig {
    Objects.requireNonNull(rotation, "rotation");
    if (rotation.compareTo(Duration.ofDays(1)) < 0) {
      throw new IllegalArgumentException("the data key rotation period is at least a day, got " + rotation);
    }
  }

  /** The embedded default: the data directory's own key, 90-day rotation. */
  public static VaultConfig defaults() {
    return new VaultConfig(null, Vault.DEFAULT_ROTATION);
  }
}
