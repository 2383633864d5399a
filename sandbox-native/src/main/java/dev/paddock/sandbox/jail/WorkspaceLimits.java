package dev.paddock.sandbox.jail;

/**
 * Kernel-enforced limits of a session's workspace, a tmpfs mounted at /workspace in the session's
 * own mount namespace. Its pages are charged to the session's memory cgroup (they count toward the
 * session's memory limit), it never touches the host's disk, and it vanishes with the jail.
 *
 * @param bytes  size of the tmpfs; writes past it fail with ENOSPC. Default 1 GiB.
 * @param inodes files, directories and links it can hold (nr_inodes); past it, ENOSPC. Default 100,000.
 */
public record WorkspaceLimits(long bytes, long inodes) {
  /** 1 GiB and 100,000 inodes. */
  public static final WorkspaceLimits DEFAULTS = new WorkspaceLimits(1L << 30, 100_000);

  public WorkspaceLimits {
    if (bytes < (1L << 20)) {
      throw new IllegalArgumentException("workspace must be at least 1 MiB, got " + bytes);
    }
    if (inodes < 16) {
      throw new IllegalArgumentException("workspace must allow at least 16 inodes, got " + inodes);
    }
  }
}
