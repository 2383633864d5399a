package dev.paddock.sandbox.linux;

import java.util.Optional;

/** Linux signals by number (x86_64 and arm64 agree on these). */
public enum Signal {
  SIGHUP(1),
  SIGINT(2),
  SIGQUIT(3),
  SIGILL(4),
  SIGTRAP(5),
  SIGABRT(6),
  SIGBUS(7),
  SIGFPE(8),
  SIGKILL(9),
  SIGUSR1(10),
  SIGSEGV(11),
  SIGUSR2(12),
  SIGPIPE(13),
  SIGALRM(14),
  SIGTERM(15),
  SIGCHLD(17),
  SIGCONT(18),
  SIGSTOP(19),
  SIGXCPU(24),
  SIGXFSZ(25),
  SIGSYS(31);

  private final int number;

  Signal(int number) {
    this.number = number;
  }

  /** The signal number. */
  public int number() {
    return number;
  }

  /** The signal with this number, if it is one listed here. */
  public static Optional<Signal> of(int number) {
    for (Signal s : values()) {
      if (s.number == number) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }
}
