package dev.paddock.runtime;

import dev.paddock.policy.Limits;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.runtime.tenant.Tenant;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.cgroup.Cgroup;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.cgroup.CgroupException;
import dev.paddock.sandbox.cgroup.CgroupLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each tenant's kernel budgets, on its parent cgroup ({@code paddock/h-<host>/t-<tenant>}): memory,
 * processes and CPU of all its session jails together. The kernel then holds the tenant at them
 * however many sessions it opens: a memory hog in one of its sessions meets the tenant's limit, a
 * fork bomb the tenant's pids.max, and neither reaches another tenant. Applied before each of the
 * tenant's jails starts, when the configured budget differs from what was last applied (the
 * tenants file is re-read while the host runs).
 */
public final class TenantCgroups {
  private static final Logger log = LoggerFactory.getLogger(TenantCgroups.class);
  /** Processes per tenant when the operator sets none. */
  static final int DEFAULT_MAX_PROCESSES = 4096;

  private final CgroupDriver cgroups;
  private final CgroupLayout layout;
  private final Function<String, Optional<Tenant>> tenants;
  private final long hostMemoryBytes;
  private final int hostMillicores;
  private final Map<String, Limits> applied = new ConcurrentHashMap<>();
  private final Map<String, Cgroup> groups = new ConcurrentHashMap<>();

  TenantCgroups(CgroupDriver cgroups, CgroupLayout layout, Function<String, Optional<Tenant>> tenants) {
    this.cgroups = cgroups;
    this.layout = layout;
    this.tenants = tenants;
    this.hostMemoryBytes = hostMemoryBytes();
    this.hostMillicores = Runtime.getRuntime().availableProcessors() * 1000;
  }

  /**
   * Caps the whole host's jails, every tenant's together, on the host's cgroup: nine tenths of the
   * host's memory (so the host itself, its JVM included, keeps a tenth however the tenants' budgets
   * add up), 65536 processes, every core. Failing it is logged: tenants' own budgets still hold.
   */
  void capHost() {
    Limits cap = Limits.DEFAULTS.toBuilder().memory(hostMemoryBytes / 10 * 9).processes(65_536)
        .cpuMillicores(hostMillicores).build();
    try {
      cgroups.create(layout.hostRoot(), cap);
      log.info("host cap for all jails: {} MiB memory, {} processes", cap.memoryBytes() >> 20, cap.maxProcesses());
    } catch (CgroupException e) {
      log.error("cannot cap all jails on the host's cgroup: {}", e.getMessage());
    }
  }

  /** The budget of {@code tenantId} as the kernel gets it. */
  public Limits budget(Tenant t) {
    return Limits.DEFAULTS.toBuilder()
        .memory(t.memoryBytes() > 0 ? t.memoryBytes() : hostMemoryBytes / 4 * 3)
        .processes(t.maxProcesses() > 0 ? t.maxProcesses() : DEFAULT_MAX_PROCESSES)
        .cpuMillicores(t.cpuMillicores() > 0 ? t.cpuMillicores() : hostMillicores)
        .build();
  }

  /**
   * Sets the tenant's budget on its parent group (if it changed) and returns {@code policy} with
   * its CPU cut to the tenant's (the kernel refuses a child group more CPU than its parent's).
   *
   * @throws SandboxSetupException when the budget cannot be set (then no jail of the tenant starts)
   */
  synchronized SandboxPolicy apply(String tenantId, SandboxPolicy policy) throws SandboxSetupException {
    Tenant tenant = tenants.apply(tenantId)
        .orElseThrow(() -> new SandboxSetupException("tenant " + tenantId + " is not configured"));
    Limits budget = budget(tenant);
    Limits before = applied.get(tenantId);
    if (!budget.equals(before)) {
      try {
        groups.put(tenantId, cgroups.create(layout.tenant(tenantId), budget));
        applied.put(tenantId, budget);
        log.info("tenant {}: budget {} MiB memory, {} processes, {} millicores", tenantId,
            budget.memoryBytes() >> 20, budget.maxProcesses(), budget.cpuMillicores());
      } catch (CgroupException e) {
        log.error("tenant {}: cannot set its budget on its cgroup: {}", tenantId, e.getMessage());
        if (before == null) {
          // No budget has ever held for it here: fail closed, no jail of the tenant starts.
          throw new SandboxSetupException("the tenant's budget could not be applied", e);
        }
        // A change the kernel refused (a memory budget below what the tenant uses now; on cgroup
        // v1 a CPU budget below a running session's): the old budget still holds, so jails go on
        // starting under it, and the change is tried again at the next start or reload.
        budget = before;
      }
    }
    Limits limits = policy.limits();
    return limits.cpuMillicores() <= budget.cpuMillicores() ? policy
        : policy.withLimits(limits.toBuilder().cpuMillicores(budget.cpuMillicores()).build());
  }

  /**
   * Applies every known tenant's budget again (the tenants file changed): a lowered or raised budget
   * takes effect on the jails the tenant has now, not only on its next one. One the kernel refuses
   * (memory below what the tenant uses now) is logged, and its jails keep the old one until it fits.
   */
  synchronized void reapply() {
    for (String tenantId : java.util.List.copyOf(groups.keySet())) {
      try {
        apply(tenantId, dev.paddock.policy.DefaultPolicies.tool());
      } catch (SandboxSetupException e) {
        // apply() logged it
      }
    }
  }

  /** What the tenant's jails hold now; empty before its first jail started here, or unreadable. */
  public Optional<Cgroup.Usage> usage(String tenantId) {
    Cgroup group = groups.get(tenantId);
    if (group == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(group.usage());
    } catch (CgroupException e) {
      return Optional.empty();
    }
  }

  private static long hostMemoryBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      log.warn("cannot read the host's memory size; taking 16 GiB (a tenant's default budget: 12 GiB)", e);
    }
    return 16L << 30;
  }
}
