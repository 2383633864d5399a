package dev.paddock.sandbox.jail;

import dev.paddock.ipc.jail.v1.Exited;
import dev.paddock.ipc.jail.v1.SpawnFailed;
import dev.paddock.policy.Syscall;
import dev.paddock.sandbox.ResourceUsage;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.cgroup.LimitEvents;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.Signal;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One process running in a live session jail: its host-side pipe ends and its outcome. The real
 * {@link JailProcess}.
 *
 * <p>The outcome is decided here, from facts the tenant cannot forge: the host's own timer, the
 * session cgroup's OOM and pids counters, and the kernel's seccomp audit record found by the host
 * pid that the kernel itself reports for the pidfd init sent. What init reports (exit code or
 * signal, rusage) can only be wrong about the tenant's own session, and is never parsed from text.
 */
public final class JailExec implements JailProcess {
  /** Why the host killed the exec, if it did. */
  enum HostKill { NONE, TIMEOUT, CANCEL }

  private final long number;
  private final ExecCommand command;
  private final SessionJail jail;
  private final Fd stdin;
  private final Fd stdout;
  private final Fd stderr;
  private final Optional<Fd> ipc;
  private final long startNanos = System.nanoTime();
  private final LimitEvents countersAtStart;
  private final CompletableFuture<Boolean> started = new CompletableFuture<>();
  private final CompletableFuture<SandboxResult> result = new CompletableFuture<>();
  private final AtomicReference<HostKill> hostKill = new AtomicReference<>(HostKill.NONE);
  private volatile String cancelReason = "";
  private volatile long hostPid = -1;
  private volatile ScheduledFuture<?> deadline;

  JailExec(long number, ExecCommand command, SessionJail jail, Fd stdin, Fd stdout, Fd stderr, Optional<Fd> ipc,
      LimitEvents countersAtStart) {
    this.number = number;
    this.command = command;
    this.jail = jail;
    this.stdin = stdin;
    this.stdout = stdout;
    this.stderr = stderr;
    this.ipc = ipc;
    this.countersAtStart = countersAtStart;
  }

  /** The host's number of this exec within its session. */
  @Override
  public long number() {
    return number;
  }

  /** The write end of the process's stdin pipe (blocking); the caller writes and closes it. */
  @Override
  public Fd stdin() {
    return stdin;
  }

  /** The read end of the process's stdout pipe (blocking); closed by the caller when done. */
  @Override
  public Fd stdout() {
    return stdout;
  }

  /** The read end of the process's stderr pipe. */
  @Override
  public Fd stderr() {
    return stderr;
  }

  @Override
  public Optional<Fd> ipc() {
    return ipc;
  }

  /** Completes true once the program runs, false when it could not be started (see {@link #result()}). */
  @Override
  public CompletableFuture<Boolean> started() {
    return started;
  }

  /** Completes once, with how the exec ended. */
  @Override
  public CompletableFuture<SandboxResult> result() {
    return result;
  }

  /** The main process's host pid, once known (from the pidfd init sent with Started). */
  public OptionalLong hostPid() {
    long p = hostPid;
    return p > 0 ? OptionalLong.of(p) : OptionalLong.empty();
  }

  /**
   * Sends {@code signal} to the exec: with {@code tree}, its process group and process session.
   * A signal a caller sends is not a host kill: the exec ends as SIGNALED.
   */
  @Override
  public void signal(Signal signal, boolean tree) {
    jail.sendKill(this, signal.number(), tree);
  }

  /** Kills the exec's tree on the host's behalf; it ends as KILLED with {@code reason}. */
  @Override
  public void cancel(String reason) {
    if (hostKill.compareAndSet(HostKill.NONE, HostKill.CANCEL)) {
      cancelReason = reason;
      jail.killTree(this);
    }
  }

  void armDeadline(ScheduledFuture<?> deadline) {
    this.deadline = deadline;
  }

  /** The wall-time limit passed. */
  void timedOut() {
    if (hostKill.compareAndSet(HostKill.NONE, HostKill.TIMEOUT)) {
      jail.killTree(this);
    }
  }

