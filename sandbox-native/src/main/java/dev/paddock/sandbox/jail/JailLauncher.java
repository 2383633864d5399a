package dev.paddock.sandbox.jail;

import dev.paddock.policy.Limits;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.cgroup.Cgroup;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.cgroup.CgroupException;
import dev.paddock.sandbox.fs.WorkspaceRoot;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts session jails and takes them down again. There is no unsandboxed path: when a jail cannot
 * be set up, {@link #start} throws and nothing runs.
 *
 * <p>A jail starts as {@code /bin/sh}, spawned with the control socket as fd 3, which writes its
 * own pid into the session cgroup and then execs nsjail: everything of the jail is born inside the
 * group, so its limits hold from the first instruction. nsjail reads its config from a private
 * file, sets up namespaces, mounts and seccomp once, and executes paddock-init, which says Ready.
 *
 * <p>Owns one reactor thread (every jail's channel and nsjail pidfd); the timer and callback
 * executors are the caller's, passed in and shut down by the caller after {@link #close}.
 */
public final class JailLauncher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JailLauncher.class);
  /** Host send buffer of each control channel: frames up to 1 MiB must fit one record. */
  private static final int HOST_SEND_BUFFER = 2 << 20;
  /** How long {@link #start} waits for init's Ready unless the constructor says otherwise. */
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(15);
  /** nsjail and init live in the session cgroup next to the tenant's processes. */
  private static final int SUPERVISOR_PROCESSES = 2;

  private final JailConfig config;
  private final CgroupDriver cgroups;
  private final LinuxSyscalls linux;
  private final ScheduledExecutorService timers;
  private final Executor callbacks;
  private final JailReactor reactor;
  private final SeccompAuditLookup seccompAudit;
  private final Duration startTimeout;

  /**
   * A launcher whose {@link #start} waits up to {@link #DEFAULT_START_TIMEOUT} (15 s) for init.
   *
   * @param timers    exec deadlines and cleanup retries
   * @param callbacks work that must not run on the reactor thread (cleanup, slow lookups)
   */
  public JailLauncher(JailConfig config, CgroupDriver cgroups, LinuxSyscalls linux,
      ScheduledExecutorService timers, Executor callbacks) throws NativeException {
    this(config, cgroups, linux, timers, callbacks, DEFAULT_START_TIMEOUT);
  }

  /**
   * @param timers       exec deadlines and cleanup retries
   * @param callbacks    work that must not run on the reactor thread (cleanup, slow lookups)
   * @param startTimeout how long {@link #start} waits for init's Ready before it gives the jail up
   *                     and throws; positive. Default {@link #DEFAULT_START_TIMEOUT} (15 s).
   */
  public JailLauncher(JailConfig config, CgroupDriver cgroups, LinuxSyscalls linux,
      ScheduledExecutorService timers, Executor callbacks, Duration startTimeout) throws NativeException {
    if (startTimeout.isNegative() || startTimeout.isZero()) {
      throw new IllegalArgumentException("start timeout must be positive, got " + startTimeout);
    }
    this.startTimeout = startTimeout;
    this.config = config;
    this.cgroups = cgroups;
    this.linux = linux;
    this.timers = timers;
    this.callbacks = callbacks;
    this.reactor = new JailReactor(linux);
    this.seccompAudit = new SeccompAuditLookup(linux);
  }

  LinuxSyscalls linux() {
    return linux;
  }

  ScheduledExecutorService timers() {
    return timers;
  }

  Executor callbacks() {
    return callbacks;
  }

  JailReactor reactor() {
    return reactor;
  }

  SeccompAuditLookup seccompAudit() {
    return seccompAudit;
  }

  /**
   * Kills and removes everything under {@code cgroupRoot} and every scratch directory: at start,
   * what an earlier run of this host left; at close, once every jail is closed, what their cleanup
   * has not finished (and the groups that outlive sessions, such as tenant groups). Failures are
   * logged, never thrown: a host must start whatever its predecessor left behind.
   */
  public void removeLeftovers(String cgroupRoot) {
    try {
      cgroups.killAndRemoveTree(cgroupRoot, linux);
    } catch (CgroupException e) {
      log.error("cannot remove leftover cgroups under {}; the next start tries again", cgroupRoot, e);
    }
    Path scratch = config.scratchDir();
    if (!Files.isDirectory(scratch)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(scratch)) {
      for (Path dir : (Iterable<Path>) dirs::iterator) {
        try {
          JailScratch.delete(dir);
        } catch (IOException e) {
          log.warn("cannot remove leftover scratch files {}", dir.getFileName(), e);
        }
      }
    } catch (IOException e) {
      log.warn("cannot list the scratch directory", e);
    }
  }

  /**
   * Starts a session jail in a new cgroup at {@code cgroupPath} and waits until init is Ready and
   * the workspace is open. A jail that ends before that (its init broke the protocol or exited) is
   * not returned: start throws. One may still fail right after; see {@link SessionJail#onFailure}.
   *
   * @throws SandboxSetupException with a reason safe for a tenant; details go to the host log
   */
  public SessionJail start(String name, String cgroupPath, SandboxPolicy policy, WorkspaceLimits workspace)
      throws SandboxSetupException {
    return start(name, cgroupPath, policy, workspace, config);
  }

  /**
   * As {@link #start(String, String, SandboxPolicy, WorkspaceLimits)}, with {@code init} as the
   * jail's PID 1 instead of the configured one: tests run a stand-in init next to the real one,
   * under the same reactor thread.
   */
  SessionJail start(String name, String cgroupPath, SandboxPolicy policy, WorkspaceLimits workspace, Path init)
      throws SandboxSetupException {
    return start(name, cgroupPath, policy, workspace,
        new JailConfig(config.nsjail(), init, config.scratchDir(), config.outsideUid(), config.outsideGid()));
  }

  private SessionJail start(String name, String cgroupPath, SandboxPolicy policy, WorkspaceLimits workspace,
      JailConfig parts) throws SandboxSetupException {
    checkBinaries(parts);
    JailScratch scratch;
    try {
      scratch = JailScratch.create(parts.scratchDir(), "jail-" + randomHex());
    } catch (IOException e) {
      log.error("cannot create a jail scratch directory", e);
      throw new SandboxSetupException("the sandbox could not be set up (host scratch space)", e);
    }
    Limits limits = policy.limits();
    Cgroup cgroup;
    try {
      cgroup = cgroups.create(cgroupPath,
          limits.toBuilder().processes(limits.maxProcesses() + SUPERVISOR_PROCESSES).build());
    } catch (CgroupException e) {
      log.warn("cannot create cgroup {}: {}", cgroupPath, e.getMessage()); // the cause goes to the caller
      deleteQuietly(scratch);
      throw new SandboxSetupException("the sandbox's resource limits could not be applied on this host", e);
    }
    Fd[] channel = null;
    SessionJail jail = null;
    try {
      Files.writeString(scratch.config(), NsjailConfigs.text(NsjailConfigs.session(parts, policy, workspace, scratch.log())),
          StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      Files.setPosixFilePermissions(scratch.config(), PosixFilePermissions.fromString("rw-------"));
      channel = linux.seqpacketPair(HOST_SEND_BUFFER);
      List<String> argv = List.of("/bin/sh", "-c", joinCgroupScript(cgroup.procsFiles()), "paddock-jail",
          parts.nsjail().toString(), "--config", scratch.config().toString());
      long pid = linux.spawn(argv, Arrays.asList(null, null, null, channel[1]));
      linux.close(channel[1]);
      Fd pidfd = linux.pidfdOpen(pid);
      jail = new SessionJail(name, this, channel[0], pidfd, pid, cgroup, limits, scratch);
      SessionJail j = jail;
      // The jail knows its tokens before an event can fire, so a failure at once unregisters cleanly.
      long controlToken = reactor.newToken();
      long pidfdToken = reactor.newToken();
      jail.registered(controlToken, pidfdToken);
      reactor.register(channel[0], controlToken, j::onControlReadable);
      reactor.register(pidfd, pidfdToken, j::onNsjailExit);
      jail.ready().get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
      long initPid = initPid(pid);
      if (!jail.setWorkspace(openWorkspace(pid, initPid), initPid)) {
        throw new IOException("the jail ended while starting");
      }
      Files.deleteIfExists(scratch.config());
      return jail;
    } catch (IOException | NativeException | ExecutionException | TimeoutException e) {
      log.error("jail {} did not start: {}; nsjail log: {}", name, e.toString(), scratch.logTail(8));
      abandon(jail, channel, cgroup, scratch);
      throw new SandboxSetupException("the sandbox could not be started on this host", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      abandon(jail, channel, cgroup, scratch);
      throw new SandboxSetupException("interrupted while starting the sandbox", e);
    }
  }

  private void abandon(SessionJail jail, Fd[] channel, Cgroup cgroup, JailScratch scratch) {
    if (jail != null) {
      jail.close("the jail did not start");
      return;
    }
    if (channel != null) {
      linux.close(channel[0]);
      linux.close(channel[1]);
    }
    try {
      cgroup.killAll(linux);
      cgroup.remove();
    } catch (CgroupException e) {
      log.warn("cannot remove {} after a failed start", cgroup, e);
    }
    deleteQuietly(scratch);
  }

  private static void checkBinaries(JailConfig parts) throws SandboxSetupException {
    if (!Files.isExecutable(parts.nsjail())) {
      throw new SandboxSetupException(
          "nsjail is not installed on this host (configured path not found or not executable); run scripts/setup or set --nsjail");
    }
    if (!Files.isRegularFile(parts.init())) {
      throw new SandboxSetupException("paddock-init is missing on this host; rebuild sandbox-native");
    }
  }

  /** The host pid of the jail's init: nsjail's only child. */
  private static long initPid(long nsjailPid) throws IOException {
    String children = Files.readString(Path.of("/proc", Long.toString(nsjailPid), "task", Long.toString(nsjailPid), "children")).trim();
    if (children.isEmpty() || children.contains(" ")) {
      throw new IOException("nsjail has " + (children.isEmpty() ? "no" : "several") + " children");
    }
    return Long.parseLong(children);
  }

  /**
   * The workspace as a directory descriptor, reached through the root of init ({@code initPid}):
   * the jail's own mount namespace, where the workspace tmpfs lives. Checks that init is still
   * nsjail's child and PID 1 of its namespace.
   */
  private WorkspaceRoot openWorkspace(long nsjailPid, long initPid) throws IOException, NativeException {
    // Pin init with a pidfd and check it is nsjail's child and PID 1 of its namespace: a pid that
    // died and was reused in between could otherwise name another process's root.
    Fd init = linux.pidfdOpen(initPid);
    try {
      String status = Files.readString(Path.of("/proc", Long.toString(initPid), "status"));
      if (!status.contains("\nPPid:\t" + nsjailPid + "\n") || !status.matches("(?s).*\nNSpid:\t" + initPid + "\t1\n.*")) {
        throw new IOException("nsjail's child is not the jail's PID 1");
      }
      WorkspaceRoot root = WorkspaceRoot.open(Path.of("/proc", Long.toString(initPid), "root", NsjailConfigs.WORKSPACE.substring(1)));
      if (linux.pidOf(init).isEmpty()) {
        root.close();
        throw new IOException("the jail's PID 1 ended while its workspace was being opened");
      }
      return root;
    } finally {
      linux.close(init);
    }
  }

  /**
   * Takes a closed or failed jail down in the background: closing the channel makes init kill
   * everything and exit; the cgroup kill catches an init that does not; then nsjail is reaped and
   * the cgroup and scratch files removed. Each failed step is logged and the whole retried.
   */
  void dispose(SessionJail jail) {
    callbacks.execute(() -> disposeNow(jail, 0));
  }

  private void disposeNow(SessionJail jail, int attempt) {
    try {
      // The jail stopped reading its channel when it died (SessionJail.stopReading).
      linux.close(jail.control());
      WorkspaceRoot workspace = jail.workspace();
      if (workspace != null) {
        workspace.close();
      }
      jail.cgroup().killAll(linux);
      jail.nsjailExited().get(5, TimeUnit.SECONDS);
      linux.close(jail.nsjailPidfd());
      jail.cgroup().remove();
      jail.scratch.delete();
    } catch (CgroupException | IOException | ExecutionException | TimeoutException | RuntimeException e) {
      long delay = Math.min(60_000, 100L << Math.min(attempt, 9));
      log.warn("cleanup of {} failed (attempt {}); retrying in {} ms: {}", jail, attempt + 1, delay, e.toString());
      timers.schedule(() -> callbacks.execute(() -> disposeNow(jail, attempt + 1)), delay, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Checks that a jail works here: starts one, runs {@code /bin/true} in it, closes it.
   *
   * @throws SandboxSetupException with a reason an operator can act on
   */
  public void checkAvailable(String cgroupPath, SandboxPolicy policy) throws SandboxSetupException {
    SessionJail jail = start("probe", cgroupPath, policy, new WorkspaceLimits(1 << 20, 64));
    try {
      JailExec exec = jail.spawn(new ExecCommand(List.of("/bin/true"), List.of("PATH=/usr/bin:/bin"), NsjailConfigs.WORKSPACE,
          Duration.ofSeconds(10), Duration.ZERO, 1 << 20, 64));
      exec.stdin().close();
      SandboxResult result = exec.result().get(15, TimeUnit.SECONDS);
      exec.stdout().close();
      exec.stderr().close();
      if (result.status() != SandboxResult.Status.OK || result.exitCode() != 0) {
        throw new SandboxSetupException("nsjail is installed but cannot run a program in a sandbox here: " + result.reason());
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new SandboxSetupException("the sandbox probe did not finish", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SandboxSetupException("interrupted while probing the sandbox", e);
    } finally {
      jail.close("the probe is done");
    }
  }

  /**
   * For the benchmark's baseline only (the host never runs it): the nsjail config text a session
   * jail of {@code policy} gets from {@link #start}, except that nsjail runs {@code /bin/true} (a
   * path inside the jail) instead of paddock-init and passes no control descriptor. Namespaces,
   * uid/gid maps, mounts, tmpfs sizes, rlimits, log settings and the seccomp policy are the same,
   * so {@code nsjail --config <file>} with this text times a raw jail spawn of {@code /bin/true}
   * under a session jail's policy. No cgroup is involved (a session jail's cgroup join happens in
   * the launcher's shell, not in the config).
   *
   * @param logFile where nsjail writes its log, as {@code log_file} of a session jail's config
   */
  public static String baselineConfigText(JailConfig host, SandboxPolicy policy, WorkspaceLimits workspace, Path logFile) {
    return NsjailConfigs.text(NsjailConfigs.baseline(host, policy, workspace, logFile));
  }

  /** Writes the shell's pid into every cgroup.procs file, then execs nsjail ("$@"). */
  private static String joinCgroupScript(List<Path> procsFiles) {
    StringBuilder script = new StringBuilder();
    for (Path f : procsFiles) {
      // Paths are built from checked segments ([A-Za-z0-9_.-]), so single quotes are safe.
      script.append("echo $$ > '").append(f).append("' && ");
    }
    return script.append("exec \"$@\"").toString();
  }

  private static void deleteQuietly(JailScratch scratch) {
    try {
      scratch.delete();
    } catch (IOException e) {
      log.warn("cannot delete jail scratch {}", scratch, e);
    }
  }

  private static String randomHex() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }

  /** Stops the reactor. Close every jail first. */
  @Override
  public void close() {
    reactor.close();
  }
}
