package dev.paddock.policy;

import java.nio.file.Path;

/** The policies Paddock ships with. */
public final class DefaultPolicies {
  /** errno ENOSYS: "function not implemented", which glibc answers by falling back to clone(2). */
  private static final int ENOSYS = 38;

  private DefaultPolicies() {}

  /**
   * The policy for an ordinary tool (a shell or Python program): read-only system directories,
   * nothing of the host's home, project or configuration directories; a kill-list of the syscalls
   * that matter for escaping a sandbox or attacking the kernel; default {@link Limits}.
   *
   * <p>{@code clone3} and io_uring fail with ENOSYS instead of killing: programs probe them and fall
   * back, and clone3's flags cannot be inspected by seccomp (they sit behind a pointer), so blocking
   * it is how namespace creation through clone3 is refused.
   *
   * <p>Code in the sandbox may use every {@link IpcOperation} over its IPC channel.
   */
  public static SandboxPolicy tool() {
    try {
      return toolBuilder().build();
    } catch (PolicyException e) {
      throw new IllegalStateException("the built-in tool policy is invalid", e);
    }
  }

  /**
   * {@link #tool()} without any IPC operation: a tool that may only print (and answer pings). For
   * untrusted code that must not write artifacts, read the workspace through the host or keep state.
   */
  public static SandboxPolicy isolated() {
    try {
      return confinedBuilder().build();
    } catch (PolicyException e) {
      throw new IllegalStateException("the built-in isolated policy is invalid", e);
    }
  }

  /** The builder behind {@link #tool()}, for callers that adjust it. */
  public static PolicyBuilder toolBuilder() {
    // A tool may be given the tenant's secrets in its environment when its exec asks for them.
    return confinedBuilder().allowIpc(IpcOperation.values()).allowSecretsInJail();
  }

  /** The builder behind {@link #isolated()}: the shared mounts, seccomp and limits, no IPC operation. */
  public static PolicyBuilder isolatedBuilder() {
    return confinedBuilder();
  }

  /** Mounts, seccomp and limits shared by the built-in policies; no IPC operation. */
  private static PolicyBuilder confinedBuilder() {
    PolicyBuilder builder = PolicyBuilder.create();
    // Debian's JDKs keep their configuration (java.security, logging) in /etc/java-N-openjdk,
    // linked from /usr/lib/jvm: without it a JVM in the jail cannot start.
    for (Path jdkConfig : jdkConfigDirs()) {
      builder.mountReadOnlyIfExists(jdkConfig);
    }
    return builder
        .mountReadOnly(Path.of("/usr"))
        .mountReadOnly(Path.of("/bin"))
        .mountReadOnly(Path.of("/lib"))
        .mountReadOnlyIfExists(Path.of("/lib64"))
        .mountReadOnlyIfExists(Path.of("/sbin"))
        .mountReadOnlyIfExists(Path.of("/etc/alternatives"))
        .mountReadOnlyIfExists(Path.of("/etc/ld.so.cache"))
        .mountReadOnlyIfExists(Path.of("/etc/ssl/certs"))
        .mountReadOnlyIfExists(Path.of("/etc/localtime"))
        .killOn(
            Syscall.PTRACE, Syscall.PROCESS_VM_READV, Syscall.PROCESS_VM_WRITEV,
            Syscall.MOUNT, Syscall.UMOUNT2, Syscall.PIVOT_ROOT, Syscall.CHROOT,
            Syscall.OPEN_TREE, Syscall.MOVE_MOUNT, Syscall.FSOPEN, Syscall.FSCONFIG,
            Syscall.FSMOUNT, Syscall.FSPICK, Syscall.MOUNT_SETATTR,
            Syscall.UNSHARE, Syscall.SETNS,
            Syscall.BPF, Syscall.PERF_EVENT_OPEN, Syscall.USERFAULTFD,
            Syscall.KEYCTL, Syscall.ADD_KEY, Syscall.REQUEST_KEY,
            Syscall.KEXEC_LOAD, Syscall.KEXEC_FILE_LOAD,
            Syscall.INIT_MODULE, Syscall.FINIT_MODULE, Syscall.DELETE_MODULE,
            Syscall.NAME_TO_HANDLE_AT, Syscall.OPEN_BY_HANDLE_AT,
            Syscall.IOPL, Syscall.IOPERM, Syscall.SWAPON, Syscall.SWAPOFF, Syscall.REBOOT,
            Syscall.ACCT, Syscall.QUOTACTL, Syscall.LOOKUP_DCOOKIE, Syscall.SYSLOG,
            Syscall.SETTIMEOFDAY, Syscall.CLOCK_SETTIME, Syscall.ADJTIMEX, Syscall.CLOCK_ADJTIME,
            Syscall.VHANGUP, Syscall.USELIB)
        .failWithErrno(Syscall.CLONE3, ENOSYS)
        .failWithErrno(Syscall.IO_URING_SETUP, ENOSYS)
        .failWithErrno(Syscall.IO_URING_ENTER, ENOSYS)
        .failWithErrno(Syscall.IO_URING_REGISTER, ENOSYS);
  }

  /** The /etc/java-* directories of this host, sorted; none when /etc cannot be listed. */
  private static java.util.List<Path> jdkConfigDirs() {
    try (java.util.stream.Stream<Path> etc = java.nio.file.Files.list(Path.of("/etc"))) {
      return etc.filter(p -> p.getFileName().toString().startsWith("java-") && java.nio.file.Files.isDirectory(p))
          .sorted().toList();
    } catch (java.io.IOException | SecurityException e) {
      return java.util.List.of();
    }
  }
}
