package dev.paddock.sandbox.cgroup;

import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.nio.file.Path;
import java.util.List;

/** One cgroup the host created and owns (in every hierarchy it needs, for cgroup v1). */
public interface Cgroup {

  /** The {@code cgroup.procs} files a process writes its pid into to join this group. */
  List<Path> procsFiles();

  /** Host pids now in the group. */
  List<Long> pids() throws CgroupException;

  /** What the group (with all below it) holds now. */
  record Usage(long memoryBytes, long processes) {}

  /** Memory charged and processes (and threads) counted now, descendants included. */
  Usage usage() throws CgroupException;

  /**
   * The limit counters (OOM kills, pids-limit hits): two small reads of files kept open, cheap
   * enough for every exec's start and end.
   */
  LimitEvents limitEvents() throws CgroupException;

  /**
   * SIGKILLs every process in the group and waits (up to about one second) until none is left.
   *
   * @return true when the group is empty
   */
  boolean killAll(LinuxSyscalls linux) throws CgroupException;

  /** Removes the group's directories; the group must be empty. */
  void remove() throws CgroupException;
}
