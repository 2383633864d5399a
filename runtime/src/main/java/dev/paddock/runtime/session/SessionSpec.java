package dev.paddock.runtime.session;

import java.time.Duration;
import java.util.Map;

/**
 * What a caller asks for when creating a session; a null or zero field means "the default".
 *
 * @param idleTimeout   idle timeout, or null
 * @param maxLifetime   lifetime, or null
 * @param memoryBytes   per-exec memory, 0 = default
 * @param maxProcesses  per-exec processes, 0 = default
 * @param cpuMillicores per-exec CPU, 0 = default
 * @param tmpfsBytes    per-exec /tmp size, 0 = default
 * @param maxFileBytes  per-exec largest file, 0 = default
 * @param maxOpenFiles  per-exec open files, 0 = default
 * @param workspaceBytes  workspace tmpfs size, 0 = default
 * @param workspaceInodes workspace tmpfs inodes, 0 = default
 * @param labels        caller's labels
 * @param env           default environment of every exec (may hold secrets: never returned or logged)
 * @param policy        policy name, "" = the tenant's default
 * @param egress        the session's own egress lists, narrowing the tenant's; NONE = the tenant's alone
 * @param headerSecrets secrets the egress proxy adds as request headers where the tenant binds them
 */
public record SessionSpec(
    Duration idleTimeout,
    Duration maxLifetime,
    long memoryBytes,
    long maxProcesses,
    long cpuMillicores,
    long tmpfsBytes,
    long maxFileBytes,
    long maxOpenFiles,
    long workspaceBytes,
    long workspaceInodes,
    Map<String, String> labels,
    Map<String, String> env,
    String policy,
    dev.paddock.runtime.egress.EgressRules egress,
    java.util.List<String> headerSecrets) {

  /** Most header secrets per session. */
  public static final int MAX_HEADER_SECRETS = 16;

  public SessionSpec {
    labels = Map.copyOf(labels);
    env = Map.copyOf(env);
    policy = policy == null ? "" : policy;
    egress = egress == null ? dev.paddock.runtime.egress.EgressRules.NONE : egress;
    headerSecrets = java.util.List.copyOf(headerSecrets);
  }

  /** Everything default. */
  public static SessionSpec defaults() {
    return new SessionSpec(null, null, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), Map.of(), "", null, java.util.List.of());
  }

  @Override
  public String toString() {
    return "SessionSpec[labels=" + labels + ", env=<" + env.size() + " redacted>, policy=" + policy + "]";
  }
}
