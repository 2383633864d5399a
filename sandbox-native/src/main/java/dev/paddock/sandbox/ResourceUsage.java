package dev.paddock.sandbox;

import java.time.Duration;

/**
 * What one sandboxed execution used.
 *
 * @param wallTime        from process start to exit
 * @param cpuUser         CPU time in user mode, whole process tree
 * @param cpuSystem       CPU time in kernel mode, whole process tree
 * @param peakMemoryBytes highest memory use of the tree, bytes (0 when the kernel does not report it)
 */
public record ResourceUsage(Duration wallTime, Duration cpuUser, Duration cpuSystem, long peakMemoryBytes) {
  /** Nothing used: the process never started. */
  public static final ResourceUsage NONE = new ResourceUsage(Duration.ZERO, Duration.ZERO, Duration.ZERO, 0);
}
