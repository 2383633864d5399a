package dev.paddock.runtime;

import dev.paddock.policy.DefaultPolicies;
import dev.paddock.runtime.config.HostConfig;
import dev.paddock.runtime.audit.AuditTrail;
import dev.paddock.runtime.egress.EgressGrant;
import dev.paddock.runtime.egress.EgressProxy;
import dev.paddock.runtime.policy.PolicyPackStore;
import dev.paddock.runtime.policy.PolicyPacks;
import dev.paddock.sandbox.linux.TcpSockets;
import dev.paddock.runtime.grpc.HostServer;
import dev.paddock.runtime.ipc.ArtifactStore;
import dev.paddock.runtime.ipc.IpcLimits;
import dev.paddock.runtime.ipc.ToolBroker;
import dev.paddock.runtime.session.ExecRunner;
import dev.paddock.runtime.session.JailGate;
import dev.paddock.runtime.session.SessionManager;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.session.WorkspaceService;
import dev.paddock.runtime.tenant.TenantDirectory;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.cgroup.CgroupException;
import dev.paddock.sandbox.cgroup.CgroupLayout;
import dev.paddock.sandbox.jail.InitBinary;
import dev.paddock.sandbox.jail.JailConfig;
import dev.paddock.sandbox.jail.JailLauncher;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires one host together from its {@link HostConfig}, and takes it down again. */
public final class RuntimeServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RuntimeServer.class);

  private final DataDirLock lock;
  private final HostServer grpc;
  private final SessionManager sessions;
  private final JailGate jail;
  private final JailLauncher launcher;
  private final CgroupLayout layout;
  private final ScheduledExecutorService ticker;
  private final ScheduledExecutorService timers;
  private final ExecutorService callbacks;
  private final ExecutorService workers;
  private final ExecutorService maker;
  private final AgentSdks.Installed sdks;
  private final AuditTrail audit;
  private final dev.paddock.runtime.vault.Vault vault;
  private final java.time.Duration secretKeyRotation;
  private final AutoCloseable browserPool;
  private final EgressProxy egress;
  /** When the tick last looked for data keys due for rotation (hourly). */
  private long vaultCheckedNanos;
  private boolean vaultChecked;

  private RuntimeServer(DataDirLock lock, HostServer grpc, SessionManager sessions, JailGate jail, JailLauncher launcher,
      CgroupLayout layout, ScheduledExecutorService ticker, ScheduledExecutorService timers, ExecutorService callbacks,
      ExecutorService workers, ExecutorService maker, AgentSdks.Installed sdks, AuditTrail audit,
      dev.paddock.runtime.vault.Vault vault, java.time.Duration secretKeyRotation, EgressProxy egress,
      AutoCloseable browserPool) {
    this.lock = lock;
    this.browserPool = browserPool;
    this.egress = egress;
    this.audit = audit;
    this.vault = vault;
    this.secretKeyRotation = secretKeyRotation;
    this.grpc = grpc;
    this.sessions = sessions;
    this.jail = jail;
    this.launcher = launcher;
    this.layout = layout;
    this.ticker = ticker;
    this.timers = timers;
    this.callbacks = callbacks;
    this.workers = workers;
    this.maker = maker;
    this.sdks = sdks;
  }

  /**
   * Starts a host. Fails (and serves nothing) when another host holds the data directory, or the
   * tenants file is missing or invalid. A host without a working jail does start, reports
   * NOT_SERVING on health checks, and refuses sessions with FAILED_PRECONDITION until the jail works.
   */
  public static RuntimeServer start(HostConfig config, Clock clock) throws IOException {
    DataDirLock lock = DataDirLock.acquire(config.dataDir(), config.lockFile());
    try {
      return start(config, clock, lock);
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  private static RuntimeServer start(HostConfig config, Clock clock, DataDirLock lock) throws IOException {
    AgentSdks.Installed sdks = AgentSdks.install(config.dataDir(), config.pythonProtobuf());
    try {
      return start(config, clock, lock, sdks);
    } catch (IOException | RuntimeException e) {
      AgentSdks.remove(sdks);
      throw e;
    }
  }

  private static RuntimeServer start(HostConfig config, Clock clock, DataDirLock lock, AgentSdks.Installed sdks)
      throws IOException {
    TenantDirectory tenants = new TenantDirectory(config.tenantsFile(), clock);
    // Before anything can act: a host that cannot record does not serve (fail closed).
    AuditTrail audit = AuditTrail.open(config.dataDir(), config.auditShipTo(), config.auditSigningKey(), clock);
    try {
      return start(config, clock, lock, sdks, tenants, audit);
    } catch (IOException | RuntimeException e) {
      audit.close();
      throw e;
    }
  }

  private static RuntimeServer start(HostConfig config, Clock clock, DataDirLock lock, AgentSdks.Installed sdks,
      TenantDirectory tenants, AuditTrail audit) throws IOException {
    // The operator's signed policy pack, when there is one: it replaces the tenants file's settings.
    // First, before anything is made that a refusal to start would have to take down again.
    PolicyPacks packs = PolicyPacks.load(new PolicyPackStore(config.dataDir()), SessionManager.builtInPolicies());
    tenants.overlay(packs::tenant);
    audit.policyPack(packs::label);
    LinuxSyscalls linux = LinuxSyscalls.system();
    ScheduledExecutorService timers = Executors.newScheduledThreadPool(2, named("paddock-jail-timer"));
    ExecutorService callbacks = Executors.newCachedThreadPool(named("paddock-jail-work"));
    CgroupDriver cgroupDriver = cgroups(config);
    JailLauncher launcher;
    try {
      launcher = new JailLauncher(jailConfig(config, sdks), cgroupDriver, linux, timers, callbacks);
    } catch (NativeException e) {
      timers.shutdownNow();
      callbacks.shutdownNow();
      throw new IOException("cannot start the jail reactor", e);
    }
    CgroupLayout layout = CgroupLayout.forDataDir(config.dataDir());
    launcher.removeLeftovers(layout.hostRoot());
    JailGate jail = new JailGate(
        () -> launcher.checkAvailable(layout.probe(randomHex()), DefaultPolicies.tool()), clock);
    jail.probe();
    ExecutorService workers = Executors.newCachedThreadPool(named("paddock-exec"));
    ExecutorService maker = Executors.newSingleThreadExecutor(named("paddock-ready-jails"));
    // The operator file's host: section over the built-in (or given) settings; re-read with the file.
    SessionSettings settings = tenants.hostSettings(config.sessions());
    ExecRunner execs = new ExecRunner(workers, linux, settings, clock, sdks.env());
    TenantCgroups tenantBudgets = new TenantCgroups(cgroupDriver, layout, tenants::tenant);
    tenantBudgets.capHost();
    tenants.onReload(tenantBudgets::reapply);
    dev.paddock.runtime.metrics.HostMetrics metrics = new dev.paddock.runtime.metrics.HostMetrics(
        config.metrics().tenantLabels());
    SessionManager sessions = new SessionManager(jail, metrics.jailStarts(
        (id, tenant, policy, workspace) -> launcher.start(id, layout.session(tenant, id),
            tenantBudgets.apply(tenant, policy), workspace)),
        maker, tenants::tenant, settings, execs, clock);
    tenants.onReload(() -> sessions.settings(tenants.hostSettings(config.sessions())));
    sessions.policies(packs::policies);
    WorkspaceService workspaces = new WorkspaceService(sessions, config.sandboxUid(), config.sandboxGid());
    workspaces.tenantBudget(id -> tenants.tenant(id).map(t -> tenantBudgets.budget(t).memoryBytes()).orElse(0L));
    ArtifactStore artifacts = new ArtifactStore(config.artifacts());
    sessions.onClose(s -> artifacts.deleteSession(s.id()));
    sessions.onClose(audit::sessionClosed);
    audit.configLoaded(config.tenantsFile());
    packs.inForce().ifPresentOrElse(p -> audit.policyPackLoaded(p, packs.signedBy(), packs.policies()),
        () -> audit.policiesLoaded(packs.policies()));
    if (packs.startupProblem() != null) {
      audit.policyPackRefused(new PolicyPackStore(config.dataDir()).packFile().getFileName().toString(), packs.startupProblem());
    }
    packs.onLoaded(v -> {
      audit.policyPackLoaded(v.pack(), v.signedBy(), packs.policies());
      tenantBudgets.reapply();
    });
    packs.onRefused(audit::policyPackRefused);
    audit.keysInForce(tenants.keysInForce());
    tenants.onKeysChanged(audit::keysChanged);
    tenants.onReload(() -> audit.configLoaded(config.tenantsFile()));
    tenants.onRefused(problems -> audit.configRefused(config.tenantsFile(), problems));
    ToolBroker broker = new ToolBroker(workspaces, artifacts, IpcLimits.DEFAULTS, clock);
    broker.audit(audit);
    execs.tools(broker);
    sessions.onOpen(metrics::sessionOpened);
    sessions.onClose(metrics::sessionClosed);
    execs.audit(metrics.observe(audit)); // counted after they are recorded
    dev.paddock.runtime.vault.Vault vault = dev.paddock.runtime.vault.Vault.openIn(config.dataDir(),
        config.vault().masterKey(), clock);
    execs.secrets(vault::reveal);
    // Every jail's one way out: connections its tools make through the proxy variables.
    EgressProxy egress = new EgressProxy(linux, TcpSockets.system(), config.egress(),
        id -> tenants.tenant(id).map(dev.paddock.runtime.tenant.Tenant::egress).orElse(EgressGrant.NONE), clock);
    egress.audit(audit);
    egress.secrets(vault::reveal);
    execs.onOutputEnd(egress.directAttemptsCheck());
    sessions.onOpen(egress::open);
    sessions.onClose(egress::close);
    // Browsers for sessions: Chromium in jails of their own, under the tenant's cgroup like its sessions.
    dev.paddock.browser.local.LocalChromiumProvider localChromium = new dev.paddock.browser.local.LocalChromiumProvider(
            (id, tenant, policy, workspace) -> tenant == null ? launcher.start(id, layout.warm(id), policy, workspace)
                : launcher.start(id, layout.session(tenant, id), tenantBudgets.apply(tenant, policy), workspace),
            // A browser's way out is its session's: the same lists, budgets, events and records.
            (request, browserId, listeners) -> sessions.lookupForHost(request.task()).<AutoCloseable>map(s -> {
              egress.open(s, browserId, listeners);
              return () -> egress.close(browserId);
            }).orElseGet(() -> {
              listeners.close();
              return () -> {};
            }),
            java.time.Duration.ofSeconds(30));
    java.util.List<dev.paddock.browser.WarmableProvider> warmable = new java.util.ArrayList<>();
    warmable.add(localChromium);
    config.browsers().remotes().forEach(r -> warmable.add(new dev.paddock.browser.remote.RemoteCdpProvider(r.name(),
        r.endpoint(), java.util.Map.of(), java.time.Duration.ofSeconds(10))));
    config.browsers().containers().forEach(c -> warmable.add(
        new dev.paddock.browser.container.ContainerChromiumProvider(c.name(), c.image(), java.time.Duration.ofSeconds(30))));
    // Each provider in the host's order, behind its own warm pool when the operator keeps one.
    java.util.List<dev.paddock.browser.WarmPool> warmPools = new java.util.ArrayList<>();
    java.util.List<dev.paddock.browser.BrowserProvider> providerOrder = new java.util.ArrayList<>();
    for (dev.paddock.browser.WarmableProvider p : warmable) {
      if (config.browsers().warmPool() == 0) {
        providerOrder.add(p);
      } else {
        dev.paddock.browser.WarmPool pool = new dev.paddock.browser.WarmPool(p, config.browsers().warmPool(),
            config.browsers().warmRefill());
        warmPools.add(pool);
        providerOrder.add(pool);
      }
    }
    dev.paddock.browser.ProviderFailover browserProviders = new dev.paddock.browser.ProviderFailover(providerOrder,
        config.browsers().failover(), (provider, from, to) -> audit.browserProviderChanged(provider, from, to));
    dev.paddock.runtime.browser.BrowserManager browsers = new dev.paddock.runtime.browser.BrowserManager(browserProviders,
        sessions, tenants::tenant, clock,
        new dev.paddock.runtime.browser.BrowserManager.Events() {
          @Override
          public void closedByHost(dev.paddock.runtime.browser.BrowserManager.Entry browser, String outcome, String why) {
            audit.browserClosedByHost(browser.tenantId(), browser.sessionId(), browser.id(), outcome, why);
          }

          @Override
          public void devToolsAttached(dev.paddock.runtime.browser.BrowserManager.Entry browser) {
            audit.devToolsAttached(browser.tenantId(), browser.sessionId(), browser.id());
          }

          @Override
          public void replaced(dev.paddock.runtime.browser.BrowserManager.Entry browser, String why) {
            audit.browserReplaced(browser.tenantId(), browser.sessionId(), browser.id(), browser.provider(), why);
          }

          @Override
          public void secretUsed(dev.paddock.runtime.browser.BrowserManager.Entry browser, String secret,
              java.util.List<String> origins) {
            audit.formSecretUsed(browser.tenantId(), browser.sessionId(), browser.id(), secret, String.join(" ", origins));
          }
        });
    dev.paddock.runtime.browser.DevToolsEndpoint devtools = config.browsers().devtools() == null ? null
        : new dev.paddock.runtime.browser.DevToolsEndpoint(config.browsers().devtools(), browsers::resolveDevTools);
    browsers.devTools(devtools);
    browsers.secrets(vault::reveal);
    sessions.onClose(browsers::sessionClosed);
    broker.browsers(browsers);
    dev.paddock.runtime.metrics.MetricsEndpoint metricsEndpoint = config.metrics().address() == null ? null
        : new dev.paddock.runtime.metrics.MetricsEndpoint(config.metrics().address(), metrics);
    dev.paddock.runtime.trace.HostTracing tracing = config.tracing() != null ? config.tracing()
        : dev.paddock.runtime.trace.HostTracing.fromEnvironment(System.getenv());
    audit.tracing(tracing);
    sessions.tracing(tracing);
    broker.tracing(tracing);
    metrics.jailHealth(jail::healthy);
    metrics.breakers(browserProviders.providers(), browserProviders::state, browserProviders::transitions);
    audit.metrics(metrics.registry());
    dev.paddock.runtime.grpc.Denials denials = new dev.paddock.runtime.grpc.Denials(
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), timers);
    denials.export(metrics.registry(), metrics::tenant);
    HostServer grpc = HostServer.start(config.listen(), config.tls(), sessions, workspaces, artifacts, tenants,
        tenant -> java.util.stream.Stream.of(kernelUsage(tenantBudgets, tenant), egress.budgetUsage(tenant.id()),
            browsers.usage(tenant)).flatMap(java.util.List::stream).toList(),
        denials, workers,
        settings.clientStallTimeout(), audit, vault, egress::counts, browsers, metrics.grpcInterceptor(), tracing);
    grpc.setServing(jail.healthy());
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(named("paddock-reaper"));
    RuntimeServer host = new RuntimeServer(lock, grpc, sessions, jail, launcher, layout, ticker, timers, callbacks, workers,
        maker, sdks, audit, vault, config.vault().rotation(), egress, () -> {
          warmPools.forEach(dev.paddock.browser.WarmPool::close);
          if (devtools != null) {
            devtools.close();
          }
          if (metricsEndpoint != null) {
            metricsEndpoint.close();
          }
          metrics.close();
          tracing.close(); // flushes what is still to be exported
        });
    host.metricsAddress = metricsEndpoint == null ? null : metricsEndpoint.address();
    if (metricsEndpoint != null) {
      log.info("metrics for Prometheus on http://{}:{}/metrics", metricsEndpoint.address().getHostString(),
          metricsEndpoint.address().getPort());
    }
    ticker.scheduleWithFixedDelay(host::tick, 1, 1, TimeUnit.SECONDS);
    everySecond(ticker, "browser budget check", browsers::tick);
    everySecond(ticker, "the check for connections around the egress proxy", host.egress::reportMarkedDirectAttempts);
    everySecond(ticker, "policy pack check", packs::refresh);
    log.info("paddock host serving on {}:{} ({})", config.listen().getHostString(), grpc.port(),
        config.tls() == null ? "plaintext" : config.tls().clientCa() == null ? "TLS" : "mutual TLS");
    if (config.tls() == null && !config.listen().getAddress().isLoopbackAddress()) {
      log.warn("serving plaintext on a non-loopback address: API keys cross the network in clear;"
          + " use --tls-cert and --tls-key");
    }
    return host;
  }

  /** The kernel budgets of {@code tenant} and what its cgroup holds now. */
  private static java.util.List<dev.paddock.ipc.v1.BudgetUsage> kernelUsage(TenantCgroups budgets,
      dev.paddock.runtime.tenant.Tenant tenant) {
    dev.paddock.policy.Limits limits = budgets.budget(tenant);
    var used = budgets.usage(tenant.id());
    java.util.function.BiFunction<String, Long, dev.paddock.ipc.v1.BudgetUsage> row = (name, limit) ->
        dev.paddock.ipc.v1.BudgetUsage.newBuilder().setName(name).setLimit(limit).setEnforcedBy("kernel").build();
    return java.util.List.of(
        row.apply("memory_bytes", limits.memoryBytes()).toBuilder().setUsed(used.map(u -> u.memoryBytes()).orElse(0L)).build(),
        row.apply("processes", (long) limits.maxProcesses()).toBuilder().setUsed(used.map(u -> u.processes()).orElse(0L)).build(),
        row.apply("cpu_millicores", (long) limits.cpuMillicores()));
  }

  /**
   * Starts one jail as the host would (its nsjail, paddock-init, cgroups, namespaces, seccomp) and
   * runs {@code /bin/true} in it, on {@code config} with a data directory of its own (a running
   * host's is left alone): null when that worked, else why not ({@code paddock doctor}).
   */
  public static String probeJail(HostConfig config) throws IOException {
    AgentSdks.Installed sdks = AgentSdks.install(config.dataDir(), config.pythonProtobuf());
    ScheduledExecutorService timers = Executors.newScheduledThreadPool(1, named("paddock-probe-timer"));
    ExecutorService callbacks = Executors.newCachedThreadPool(named("paddock-probe-work"));
    try {
      CgroupDriver cgroupDriver = cgroups(config);
      JailLauncher launcher;
      try {
        launcher = new JailLauncher(jailConfig(config, sdks), cgroupDriver, LinuxSyscalls.system(), timers, callbacks);
      } catch (NativeException e) {
        return "the jail reactor cannot start: " + e.getMessage();
      }
      CgroupLayout layout = CgroupLayout.forDataDir(config.dataDir());
      try {
        launcher.checkAvailable(layout.probe(randomHex()), DefaultPolicies.tool());
        return null;
      } catch (dev.paddock.sandbox.SandboxSetupException e) {
        return e.getMessage();
      } finally {
        launcher.removeLeftovers(layout.hostRoot()); // the probe's cgroups, under this data directory's own root
        launcher.close();
      }
    } finally {
      timers.shutdownNow();
      callbacks.shutdownNow();
      AgentSdks.remove(sdks);
    }
  }

  private static JailConfig jailConfig(HostConfig config, AgentSdks.Installed sdks) throws IOException {
    Path init;
    try {
      init = InitBinary.locate(config.init(), config.bin());
    } catch (IOException e) {
      log.error("{}", e.getMessage());
      // Fail closed, but keep serving health checks: every jail start will refuse.
      init = config.bin().resolve("paddock-init-missing");
    }
    return new JailConfig(config.nsjail(), init, config.scratch(), config.sandboxUid(), config.sandboxGid(), sdks.mounts());
  }

  private static CgroupDriver cgroups(HostConfig config) {
    try {
      return CgroupDriver.detect(config.cgroupRoot());
    } catch (CgroupException e) {
      log.error("{}", e.getMessage());
      return new UnusableCgroups(e.getMessage());
    }
  }

  private static String randomHex() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }

  private void tick() {
    try {
      sessions.reap();
      jail.probeIfDue(); // a no-op while healthy
      grpc.setServing(jail.healthy());
      rotateDueSecretKeys();
    } catch (RuntimeException e) {
      log.error("reaper tick failed", e);
    }
  }

  /** Hourly (and at the first tick): every tenant's data key older than the rotation period is replaced, and recorded. */
  private void rotateDueSecretKeys() {
    long now = System.nanoTime();
    if (vaultChecked && now - vaultCheckedNanos < TimeUnit.HOURS.toNanos(1)) {
      return;
    }
    vaultChecked = true;
    vaultCheckedNanos = now;
    try {
      vault.rotateDue(secretKeyRotation, rotation -> {
        audit.secretKeyRotated(rotation.tenant(), rotation.dataKeyId(), rotation.secrets(), "age");
        log.info("vault: rotated the data key of tenant {} ({} secrets)", rotation.tenant(), rotation.secrets());
      });
    } catch (IOException e) {
      log.error("vault: rotating data keys due for it failed: {}", e.getMessage());
    }
  }

  /** The bound gRPC port. */
  public int port() {
    return grpc.port();
  }

  /** Where the metrics endpoint listens; null when it has none. */
  public java.net.InetSocketAddress metricsAddress() {
    return metricsAddress;
  }

  /** Set once at start. */
  private volatile java.net.InetSocketAddress metricsAddress;

  /** The domain, for tests and the CLI. */
  public SessionManager sessions() {
    return sessions;
  }

  /** The host's audit trail: the session layer's {@link dev.paddock.runtime.session.ExecAudit}. */
  public AuditTrail auditTrail() {
    return audit;
  }

  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /**
   * Stops serving, closes every session (killing their jails), waits up to 15 s for their cleanup,
   * removes the host's cgroup subtree (tenant groups included, which otherwise outlive the host)
   * and scratch files, and releases threads and the data directory. What cannot be removed by
   * then, the next start removes.
   */
  @Override
  public void close() {
    try {
      grpc.stop(5);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ticker.shutdownNow();
    closeQuietly(browserPool); // the warm browsers (none of them a tenant's) and the DevTools endpoint
    sessions.closeAll();
    egress.close();
    maker.shutdown();
    await(maker, 10);
    callbacks.shutdown();
    await(callbacks, 15);
    // Every session is closed: whatever is still in the subtree is ours and unwanted.
    launcher.removeLeftovers(layout.hostRoot());
    launcher.close();
    timers.shutdownNow();
    workers.shutdownNow();
    await(workers, 5);
    // Last: the ends of the execs the shutdown killed are recorded before the log closes.
    audit.close();
    AgentSdks.remove(sdks);
    lock.close();
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      log.warn("shutdown: closing {} failed", c, e);
    }
  }

  /** Runs {@code check} on {@code ticker} every second; a failure is logged and the next run comes. */
  private static void everySecond(ScheduledExecutorService ticker, String what, Runnable check) {
    ticker.scheduleWithFixedDelay(() -> {
      try {
        check.run();
      } catch (RuntimeException e) {
        log.error("{} failed", what, e);
      }
    }, 1, 1, TimeUnit.SECONDS);
  }

  private static void await(ExecutorService executor, long seconds) {
    try {
      if (!executor.awaitTermination(seconds, TimeUnit.SECONDS)) {
        log.warn("shutdown: background work did not finish within {} s", seconds);
      }
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
