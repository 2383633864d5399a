package dev.paddock.sandbox.nsjail;

import dev.paddock.policy.DefaultPolicies;
import dev.paddock.policy.Limits;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.sandbox.FinishedProcess;
import dev.paddock.sandbox.SandboxLauncher;
import dev.paddock.sandbox.SandboxProcess;
import dev.paddock.sandbox.SandboxRequest;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.cgroup.Cgroup;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.cgroup.CgroupException;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs commands in nsjail, one fresh jail per command, inside a cgroup the host creates and owns.
 *
 * <p>nsjail is started through {@code /bin/sh}, which first writes its own pid into the exec's
 * cgroup and then execs nsjail: everything nsjail starts is born inside the group, so memory,
 * process and CPU limits hold from the first instruction and the group's counters tell OOM and
 * pids-limit endings apart afterwards. Each session keeps one such jail ready ahead of its next
 * exec ({@link StandbyJail}), which takes the slow cgroup join off the exec's path.
 */
public final class NsjailLauncher implements SandboxLauncher {
  private static final Logger log = LoggerFactory.getLogger(NsjailLauncher.class);

  private final NsjailConfig config;
  private final CgroupDriver cgroups;
  private final LinuxSyscalls linux;
  private final SeccompAuditLookup audit;
  private final ScheduledExecutorService timers;
  private final java.util.concurrent.ExecutorService cleanup;
  private final StandbyPool standbys;

  public NsjailLauncher(NsjailConfig config, CgroupDriver cgroups, LinuxSyscalls linux) {
    this.config = config;
    this.cgroups = cgroups;
    this.linux = linux;
    this.audit = new SeccompAuditLookup(linux);
    this.timers = Executors.newScheduledThreadPool(1, daemon("paddock-sandbox-timer"));
    this.cleanup = Executors.newSingleThreadExecutor(daemon("paddock-sandbox-cleanup"));
    // Two threads: one slow preparation (a cgroup join can wait for an RCU grace period) does not
    // hold up every other session's next jail.
    this.standbys = new StandbyPool(this::makeStandby,
        Executors.newFixedThreadPool(2, daemon("paddock-sandbox-standby")), linux);
  }

