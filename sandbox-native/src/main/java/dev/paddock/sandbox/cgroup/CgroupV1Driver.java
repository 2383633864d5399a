package dev.paddock.sandbox.cgroup;

import dev.paddock.policy.Limits;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * cgroup v1: one directory per hierarchy (memory, pids, cpu, cpuacct), created side by side.
 *
 * <p>v1 does not propagate the OOM-kill counter to ancestors, so limits are set on the group whose
 * counters are read: the exec's own group.
 */
public final class CgroupV1Driver implements CgroupDriver {
  private static final long CFS_PERIOD_US = 100_000;

  private final Path memory;
  private final Path pids;
  private final Path cpu;
  private final Path cpuacct;

  public CgroupV1Driver(Path root) {
    this.memory = root.resolve("memory");
    this.pids = root.resolve("pids");
    this.cpu = root.resolve("cpu");
    this.cpuacct = root.resolve("cpuacct");
  }

  @Override
  public Cgroup create(String relativePath, Limits limits) throws CgroupException {
    CgroupFiles.checkRelative(relativePath);
    Path mem = memory.resolve(relativePath);
    Path pid = pids.resolve(relativePath);
    Path cpuDir = Files.isDirectory(cpu) ? cpu.resolve(relativePath) : null;
    Path acct = Files.isDirectory(cpuacct) ? cpuacct.resolve(relativePath) : null;
    for (Path dir : dirs(mem, pid, cpuDir, acct)) {
      CgroupFiles.mkdirs(dir);
    }
    Path memsw = mem.resolve("memory.memsw.limit_in_bytes");
    String bytes = Long.toString(limits.memoryBytes());
    if (Files.exists(memsw)) {
      // memory + swap at the same limit: no swapping past the memory limit. The kernel wants
      // memory <= memsw at every moment, so a raise writes memsw first and a cut memory first (an
      // existing group, e.g. a tenant's, may get either).
      boolean raise = limits.memoryBytes() > CgroupFiles.number(mem.resolve("memory.limit_in_bytes"));
      CgroupFiles.write(raise ? memsw : mem.resolve("memory.limit_in_bytes"), bytes);
      CgroupFiles.write(raise ? mem.resolve("memory.limit_in_bytes") : memsw, bytes);
    } else {
      CgroupFiles.write(mem.resolve("memory.limit_in_bytes"), bytes);
    }
    CgroupFiles.write(pid.resolve("pids.max"), Integer.toString(limits.maxProcesses()));
    if (cpuDir != null) {
      CgroupFiles.write(cpuDir.resolve("cpu.cfs_period_us"), Long.toString(CFS_PERIOD_US));
      long quota = CFS_PERIOD_US * limits.cpuMillicores() / 1000;
      CgroupFiles.write(cpuDir.resolve("cpu.cfs_quota_us"), Long.toString(quota));
    }
    return new V1Group(relativePath, mem, pid, cpuDir, acct);
  }

  @Override
  public void removeTree(String relativePath) throws CgroupException {
    CgroupFiles.checkRelative(relativePath);
    for (Path hierarchy : List.of(memory, pids, cpu, cpuacct)) {
      CgroupFiles.rmdirTree(hierarchy.resolve(relativePath));
    }
  }

  @Override
  public void killAndRemoveTree(String relativePath, LinuxSyscalls linux) throws CgroupException {
    CgroupFiles.checkRelative(relativePath);
    for (Path hierarchy : List.of(pids, memory, cpu, cpuacct)) {
      CgroupFiles.killAndRemoveTree(hierarchy.resolve(relativePath), linux);
    }
  }

  @Override
  public String describe() {
    return "cgroup v1";
  }

  private static Set<Path> dirs(Path... dirs) {
    Set<Path> set = new LinkedHashSet<>();
    for (Path d : dirs) {
      if (d != null) {
        set.add(d);
      }
    }
    return set;
  }

  private static final class V1Group implements Cgroup {
    private final String relativePath;
    private final Path memory;
    private final Path pids;
    private final Path cpu;
    private final Path cpuacct;
    private final KeptCounterFile oomControl;
    private final KeptCounterFile pidsEvents;

    V1Group(String relativePath, Path memory, Path pids, Path cpu, Path cpuacct) {
      this.relativePath = relativePath;
      this.memory = memory;
      this.pids = pids;
      this.cpu = cpu;
      this.cpuacct = cpuacct;
      this.oomControl = new KeptCounterFile(memory.resolve("memory.oom_control"));
      this.pidsEvents = new KeptCounterFile(pids.resolve("pids.events"));
    }

    @Override
    public List<Path> procsFiles() {
      List<Path> files = new ArrayList<>();
      for (Path dir : dirs(memory, pids, cpu, cpuacct)) {
        files.add(dir.resolve("cgroup.procs"));
      }
      return files;
    }

    @Override
    public List<Long> pids() throws CgroupException {
      return CgroupFiles.pids(pids.resolve("cgroup.procs"));
    }

    @Override
    public LimitEvents limitEvents() throws CgroupException {
      return new LimitEvents(oomControl.keyed("oom_kill"), pidsEvents.keyed("max"));
    }

    @Override
    public Usage usage() throws CgroupException {
      return new Usage(CgroupFiles.number(memory.resolve("memory.usage_in_bytes")),
          CgroupFiles.number(pids.resolve("pids.current")));
    }

    @Override
    public boolean killAll(LinuxSyscalls linux) throws CgroupException {
      boolean pidsEmpty = CgroupFiles.killLoop(pids.resolve("cgroup.procs"), linux);
      boolean memoryEmpty = CgroupFiles.killLoop(memory.resolve("cgroup.procs"), linux);
      return pidsEmpty && memoryEmpty;
    }

    @Override
    public void remove() throws CgroupException {
      oomControl.close();
      pidsEvents.close();
      for (Path dir : dirs(memory, pids, cpu, cpuacct)) {
        CgroupFiles.rmdir(dir);
      }
    }

    @Override
    public String toString() {
      return "cgroup v1 " + relativePath;
    }
  }
}
