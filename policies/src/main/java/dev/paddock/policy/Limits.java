package dev.paddock.policy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Resource limits for one sandboxed execution. Immutable; build with {@link #builder()}.
 *
 * <p>Memory, processes and CPU are enforced by the kernel through a cgroup the host owns; wall
 * time is enforced by the host (millisecond resolution, whole process tree killed); file size and
 * open files are rlimits inside the jail; the tmpfs size is the size of the private {@code /tmp}.
 *
 * @param memoryBytes   memory (RSS, page cache and tmpfs pages) of the whole session, bytes. Default 2 GiB.
 * @param maxProcesses  processes and threads alive at once in the tree. Default 64.
 * @param cpuMillicores CPU bandwidth, thousandths of one core (1000 = one full core). Default 1000.
 * @param wallTime      wall-clock time from start to kill. Default 60 s.
 * @param tmpfsBytes    size of the private {@code /tmp}, bytes. Default 64 MiB.
 * @param maxFileBytes  largest file a process may write (RLIMIT_FSIZE), bytes. Default 256 MiB.
 * @param maxOpenFiles  open file descriptors per process (RLIMIT_NOFILE). Default 256.
 */
public record Limits(
    long memoryBytes,
    int maxProcesses,
    int cpuMillicores,
    Duration wallTime,
    long tmpfsBytes,
    long maxFileBytes,
    int maxOpenFiles) {

  public static final long MIB = 1024L * 1024L;

  /** The defaults listed on each component. */
  public static final Limits DEFAULTS =
      new Limits(2048 * MIB, 64, 1000, Duration.ofSeconds(60), 64 * MIB, 256 * MIB, 256);

  /** A builder starting from {@link #DEFAULTS}. */
  public static Builder builder() {
    return new Builder(DEFAULTS);
  }

  /** A builder starting from these limits. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Every problem with these limits, empty when they are valid. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    if (memoryBytes < 16 * MIB) {
      problems.add("memory limit must be at least 16 MiB, got " + memoryBytes + " bytes");
    }
    if (maxProcesses < 1 || maxProcesses > 65536) {
      problems.add("process limit must be in 1..65536, got " + maxProcesses);
    }
    if (cpuMillicores < 10 || cpuMillicores > 256_000) {
      problems.add("cpu must be in 10..256000 millicores, got " + cpuMillicores);
    }
    if (wallTime == null || wallTime.isNegative() || wallTime.isZero()) {
      problems.add("wall time limit must be positive, got " + wallTime);
    }
    if (tmpfsBytes < MIB) {
      problems.add("tmpfs size must be at least 1 MiB, got " + tmpfsBytes + " bytes");
    }
    if (maxFileBytes < 1) {
      problems.add("max file size must be positive, got " + maxFileBytes);
    }
    if (maxOpenFiles < 16 || maxOpenFiles > 65536) {
      problems.add("open file limit must be in 16..65536, got " + maxOpenFiles);
    }
    return problems;
  }

  /** Fluent builder; validation happens in {@link PolicyBuilder#build()}. */
  public static final class Builder {
    private long memoryBytes;
    private int maxProcesses;
    private int cpuMillicores;
    private Duration wallTime;
    private long tmpfsBytes;
    private long maxFileBytes;
    private int maxOpenFiles;

    private Builder(Limits from) {
      memoryBytes = from.memoryBytes;
      maxProcesses = from.maxProcesses;
      cpuMillicores = from.cpuMillicores;
      wallTime = from.wallTime;
      tmpfsBytes = from.tmpfsBytes;
      maxFileBytes = from.maxFileBytes;
      maxOpenFiles = from.maxOpenFiles;
    }

    /** Memory of the whole process tree, bytes. */
    public Builder memory(long bytes) {
      this.memoryBytes = bytes;
      return this;
    }

    /** Processes and threads alive at once. */
    public Builder processes(int count) {
      this.maxProcesses = count;
      return this;
    }

    /** CPU bandwidth in thousandths of a core. */
    public Builder cpuMillicores(int millicores) {
      this.cpuMillicores = millicores;
      return this;
    }

    /** Wall-clock limit. */
    public Builder wallTime(Duration wallTime) {
      this.wallTime = wallTime;
      return this;
    }

    /** Size of the private /tmp, bytes. */
    public Builder tmpfs(long bytes) {
      this.tmpfsBytes = bytes;
      return this;
    }

    /** Largest file a process may write, bytes. */
    public Builder maxFileSize(long bytes) {
      this.maxFileBytes = bytes;
      return this;
    }

    /** Open file descriptors per process. */
    public Builder openFiles(int count) {
      this.maxOpenFiles = count;
      return this;
    }

    /** The limits as set, not yet validated. */
    public Limits build() {
      return new Limits(
          memoryBytes, maxProcesses, cpuMillicores, wallTime, tmpfsBytes, maxFileBytes, maxOpenFiles);
    }
  }
}