  @Override
  public void checkAvailable() throws SandboxSetupException {
    Path nsjail = config.nsjail();
    if (!Files.isRegularFile(nsjail) || !Files.isExecutable(nsjail)) {
      throw new SandboxSetupException(
          "nsjail is not installed on this host (configured path not found or not executable);"
              + " run scripts/setup or set --nsjail");
    }
    Path workspace = null;
    String cgroup = "paddock/probe/" + randomHex();
    SandboxProcess p = null;
    try {
      checkSearchable(workspaceRoot());
      checkNotVisibleInJails(workspaceRoot());
      checkNotVisibleInJails(scratchDir());
      workspace = createWorkspace("probe-" + randomHex());
      SandboxRequest probe = new SandboxRequest(
          List.of("/bin/true"), java.util.Map.of(), "", null, workspace,
          DefaultPolicies.tool().withLimits(Limits.DEFAULTS.toBuilder().wallTime(Duration.ofSeconds(10)).build()),
          cgroup);
      p = start(probe, false);
      p.stdout().transferTo(java.io.OutputStream.nullOutputStream());
      p.stderr().transferTo(java.io.OutputStream.nullOutputStream());
      SandboxResult result = p.await();
      p = null;
      if (result.status() != SandboxResult.Status.OK || result.exitCode() != 0) {
        throw new SandboxSetupException("nsjail is installed but cannot start a sandbox on this host: " + result.reason());
      }
    } catch (IOException e) {
      log.error("sandbox probe failed", e);
      throw new SandboxSetupException("the sandbox probe failed on this host", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SandboxSetupException("interrupted while probing the sandbox", e);
    } finally {
      if (p != null) {
        p.cancel("the probe failed");
        awaitQuietly(p);
      }
      try {
        // No standby was prepared for the probe: remove its group directly, leaving no tombstone.
        cgroups.removeTree(cgroup);
      } catch (CgroupException e) {
        log.warn("cannot remove the probe's cgroup", e);
      }
      if (workspace != null) {
        deleteQuietly(workspace);
      }
    }
  }

  private static void awaitQuietly(SandboxProcess p) {
    boolean interrupted = Thread.interrupted();
    try {
      p.await();
    } catch (InterruptedException e) {
      interrupted = true;
    } catch (RuntimeException e) {
      log.warn("cleanup of a failed probe failed", e);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Creates the workspace directory {@code name} under the workspace root: owned by the jailed
   * user, mode 0700, so no other local user can read it.
   */
  @Override
  public Path createWorkspace(String name) throws IOException {
    if (!name.matches("[A-Za-z0-9_-]{1,128}")) {
      throw new IllegalArgumentException("invalid workspace name");
    }
    Path dir = workspaceRoot().resolve(name);
    Files.createDirectory(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    Files.setAttribute(dir, "unix:uid", config.outsideUid());
    Files.setAttribute(dir, "unix:gid", config.outsideGid());
    return dir;
  }

  /** Deletes a workspace and everything the sandbox left in it. */
  @Override
  public void deleteWorkspace(Path workspace) {
    if (workspace.startsWith(config.workspaceRoot()) && !workspace.equals(config.workspaceRoot())) {
      deleteQuietly(workspace);
    }
  }

  /** The workspace root, 0711: the jail must search through it, nobody may list it. */
  private Path workspaceRoot() throws IOException {
    return directory(config.workspaceRoot(), "rwx--x--x");
  }

  /**
   * Every jail runs as the same host uid, which owns every workspace: a workspace under a path the
   * policy mounts into jails (say /usr/local) would be open to every other jail by its path.
   */
  private static void checkNotVisibleInJails(Path dir) throws SandboxSetupException, IOException {
    Path real = dir.toRealPath();
    for (dev.paddock.policy.Mount m : DefaultPolicies.tool().mounts()) {
      if (Files.exists(m.hostPath()) && real.startsWith(m.hostPath().toRealPath())) {
        log.error("{} lies inside {}, which every sandbox can read", real, m.hostPath());
        throw new SandboxSetupException(
            "the data directory lies inside a system directory that sandboxes can read; choose another --data-dir");
      }
    }
  }

  /** Every ancestor of {@code dir} must let others search it, or nsjail cannot mount workspaces. */
  private static void checkSearchable(Path dir) throws SandboxSetupException, IOException {
    for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
      if (!Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
        log.error("workspace root {} is not reachable for the sandbox user: {} lacks o+x", dir, p);
        throw new SandboxSetupException(
            "the workspace directory is not reachable for the sandbox user (a parent directory lacks o+x);"
                + " choose a --data-dir whose parents are searchable");
      }
    }
  }

  @Override
  public SandboxProcess start(SandboxRequest request) throws SandboxSetupException {
    return start(request, true);
  }

  /** Starts {@code request}; with {@code prepareNext}, prepares the parent's next jail too. */
  private SandboxProcess start(SandboxRequest request, boolean prepareNext) throws SandboxSetupException {
    checkCwd(request.cwd());
    Optional<List<String>> argv = NsjailCommand.resolveArgv(request.argv());
    if (argv.isEmpty()) {
      return new FinishedProcess(SandboxResult.setupError(
          "program '" + request.argv().get(0) + "' not found on PATH (" + String.join(":", NsjailCommand.PATH_DIRS) + ")"));
    }
    StandbyJail.Key key = StandbyJail.Key.of(request.cgroupParent(), request.workspace(), request.policy());
    StandbyJail jail = standbys.take(key);
    try {
      NsjailCommand.writeExecConfig(request, argv.get(), jail.execConfig());
      jail.release();
    } catch (IOException e) {
      log.error("cannot hand the exec to its jail", e);
      jail.discard(linux);
      throw new SandboxSetupException("the sandbox could not be started on this host", e);
    }
    NsjailProcess process;
    try {
      // Right after release: from here on the jail runs, and only a supervised process may run.
      process = new NsjailProcess(jail.shell, request, jail.cgroup, jail.logFile(), jail.execDir, linux, audit, timers, cleanup);
    } catch (RuntimeException e) {
      log.error("cannot supervise a released jail; killing it", e);
      jail.discard(linux);
      throw new SandboxSetupException("the sandbox could not be started on this host", e);
    }
    if (prepareNext) {
      standbys.prepareAsync(key); // the session's next exec
    }
    return process;
  }

  @Override
  public void prepare(String cgroupParent, Path workspace, SandboxPolicy policy) {
    standbys.prepareAsync(StandbyJail.Key.of(cgroupParent, workspace, policy));
  }

  /** Makes a standby jail now: scratch directory, cgroup with the policy's limits, the waiting shell. */
  private StandbyJail makeStandby(StandbyJail.Key key) throws SandboxSetupException {
    Path execDir;
    try {
      execDir = Files.createDirectory(scratchDir().resolve("exec-" + randomHex()),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      log.error("cannot create the exec scratch directory", e);
      throw new SandboxSetupException("the sandbox could not be set up (host scratch space)", e);
    }
    Limits limits = key.policy().limits();
    String cgroupPath = key.cgroupParent() + "/j" + randomHex();
    Cgroup cgroup;
    try {
      // +1: nsjail itself lives in the group, supervising the tool.
      cgroup = cgroups.create(cgroupPath, limits.toBuilder().processes(limits.maxProcesses() + 1).build());
    } catch (CgroupException e) {
      log.error("cannot create cgroup {}", cgroupPath, e);
      deleteQuietly(execDir);
      throw new SandboxSetupException("the sandbox's resource limits could not be applied on this host", e);
    }
    List<String> command = new ArrayList<>();
    command.add("/bin/sh");
    command.add("-c");
    command.add(standbyScript(cgroup.procsFiles()));
    command.add("paddock-jail");
    command.addAll(NsjailCommand.flags(config, key.policy(), key.workspace(),
        execDir.resolve("nsjail.log"), execDir.resolve("exec.cfg")));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().clear();
    try {
      return new StandbyJail(key, cgroup, builder.start(), execDir);
    } catch (IOException e) {
      log.error("cannot start the jail", e);
      removeQuietly(cgroup);
      deleteQuietly(execDir);
      throw new SandboxSetupException("the sandbox could not be started on this host", e);
    }
  }

  /**
   * The plain nsjail command line for {@code request}, without the host's cgroup step: what an
   * operator would type to reproduce a jail by hand, and the baseline the benchmark compares with.
   * Writes the exec's config to {@code execConfig} (which must not exist yet), as a start does.
   */
  public List<String> nsjailCommandLine(SandboxRequest request, Path logFile, Path execConfig) throws IOException {
    List<String> argv = NsjailCommand.resolveArgv(request.argv()).orElse(request.argv());
    NsjailCommand.writeExecConfig(request, argv, execConfig);
    return NsjailCommand.flags(config, request.policy(), request.workspace(), logFile, execConfig);
  }

  private static void removeQuietly(Cgroup cgroup) {
    try {
      cgroup.remove();
    } catch (CgroupException e) {
      log.warn("cannot remove {} after a failed start", cgroup, e);
    }
  }

  @Override
  public void removeCgroups(String relativePath) {
    standbys.discardUnder(relativePath);
    try {
      cgroups.removeTree(relativePath);
    } catch (CgroupException e) {
      log.warn("cannot remove cgroup subtree {}", relativePath, e);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Writes the shell's pid into every cgroup.procs file, waits for one line on stdin, then execs
   * nsjail ("$@"). dash's {@code read} takes one byte at a time from a pipe, so the exec's stdin
   * that follows the line is left for the tool.
   */
  private static String standbyScript(List<Path> procsFiles) {
    StringBuilder script = new StringBuilder();
    for (Path f : procsFiles) {
      // Paths are built from checked segments ([A-Za-z0-9_.-]), so single quotes are safe.
      script.append("echo $$ > '").append(f).append("' && ");
    }
    return script.append("read -r go && exec \"$@\"").toString();
  }

  private static String randomHex() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }

  private static void checkCwd(String cwd) {
    if (cwd.startsWith("/") || Path.of(cwd).normalize().startsWith("..") || cwd.contains("\0")) {
      throw new IllegalArgumentException("cwd must be a path inside the workspace");
    }
  }

  /** The scratch directory for jail logs and environments, 0700: the host's alone. */
  private Path scratchDir() throws IOException {
    return directory(config.scratchDir(), "rwx------");
  }

  private static Path directory(Path dir, String permissions) throws IOException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(permissions));
    return dir;
  }

  /** Deletes {@code dir} and everything below it, without following links; failures are logged. */
  public static void deleteQuietly(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          log.warn("cannot delete {}", p, e);
        }
      });
    } catch (IOException e) {
      log.warn("cannot delete {}", dir, e);
    }
  }
}
