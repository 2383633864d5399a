package dev.paddock.sandbox.jail;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.paddock.ipc.jail.v1.CensusRequest;
import dev.paddock.ipc.jail.v1.ExecProcesses;
import dev.paddock.ipc.jail.v1.Exited;
import dev.paddock.ipc.jail.v1.HostFrame;
import dev.paddock.ipc.jail.v1.InitFrame;
import dev.paddock.ipc.jail.v1.Kill;
import dev.paddock.ipc.jail.v1.Rlimit;
import dev.paddock.ipc.jail.v1.Spawn;
import dev.paddock.policy.Limits;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.cgroup.Cgroup;
import dev.paddock.sandbox.cgroup.CgroupException;
import dev.paddock.sandbox.cgroup.LimitEvents;
import dev.paddock.sandbox.fs.WorkspaceRoot;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.NativeException;
import dev.paddock.sandbox.linux.ReceivedFrame;
import dev.paddock.sandbox.linux.Signal;
import dev.paddock.sandbox.linux.TcpSockets;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's live jail: nsjail with paddock-init as PID 1, the control channel to init, the
 * session cgroup, and the workspace as a directory descriptor. The real {@link Jail}.
 *
 * <p>Everything init sends is untrusted (it runs as the tenant): frames are size-bounded by the
 * kernel record, parsed strictly, and checked against what the host asked for. Any frame that is
 * malformed, unknown, unsolicited or carries unexpected descriptors ends this session's jail (and
 * only it) with a reason for the host log; the session's execs end as INTERNAL_ERROR. A full
 * control channel (init not reading) is treated the same: the host never blocks on a jail.
 */
public final class SessionJail implements Jail {
  private static final Logger log = LoggerFactory.getLogger(SessionJail.class);
  /** Largest frame init may send, bytes (init.proto). */
  static final int MAX_INIT_FRAME = 4096;
  private static final int MAX_FRAMES_PER_WAKEUP = 64;
  private static final int MAX_PID = 1 << 22;
  private static final long KILL_GRACE_MILLIS = 3000;
  private static final int RLIMIT_CPU = 0;
  private static final int RLIMIT_FSIZE = 1;
  private static final int RLIMIT_CORE = 4;
  private static final int RLIMIT_NOFILE = 7;

  private enum State { STARTING, READY, DEAD }

  private final String name;
  private final JailLauncher launcher;
  private final Fd control;
  private final Fd nsjailPidfd;
  private final long nsjailPid;
  private final Cgroup cgroup;
  private final Limits limits;
  final JailScratch scratch;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final CompletableFuture<Void> nsjailExited = new CompletableFuture<>();
  private final Map<Long, JailExec> execs = new HashMap<>();
  private volatile long controlToken;
  private volatile long pidfdToken;
  private long nextExec = 1;
  private State state = State.STARTING;
  private boolean hostClosed;
  private String deathReason = "";
  private CompletableFuture<JailCensus> pendingCensus;
  private volatile WorkspaceRoot workspace;
  /** From Ready until taken or the jail dies; guarded by this. */
  private EgressListeners egress;
  /** Descriptors of the frame being handled that its handler kept; reactor thread only. */
  private List<Fd> keptFromFrame = List.of();
  private Consumer<String> onFailure = reason -> {};
  /** The host pid of init, PID 1 of the jail, checked by the launcher at start; 0 before. */
  private volatile long initPid;

  SessionJail(String name, JailLauncher launcher, Fd control, Fd nsjailPidfd, long nsjailPid, Cgroup cgroup,
      Limits limits, JailScratch scratch) {
    this.name = name;
    this.launcher = launcher;
    this.control = control;
    this.nsjailPidfd = nsjailPidfd;
    this.nsjailPid = nsjailPid;
    this.cgroup = cgroup;
    this.limits = limits;
    this.scratch = scratch;
  }

  /** The name given at start (the session id), for logs. */
  public String name() {
    return name;
  }

  /**
   * The workspace root (the tmpfs in the jail's own mount namespace), opened once by the host;
   * valid until {@link #close}. Work on it only through {@code WorkspaceFiles}, which never lets a
   * path planted inside lead outside.
   */
  @Override
  public WorkspaceRoot workspace() {
    return workspace;
  }

