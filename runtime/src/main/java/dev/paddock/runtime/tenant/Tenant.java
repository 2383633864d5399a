package dev.paddock.runtime.tenant;

import java.util.regex.Pattern;

/**
 * A tenant as configured by the operator.
 *
 * <p>The three kernel budgets are set on the tenant's parent cgroup, above all of its sessions'
 * groups, so however many sessions it opens the kernel holds their sum at the budget.
 *
 * @param id            stable id, 1-63 characters of [a-z0-9-], starting with a letter or digit
 * @param maxSessions   sessions the tenant may have open at once. Default 100.
 * @param maxExecs      execs the tenant may have running at once, across its sessions. Default 32.
 * @param memoryBytes   memory of all its jails together (processes, workspaces, /tmp), bytes;
 *                      0 = the host's default, three quarters of the host's memory
 * @param maxProcesses  processes and threads of all its jails together; 0 = the host's default, 4096
 * @param cpuMillicores CPU of all its jails together, thousandths of a core; 0 = the host's
 *                      default, every core (a session's own CPU limit is cut to this)
 * @param sessionsPerMinute sessions it may create per minute (a token bucket refilled each
 *                      minute); 0 = no limit (the default)
 * @param execsPerMinute execs it may start per minute, likewise; 0 = no limit (the default)
 * @param maxSessionLifetime longest lifetime its sessions may have (a request for more is refused,
 *                      the default is cut to it); null = the host's maximum
 * @param maxOutputBytes output kept per stream per exec, bytes (past it: dropped, output_truncated);
 *                      0 = the host's
 * @param egress        where its jails may connect, its connection and bandwidth budget, and where
 *                      its secrets may go as request headers; default nothing
 * @param browser       its browsers: how many at once, browser-minutes, scripts, providers
 */
public record Tenant(String id, int maxSessions, int maxExecs, long memoryBytes, int maxProcesses, int cpuMillicores,
    int sessionsPerMinute, int execsPerMinute, java.time.Duration maxSessionLifetime, long maxOutputBytes,
    dev.paddock.runtime.egress.EgressGrant egress, BrowserGrant browser) {
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
    if (memoryBytes != 0 && memoryBytes < (64L << 20)) {
      throw new IllegalArgumentException("memoryBytes must be 0 (host default) or at least 64 MiB for tenant " + id);
    }
    if (maxProcesses != 0 && (maxProcesses < 16 || maxProcesses > 1 << 20)) {
      throw new IllegalArgumentException("maxProcesses must be 0 (host default) or 16..1048576 for tenant " + id);
    }
    if (cpuMillicores != 0 && (cpuMillicores < 10 || cpuMillicores > 256_000)) {
      throw new IllegalArgumentException("cpuMillicores must be 0 (host default) or 10..256000 for tenant " + id);
    }
    if (sessionsPerMinute < 0 || execsPerMinute < 0) {
      throw new IllegalArgumentException("sessionsPerMinute and execsPerMinute must be 0 (no limit) or more for tenant " + id);
    }
    if (maxSessionLifetime != null && (maxSessionLifetime.isNegative() || maxSessionLifetime.isZero())) {
      throw new IllegalArgumentException("maxSessionLifetime must be more than 0 for tenant " + id);
    }
    if (maxOutputBytes < 0) {
      throw new IllegalArgumentException("maxOutputBytes must be 0 (the host's) or more for tenant " + id);
    }
    egress = egress == null ? dev.paddock.runtime.egress.EgressGrant.NONE : egress;
    browser = browser == null ? BrowserGrant.DEFAULTS : browser;
  }

  /** A tenant with the host's default kernel budgets and no rate limits. */
  public Tenant(String id, int maxSessions, int maxExecs) {
    this(id, maxSessions, maxExecs, 0, 0, 0, 0, 0, null, 0, null, null);
  }
}
