package dev.paddock.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * What the bench reports about the machine it runs on, and small /proc and cgroup readers. Only
 * reads: the bench never remounts or retunes a cgroup hierarchy (docs ENVIRONMENT.md).
 */
final class Machine {
  static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

  private Machine() {}

  /** Prints cpus, kernel, memory, Java, and every cgroup mount with its options. */
  static void describe(PrintStream out, Path nsjail) {
    out.println(line());
    out.println("nsjail: " + nsjail);
    List<String> cgroupMounts = cgroupMounts();
    out.println("cgroup mounts (/proc/mounts, read only; nothing remounted or retuned by this run):");
    for (String m : cgroupMounts) {
      out.println("  " + m);
    }
    List<String> favoring = cgroupMounts.stream().filter(m -> m.contains("favordynmods")).toList();
    if (favoring.isEmpty()) {
      out.println("favordynmods: no cgroup mount in /proc/mounts has it: default kernel, no favordynmods"
          + " (a mount made and unmounted earlier in this boot would not show here)");
    } else {
      out.println("favordynmods: FOUND on " + favoring.size() + " cgroup mount(s): NOT a default kernel state;"
          + " cgroup joins are cheaper than on a default kernel");
    }
    out.println("kernel build (/proc/config.gz): " + kernelConfig("CONFIG_HZ", "CONFIG_CGROUP_FAVOR_DYNMODS"));
    out.println("memory.use_hierarchy (v1 root): " + readOr(CGROUP_ROOT.resolve("memory/memory.use_hierarchy"), "n/a"));
  }

  /** One line: cpus, kernel, memory, uptime, Java. */
  static String line() {
    return String.format(Locale.ROOT, "machine: nproc=%d, kernel %s, %s, booted %s; %s %s",
        Runtime.getRuntime().availableProcessors(), read("/proc/sys/kernel/osrelease"), memTotal(), bootTime(),
        System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"));
  }

  /** The named options of the running kernel's build, as /proc/config.gz has them. */
  private static String kernelConfig(String... names) {
    Path config = Path.of("/proc/config.gz");
    if (!Files.isReadable(config)) {
      return "not available";
    }
    List<String> found = new ArrayList<>();
    try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(
        new java.util.zip.GZIPInputStream(Files.newInputStream(config)), java.nio.charset.StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        for (String name : names) {
          if (line.startsWith(name + "=") || line.equals("# " + name + " is not set")) {
            found.add(line.startsWith("# ") ? name + " not set" : line);
          }
        }
      }
    } catch (IOException e) {
      return "unreadable: " + e.getMessage();
    }
    return found.isEmpty() ? "none of " + String.join(", ", names) : String.join(", ", found);
  }