  void onStarted(long hostPid) {
    this.hostPid = hostPid;
    started.complete(true);
  }

  void onSpawnFailed(SpawnFailed failed) {
    cancelDeadline();
    started.complete(false);
    result.complete(SandboxResult.setupError(SpawnFailures.reason(failed)));
  }

  void onExited(Exited exited, LimitEvents countersNow, OptionalInt violationSyscall) {
    cancelDeadline();
    started.complete(true);
    result.complete(classify(exited, countersNow, violationSyscall));
  }

  /** The jail died under the exec (session closed, jail failed): it is gone with it. */
  void onJailGone(String reason, boolean hostClosed) {
    cancelDeadline();
    started.complete(false);
    ResourceUsage usage = new ResourceUsage(elapsed(), Duration.ZERO, Duration.ZERO, 0);
    if (hostKill.get() == HostKill.TIMEOUT) {
      result.complete(SandboxResult.timeout(command.wallTime().toMillis(), usage));
    } else if (hostClosed) {
      result.complete(SandboxResult.killed(hostKill.get() == HostKill.CANCEL ? cancelReason : reason, usage));
    } else {
      result.complete(SandboxResult.internalError(reason, usage));
    }
  }

  private void cancelDeadline() {
    ScheduledFuture<?> d = deadline;
    if (d != null) {
      d.cancel(false);
    }
  }

  private Duration elapsed() {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  /**
   * Whether {@link #classify} looks at the cgroup's counters for this exit: only a SIGKILL (an OOM
   * kill?) and a non-zero exit (a fork refused at the process limit?) need them.
   */
  static boolean outcomeReadsCounters(Exited exited) {
    int signal = exited.getSignal();
    return signal == Signal.SIGKILL.number() || signal == 0 && exited.getExitCode() != 0;
  }

  private SandboxResult classify(Exited exited, LimitEvents now, OptionalInt violationSyscall) {
    ResourceUsage usage = new ResourceUsage(elapsed(), Duration.ofNanos(exited.getUserMicros() * 1000),
        Duration.ofNanos(exited.getSystemMicros() * 1000), exited.getMaxRssKib() * 1024);
    int signal = exited.getSignal();
    switch (hostKill.get()) {
      case TIMEOUT:
        return SandboxResult.timeout(command.wallTime().toMillis(), usage);
      case CANCEL:
        return SandboxResult.killed(cancelReason, usage);
      default:
        break;
    }
    if (signal == Signal.SIGSYS.number()) {
      return SandboxResult.violation(syscallName(violationSyscall), usage);
    }
    if (signal == Signal.SIGXCPU.number() || (signal == Signal.SIGKILL.number() && cpuLimitReached(usage))) {
      return SandboxResult.cpuTimeout(command.cpuSeconds(), usage);
    }
    if (signal == Signal.SIGKILL.number() && now.oomKills() > countersAtStart.oomKills()) {
      return SandboxResult.oom(jail.memoryLimitBytes(), usage);
    }
    if (signal != 0) {
      String name = Signal.of(signal).map(Enum::name).orElse("signal " + signal);
      return SandboxResult.signaled(signal, "killed by " + name, usage);
    }
    int code = exited.getExitCode();
    if (code != 0 && now.pidsLimitHits() > countersAtStart.pidsLimitHits()) {
      return SandboxResult.pidsExhausted(code, jail.maxProcesses(), usage);
    }
    return SandboxResult.ok(code, usage);
  }

  private boolean cpuLimitReached(ResourceUsage usage) {
    long limit = command.cpuSeconds() * 1000;
    return limit > 0 && usage.cpuUser().plus(usage.cpuSystem()).toMillis() >= limit - 50;
  }

  private static String syscallName(OptionalInt number) {
    if (number.isEmpty()) {
      return "unknown";
    }
    int n = number.getAsInt();
    return Syscall.byX8664Number(n).map(Syscall::kernelName).orElse("syscall_" + n);
  }
}
