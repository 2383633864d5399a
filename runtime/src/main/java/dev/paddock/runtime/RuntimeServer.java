package dev.paddock.runtime;

import dev.paddock.runtime.config.HostConfig;
import dev.paddock.runtime.grpc.HostServer;
import dev.paddock.runtime.session.ExecRunner;
import dev.paddock.runtime.session.JailGate;
import dev.paddock.runtime.session.SessionManager;
import dev.paddock.runtime.tenant.TenantDirectory;
import dev.paddock.sandbox.SandboxLauncher;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.cgroup.CgroupException;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.nsjail.NsjailConfig;
import dev.paddock.sandbox.nsjail.NsjailLauncher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires one host together from its {@link HostConfig}, and takes it down again. */
public final class RuntimeServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RuntimeServer.class);

  private final HostServer grpc;
  private final SessionManager sessions;
  private final JailGate jail;
  private final ScheduledExecutorService ticker;
  private final ExecutorService workers;

  private RuntimeServer(HostServer grpc, SessionManager sessions, JailGate jail,
      ScheduledExecutorService ticker, ExecutorService workers) {
    this.grpc = grpc;
    this.sessions = sessions;
    this.jail = jail;
    this.ticker = ticker;
    this.workers = workers;
  }

  /**
   * Starts a host. Fails (and serves nothing) when the tenants file is missing or invalid. A host
   * without a working jail does start, reports NOT_SERVING on health checks, and refuses sessions
   * with FAILED_PRECONDITION until the jail works.
   */
  public static RuntimeServer start(HostConfig config, Clock clock) throws IOException {
    TenantDirectory tenants = new TenantDirectory(config.tenantsFile(), clock);
    Files.createDirectories(config.dataDir());
    SandboxLauncher launcher = launcher(config);
    removeLeftovers(config, launcher);
    JailGate jail = new JailGate(launcher, clock);
    jail.probe();
    ExecutorService workers = Executors.newCachedThreadPool(named("paddock-exec"));
    ExecRunner execs = new ExecRunner(launcher, jail, workers, config.sessions().maxOutputBytes(), clock);
    SessionManager sessions = new SessionManager(launcher, jail, tenants::tenant, config.sessions(), execs, clock);
    HostServer grpc = HostServer.start(config.listen(), config.tls(), sessions, tenants, workers,
        config.sessions().clientStallTimeout());
    grpc.setServing(jail.healthy());
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(named("paddock-reaper"));
    RuntimeServer host = new RuntimeServer(grpc, sessions, jail, ticker, workers);
    ticker.scheduleWithFixedDelay(host::tick, 1, 1, TimeUnit.SECONDS);
    log.info("paddock host serving on {}:{} ({})", config.listen().getHostString(), grpc.port(),
        config.tls() == null ? "plaintext" : config.tls().clientCa() == null ? "TLS" : "mutual TLS");
    if (config.tls() == null && !config.listen().getAddress().isLoopbackAddress()) {
      log.warn("serving plaintext on a non-loopback address: API keys cross the network in clear;"
          + " use --tls-cert and --tls-key");
    }
    return host;
  }

  private static SandboxLauncher launcher(HostConfig config) {
    CgroupDriver cgroups;
    try {
      cgroups = CgroupDriver.detect(config.cgroupRoot());
    } catch (CgroupException e) {
      log.error("{}", e.getMessage());
      cgroups = new UnusableCgroups(e.getMessage());
    }
    return new NsjailLauncher(
        new NsjailConfig(config.nsjail(), config.sandboxUid(), config.sandboxGid(), config.scratch(), config.workspaces()),
        cgroups, LinuxSyscalls.system());
  }

  /**
   * Sessions do not survive a restart: the workspaces and the jail scratch files (which may hold an
   * exec's environment) of a previous run of this data directory go. Their cgroups are left to the
   * operator: the cgroup tree is shared by every host on the machine (README, Troubleshooting).
   */
  private static void removeLeftovers(HostConfig config, SandboxLauncher launcher) throws IOException {
    for (Path dir : List.of(config.workspaces(), config.scratch())) {
      if (!Files.isDirectory(dir)) {
        continue;
      }
      try (var leftovers = Files.list(dir)) {
        for (Path left : (Iterable<Path>) leftovers::iterator) {
          log.warn("removing {} left by a previous run", config.dataDir().relativize(left));
          if (dir.equals(config.workspaces())) {
            launcher.deleteWorkspace(left);
          } else {
            NsjailLauncher.deleteQuietly(left);
          }
        }
      }
    }
  }

  private void tick() {
    try {
      sessions.reap();
      if (!jail.healthy()) {
        jail.probe();
      }
      grpc.setServing(jail.healthy());
    } catch (RuntimeException e) {
      log.error("reaper tick failed", e);
    }
  }

  /** The bound gRPC port. */
  public int port() {
    return grpc.port();
  }

  /** The domain, for tests and the CLI. */
  public SessionManager sessions() {
    return sessions;
  }

  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /** Stops serving, closes every session (killing their jails), releases threads. */
  @Override
  public void close() {
    try {
      grpc.stop(5);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ticker.shutdownNow();
    sessions.closeAll();
    workers.shutdownNow();
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