  static List<String> cgroupMounts() {
    List<String> found = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
        String[] f = line.split(" ");
        if (f.length >= 4 && (f[2].equals("cgroup") || f[2].equals("cgroup2"))) {
          found.add(f[1] + " " + f[2] + " " + f[3]);
        }
      }
    } catch (IOException e) {
      found.add("(cannot read /proc/mounts: " + e.getMessage() + ")");
    }
    return found;
  }

  /** The directory of {@code relativePath} in the memory controller (v1 hierarchy or v2 unified). */
  static Path memoryGroup(String relativePath) {
    Path v1 = CGROUP_ROOT.resolve("memory");
    return Files.isDirectory(v1) ? v1.resolve(relativePath) : CGROUP_ROOT.resolve(relativePath);
  }

  /** memory.usage_in_bytes (v1) or memory.current (v2) of a memory group, or -1. */
  static long memoryUsage(Path group) {
    for (String name : List.of("memory.usage_in_bytes", "memory.current")) {
      Path f = group.resolve(name);
      if (Files.isReadable(f)) {
        try {
          return Long.parseLong(Files.readString(f).trim());
        } catch (IOException | NumberFormatException e) {
          return -1;
        }
      }
    }
    return -1;
  }

  /** Pids in a group's cgroup.procs (empty when the group is gone). */
  static List<Long> pids(Path group) {
    List<Long> pids = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(group.resolve("cgroup.procs"))) {
        if (!line.isBlank()) {
          pids.add(Long.parseLong(line.trim()));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // gone
    }
    return pids;
  }

  /** Child directories (groups) of a group. */
  static List<Path> children(Path group) {
    if (!Files.isDirectory(group)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(group)) {
      return s.filter(Files::isDirectory).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** A "Key:  123 kB" field of a /proc file, in bytes, or 0 when the process is gone. */
  static long procKb(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key + ":")) {
          String[] f = line.substring(key.length() + 1).trim().split("\\s+");
          return Long.parseLong(f[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return 0;
  }

  static long vmRss(long pid) {
    return procKb(Path.of("/proc", Long.toString(pid), "status"), "VmRSS");
  }

  static long pss(long pid) {
    return procKb(Path.of("/proc", Long.toString(pid), "smaps_rollup"), "Pss");
  }

  /** A process's command name (/proc/pid/comm), or "?" when it is gone. */
  static String comm(long pid) {
    return readOr(Path.of("/proc", Long.toString(pid), "comm"), "?");
  }

  static long memAvailable() {
    return procKb(Path.of("/proc/meminfo"), "MemAvailable");
  }

  /** Pids of the live direct children of this JVM. */
  static List<Long> ownChildren() {
    return ProcessHandle.current().children().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList();
  }

  static String loadAverage() {
    String[] f = read("/proc/loadavg").split("\\s+");
    return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "unknown";
  }

  private static String memTotal() {
    long total = procKb(Path.of("/proc/meminfo"), "MemTotal");
    return String.format(Locale.ROOT, "%.1f GiB RAM (%.1f GiB available)", total / (double) (1L << 30),
        memAvailable() / (double) (1L << 30));
  }

  private static String bootTime() {
    try {
      double up = Double.parseDouble(read("/proc/uptime").split("\\s+")[0]);
      return String.format(Locale.ROOT, "%.0f min ago", up / 60);
    } catch (RuntimeException e) {
      return "unknown";
    }
  }

  private static String read(String file) {
    return readOr(Path.of(file), "unknown");
  }

  private static String readOr(Path file, String otherwise) {
    try {
      return Files.readString(file).trim();
    } catch (IOException e) {
      return otherwise;
    }
  }

  /**
   * Busy time of the whole machine (/proc/stat), of this process with its reaped children
   * (/proc/self/stat utime+stime+cutime+cstime: the host, the client and the baseline's nsjail
   * runs) and of the host's jails (cpuacct.usage of the host's cgroup subtree: nsjail, init and
   * every exec), to tell whether something else competed for the CPUs. In clock ticks (USER_HZ,
   * assumed 100).
   */
  record CpuTicks(long total, long busy, long self, long jails) {
    private static final double NANOS_PER_TICK = 1e7;

    static CpuTicks now(String hostCgroup) {
      try {
        String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < cpu.length && i <= 8; i++) {
          total += Long.parseLong(cpu[i]);
        }
        long idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]);
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        // after "(comm) ": f[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17
        long self = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
        long jails = 0;
        Path usage = CGROUP_ROOT.resolve("cpuacct").resolve(hostCgroup).resolve("cpuacct.usage");
        if (Files.isReadable(usage)) {
          jails = Math.round(Long.parseLong(Files.readString(usage).trim()) / NANOS_PER_TICK);
        }
        return new CpuTicks(total, total - idle, self, jails);
      } catch (IOException | RuntimeException e) {
        return new CpuTicks(0, 0, 0, 0);
      }
    }

    /** Share of all cpus (100% = every cpu busy) used by this JVM, its reaped children and its jails. */
    double ownShare(CpuTicks before) {
      long dt = total - before.total;
      return dt <= 0 ? Double.NaN : 100.0 * ((self - before.self) + (jails - before.jails)) / dt;
    }

    /** Share of all cpus busy with anything else (other processes, kernel threads, interrupts). */
    double otherShare(CpuTicks before) {
      long dt = total - before.total;
      long own = (self - before.self) + (jails - before.jails);
      return dt <= 0 ? Double.NaN : 100.0 * Math.max(0, (busy - before.busy) - own) / dt;
    }
  }
}
