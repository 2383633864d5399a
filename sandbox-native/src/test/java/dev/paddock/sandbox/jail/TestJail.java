package dev.paddock.sandbox.jail;

import dev.paddock.policy.DefaultPolicies;
import dev.paddock.policy.Limits;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.sandbox.JailRequirement;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.cgroup.CgroupLayout;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Real session jails for tests: a launcher over real nsjail, paddock-init and cgroups, one shared
 * live jail for runs with the default limits and a fresh jail for runs with other limits.
 */
final class TestJail implements AutoCloseable {
  static final int OUTSIDE_UID = 99999;

  final LinuxSyscalls linux = LinuxSyscalls.system();
  final ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);
  final ExecutorService callbacks = Executors.newCachedThreadPool();
  final JailLauncher launcher;
  final CgroupLayout layout;
  private final CgroupDriver cgroups;
  private final SessionJail shared;
  private final List<SessionJail> started = new ArrayList<>();

  TestJail(Path temp) throws Exception {
    Path nsjail = JailRequirement.nsjail();
    Path init = InitBinary.locate(null, temp.resolve("bin"));
    cgroups = CgroupDriver.detect(Path.of("/sys/fs/cgroup"));
    launcher = new JailLauncher(new JailConfig(nsjail, init, temp.resolve("scratch"), OUTSIDE_UID, OUTSIDE_UID),
        cgroups, linux, timers, callbacks);
    layout = CgroupLayout.forDataDir(temp);
    shared = start(DefaultPolicies.tool());
  }

  /** A new live jail of {@code policy}, closed with this TestJail. */
  SessionJail start(SandboxPolicy policy) throws Exception {
    String id = "t" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    SessionJail jail = launcher.start(id, layout.session("test", id), policy, new WorkspaceLimits(64 << 20, 10_000));
    synchronized (started) {
      started.add(jail);
    }
    return jail;
  }

  SessionJail shared() {
    return shared;
  }

  record Run(String stdout, String stderr, SandboxResult result, JailExec exec) {}

  Run run(List<String> argv) throws Exception {
    return run(argv, l -> l);
  }

  Run run(List<String> argv, UnaryOperator<Limits.Builder> limits) throws Exception {
    return run(argv, limits, "");
  }

  Run run(List<String> argv, UnaryOperator<Limits.Builder> limits, String stdin) throws Exception {
    return run(argv, limits, stdin, Map.of());
  }

  Run run(List<String> argv, UnaryOperator<Limits.Builder> limits, String stdin, Map<String, String> env) throws Exception {
    Limits l = limits.apply(Limits.DEFAULTS.toBuilder()).build();
    Limits jailLimits = l.toBuilder().wallTime(Limits.DEFAULTS.wallTime()).build();
    SessionJail jail = jailLimits.equals(Limits.DEFAULTS) ? shared : start(DefaultPolicies.tool().withLimits(jailLimits));
    return run(jail, command(argv, l, env, Duration.ZERO), stdin);
  }

  static ExecCommand command(List<String> argv, Limits l, Map<String, String> env, Duration cpu) {
    List<String> environment = new ArrayList<>(List.of("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/workspace", "LANG=C.UTF-8"));
    env.forEach((k, v) -> environment.add(k + "=" + v));
    return new ExecCommand(argv, environment, "/workspace", l.wallTime(), cpu, l.maxFileBytes(), l.maxOpenFiles());
  }

  Run run(SessionJail jail, ExecCommand command, String stdin) throws Exception {
    return finish(jail.spawn(command), stdin);
  }

  /** Drains a spawned exec's output (stdin closed at once) and waits for its result. */
  Run finish(JailExec exec) throws Exception {
    return finish(exec, "");
  }

  private Run finish(JailExec exec, String stdin) throws Exception {
    CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> drain(exec.stderr()), callbacks);
    CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> drain(exec.stdout()), callbacks);
    byte[] in = stdin.getBytes(StandardCharsets.UTF_8);
    int off = 0;
    while (off < in.length) {
      off += linux.write(exec.stdin(), in, off, in.length - off);
    }
    exec.stdin().close();
    SandboxResult result = exec.result().get(120, TimeUnit.SECONDS);
    return new Run(new String(out.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8),
        new String(err.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8), result, exec);
  }

  Run python(String code) throws Exception {
    return run(List.of("python3", "-c", code));
  }

  private byte[] drain(Fd fd) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[65536];
    try {
      int n;
      while ((n = linux.read(fd, buf, 0, buf.length)) > 0) {
        all.write(buf, 0, n);
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      fd.close();
    }
    return all.toByteArray();
  }

  @Override
  public void close() {
    synchronized (started) {
      started.forEach(j -> j.close("test done"));
    }
    callbacks.shutdown();
    try {
      callbacks.awaitTermination(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    launcher.close();
    timers.shutdownNow();
    try {
      cgroups.killAndRemoveTree(layout.hostRoot(), linux); // the tenant and host groups above the sessions
    } catch (Exception e) {
      throw new IllegalStateException("test cgroups left behind", e);
    }
  }
}
