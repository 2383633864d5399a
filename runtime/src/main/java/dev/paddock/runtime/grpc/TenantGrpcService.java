package dev.paddock.runtime.grpc;

import dev.paddock.ipc.v1.BudgetUsage;
import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.ipc.v1.GetTenantUsageRequest;
import dev.paddock.ipc.v1.TenantServiceGrpc;
import dev.paddock.ipc.v1.TenantUsage;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.session.SessionManager;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.runtime.tenant.Scope;
import dev.paddock.runtime.tenant.Tenant;
import dev.paddock.runtime.tenant.TenantDirectory;
import io.grpc.stub.StreamObserver;
import java.util.Map;

/** TenantService: a tenant's usage against its budgets (its own, or any for "admin"). */
final class TenantGrpcService extends TenantServiceGrpc.TenantServiceImplBase {
  private final SessionManager sessions;
  private final TenantDirectory tenants;
  private final KernelBudgets kernel;
  private final Denials denials;
  private final java.util.function.Function<String, dev.paddock.ipc.v1.EgressCounts> egress;

  TenantGrpcService(SessionManager sessions, TenantDirectory tenants, KernelBudgets kernel, Denials denials,
      java.util.function.Function<String, dev.paddock.ipc.v1.EgressCounts> egress) {
    this.egress = egress;
    this.sessions = sessions;
    this.tenants = tenants;
    this.kernel = kernel;
    this.denials = denials;
  }

  @Override
  public void getTenantUsage(GetTenantUsageRequest req, StreamObserver<TenantUsage> out) {
    SessionGrpcService.unary(out, () -> {
      Principal caller = AuthInterceptor.current();
      String tenantId = req.getTenantId().isEmpty() ? caller.tenantId() : req.getTenantId();
      if (!tenantId.equals(caller.tenantId()) && !caller.scopes().contains(Scope.ADMIN)) {
        throw new PaddockException.PermissionDenied(Scope.ADMIN.wireName());
      }
      Tenant tenant = tenants.tenant(tenantId).orElseThrow(() -> new PaddockException.NotFound(ErrorReason.TENANT_NOT_FOUND,
          "no such tenant", Map.of("tenantId", tenantId)));
      SessionManager.AdmissionUsage used = sessions.usage(tenantId);
      TenantUsage.Builder usage = TenantUsage.newBuilder().setTenantId(tenantId)
          .addBudgets(budget("open_sessions", tenant.maxSessions(), used.openSessions(), "admission"))
          .addBudgets(budget("running_execs", tenant.maxExecs(), used.runningExecs(), "admission"))
          .addBudgets(budget("sessions_per_minute", tenant.sessionsPerMinute(), used.sessionsThisMinute(), "admission"))
          .addBudgets(budget("execs_per_minute", tenant.execsPerMinute(), used.execsThisMinute(), "admission"));
      usage.addAllBudgets(kernel.apply(tenant));
      denials.of(tenantId).forEach((reason, count) ->
          usage.addDenials(dev.paddock.ipc.v1.DenialCount.newBuilder().setReason(reason).setCount(count)));
      usage.setEgress(egress.apply(tenantId));
      return usage.build();
    });
  }

  static BudgetUsage budget(String name, long limit, long used, String enforcedBy) {
    return BudgetUsage.newBuilder().setName(name).setLimit(limit).setUsed(used).setEnforcedBy(enforcedBy).build();
  }
}
