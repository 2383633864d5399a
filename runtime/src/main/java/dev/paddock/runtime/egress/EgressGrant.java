package dev.paddock.runtime.egress;

import java.util.List;

/**
 * A tenant's egress, as the operator set it.
 *
 * @param rules          where its jails may connect; default nothing
 * @param maxConnections connections its jails may have open through the proxy at once, all its
 *                       sessions together. Default 64.
 * @param bytesPerSecond bandwidth of all its connections together, both directions, bytes per
 *                       second; 0 = no limit (the default)
 * @param headerSecrets  its secrets that sessions may use as request headers, and where each goes
 */
public record EgressGrant(EgressRules rules, int maxConnections, long bytesPerSecond, List<HeaderSecret> headerSecrets) {
  public static final int DEFAULT_MAX_CONNECTIONS = 64;
  /** No egress at all (the default). */
  public static final EgressGrant NONE = new EgressGrant(EgressRules.NONE, DEFAULT_MAX_CONNECTIONS, 0, List.of());

  public EgressGrant {
    if (maxConnections < 1 || maxConnections > 65536) {
      throw new IllegalArgumentException("egress maxConnections must be 1-65536");
    }
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("egress bytesPerSecond must be 0 (no limit) or more");
    }
    headerSecrets = List.copyOf(headerSecrets);
  }

  /** The binding of {@code secret}, or null. */
  public HeaderSecret headerSecret(String secret) {
    return headerSecrets.stream().filter(h -> h.secret().equals(secret)).findFirst().orElse(null);
  }
}
