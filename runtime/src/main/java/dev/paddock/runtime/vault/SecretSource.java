package dev.paddock.runtime.vault;

/**
 * Where the host's own uses of a secret (an exec's environment, an egress header, a browser's
 * password field) get its value: the {@link Vault}, or a test's stand-in.
 */
@FunctionalInterface
public interface SecretSource {
  /**
   * The value of the tenant's secret {@code name}; the caller clears the array when done. Throws
   * NOT_FOUND / SECRET_NOT_FOUND when the tenant has no such secret.
   */
  byte[] reveal(String tenant, String name) throws java.io.IOException;
}
