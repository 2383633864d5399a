package dev.paddock.client;

import dev.paddock.ipc.v1.GetTenantUsageRequest;
import dev.paddock.ipc.v1.TenantServiceGrpc;
import dev.paddock.ipc.v1.TenantUsage;
import java.time.Duration;

/**
 * TenantService: the tenant's budgets and usage. One method per call, taking and answering the API's own messages (see
 * paddock.v1), with the client's deadline, retries and typed exceptions: for callers that want
 * every field (the CLI). {@link dev.paddock.client.Session} and its companions cover the everyday calls.
 */
public final class TenantCalls extends ServiceCalls<TenantServiceGrpc.TenantServiceBlockingStub> {
  TenantCalls(Connection connection) {
    this(connection, connection.deadline());
  }

  private TenantCalls(Connection connection, Duration deadline) {
    super(connection, deadline, TenantServiceGrpc::newBlockingStub);
  }

  /** These calls with another deadline for each unary call; null = none (a call that waits as long as its work). */
  public TenantCalls withDeadline(Duration deadline) {
    return new TenantCalls(connection, deadline);
  }

  /** TenantService.GetTenantUsage. */
  public TenantUsage getTenantUsage(GetTenantUsageRequest request) {
    return connection.call(() -> unary().getTenantUsage(request));
  }
}
