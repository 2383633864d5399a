package dev.paddock.runtime.e2e;

import dev.paddock.sandbox.cgroup.CgroupLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * What a host holds on this machine, counted from outside the host's code: for leak checks.
 *
 * @param fds            open descriptors of this JVM (/proc/self/fd)
 * @param jailProcesses  live descendants of this JVM whose command line names nsjail or paddock-init
 * @param mounts         lines of this JVM's /proc/self/mountinfo
 * @param cgroupDirs     directories at or below the host's cgroup root, summed over the v1 hierarchies
 * @param cgroupProcs    processes in the host's cgroup subtree (pids hierarchy)
 * @param scratchEntries entries in {@code <data-dir>/scratch}
 */
record HostFootprint(int fds, int jailProcesses, int mounts, int cgroupDirs, int cgroupProcs, int scratchEntries) {
  static final Path CGROUPS = Path.of("/sys/fs/cgroup");
  static final List<String> HIERARCHIES = List.of("memory", "pids", "cpu", "cpuacct");
  /** How long cleanup (in the background, after CloseSession returns) may take to settle. */
  static final long SETTLE_MILLIS = 15_000;

  /** The footprint of the host serving {@code dataDir} from this JVM. */
  static HostFootprint of(Path dataDir) throws IOException {
    String root = CgroupLayout.forDataDir(dataDir).hostRoot();
    return new HostFootprint(count(Path.of("/proc/self/fd")), jailDescendants(ProcessHandle.current()).size(),
        Files.readAllLines(Path.of("/proc/self/mountinfo")).size(), cgroupDirs(root).size(), cgroupPids(root).size(),
        count(dataDir.resolve("scratch")));
  }

  /** Live nsjail and paddock-init processes descended from {@code parent}. */
  static List<ProcessHandle> jailDescendants(ProcessHandle parent) {
    return descendants(parent, cmd -> cmd.contains("nsjail") || cmd.contains("paddock-init"));
  }

  /** Live (not zombie) descendants of {@code parent} whose command line matches. */
  static List<ProcessHandle> descendants(ProcessHandle parent, Predicate<String> cmdline) {
    List<ProcessHandle> found = new ArrayList<>();
    parent.descendants().forEach(p -> {
      if (running(p) && cmdline.test(cmdline(p.pid()))) {
        found.add(p);
      }
    });
    return found;
  }

  /** True while {@code p} runs: a zombie (exited, not yet reaped by whoever adopted it) does not count. */
  static boolean running(ProcessHandle p) {
    if (!p.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException e) {
      return false;
    }
  }

  static String cmdline(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
          .replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }

  /** Every directory at or below {@code relativeRoot}, in every hierarchy, as "hierarchy/path". */
  static List<String> cgroupDirs(String relativeRoot) throws IOException {
    List<String> dirs = new ArrayList<>();
    for (String h : HIERARCHIES) {
      Path top = CGROUPS.resolve(h);
      Path root = top.resolve(relativeRoot);
      if (!Files.isDirectory(root)) {
        continue;
      }
      try (Stream<Path> walk = Files.walk(root)) {
        walk.filter(Files::isDirectory).forEach(d -> dirs.add(h + "/" + top.relativize(d)));
      } catch (java.io.UncheckedIOException e) {
        if (!(e.getCause() instanceof NoSuchFileException)) {
          throw e; // a group removed while walking is fine: it is gone
        }
      }
    }
    return dirs;
  }

  /** Pids in the pids-hierarchy groups at or below {@code relativeRoot}. */
  static List<Long> cgroupPids(String relativeRoot) throws IOException {
    List<Long> pids = new ArrayList<>();
    for (String dir : cgroupDirs(relativeRoot)) {
      if (!dir.startsWith("pids/")) {
        continue;
      }
      try {
        for (String line : Files.readAllLines(CGROUPS.resolve(dir).resolve("cgroup.procs"))) {
          if (!line.isBlank()) {
            pids.add(Long.parseLong(line.trim()));
          }
        }
      } catch (NoSuchFileException gone) {
        // removed meanwhile
      }
    }
    return pids;
  }

  /** Entries directly in {@code dir}; 0 when it does not exist. */
  static int count(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> entries = Files.list(dir)) {
      return (int) entries.count();
    }
  }

  /**
   * The footprint of the host serving {@code dataDir} once background cleanup is done: equal to
   * {@code target} when given, else unchanged over half a second; the last reading after
   * {@link #SETTLE_MILLIS} if neither happens.
   */
  static HostFootprint settled(Path dataDir, HostFootprint target) throws Exception {
    HostFootprint[] last = {of(dataDir)};
    await(SETTLE_MILLIS, () -> {
      Thread.sleep(500);
      HostFootprint now = of(dataDir);
      boolean done = target != null ? now.equals(target) : now.equals(last[0]);
      last[0] = now;
      return done;
    });
    return last[0];
  }

  /** Polls {@code done} every 100 ms for up to {@code millis}; returns its last answer. */
  static boolean await(long millis, CheckedCondition done) throws Exception {
    long end = System.nanoTime() + millis * 1_000_000;
    while (!done.holds()) {
      if (System.nanoTime() > end) {
        return false;
      }
      Thread.sleep(100);
    }
    return true;
  }

  @FunctionalInterface
  interface CheckedCondition {
    boolean holds() throws Exception;
  }
}
