package dev.paddock.sandbox.nsjail;

import dev.paddock.policy.Syscall;
import dev.paddock.sandbox.ResourceUsage;
import dev.paddock.sandbox.SandboxProcess;
import dev.paddock.sandbox.SandboxRequest;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.cgroup.Cgroup;
import dev.paddock.sandbox.cgroup.CgroupException;
import dev.paddock.sandbox.cgroup.CgroupStats;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.Signal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One command running in nsjail, supervised by the host: wall-time kill, tree kill, typed result. */
final class NsjailProcess implements SandboxProcess {
  private static final Logger log = LoggerFactory.getLogger(NsjailProcess.class);

  /** Why the host killed the tree, if it did. */
  private enum Kill { NONE, TIMEOUT, CANCEL }

  private final Process process;
  private final SandboxRequest request;
  private final Cgroup cgroup;
  private final Path logFile;
  private final Path execDir;
  private final LinuxSyscalls linux;
  private final SeccompAuditLookup audit;
  private final long startNanos;
  private final ScheduledFuture<?> deadline;
  private final java.util.concurrent.Executor cleanup;
  private final AtomicReference<Kill> kill = new AtomicReference<>(Kill.NONE);
  private volatile String cancelReason = "";

  NsjailProcess(Process process, SandboxRequest request, Cgroup cgroup, Path logFile, Path execDir,
      LinuxSyscalls linux, SeccompAuditLookup audit, ScheduledExecutorService timers, java.util.concurrent.Executor cleanup) {
    this.cleanup = cleanup;
    this.process = process;
    this.request = request;
    this.cgroup = cgroup;
    this.logFile = logFile;
    this.execDir = execDir;
    this.linux = linux;
    this.audit = audit;
    this.startNanos = System.nanoTime();
    this.deadline = timers.schedule(
        () -> killTree(Kill.TIMEOUT), request.policy().limits().wallTime().toNanos(), TimeUnit.NANOSECONDS);
    writeStdin(request.stdin());
  }

  private void writeStdin(byte[] data) {
    OutputStream stdin = process.getOutputStream();
    if (data.length == 0) {
      closeQuietly(stdin);
      return;
    }
    Thread writer = new Thread(() -> {
      try (stdin) {
        stdin.write(data);
      } catch (IOException e) {
        // The program exited or closed its stdin early: what it did not read is not an error.
      }
    }, "paddock-stdin");
    writer.setDaemon(true);
    writer.start();
  }

  @Override
  public InputStream stdout() {
    return process.getInputStream();
  }

  @Override
  public InputStream stderr() {
    return process.getErrorStream();
  }

  @Override
  public void cancel(String reason) {
    cancelReason = reason;
    killTree(Kill.CANCEL);
  }

  private void killTree(Kill why) {
    if (!kill.compareAndSet(Kill.NONE, why)) {
      return;
    }
    try {
      cgroup.killAll(linux);
    } catch (CgroupException e) {
      log.error("cannot kill the process tree in {}", cgroup, e);
    }
    process.destroyForcibly();
  }

  @Override
  public SandboxResult await() throws InterruptedException {
    int nsjailExit = process.waitFor();
    long wallNanos = System.nanoTime() - startNanos;
    deadline.cancel(false);
    try {
      // Nothing may outlive the exec: a daemonised child of the tool is killed here too.
      cgroup.killAll(linux);
    } catch (CgroupException e) {
      log.error("cannot empty {}", cgroup, e);
    }
    CgroupStats stats;
    try {
      stats = cgroup.stats();
    } catch (CgroupException e) {
      log.error("cannot read the counters of {}", cgroup, e);
      stats = CgroupStats.UNKNOWN;
    }
    NsjailLog jailLog = NsjailLog.parse(readLog());
    ResourceUsage usage = new ResourceUsage(
        Duration.ofNanos(wallNanos), stats.cpuUser(), stats.cpuSystem(), stats.peakMemoryBytes());
    try {
      return classify(nsjailExit, jailLog, stats, usage);
    } finally {
      // The tree is dead and its counters read: removing the group and the scratch files can
      // happen after the caller has its result.
      cleanup.execute(() -> {
        try {
          cgroup.remove();
        } catch (CgroupException e) {
          log.warn("cannot remove {}", cgroup, e);
        }
        NsjailLauncher.deleteQuietly(execDir);
      });
    }
  }

  private SandboxResult classify(int nsjailExit, NsjailLog jailLog, CgroupStats stats, ResourceUsage usage) {
    switch (kill.get()) {
      case TIMEOUT:
        return SandboxResult.timeout(request.policy().limits().wallTime().toMillis(), usage);
      case CANCEL:
        return SandboxResult.killed(cancelReason, usage);
      default:
        break;
    }
    switch (jailLog.launchFailure()) {
      case EXECVE:
        return SandboxResult.setupError("the program could not be executed (not found or not executable)");
      case CHDIR:
        return SandboxResult.setupError("the working directory does not exist in the workspace");
      default:
        break;
    }
    if (!jailLog.executed() || jailLog.launchFailure() != NsjailLog.LaunchFailure.NONE) {
      log.error("nsjail could not set up the jail (exit {}): {}", nsjailExit, jailLog.errors());
      return SandboxResult.setupError("the sandbox could not be set up on this host");
    }
    boolean cleanExit = jailLog.exitStatus().isPresent() && jailLog.exitStatus().getAsInt() == 0;
    if (stats.oomKills() > 0 && !cleanExit) {
      return SandboxResult.oom(request.policy().limits().memoryBytes(), usage);
    }
    int signal = jailLog.terminatingSignal().orElse(0);
    if (jailLog.seccompViolation() || signal == Signal.SIGSYS.number()) {
      return SandboxResult.violation(violationSyscall(jailLog), usage);
    }
    if (signal != 0) {
      String name = Signal.of(signal).map(Enum::name).orElse("signal " + signal);
      return SandboxResult.signaled(signal, "killed by " + name, usage);
    }
    int code = jailLog.exitStatus().orElse(nsjailExit);
    if (stats.pidsLimitHits() > 0 && code != 0) {
      return SandboxResult.pidsExhausted(code, request.policy().limits().maxProcesses(), usage);
    }
    return SandboxResult.ok(code, usage);
  }

  private String violationSyscall(NsjailLog jailLog) {
    OptionalInt number = jailLog.violationSyscall();
    if (number.isEmpty() && jailLog.jailedPid().isPresent()) {
      number = audit.syscallOf(jailLog.jailedPid().getAsInt());
    }
    if (number.isEmpty()) {
      return "unknown";
    }
    int n = number.getAsInt();
    return Syscall.byX8664Number(n).map(Syscall::kernelName).orElse("syscall_" + n);
  }

  private List<String> readLog() {
    try {
      return Files.readAllLines(logFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return List.of();
    }
  }

  private static void closeQuietly(OutputStream out) {
    try {
      out.close();
    } catch (IOException e) {
      // already closed by the child's exit
    }
  }
}
