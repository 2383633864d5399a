package dev.paddock.runtime.testing;

import dev.paddock.policy.SandboxPolicy;
import dev.paddock.runtime.session.JailGate;
import dev.paddock.runtime.session.ReadyJails;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Starts {@link FakeJail}s: the runtime's {@link ReadyJails.Starter} and {@link JailGate.Probe}
 * without nsjail, cgroups or root. Programs are {@link Script}s registered by name (argv[0]);
 * a few stand-ins for common tools are there from the start: {@code true}, {@code false},
 * {@code echo}, {@code cat}, {@code sleep SECONDS}, {@code yes [WORD]}, {@code exit CODE}.
 *
 * <p>Fails on cue: {@link #failStarts} makes jail starts throw, {@link #failProbe} makes the
 * probe fail. Owns the program threads and timers of every jail it made; {@link #close} closes
 * the jails still up and stops them.
 */
public final class FakeLauncher implements ReadyJails.Starter, JailGate.Probe, AutoCloseable {
  private final Path workspaces;
  private final LinuxSyscalls linux = LinuxSyscalls.system();
  private final ExecutorService programThreads = Executors.newCachedThreadPool(named("fake-program"));
  private final ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, named("fake-jail-timer"));
  private final Map<String, Script> programs = new ConcurrentHashMap<>();
  private final Map<String, FakeJail> bySession = new ConcurrentHashMap<>();
  private final List<FakeJail> started = new ArrayList<>();
  private final AtomicInteger starts = new AtomicInteger();
  private volatile String startFailure;
  private volatile String probeFailure;

  /** Workspaces are made under {@code workspaces}, one directory per jail. */
  public FakeLauncher(Path workspaces) {
    this.workspaces = workspaces;
    timers.setRemoveOnCancelPolicy(true);
    program("true", Script.exit(0));
    program("false", Script.exit(1));
    program("echo", io -> {
      io.out((String.join(" ", io.args()) + "\n").getBytes(StandardCharsets.UTF_8));
      return io.exit(0);
    });
    program("cat", Script.echoStdin());
    program("sleep", io -> {
      io.sleep(Duration.ofMillis((long) (Double.parseDouble(io.args().get(0)) * 1000)));
      return io.exit(0);
    });
    program("yes", io -> Script.yes(io.args().isEmpty() ? "y" : io.args().get(0)).run(io));
    program("exit", io -> io.exit(Integer.parseInt(io.args().get(0))));
  }

  /** Registers (or replaces) the program named {@code name}. */
  public FakeLauncher program(String name, Script script) {
    programs.put(name, script);
    return this;
  }

  /** Jail starts fail with {@code reason} from now on; null makes them work again. */
  public void failStarts(String reason) {
    this.startFailure = reason;
  }

  /** The probe fails with {@code reason} from now on; null makes it pass again. */
  public void failProbe(String reason) {
    this.probeFailure = reason;
  }

  @Override
  public FakeJail start(String sessionId, String tenantId, SandboxPolicy policy,
      dev.paddock.sandbox.jail.WorkspaceLimits workspace) throws SandboxSetupException {
    starts.incrementAndGet();
    String failure = startFailure;
    if (failure != null) {
      throw new SandboxSetupException(failure);
    }
    try {
      Path dir = Files.createDirectories(workspaces.resolve(sessionId));
      FakeJail jail = new FakeJail(sessionId, tenantId, policy, dir, programs::get, linux, programThreads, timers);
      bySession.put(sessionId, jail);
      synchronized (started) {
        started.add(jail);
      }
      return jail;
    } catch (IOException | NativeException e) {
      throw new SandboxSetupException("the fake sandbox could not make its workspace", e);
    }
  }

  @Override
  public void check() throws SandboxSetupException {
    String failure = probeFailure;
    if (failure != null) {
      throw new SandboxSetupException(failure);
    }
  }

  /** The jail started for session {@code sessionId} (a session's id is its jail's name). */
  public FakeJail jail(String sessionId) {
    FakeJail jail = bySession.get(sessionId);
    if (jail == null) {
      throw new AssertionError("no fake jail was started for " + sessionId);
    }
    return jail;
  }

  /** Every jail started so far (ready ones included), oldest first. */
  public List<FakeJail> jails() {
    synchronized (started) {
      return List.copyOf(started);
    }
  }

  /** Jail starts asked for so far, failed ones included. */
  public int starts() {
    return starts.get();
  }

  /** Closes every jail still up, then stops the program threads and timers. */
  @Override
  public void close() {
    jails().forEach(j -> j.close("the test is over"));
    timers.shutdownNow();
    programThreads.shutdownNow();
    try {
      programThreads.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
