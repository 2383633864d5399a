package dev.paddock.runtime.testing;

import dev.paddock.sandbox.ResourceUsage;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.jail.ExecCommand;
import dev.paddock.sandbox.jail.JailProcess;
import dev.paddock.sandbox.linux.Errno;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import dev.paddock.sandbox.linux.Signal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fake {@link JailProcess}: a {@link Script} on its own thread behind three real pipes, so the
 * host reads, writes and polls them exactly as it does a jailed program's. Keeps the real one's
 * contract: the host's pipe ends are the caller's to close; {@link #started()} completes before
 * {@link #result()}; both always complete; a host kill (cancel or the wall-time limit) decides the
 * result whatever the program did, and the first one wins.
 *
 * <p>For assertions it records the signals it was sent, the cancel reason, and how often its
 * output found the pipe full (the host's flow control holding the program back).
 */
public final class FakeJailProcess implements JailProcess {
  private static final Logger log = LoggerFactory.getLogger(FakeJailProcess.class);
  /** How often a blocked program call looks for a kill, ms. */
  private static final int KILL_CHECK_MILLIS = 20;

  /** Why the host killed the process, if it did (JailExec's host kills, plus the jail going down). */
  private sealed interface HostKill permits Cancel, TimedOut, JailGone {}

  private record Cancel(String reason) implements HostKill {}

  private record TimedOut() implements HostKill {}

  private record JailGone() implements HostKill {}

  /** Thrown inside the script's thread when the process is killed; an Error, so scripts do not catch it by accident. */
  private static final class Killed extends Error {
    private static final long serialVersionUID = 1L;

    Killed() {
      super("killed", null, false, false);
    }
  }

  private final long number;
  private final ExecCommand command;
  private final FakeJail jail;
  private final LinuxSyscalls linux;
  private final Fd hostStdin;
  private final Fd hostStdout;
  private final Fd hostStderr;
  private final Fd programStdin;
  private final Fd programStdout;
  private final Fd programStderr;
  private final long startNanos = System.nanoTime();
  private final CompletableFuture<Boolean> started = new CompletableFuture<>();
  private final CompletableFuture<SandboxResult> result = new CompletableFuture<>();
  private final AtomicReference<HostKill> hostKill = new AtomicReference<>();
  /** The signal that ended it, if one did (a caller's signal, or SIGPIPE): not a host kill. */
  private final AtomicReference<Signal> deathSignal = new AtomicReference<>();
  private final CountDownLatch killed = new CountDownLatch(1);
  private final List<Signal> signals = new ArrayList<>();
  private final AtomicInteger fullPipeWaits = new AtomicInteger();
  private volatile ScheduledFuture<?> deadline;

  /** {@code pipes}: stdin, stdout, stderr, each {read end, write end}. */
  FakeJailProcess(long number, ExecCommand command, FakeJail jail, LinuxSyscalls linux, Fd[][] pipes) {
    this.number = number;
    this.command = command;
    this.jail = jail;
    this.linux = linux;
    this.programStdin = pipes[0][0];
    this.hostStdin = pipes[0][1];
    this.hostStdout = pipes[1][0];
    this.programStdout = pipes[1][1];
    this.hostStderr = pipes[2][0];
    this.programStderr = pipes[2][1];
  }

  // ---- JailProcess ---------------------------------------------------------------------------

  @Override
  public long number() {
    return number;
  }

  @Override
  public Fd stdin() {
    return hostStdin;
  }

  @Override
  public Fd stdout() {
    return hostStdout;
  }

  @Override
  public Fd stderr() {
    return hostStderr;
  }

  @Override
  public java.util.Optional<Fd> ipc() {
    return java.util.Optional.empty();
  }

  @Override
  public CompletableFuture<Boolean> started() {
    return started;
  }

  @Override
  public CompletableFuture<SandboxResult> result() {
    return result;
  }

  /** Every signal ends the fake program (they all default to terminating it), except after it ended. */
  @Override
  public void signal(Signal signal, boolean tree) {
    if (result.isDone() || !jail.alive()) {
      return;
    }
    synchronized (signals) {
      signals.add(signal);
    }
    if (deathSignal.compareAndSet(null, signal)) {
      killed.countDown();
    }
  }

  @Override
  public void cancel(String reason) {
    if (!result.isDone()) {
      killWith(new Cancel(reason));
    }
  }

  // ---- for tests -----------------------------------------------------------------------------

  /** What the host asked to run. */
  public ExecCommand command() {
    return command;
  }

  /** Signals sent to it (and delivered: it was still running), in order. */
  public List<Signal> signals() {
    synchronized (signals) {
      return List.copyOf(signals);
    }
  }

  /** The reason of the host's cancel, if it cancelled it first. */
  public String cancelReason() {
    return hostKill.get() instanceof Cancel c ? c.reason() : null;
  }

  /** Times the program's output waited for a full pipe: the host holding it back. */
  public int fullPipeWaits() {
    return fullPipeWaits.get();
  }

  /** Waits up to 5 s for the result (fails the test if it does not come). */
  public SandboxResult awaitResult() throws Exception {
    return result.get(5, TimeUnit.SECONDS);
  }

  // ---- lifecycle (FakeJail) ------------------------------------------------------------------

  void armDeadline(ScheduledFuture<?> deadline) {
    this.deadline = deadline;
  }

  /** The wall-time limit passed. */
  void timedOut() {
    killWith(new TimedOut());
  }

  private void killWith(HostKill k) {
    if (hostKill.compareAndSet(null, k)) {
      killed.countDown();
    }
  }

  /** The program cannot start (like init's SpawnFailed): nothing ran. */
  void spawnFailed(String reason) {
    closeProgramEnds();
    finish(SandboxResult.setupError(reason), false);
  }

  /** Runs the script on the calling thread (one of the launcher's program threads). */
  void run(Script script) {
    started.complete(true);
    SandboxResult ending;
    try {
      new Io().checkKilled(); // killed before it got going: it never runs
      ending = script.run(new Io());
      if (ending == null) {
        throw new IllegalStateException("the script returned no ending");
      }
    } catch (Killed k) {
      ending = null;
    } catch (Throwable t) {
      log.error("fake program {} failed", command.argv().get(0), t);
      ending = SandboxResult.internalError("the fake program failed: " + t, usage());
    } finally {
      closeProgramEnds();
    }
    finish(ending, true);
  }

  private void finish(SandboxResult ending, boolean ran) {
    ScheduledFuture<?> d = deadline;
    if (d != null) {
      d.cancel(false);
    }
    // As JailExec.classify: a host kill decides, whatever the program did; then a killing signal.
    HostKill k = hostKill.get();
    Signal signal = deathSignal.get();
    SandboxResult r;
    if (k instanceof Cancel c) {
      r = SandboxResult.killed(c.reason(), usage());
    } else if (k instanceof TimedOut) {
      r = SandboxResult.timeout(command.wallTime().toMillis(), usage());
    } else if (signal != null) {
      r = SandboxResult.signaled(signal.number(), "killed by " + signal.name(), usage());
    } else {
      r = ending; // null after JailGone: the result was set when the jail went
    }
    started.complete(ran);
    if (r != null) {
      result.complete(r);
    }
    jail.ended(this);
  }

  /** The jail went down under the process (like JailExec.onJailGone): it is gone with it. */
  void onJailGone(String reason, boolean hostClosed) {
    HostKill before = hostKill.get();
    killWith(new JailGone());
    ScheduledFuture<?> d = deadline;
    if (d != null) {
      d.cancel(false);
    }
    started.complete(false);
    if (before instanceof TimedOut) {
      result.complete(SandboxResult.timeout(command.wallTime().toMillis(), usage()));
    } else if (hostClosed) {
      result.complete(SandboxResult.killed(before instanceof Cancel c ? c.reason() : reason, usage()));
    } else {
      result.complete(SandboxResult.internalError(reason, usage()));
    }
  }

  private void closeProgramEnds() {
    linux.close(programStdin);
    linux.close(programStdout);
    linux.close(programStderr);
  }

  private ResourceUsage usage() {
    return new ResourceUsage(Duration.ofNanos(System.nanoTime() - startNanos), Duration.ZERO, Duration.ZERO, 0);
  }

  @Override
  public String toString() {
    return "fake process " + number + " " + command.argv();
  }

  /**
   * The program's side: its stdin, stdout and stderr, time, and its endings. Every call that waits
   * gives way to a kill within about 20 ms.
   */
  public final class Io {
    private Io() {}

    /** What the host asked to run. */
    public ExecCommand command() {
      return command;
    }

    /** argv without the program name. */
    public List<String> args() {
      return command.argv().subList(1, command.argv().size());
    }

    /** Writes all of {@code data} to stdout, waiting while the pipe is full. */
    public void out(byte[] data) throws NativeException {
      write(programStdout, data);
    }

    /** Writes all of {@code data} to stderr, waiting while the pipe is full. */
    public void err(byte[] data) throws NativeException {
      write(programStderr, data);
    }

    /** Reads stdin into {@code buf}: the number of bytes read, 0 at end of file. */
    public int read(byte[] buf) throws NativeException {
      while (true) {
        checkKilled();
        if (linux.pollReadable(List.of(programStdin), KILL_CHECK_MILLIS)[0]) {
          checkKilled();
          return Math.max(0, linux.read(programStdin, buf, 0, buf.length));
        }
      }
    }

    /** The program closes its stdin: the host's writes fail from now on. */
    public void closeStdin() {
      linux.close(programStdin);
    }

    /** Sleeps for {@code time}, or until killed. */
    public void sleep(Duration time) throws InterruptedException {
      if (killed.await(time.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new Killed();
      }
    }

    /** Waits for a kill. */
    public void awaitKill() throws InterruptedException {
      killed.await();
      throw new Killed();
    }

    /** Exited with {@code code}. */
    public SandboxResult exit(int code) {
      return SandboxResult.ok(code, usage());
    }

    /** OOM-killed at the jail's memory limit. */
    public SandboxResult oom() {
      return SandboxResult.oom(jail.policy().limits().memoryBytes(), usage());
    }

    /** Killed by seccomp for {@code syscall}. */
    public SandboxResult violation(String syscall) {
      return SandboxResult.violation(syscall, usage());
    }

    /** Reached its CPU-time limit. */
    public SandboxResult cpuTimeout() {
      return SandboxResult.cpuTimeout(command.cpuTime().toSeconds(), usage());
    }

    /** Exited with {@code code} after fork failed at the process limit. */
    public SandboxResult pidsExhausted(int code) {
      return SandboxResult.pidsExhausted(code, jail.policy().limits().maxProcesses(), usage());
    }

    /** Killed by a signal no limit explains. */
    public SandboxResult signaled(Signal signal) {
      return SandboxResult.signaled(signal.number(), "killed by " + signal.name(), usage());
    }

    private void write(Fd fd, byte[] data) throws NativeException {
      linux.setNonBlocking(fd, true);
      int off = 0;
      while (off < data.length) {
        checkKilled();
        int n;
        try {
          n = linux.write(fd, data, off, data.length - off);
        } catch (NativeException e) {
          if (e.errno() == Errno.EPIPE) {
            // Nobody reads any more: like a real program, it dies of SIGPIPE.
            if (deathSignal.compareAndSet(null, Signal.SIGPIPE)) {
              killed.countDown();
            }
            throw new Killed();
          }
          throw e;
        }
        if (n > 0) {
          off += n;
        } else {
          fullPipeWaits.incrementAndGet();
          linux.pollWritable(fd, KILL_CHECK_MILLIS);
        }
      }
    }

    private void checkKilled() {
      if (hostKill.get() != null || deathSignal.get() != null) {
        throw new Killed();
      }
    }
  }
}
