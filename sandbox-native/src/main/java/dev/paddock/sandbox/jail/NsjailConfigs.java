package dev.paddock.sandbox.jail;

import com.google.protobuf.TextFormat;
import dev.paddock.ipc.nsjail.Exe;
import dev.paddock.ipc.nsjail.IdMap;
import dev.paddock.ipc.nsjail.LogLevel;
import dev.paddock.ipc.nsjail.Mode;
import dev.paddock.ipc.nsjail.MountPt;
import dev.paddock.ipc.nsjail.NsJailConfig;
import dev.paddock.ipc.nsjail.RLimit;
import dev.paddock.policy.KafelPolicy;
import dev.paddock.policy.Limits;
import dev.paddock.policy.Mount;
import dev.paddock.policy.SandboxPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The nsjail configuration of one session jail, as nsjail's own config message printed with
 * protobuf's {@link TextFormat} (no hand-built text, no hand-written escaping).
 *
 * <p>The jail: every namespace (user, pid, mount, network, ipc, uts, cgroup); uid and gid 1000
 * inside mapped to the unprivileged sandbox user outside; the policy's read-only system mounts; a
 * few device nodes; a private {@code /tmp} and the {@code /workspace} tmpfs, both size- and
 * inode-limited by the kernel; the policy's seccomp filter; fd 3 passed through to paddock-init,
 * which nsjail opens on the host and executes by descriptor. nsjail's own wall-time limit is off:
 * the host ends sessions and enforces every exec's time itself.
 *
 * <p>rlimits: address space unlimited (V8 and friends reserve huge ranges; memory is held by the
 * session's cgroup), CPU and file size unlimited for init (each exec gets its own from init), open
 * files at nsjail's own hard limit so init can hand each exec up to that, processes at the hard
 * limit (RLIMIT_NPROC counts per host uid across every jail, so the cgroup's pids.max is the real
 * bound).
 */
final class NsjailConfigs {
  static final String WORKSPACE = "/workspace";
  /** Device nodes every program expects; bind-mounted read-only (writing a device node still works). */
  private static final List<String> DEVICES = List.of("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom");
  /** The control channel's descriptor number inside the jail. */
  static final int CONTROL_FD = 3;

  private NsjailConfigs() {}

  /** The config of a session jail running {@code policy} with a workspace of {@code workspace}. */
  static NsJailConfig session(JailConfig host, SandboxPolicy policy, WorkspaceLimits workspace, Path logFile) {
    Limits limits = policy.limits();
    NsJailConfig.Builder c = NsJailConfig.newBuilder()
        .setMode(Mode.ONCE)
        .setHostname("paddock")
        .setCwd(WORKSPACE)
        .setTimeLimit(0)
        .setLogFile(logFile.toString())
        .setLogLevel(LogLevel.INFO)
        .addPassFd(CONTROL_FD)
        .setRlimitAsType(RLimit.INF)
        .setRlimitCpuType(RLimit.INF)
        .setRlimitFsizeType(RLimit.INF)
        .setRlimitNofileType(RLimit.HARD)
        .setRlimitNprocType(RLimit.HARD)
        .setCloneNewcgroup(true)
        .addUidmap(idMap(host.outsideUid()))
        .addGidmap(idMap(host.outsideGid()))
        .setMountProc(true);
    for (Mount m : policy.mounts()) {
      if (m.optional() && !Files.exists(m.hostPath())) {
        continue;
      }
      c.addMount(MountPt.newBuilder().setSrc(m.hostPath().toString()).setDst(m.sandboxPath().toString())
          .setIsBind(true).setRw(m.writable()).setNosuid(true).setNodev(true));
    }
    for (JailConfig.SdkMount m : host.sdkMounts()) {
      if (Files.isDirectory(m.hostPath())) {
        c.addMount(MountPt.newBuilder().setSrc(m.hostPath().toString()).setDst(m.jailPath())
            .setIsBind(true).setRw(false).setNosuid(true).setNodev(true));
      }
    }
    for (String device : DEVICES) {
      c.addMount(MountPt.newBuilder().setSrc(device).setDst(device).setIsBind(true).setIsDir(false).setRw(true).setNosuid(true));
    }
    c.addMount(symlink("/proc/self/fd", "/dev/fd"));
    c.addMount(symlink("/proc/self/fd/0", "/dev/stdin"));
    c.addMount(symlink("/proc/self/fd/1", "/dev/stdout"));
    c.addMount(symlink("/proc/self/fd/2", "/dev/stderr"));
    c.addMount(tmpfs("/tmp", "size=" + limits.tmpfsBytes() + ",mode=1777"));
    c.addMount(tmpfs(WORKSPACE, "size=" + workspace.bytes() + ",nr_inodes=" + workspace.inodes()
        + ",mode=0700,uid=" + JailConfig.INSIDE_ID + ",gid=" + JailConfig.INSIDE_ID));
    c.addSeccompString(KafelPolicy.compile(policy.seccomp()));
    c.setExecBin(Exe.newBuilder().setPath(host.init().toString()).setExecFd(true));
    return c.build();
  }

  /**
   * The benchmark's baseline ({@link JailLauncher#baselineConfigText}): {@link #session} with
   * {@code /bin/true} as the program and no descriptor passed.
   */
  static NsJailConfig baseline(JailConfig host, SandboxPolicy policy, WorkspaceLimits workspace, Path logFile) {
    return session(host, policy, workspace, logFile).toBuilder()
        .clearPassFd()
        .setExecBin(Exe.newBuilder().setPath("/bin/true"))
        .build();
  }

  /** The text nsjail reads with {@code --config}. */
  static String text(NsJailConfig config) {
    return TextFormat.printer().printToString(config);
  }

  private static IdMap idMap(int outside) {
    return IdMap.newBuilder().setInsideId(Integer.toString(JailConfig.INSIDE_ID))
        .setOutsideId(Integer.toString(outside)).setCount(1).build();
  }

  private static MountPt symlink(String target, String link) {
    return MountPt.newBuilder().setSrc(target).setDst(link).setIsSymlink(true).build();
  }

  private static MountPt tmpfs(String dst, String options) {
    return MountPt.newBuilder().setDst(dst).setFstype("tmpfs").setOptions(options).setRw(true).setIsDir(true)
        .setNosuid(true).setNodev(true).build();
  }
}
