package dev.paddock.runtime.tenant;

import java.util.regex.Pattern;

/**
 * A tenant as configured by the operator.
 *
 * @param id          stable id, 1-63 characters of [a-z0-9-], starting with a letter or digit
 * @param maxSessions sessions the tenant may have open at once. Default 100.
 * @param maxExecs    execs the tenant may have running at once, across its sessions. Default 32.
 */
public record Tenant(String id, int maxSessions, int maxExecs) {
  public static final int DEFAULT_MAX_SESSIONS = 100;
  public static final int DEFAULT_MAX_EXECS = 32;
  private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  public Tenant {
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException("tenant id must be 1-63 characters of [a-z0-9-]: " + id);
    }
    if (maxSessions < 1) {
      throw new IllegalArgumentException("maxSessions must be at least 1 for tenant " + id);
    }
    if (maxExecs < 1) {
      throw new IllegalArgumentException("maxExecs must be at least 1 for tenant " + id);
    }
  }
}
