package dev.paddock.policy;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Linux syscalls a policy can name, with their x86_64 numbers.
 *
 * <p>Only the syscalls a policy acts on are listed: the default policy allows everything else. The
 * numbers let the host name the syscall behind a seccomp kill, which the kernel reports by number
 * only. Names are the kernel's (and Kafel's) spelling.
 */
public enum Syscall {
  PTRACE(101),
  SYSLOG(103),
  PERSONALITY(135),
  USELIB(134),
  VHANGUP(153),
  PIVOT_ROOT(155),
  ADJTIMEX(159),
  CHROOT(161),
  ACCT(163),
  SETTIMEOFDAY(164),
  MOUNT(165),
  UMOUNT2(166),
  SWAPON(167),
  SWAPOFF(168),
  REBOOT(169),
  SETHOSTNAME(170),
  SETDOMAINNAME(171),
  IOPL(172),
  IOPERM(173),
  INIT_MODULE(175),
  DELETE_MODULE(176),
  QUOTACTL(179),
  LOOKUP_DCOOKIE(212),
  CLOCK_SETTIME(227),
  KEXEC_LOAD(246),
  ADD_KEY(248),
  REQUEST_KEY(249),
  KEYCTL(250),
  UNSHARE(272),
  PERF_EVENT_OPEN(298),
  NAME_TO_HANDLE_AT(303),
  OPEN_BY_HANDLE_AT(304),
  CLOCK_ADJTIME(305),
  SETNS(308),
  PROCESS_VM_READV(310),
  PROCESS_VM_WRITEV(311),
  FINIT_MODULE(313),
  KEXEC_FILE_LOAD(320),
  BPF(321),
  USERFAULTFD(323),
  IO_URING_SETUP(425),
  IO_URING_ENTER(426),
  IO_URING_REGISTER(427),
  OPEN_TREE(428),
  MOVE_MOUNT(429),
  FSOPEN(430),
  FSCONFIG(431),
  FSMOUNT(432),
  FSPICK(433),
  CLONE3(435),
  MOUNT_SETATTR(442);

  private static final Map<Integer, Syscall> BY_NUMBER = new HashMap<>();

  static {
    for (Syscall s : values()) {
      BY_NUMBER.put(s.x8664Number, s);
    }
  }

  private final int x8664Number;

  Syscall(int x8664Number) {
    this.x8664Number = x8664Number;
  }

  /** The syscall number on x86_64. */
  public int x8664Number() {
    return x8664Number;
  }

  /** The kernel's name of this syscall, for example {@code "ptrace"}. */
  public String kernelName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The syscall with this x86_64 number, if a policy can name it. */
  public static Optional<Syscall> byX8664Number(int number) {
    return Optional.ofNullable(BY_NUMBER.get(number));
  }
}
