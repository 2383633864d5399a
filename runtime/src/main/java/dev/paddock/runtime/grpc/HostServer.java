package dev.paddock.runtime.grpc;

import dev.paddock.ipc.v1.BrowserServiceGrpc;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.FileServiceGrpc;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.ipc.ArtifactStore;
import dev.paddock.runtime.session.SessionManager;
import dev.paddock.runtime.session.WorkspaceService;
import dev.paddock.runtime.tenant.TenantDirectory;
import dev.paddock.runtime.config.TlsConfig;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server over TCP: Paddock's services behind the request-id and authentication
 * interceptors, plus gRPC health checking and server reflection for stock tools.
 */
public final class HostServer {
  /** Largest request message, bytes: above every documented field limit, so those answer INVALID_ARGUMENT. */
  static final int MAX_INBOUND_MESSAGE_BYTES = 16 * 1024 * 1024;
  /** Calls one connection may have open at once. */
  static final int MAX_CALLS_PER_CONNECTION = 512;

  private final Server server;
  private final HealthStatusManager health;

  private HostServer(Server server, HealthStatusManager health) {
    this.server = server;
    this.health = health;
  }

  /** Binds {@code address} (port 0 = any free port) and starts serving. */
  public static HostServer start(InetSocketAddress address, TlsConfig tls, SessionManager sessions,
      WorkspaceService workspaces, ArtifactStore artifacts, TenantDirectory tenants, KernelBudgets kernel,
      Denials denials, ExecutorService workers, java.time.Duration clientStallTimeout,
      dev.paddock.runtime.audit.AuditTrail audit, dev.paddock.runtime.vault.Vault vault,
      java.util.function.Function<String, dev.paddock.ipc.v1.EgressCounts> egress,
      dev.paddock.runtime.browser.BrowserManager browsers, io.grpc.ServerInterceptor metrics,
      dev.paddock.runtime.trace.HostTracing tracing) throws IOException {
    HealthStatusManager health = new HealthStatusManager();
    NettyServerBuilder builder = tls == null
        ? NettyServerBuilder.forAddress(address)
        : NettyServerBuilder.forAddress(address, credentials(tls));
    Server server = services(builder
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        // Bounds what one connection can hold open, tarpitted refusals included (Denials).
        .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
        .permitKeepAliveWithoutCalls(true), sessions, workspaces, artifacts, tenants, kernel, denials, workers,
        clientStallTimeout, health, audit, vault, egress, browsers, tracing)
        .intercept(metrics) // added last, so it runs first: it times and counts every call, refusals included
        .build()
        .start();
    return new HostServer(server, health);
  }

  /**
   * Adds the one service stack to {@code builder}: Paddock's services behind the request-id and
   * authentication interceptors, health checking and reflection, and the inbound message limit.
   * {@link #start} serves it over TCP; tests serve the same stack over the in-process transport.
   */
  static <T extends ServerBuilder<T>> T services(T builder, SessionManager sessions, WorkspaceService workspaces,
      ArtifactStore artifacts, TenantDirectory tenants, KernelBudgets kernel, Denials denials, ExecutorService workers,
      java.time.Duration clientStallTimeout, HealthStatusManager health, dev.paddock.runtime.audit.AuditTrail audit,
      dev.paddock.runtime.vault.Vault vault, java.util.function.Function<String, dev.paddock.ipc.v1.EgressCounts> egress,
      dev.paddock.runtime.browser.BrowserManager browsers, dev.paddock.runtime.trace.HostTracing tracing) {
    builder
        .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
        .addService(DescribedServices.withComments(new SessionGrpcService(sessions).bindService()))
        .addService(DescribedServices.withComments(
            new ExecGrpcService(sessions, tenants, artifacts, workers, clientStallTimeout, tracing).bindService()))
        .addService(DescribedServices.withComments(new FileGrpcService(workspaces).bindService()))
        .addService(DescribedServices.withComments(new TenantGrpcService(sessions, tenants, kernel, denials, egress).bindService()))
        .addService(DescribedServices.withComments(browsers == null
            ? NotYetImplemented.service(BrowserServiceGrpc.getServiceDescriptor())
            : new BrowserGrpcService(browsers).bindService()))
        .addService(DescribedServices.withComments(new AuditGrpcService(audit.log(), workers).bindService()))
        .addService(DescribedServices.withComments(new SecretGrpcService(vault).bindService()))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        // Interceptors added later run first: the request id exists before authentication runs.
        .intercept(new AuthInterceptor(tenants))
        // Records every state change and every refusal before the caller hears of it.
        .intercept(new AuditInterceptor(audit, workers))
        .intercept(denials); // sees every call's final status, the authentication refusals included
    if (tracing.enabled()) { // no layer on every call of a host nobody collects traces from
      builder.intercept(tracing.interceptor()); // a span per call, its request id known
    }
    return builder.intercept(new RequestIdInterceptor());
  }

  private static ServerCredentials credentials(TlsConfig tls) throws IOException {
    TlsServerCredentials.Builder creds = TlsServerCredentials.newBuilder()
        .keyManager(tls.certChain().toFile(), tls.privateKey().toFile());
    if (tls.clientCa() != null) {
      creds.trustManager(tls.clientCa().toFile()).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    return creds.build();
  }

  /** The bound TCP port. */
  public int port() {
    return server.getPort();
  }

  /** Sets what health checks answer, for the whole server and each Paddock service. */
  public void setServing(boolean serving) {
    ServingStatus status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    health.setStatus("", status);
    for (String service : List.of(SessionServiceGrpc.SERVICE_NAME, ExecServiceGrpc.SERVICE_NAME,
        FileServiceGrpc.SERVICE_NAME)) {
      health.setStatus(service, status);
    }
  }

  /** Stops accepting calls and waits up to {@code seconds} for running ones. */
  public void stop(long seconds) throws InterruptedException {
    health.enterTerminalState();
    server.shutdown();
    if (!server.awaitTermination(seconds, TimeUnit.SECONDS)) {
      server.shutdownNow();
    }
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }
}
