package dev.paddock.runtime.session;

import dev.paddock.runtime.tenant.Tenant;
import dev.paddock.runtime.tenant.TenantDirectory;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.jail.ExecCommand;
import dev.paddock.sandbox.jail.Jail;
import dev.paddock.sandbox.jail.JailCensus;
import dev.paddock.sandbox.jail.JailProcess;
import dev.paddock.sandbox.fs.WorkspaceRoot;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

/**
 * A session manager for the per-call benchmarks, whose sessions hold a stand-in jail (a
 * hand-written fake at our own seam): what is measured is the host's bookkeeping, not a jail.
 */
public final class BenchJails {
  private BenchJails() {}

  /** A stand-in jail: alive, runs nothing. */
  static final class StandIn implements Jail {
    private volatile boolean alive = true;

    @Override
    public JailProcess spawn(ExecCommand command) throws SandboxSetupException {
      throw new SandboxSetupException("the benchmark's stand-in jail runs nothing");
    }

    @Override
    public CompletableFuture<JailCensus> census() {
      return CompletableFuture.failedFuture(new IllegalStateException("no census in the benchmark"));
    }

    @Override
    public WorkspaceRoot workspace() {
      return null;
    }

    @Override
    public boolean alive() {
      return alive;
    }

    @Override
    public void onFailure(Consumer<String> listener) {}

    @Override
    public void close(String reason) {
      alive = false;
    }
  }

  public static SessionManager sessions(TenantDirectory tenants, ExecutorService workers, ExecutorService maker, Clock clock) {
    JailGate gate = new JailGate(() -> {}, clock);
    gate.probe();
    return new SessionManager(gate, (id, tenant, policy, workspace) -> new StandIn(), maker, tenants::tenant,
        SessionSettings.defaults(), new ExecRunner(workers, LinuxSyscalls.system(), SessionSettings.defaults(), clock), clock);
  }

  /** A tenant as the tenants file would give it, with rates, for the admission benchmark. */
  static Tenant tenantWithRates() {
    return new Tenant("bench", 1000, 1000, 0, 0, 0, 1_000_000_000, 1_000_000_000, null, 0, null, null);
  }
}