  /** The session cgroup's memory limit, bytes. */
  public long memoryLimitBytes() {
    return limits.memoryBytes();
  }

  /** The session cgroup's process limit (as the tenant asked; the cgroup adds two for nsjail and init). */
  public int maxProcesses() {
    return limits.maxProcesses();
  }

  /** nsjail's host pid, for diagnostics and benchmarks (the jail's processes are its descendants). */
  public long nsjailPid() {
    return nsjailPid;
  }

  @Override
  public java.util.OptionalLong initPid() {
    long pid = initPid;
    return pid > 0 && alive() ? java.util.OptionalLong.of(pid) : java.util.OptionalLong.empty();
  }

  /** The session cgroup, for diagnostics and usage figures. */
  public Cgroup cgroup() {
    return cgroup;
  }

  /**
   * Called once, on a jail thread, when the jail fails by itself (init broke the protocol or
   * exited, nsjail died): the session should close. Not called for {@link #close}. A jail can fail
   * before its owner gets here (a hostile init may break the protocol right after Ready): a
   * listener set after the failure is called at once, on the caller's thread.
   */
  @Override
  public void onFailure(Consumer<String> listener) {
    String failedWith;
    synchronized (this) {
      this.onFailure = listener;
      failedWith = state == State.DEAD && !hostClosed ? deathReason : null;
    }
    if (failedWith != null) {
      notifyFailure(listener, failedWith);
    }
  }

  /** True while execs can start. */
  @Override
  public synchronized boolean alive() {
    return state == State.READY;
  }

  /** Execs whose main process still runs. */
  public synchronized int runningExecs() {
    return execs.size();
  }

  // ---- lifecycle (JailLauncher) --------------------------------------------------------------

  void registered(long controlToken, long pidfdToken) {
    this.controlToken = controlToken;
    this.pidfdToken = pidfdToken;
  }

  CompletableFuture<Void> ready() {
    return ready;
  }

  /**
   * Hands the jail its workspace and init's host pid, both found by the launcher once the jail is
   * ready; false (and the workspace closed) when the jail already ended, since its cleanup may have
   * run without it.
   */
  boolean setWorkspace(WorkspaceRoot workspace, long initPid) {
    synchronized (this) {
      if (state != State.DEAD) {
        this.workspace = workspace;
        this.initPid = initPid;
        return true;
      }
    }
    workspace.close();
    return false;
  }

  Fd control() {
    return control;
  }

  Fd nsjailPidfd() {
    return nsjailPidfd;
  }

  CompletableFuture<Void> nsjailExited() {
    return nsjailExited;
  }

  /**
   * Closes the jail: no exec can start any more, every running exec ends as KILLED with
   * {@code reason}, and the jail's processes, cgroup and scratch files are removed in the
   * background (retried until they are gone). Idempotent.
   */
  @Override
  public void close(String reason) {
    Death death = markDead(reason, true);
    if (death == null) {
      return;
    }
    ready.completeExceptionally(new SandboxSetupException("the session's jail was closed"));
    death.execs().forEach(e -> e.onJailGone(reason, true));
    launcher.dispose(this);
  }

  /** The jail failed by itself: same as close, but execs end as INTERNAL_ERROR and the owner is told. */
  private void fail(String reason) {
    Death death = markDead(reason, false);
    if (death == null) {
      return;
    }
    log.warn("session jail {}: {}; ending it", name, reason);
    ready.completeExceptionally(new SandboxSetupException("the session's jail failed to start"));
    death.execs().forEach(e -> e.onJailGone("the session's sandbox failed; the session was closed", false));
    launcher.dispose(this);
    notifyFailure(death.listener(), reason);
  }

  /** The execs running when the jail died, and the failure listener set at that moment. */
  private record Death(List<JailExec> execs, Consumer<String> listener) {}

  /**
   * Moves the jail to DEAD once and stops reading its channel; null when it already was dead.
   * The listener is taken under the same lock as the state change, so a listener set later (see
   * {@link #onFailure}) is called by that setter instead, and each failure is reported once.
   */
  private Death markDead(String reason, boolean byHost) {
    Death death;
    synchronized (this) {
      if (state == State.DEAD) {
        return null;
      }
      state = State.DEAD;
      hostClosed = byHost;
      deathReason = reason;
      death = new Death(new ArrayList<>(execs.values()), onFailure);
      execs.clear();
      if (egress != null) {
        egress.close();
        egress = null;
      }
      failCensus();
    }
    stopReading();
    return death;
  }

