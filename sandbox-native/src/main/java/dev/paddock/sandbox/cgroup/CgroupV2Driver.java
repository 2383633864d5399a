package dev.paddock.sandbox.cgroup;

import dev.paddock.policy.Limits;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * cgroup v2: one unified directory per group. Controllers are enabled down the path through each
 * ancestor's {@code cgroup.subtree_control}. Counters in {@code memory.events} and
 * {@code pids.events} are hierarchical, so a session or tenant group can also be read.
 */
public final class CgroupV2Driver implements CgroupDriver {
  private static final long CPU_PERIOD_US = 100_000;
  private static final String CONTROLLERS = "+memory +pids +cpu";

  private final Path root;

  public CgroupV2Driver(Path root) {
    this.root = root;
  }

  @Override
  public Cgroup create(String relativePath, Limits limits) throws CgroupException {
    CgroupFiles.checkRelative(relativePath);
    Path dir = root;
    for (String segment : relativePath.split("/")) {
      enableControllers(dir);
      dir = dir.resolve(segment);
      CgroupFiles.mkdirs(dir);
    }
    CgroupFiles.write(dir.resolve("memory.max"), Long.toString(limits.memoryBytes()));
    if (Files.exists(dir.resolve("memory.swap.max"))) {
      CgroupFiles.write(dir.resolve("memory.swap.max"), "0");
    }
    CgroupFiles.write(dir.resolve("pids.max"), Integer.toString(limits.maxProcesses()));
    long quota = CPU_PERIOD_US * limits.cpuMillicores() / 1000;
    CgroupFiles.write(dir.resolve("cpu.max"), quota + " " + CPU_PERIOD_US);
    return new V2Group(dir);
  }

  private static void enableControllers(Path dir) throws CgroupException {
    Path control = dir.resolve("cgroup.subtree_control");
    String enabled = Files.exists(control) ? CgroupFiles.read(control) : "";
    if (!(enabled.contains("memory") && enabled.contains("pids") && enabled.contains("cpu"))) {
      CgroupFiles.write(control, CONTROLLERS);
    }
  }

  @Override
  public void removeTree(String relativePath) throws CgroupException {
    CgroupFiles.rmdirTree(root.resolve(CgroupFiles.checkRelative(relativePath)));
  }

  @Override
  public void killAndRemoveTree(String relativePath, dev.paddock.sandbox.linux.LinuxSyscalls linux) throws CgroupException {
    CgroupFiles.killAndRemoveTree(root.resolve(CgroupFiles.checkRelative(relativePath)), linux);
  }

  @Override
  public String describe() {
    return "cgroup v2";
  }

  private static final class V2Group implements Cgroup {
    private final Path dir;
    private final KeptCounterFile memoryEvents;
    private final KeptCounterFile pidsEvents;

    V2Group(Path dir) {
      this.dir = dir;
      this.memoryEvents = new KeptCounterFile(dir.resolve("memory.events"));
      this.pidsEvents = new KeptCounterFile(dir.resolve("pids.events"));
    }

    @Override
    public List<Path> procsFiles() {
      return List.of(dir.resolve("cgroup.procs"));
    }

    @Override
    public List<Long> pids() throws CgroupException {
      return CgroupFiles.pids(dir.resolve("cgroup.procs"));
    }

    @Override
    public LimitEvents limitEvents() throws CgroupException {
      return new LimitEvents(memoryEvents.keyed("oom_kill"), pidsEvents.keyed("max"));
    }

    @Override
    public Usage usage() throws CgroupException {
      return new Usage(CgroupFiles.number(dir.resolve("memory.current")), CgroupFiles.number(dir.resolve("pids.current")));
    }

    @Override
    public boolean killAll(LinuxSyscalls linux) throws CgroupException {
      Path kill = dir.resolve("cgroup.kill");
      if (Files.exists(kill)) {
        CgroupFiles.write(kill, "1"); // Linux 5.14+: the kernel kills the whole group at once
      }
      return CgroupFiles.killLoop(dir.resolve("cgroup.procs"), linux);
    }

    @Override
    public void remove() throws CgroupException {
      memoryEvents.close();
      pidsEvents.close();
      CgroupFiles.rmdir(dir);
    }

    @Override
    public String toString() {
      return "cgroup v2 " + dir;
    }
  }
}
