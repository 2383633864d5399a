package dev.paddock.runtime.testing;

import dev.paddock.policy.SandboxPolicy;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.fs.WorkspaceRoot;
import dev.paddock.sandbox.jail.ExecCommand;
import dev.paddock.sandbox.jail.Jail;
import dev.paddock.sandbox.jail.JailCensus;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fake session {@link Jail}, made by {@link FakeLauncher}: no namespaces, no nsjail, no root.
 * Its processes are {@link Script}s chosen by argv[0] on real pipes; its workspace is a temporary
 * directory opened with {@link WorkspaceRoot#open}. It keeps the real jail's contract (see
 * {@link Jail}), and fails on cue: {@link #failNextSpawn} makes {@code spawn} throw, {@link #fail}
 * makes the jail fail by itself, which ends running processes as INTERNAL_ERROR and then tells
 * the {@link #onFailure} listener, on the thread that called {@code fail}.
 */
public final class FakeJail implements Jail {
  private static final Logger log = LoggerFactory.getLogger(FakeJail.class);

  private final String name;
  private final String tenantId;
  private final SandboxPolicy policy;
  private final Path workspaceDir;
  private final WorkspaceRoot workspace;
  private final Function<String, Script> programs;
  private final LinuxSyscalls linux;
  private final ExecutorService programThreads;
  private final ScheduledExecutorService timers;
  private final Map<Long, FakeJailProcess> running = new LinkedHashMap<>();
  private final List<FakeJailProcess> spawned = new ArrayList<>();
  private final CompletableFuture<String> down = new CompletableFuture<>();
  private long nextNumber = 1;
  private boolean alive = true;
  private String failNextSpawn;
  private volatile Consumer<String> onFailure = reason -> {};

  FakeJail(String name, String tenantId, SandboxPolicy policy, Path workspaceDir, Function<String, Script> programs,
      LinuxSyscalls linux, ExecutorService programThreads, ScheduledExecutorService timers) throws NativeException {
    this.name = name;
    this.tenantId = tenantId;
    this.policy = policy;
    this.workspaceDir = workspaceDir;
    this.programs = programs;
    this.linux = linux;
    this.programThreads = programThreads;
    this.timers = timers;
    this.workspace = WorkspaceRoot.open(workspaceDir);
  }

  // ---- Jail ----------------------------------------------------------------------------------

  /**
   * Starts the {@link Script} registered for argv[0] on real pipes. A program that is not
   * registered does not start (SETUP_ERROR "the program was not found", as in the real jail).
   */
  @Override
  public FakeJailProcess spawn(ExecCommand command) throws SandboxSetupException {
    FakeJailProcess process;
    Script script;
    synchronized (this) {
      if (!alive) {
        throw new SandboxSetupException("the session's sandbox is not running");
      }
      if (failNextSpawn != null) {
        String why = failNextSpawn;
        failNextSpawn = null;
        throw new SandboxSetupException(why);
      }
      Fd[][] pipes = new Fd[3][];
      try {
        for (int i = 0; i < 3; i++) {
          pipes[i] = linux.pipe();
        }
      } catch (NativeException e) {
        for (Fd[] pair : pipes) {
          if (pair != null) {
            linux.close(pair[0]);
            linux.close(pair[1]);
          }
        }
        throw new SandboxSetupException("the host could not set up the exec's streams", e);
      }
      process = new FakeJailProcess(nextNumber++, command, this, linux, pipes);
      script = programs.apply(command.argv().get(0));
      spawned.add(process);
      if (script != null) {
        running.put(process.number(), process);
      }
    }
    if (script == null) {
      process.spawnFailed("the program was not found");
      return process;
    }
    process.armDeadline(timers.schedule(process::timedOut, command.wallTime().toNanos(), TimeUnit.NANOSECONDS));
    programThreads.execute(() -> process.run(script));
    return process;
  }

  /** One live process per running exec, none detached. */
  @Override
  public synchronized CompletableFuture<JailCensus> census() {
    if (!alive) {
      return CompletableFuture.failedFuture(new IllegalStateException("the session's jail is not running"));
    }
    Map<Long, Integer> byExec = new HashMap<>();
    running.keySet().forEach(n -> byExec.put(n, 1));
    return CompletableFuture.completedFuture(new JailCensus(byExec, 0));
  }

  @Override
  public WorkspaceRoot workspace() {
    return workspace;
  }

  @Override
  public synchronized boolean alive() {
    return alive;
  }

  @Override
  public void onFailure(Consumer<String> listener) {
    this.onFailure = listener;
  }

  @Override
  public void close(String reason) {
    if (goDown(reason, true, reason)) {
      log.debug("fake jail {} closed: {}", name, reason);
    }
  }

  // ---- cues and assertions -------------------------------------------------------------------

  /** The next {@link #spawn} throws SandboxSetupException with {@code reason} (as when the host cannot make pipes). */
  public synchronized void failNextSpawn(String reason) {
    this.failNextSpawn = reason;
  }

  /**
   * The jail fails by itself (as when init breaks the protocol or nsjail dies): running processes
   * end as INTERNAL_ERROR, then the failure listener is called on this thread.
   */
  public void fail(String reason) {
    if (!goDown(reason, false, "the session's sandbox failed; the session was closed")) {
      return;
    }
    log.debug("fake jail {} failed: {}", name, reason);
    onFailure.accept(reason);
  }

  /** The session id it was started for. */
  public String name() {
    return name;
  }

  public String tenantId() {
    return tenantId;
  }

  /** The policy it was started with. */
  public SandboxPolicy policy() {
    return policy;
  }

  /** The host directory behind {@link #workspace()}. */
  public Path workspaceDir() {
    return workspaceDir;
  }

  /** Every process spawned so far, oldest first. */
  public synchronized List<FakeJailProcess> processes() {
    return List.copyOf(spawned);
  }

  /** The newest process (fails when none was spawned). */
  public synchronized FakeJailProcess lastProcess() {
    if (spawned.isEmpty()) {
      throw new AssertionError("no process was spawned in " + name);
    }
    return spawned.get(spawned.size() - 1);
  }

  /** Completes with the reason once the jail is closed or has failed. */
  public CompletableFuture<String> down() {
    return down;
  }

  // ---- internals -----------------------------------------------------------------------------

  /** A process has ended. */
  synchronized void ended(FakeJailProcess process) {
    running.remove(process.number());
  }

  /** Takes the jail down once; false when it already was. */
  private boolean goDown(String reason, boolean hostClosed, String processReason) {
    List<FakeJailProcess> gone;
    synchronized (this) {
      if (!alive) {
        return false;
      }
      alive = false;
      gone = new ArrayList<>(running.values());
      running.clear();
    }
    gone.forEach(p -> p.onJailGone(processReason, hostClosed));
    workspace.close();
    deleteTree(workspaceDir);
    down.complete(reason);
    return true;
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String toString() {
    return "fake jail " + name;
  }
}
