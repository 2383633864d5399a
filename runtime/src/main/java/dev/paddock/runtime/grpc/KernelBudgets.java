package dev.paddock.runtime.grpc;

import dev.paddock.ipc.v1.BudgetUsage;
import dev.paddock.runtime.tenant.Tenant;
import java.util.List;
import java.util.function.Function;

/** The kernel's part of a tenant's usage: memory, processes, CPU (empty where there are no cgroups). */
public interface KernelBudgets extends Function<Tenant, List<BudgetUsage>> {}