  private void notifyFailure(Consumer<String> listener, String reason) {
    try {
      listener.accept(reason);
    } catch (RuntimeException e) {
      log.error("session jail {}: failure listener failed", name, e);
    }
  }

  /**
   * Takes a dead jail's channel out of the reactor at once. {@link #onControlReadable} no longer
   * reads it once DEAD (the background cleanup closes it, and the kernel may give the number to
   * another jail's new channel), so a readable channel left registered would spin the reactor.
   */
  private void stopReading() {
    launcher.reactor().unregister(control, controlToken);
  }

  private void failCensus() {
    if (pendingCensus != null) {
      pendingCensus.completeExceptionally(new IllegalStateException("the session's jail ended"));
      pendingCensus = null;
    }
  }

  // ---- execs ---------------------------------------------------------------------------------

  /**
   * Starts {@code command}. Returns at once: the exec's {@link JailExec#started()} and
   * {@link JailExec#result()} complete when init reports. Throws only when the jail is not
   * running (closed or failed) or the host cannot make pipes; nothing started then.
   */
  @Override
  public JailExec spawn(ExecCommand command) throws SandboxSetupException {
    Fd[] in = null;
    Fd[] out = null;
    Fd[] err = null;
    Fd[] ipc = null;
    JailExec exec;
    synchronized (this) {
      if (state != State.READY) {
        throw new SandboxSetupException("the session's sandbox is not running");
      }
      LimitEvents counters = counters();
      try {
        in = launcher.linux().pipe();
        out = launcher.linux().pipe();
        err = launcher.linux().pipe();
        if (command.ipc()) {
          ipc = launcher.linux().streamPair();
        }
      } catch (NativeException e) {
        closeAll(in, out, err, ipc);
        log.error("session jail {}: cannot make pipes", name, e);
        throw new SandboxSetupException("the host could not set up the exec's streams", e);
      }
      long number = nextExec++;
      exec = new JailExec(number, command, this, in[1], out[0], err[0],
          ipc == null ? Optional.empty() : Optional.of(ipc[0]), counters);
      HostFrame frame = HostFrame.newBuilder().setSpawn(spawnFrame(number, command)).build();
      List<Fd> childEnds = ipc == null ? List.of(in[0], out[1], err[1]) : List.of(in[0], out[1], err[1], ipc[1]);
      try {
        launcher.linux().sendFrame(control, frame.toByteArray(), childEnds);
      } catch (NativeException e) {
        closeAll(in, out, err, ipc);
        String why = "the session's supervisor does not take requests (" + e.errno() + ")";
        failLater(why);
        throw new SandboxSetupException("the session's sandbox is not responding", e);
      } finally {
        // The jail has its copies now (or never will): the host keeps only its own ends.
        launcher.linux().close(in[0]);
        launcher.linux().close(out[1]);
        launcher.linux().close(err[1]);
        if (ipc != null) {
          launcher.linux().close(ipc[1]);
        }
      }
      execs.put(number, exec);
    }
    exec.armDeadline(launcher.timers().schedule(exec::timedOut, command.wallTime().toNanos(), TimeUnit.NANOSECONDS));
    return exec;
  }

  private static void closeAll(Fd[]... pairs) {
    for (Fd[] pair : pairs) {
      if (pair != null) {
        for (Fd fd : pair) {
          fd.close();
        }
      }
    }
  }

  private static Spawn spawnFrame(long number, ExecCommand command) {
    Spawn.Builder spawn = Spawn.newBuilder().setExecId(number)
        .setCwd(ByteString.copyFrom(command.cwd(), StandardCharsets.UTF_8));
    command.argv().forEach(a -> spawn.addArgv(ByteString.copyFrom(a, StandardCharsets.UTF_8)));
    command.env().forEach(e -> spawn.addEnv(ByteString.copyFrom(e, StandardCharsets.UTF_8)));
    spawn.addRlimits(rlimit(RLIMIT_FSIZE, command.maxFileBytes(), command.maxFileBytes()));
    spawn.addRlimits(rlimit(RLIMIT_NOFILE, command.maxOpenFiles(), command.maxOpenFiles()));
    spawn.addRlimits(rlimit(RLIMIT_CORE, 0, 0));
    long cpuSeconds = command.cpuSeconds();
    if (cpuSeconds > 0) {
      // SIGXCPU at the soft limit; SIGKILL one second later for a program that ignores it.
      spawn.addRlimits(rlimit(RLIMIT_CPU, cpuSeconds, cpuSeconds + 1));
    }
    return spawn.build();
  }

