package dev.paddock.runtime.session;

import dev.paddock.policy.Limits;
import java.time.Duration;

/**
 * The operator's defaults and ceilings for sessions and execs.
 *
 * @param defaultIdleTimeout  idle timeout when the caller sets none. Default 5 min.
 * @param maxIdleTimeout      largest idle timeout a caller may ask for. Default 24 h.
 * @param defaultMaxLifetime  lifetime when the caller sets none. Default 1 h.
 * @param maxLifetime         largest lifetime a caller may ask for. Default 24 h.
 * @param defaultExecTimeout  exec wall time when the caller sets none. Default 60 s.
 * @param maxExecTimeout      largest exec wall time a caller may ask for. Default 1 h.
 * @param maxLimits           the largest per-exec limits a session may ask for
 * @param closedRetention     how long a closed session stays readable as CLOSED. Default 10 min.
 * @param maxOutputBytes      output kept per stream per exec; beyond it output is dropped and the
 *                            result says {@code output_truncated}. Default 256 MiB.
 * @param clientStallTimeout  how long an exec's output may wait for a client that reads none of
 *                            it before the exec is killed and the call ended. Default 60 s.
 * @param replayBytes         tail of each output stream kept per exec for AttachExec replay (and
 *                            the flow-control window of a streaming Exec), bytes. Default 256 KiB.
 * @param retainedExecs       finished execs a session keeps for GetExec, ListExecs and AttachExec;
 *                            the oldest finished one is forgotten past it. Default 64.
 * @param workspaceBytes      size of each session's workspace tmpfs, bytes. Default 1 GiB.
 * @param workspaceInodes     inodes of each session's workspace tmpfs. Default 100,000.
 */
public record SessionSettings(
    Duration defaultIdleTimeout,
    Duration maxIdleTimeout,
    Duration defaultMaxLifetime,
    Duration maxLifetime,
    Duration defaultExecTimeout,
    Duration maxExecTimeout,
    Limits maxLimits,
    Duration closedRetention,
    long maxOutputBytes,
    Duration clientStallTimeout,
    int replayBytes,
    int retainedExecs,
    long workspaceBytes,
    long workspaceInodes) {

  /** The same settings with another client stall timeout. */
  public SessionSettings withClientStallTimeout(Duration timeout) {
    return new SessionSettings(defaultIdleTimeout, maxIdleTimeout, defaultMaxLifetime, maxLifetime,
        defaultExecTimeout, maxExecTimeout, maxLimits, closedRetention, maxOutputBytes, timeout,
        replayBytes, retainedExecs, workspaceBytes, workspaceInodes);
  }

  /** The defaults listed above; maxima of 8 GiB memory, 4096 processes, all cores per exec. */
  public static SessionSettings defaults() {
    return new SessionSettings(
        Duration.ofMinutes(5), Duration.ofHours(24),
        Duration.ofHours(1), Duration.ofHours(24),
        Duration.ofSeconds(60), Duration.ofHours(1),
        new Limits(8192 * Limits.MIB, 4096, Math.max(1, Runtime.getRuntime().availableProcessors()) * 1000,
            Duration.ofHours(1), 4096 * Limits.MIB, 16384 * Limits.MIB, 65536),
        Duration.ofMinutes(10),
        256 * Limits.MIB,
        Duration.ofSeconds(60),
        256 * 1024,
        64,
        1L << 30,
        100_000);
  }
}
