package dev.paddock.sandbox.cgroup;

import dev.paddock.policy.Limits;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Creates limited cgroups under a host-owned subtree. Two implementations: {@link CgroupV1Driver}
 * (separate memory, pids, cpu and cpuacct hierarchies, as on these build machines) and
 * {@link CgroupV2Driver} (the unified hierarchy most production hosts run).
 *
 * <p>Groups nest by path: {@code paddock/<tenant>/<session>/<exec>}. Limits set on an ancestor hold
 * for all its descendants, so tenant-wide budgets can be enforced by the kernel.
 */
public interface CgroupDriver {

  /**
   * Creates the group at {@code relativePath} (creating missing ancestors with no limits) and sets
   * {@code limits}' memory, process and CPU limits on it.
   */
  Cgroup create(String relativePath, Limits limits) throws CgroupException;

  /** Removes the group at {@code relativePath} and every empty group below it; missing is fine. */
  void removeTree(String relativePath) throws CgroupException;

  /**
   * Kills every process in the group at {@code relativePath} and below, then removes the groups;
   * missing is fine. For leftovers of a host that died without cleaning up.
   */
  void killAndRemoveTree(String relativePath, dev.paddock.sandbox.linux.LinuxSyscalls linux) throws CgroupException;

  /** "cgroup v1" or "cgroup v2", for logs and health output. */
  String describe();

  /**
   * The driver for this host: v2 when the unified hierarchy at {@code root} offers the memory and
   * pids controllers, else v1 when {@code root} has writable memory and pids hierarchies.
   *
   * @throws CgroupException when neither is usable: the host must then refuse to run sandboxes,
   *     since their limits could not hold
   */
  static CgroupDriver detect(Path root) throws CgroupException {
    Path controllers = root.resolve("cgroup.controllers");
    try {
      if (Files.isReadable(controllers)) {
        String available = Files.readString(controllers);
        if (available.contains("memory") && available.contains("pids")) {
          return new CgroupV2Driver(root);
        }
      }
    } catch (java.io.IOException e) {
      throw new CgroupException("cannot read " + controllers, e);
    }
    if (Files.isWritable(root.resolve("memory")) && Files.isWritable(root.resolve("pids"))) {
      return new CgroupV1Driver(root);
    }
    throw new CgroupException(
        "no usable cgroup hierarchy under " + root
            + ": need cgroup v2 with memory and pids controllers, or writable v1 memory and pids"
            + " hierarchies (run as root, or delegate a subtree)");
  }
}