  private static Rlimit rlimit(int resource, long soft, long hard) {
    return Rlimit.newBuilder().setResource(resource).setSoft(soft).setHard(hard).build();
  }

  /** Sends a caller's signal. */
  void sendKill(JailExec exec, int signal, boolean tree) {
    synchronized (this) {
      if (state != State.READY || !execs.containsKey(exec.number())) {
        return;
      }
      send(HostFrame.newBuilder().setKill(Kill.newBuilder().setExecId(exec.number()).setSignal(signal).setTree(tree)).build());
    }
  }

  /**
   * SIGKILLs the exec's tree through init, and watches that it ends: an init that does not
   * report the exit within a few seconds is not doing its job, and the whole jail goes.
   */
  void killTree(JailExec exec) {
    sendKill(exec, Signal.SIGKILL.number(), true);
    launcher.timers().schedule(() -> {
      if (!exec.result().isDone()) {
        fail("the supervisor did not end a killed exec within " + KILL_GRACE_MILLIS + " ms");
      }
    }, KILL_GRACE_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Asks init to count the jail's processes by exec; completes within about 2 s or fails. */
  @Override
  public CompletableFuture<JailCensus> census() {
    synchronized (this) {
      if (state != State.READY) {
        return CompletableFuture.failedFuture(new IllegalStateException("the session's jail is not running"));
      }
      if (pendingCensus != null) {
        return pendingCensus;
      }
      CompletableFuture<JailCensus> census = new CompletableFuture<>();
      pendingCensus = census;
      send(HostFrame.newBuilder().setCensus(CensusRequest.getDefaultInstance()).build());
      return census.orTimeout(2, TimeUnit.SECONDS);
    }
  }

  /** Caller holds the lock. A channel that does not take a small frame means a stuck or hostile init. */
  private void send(HostFrame frame) {
    try {
      launcher.linux().sendFrame(control, frame.toByteArray(), List.of());
    } catch (NativeException e) {
      failLater("the session's supervisor does not take requests (" + e.errno() + ")");
    }
  }

  /** Fails the jail outside the caller's lock. */
  private void failLater(String reason) {
    launcher.callbacks().execute(() -> fail(reason));
  }

  private LimitEvents counters() {
    try {
      return cgroup.limitEvents();
    } catch (CgroupException e) {
      log.warn("session jail {}: cannot read cgroup counters", name, e);
      return LimitEvents.UNKNOWN;
    }
  }

  // ---- frames from init (reactor thread) -----------------------------------------------------

  /** The control channel is readable. */
  void onControlReadable() {
    for (int i = 0; i < MAX_FRAMES_PER_WAKEUP; i++) {
      Optional<ReceivedFrame> received;
      try {
        // Under the lock: once DEAD, the cleanup may close (and the kernel reuse) the descriptor.
        synchronized (this) {
          if (state == State.DEAD) {
            return;
          }
          received = launcher.linux().receiveFrame(control, MAX_INIT_FRAME, 2);
        }
      } catch (NativeException e) {
        fail("the control channel failed (" + e.errno() + ")");
        return;
      }
      if (received.isEmpty()) {
        return;
      }
      ReceivedFrame r = received.get();
      if (r.eof()) {
        fail("the supervisor closed its channel");
        return;
      }
      if (r.truncated()) {
        r.fds().forEach(Fd::close);
        fail("protocol violation: a frame over " + MAX_INIT_FRAME + " bytes or with too many descriptors");
        return;
      }
      String violation;
      try {
        violation = handle(InitFrame.parseFrom(r.data()), r.fds());
      } catch (InvalidProtocolBufferException e) {
        violation = "protocol violation: a frame that does not parse";
      } finally {
        r.fds().forEach(this::closeUnlessKept);
        keptFromFrame = List.of();
      }
      if (violation != null) {
        fail(violation);
        return;
      }
    }
  }

  /**
   * Why {@code fd} is not what Ready must carry (a TCP socket listening on 127.0.0.1:{@code port}
   * of the jail's own network namespace), or null. init runs as the tenant, so it is checked; a
   * socket that passes can only reach the tenant's own jail.
   */
  private String checkListener(Fd fd, int port) {
    try {
      TcpSockets.SocketInfo info = TcpSockets.system().describe(fd);
      boolean loopback = info.family() == TcpSockets.AF_INET
          && java.util.Arrays.equals(info.address(), new byte[] {127, 0, 0, 1});
      if (!info.listening() || !info.stream() || !loopback || info.port() != port) {
        return "a descriptor that is not a TCP listener on 127.0.0.1:" + port;
      }
      launcher.linux().setNonBlocking(fd, true);
      return null;
    } catch (NativeException e) {
      return "a descriptor that is not a socket";
    }
  }

  /**
   * Closes a received descriptor unless the frame's handler kept it (Ready's egress listeners).
   * Asked of the handler, not of {@link #egress}: the owner may take the listeners (ready completes
   * inside the handler) before the descriptors of the frame are closed here.
   */
  private void closeUnlessKept(Fd fd) {
    if (!keptFromFrame.contains(fd)) {
      fd.close();
    }
  }

  /**
   * The jail's egress listeners, once: the caller owns them from then on (accepts on them, closes
   * them). Empty before Ready, after the jail died, when taken before, or when init made none.
   * Listeners nobody took are closed when the jail dies.
   */
  public synchronized Optional<EgressListeners> takeEgressListeners() {
    EgressListeners taken = state == State.READY ? egress : null;
    egress = null;
    return Optional.ofNullable(taken);
  }

  /** Handles one frame; returns a protocol violation, or null. The caller closes {@code fds}. */
  private String handle(InitFrame frame, List<Fd> fds) {
    switch (frame.getFrameCase()) {
      case READY: {
        synchronized (this) {
          if (state != State.STARTING || (fds.size() != 0 && fds.size() != 2)) {
            return "protocol violation: an unexpected Ready";
          }
          if (frame.getReady().getProtocolVersion() != 1) {
            return "protocol violation: unsupported protocol version " + frame.getReady().getProtocolVersion();
          }
          if (fds.size() == 2) {
            String bad = checkListener(fds.get(0), EgressListeners.HTTP_PORT);
            bad = bad != null ? bad : checkListener(fds.get(1), EgressListeners.SOCKS_PORT);
            if (bad != null) {
              return "protocol violation: Ready with " + bad;
            }
            egress = new EgressListeners(fds.get(0), fds.get(1));
            keptFromFrame = List.of(fds.get(0), fds.get(1));
          } else {
            log.warn("session jail {}: its supervisor made no egress listeners; the jail has no way out", name);
          }
          state = State.READY;
        }
        ready.complete(null);
        return null;
      }
      case STARTED: {
        JailExec exec;
        synchronized (this) {
          exec = execs.get(frame.getStarted().getExecId());
        }
        int pid = frame.getStarted().getPid();
        if (exec == null || exec.started().isDone() || pid < 2 || pid > MAX_PID || fds.size() > 1) {
          return "protocol violation: Started for an exec that is not starting";
        }
        long hostPid = fds.isEmpty() ? -1 : launcher.linux().pidOf(fds.get(0)).orElse(-1L);
        preferForOomKill(hostPid);
        exec.onStarted(hostPid);
        return null;
      }
      case SPAWN_FAILED: {
        JailExec exec;
        synchronized (this) {
          exec = execs.get(frame.getSpawnFailed().getExecId());
          if (exec == null || exec.started().isDone() || !fds.isEmpty()) {
            return "protocol violation: SpawnFailed for an exec that is not starting";
          }
          execs.remove(exec.number());
        }
        exec.onSpawnFailed(frame.getSpawnFailed());
        return null;
      }
      case EXITED: {
        Exited exited = frame.getExited();
        JailExec exec;
        synchronized (this) {
          exec = execs.get(exited.getExecId());
          if (exec == null || !exec.started().isDone() || !fds.isEmpty()
              || exited.getExitCode() < 0 || exited.getExitCode() > 255 || exited.getSignal() < 0 || exited.getSignal() > 64) {
            return "protocol violation: Exited for an exec that is not running";
          }
          execs.remove(exec.number());
        }
        // Read only when the outcome depends on them: a zero exit needs none, and /bin/true's result waits for this.
        LimitEvents now = JailExec.outcomeReadsCounters(exited) ? counters() : LimitEvents.UNKNOWN;
        if (exited.getSignal() == Signal.SIGSYS.number()) {
          // Reading the kernel log takes a while: not on the reactor thread.
          launcher.callbacks().execute(() -> exec.onExited(exited, now, violationSyscall(exec)));
        } else {
          exec.onExited(exited, now, OptionalInt.empty());
        }
        return null;
      }
      case CENSUS: {
        CompletableFuture<JailCensus> census;
        synchronized (this) {
          census = pendingCensus;
          pendingCensus = null;
        }
        if (census == null || !fds.isEmpty()) {
          return "protocol violation: an unsolicited Census";
        }
        Map<Long, Integer> byExec = new HashMap<>();
        for (ExecProcesses e : frame.getCensus().getExecsList()) {
          byExec.merge(e.getExecId(), e.getProcesses(), Integer::sum);
        }
        census.complete(new JailCensus(byExec, frame.getCensus().getDetachedProcesses()));
        return null;
      }
      case FATAL:
        return "the supervisor gave up: " + printable(frame.getFatal().getMessage());
      default:
        return "protocol violation: an empty or unknown frame";
    }
  }

  /**
   * When the session's memory runs out, the kernel should kill a tenant's process, never init or
   * nsjail (either takes the whole session down). The jail's /proc is read-only, so the host raises
   * the exec's OOM score from outside as soon as it knows the pid; children the exec forked in the
   * first microseconds keep the default. Best effort: the process may already be gone.
   */
  private static void preferForOomKill(long hostPid) {
    if (hostPid <= 0) {
      return;
    }
    try {
      java.nio.file.Files.writeString(java.nio.file.Path.of("/proc", Long.toString(hostPid), "oom_score_adj"), "1000");
    } catch (java.io.IOException e) {
      // gone already, or /proc not writable: the default OOM preference stays
    }
  }

  /**
   * The syscall of a seccomp kill, from the kernel's audit record of it (keyed by the host pid the
   * kernel reported for init's pidfd). The record can land in the kernel log a moment after the
   * exit, so a few short retries; the kernel rate-limits these records (printk_ratelimit, host-wide),
   * so under a burst of violations a name can still come out "unknown" (the kill itself holds).
   */
  private OptionalInt violationSyscall(JailExec exec) {
    if (exec.hostPid().isEmpty()) {
      return OptionalInt.empty();
    }
    int pid = (int) exec.hostPid().getAsLong();
    // Backing off from 5 ms up to about 2.5 s in all: the kernel's audit thread delivers the record
    // on its own schedule, which on a loaded 2-CPU host can lag the exit by hundreds of ms.
    long pause = 5;
    for (int attempt = 0; attempt < 10; attempt++) {
      OptionalInt found = launcher.seccompAudit().syscallOf(pid);
      if (found.isPresent()) {
        return found;
      }
      try {
        Thread.sleep(pause);
        pause = Math.min(pause * 2, 640);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return OptionalInt.empty();
  }

  /** Init's words go to the host log only, and only as short printable ASCII. */
  private static String printable(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length() && out.length() < 200; i++) {
      char c = text.charAt(i);
      out.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return out.toString();
  }

  /** nsjail's pidfd is readable: nsjail has ended. */
  void onNsjailExit() {
    try {
      if (launcher.linux().reap(nsjailPidfd).isEmpty()) {
        return;
      }
    } catch (NativeException e) {
      log.warn("session jail {}: cannot reap nsjail", name, e);
    }
    launcher.reactor().unregister(nsjailPidfd, pidfdToken);
    nsjailExited.complete(null);
    fail("the jail ended unexpectedly");
  }

  @Override
  public String toString() {
    return "session jail " + name;
  }
}
