package dev.paddock.sandbox.cgroup;

import java.time.Duration;

/**
 * Counters read from one cgroup after (or while) its processes ran. They survive the processes,
 * which is why the host reads them here instead of trusting an exit code.
 *
 * @param oomKills        processes the kernel OOM-killer ended because of this group's memory limit
 * @param pidsLimitHits   times a fork or clone failed because of this group's process limit
 * @param peakMemoryBytes highest memory use seen, bytes (0 when the kernel does not report it)
 * @param cpuUser         CPU time in user mode
 * @param cpuSystem       CPU time in kernel mode
 */
public record CgroupStats(
    long oomKills, long pidsLimitHits, long peakMemoryBytes, Duration cpuUser, Duration cpuSystem) {

  /** Stats of a group that could not be read. */
  public static final CgroupStats UNKNOWN = new CgroupStats(0, 0, 0, Duration.ZERO, Duration.ZERO);
}
