package dev.paddock.sandbox.cgroup;

/**
 * A cgroup's limit counters, read at an exec's start and, when its outcome depends on them, at its
 * end. They survive the processes, which is why the host reads them here instead of trusting an
 * exit code or anything else the tenant's processes can influence.
 *
 * @param oomKills      processes the kernel OOM-killer ended because of this group's memory limit
 * @param pidsLimitHits times a fork or clone failed because of this group's process limit
 */
public record LimitEvents(long oomKills, long pidsLimitHits) {

  /** The counters of a group that could not be read. */
  public static final LimitEvents UNKNOWN = new LimitEvents(0, 0);
}
