package dev.paddock.runtime.grpc;

import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.ipc.ArtifactStore;
import dev.paddock.runtime.session.BenchJails;
import dev.paddock.runtime.session.SessionManager;
import dev.paddock.runtime.session.WorkspaceService;
import dev.paddock.runtime.tenant.ApiKeys;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.runtime.tenant.TenantAdmin;
import dev.paddock.runtime.tenant.TenantDirectory;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What authentication and the scope check cost per call: the same GetSession, on the host's real
 * service stack (request-id and authentication interceptors, the real tenants file and key), and on
 * the same services with the authentication interceptor replaced by one that hands every call the
 * principal directly. Both over gRPC's in-process transport, so the network does not drown the
 * difference. (Admission is measured beside it: {@code AdmissionBench}.) Lives in the runtime's
 * grpc package to build exactly the host's stack ({@link HostServer#services}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AuthOverheadBench {
  private Path dir;
  private ExecutorService workers;
  private ExecutorService maker;
  private Server authenticated;
  private Server direct;
  private ManagedChannel withKey;
  private ManagedChannel withoutKey;
  private SessionServiceGrpc.SessionServiceBlockingStub real;
  private SessionServiceGrpc.SessionServiceBlockingStub bypass;
  private GetSessionRequest get;

  private dev.paddock.runtime.audit.AuditTrail audit;

  @Setup(Level.Trial)
  public void start() throws Exception {
    dir = Files.createTempDirectory("paddock-authbench-");
    Clock clock = Clock.systemUTC();
    ApiKeys.NewKey key = new TenantAdmin(dir.resolve("tenants.yaml"), clock).createKey("bench", "bench", null);
    TenantDirectory tenants = new TenantDirectory(dir.resolve("tenants.yaml"), clock);
    workers = Executors.newCachedThreadPool();
    maker = Executors.newSingleThreadExecutor();
    SessionManager sessions = BenchJails.sessions(tenants, workers, maker, clock);
    WorkspaceService workspaces = new WorkspaceService(sessions, 99999, 99999);
    ArtifactStore artifacts = new ArtifactStore(dir.resolve("artifacts"));

    authenticated = HostServer.services(InProcessServerBuilder.forName("auth-real").directExecutor(), sessions, workspaces,
        artifacts, tenants, t -> List.of(), new Denials(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()), workers, java.time.Duration.ofSeconds(60), new HealthStatusManager(),
        audit = dev.paddock.runtime.audit.AuditTrail.open(dir, clock),
        dev.paddock.runtime.vault.Vault.openIn(dir, null, clock), t -> dev.paddock.ipc.v1.EgressCounts.getDefaultInstance(), null,
        dev.paddock.runtime.trace.HostTracing.OFF).build().start();
    Principal principal = tenants.authenticate(key.key());
    ServerInterceptor handOver = new ServerInterceptor() {
      @Override
      public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, Metadata headers,
          io.grpc.ServerCallHandler<Q, R> next) {
        return Contexts.interceptCall(Context.current().withValue(AuthInterceptor.PRINCIPAL, principal), call, headers, next);
      }
    };
    direct = InProcessServerBuilder.forName("auth-bypass").directExecutor()
        .addService(ServerInterceptors.intercept(new SessionGrpcService(sessions), handOver, new RequestIdInterceptor()))
        .build().start();

    Metadata auth = new Metadata();
    auth.put(AuthInterceptor.AUTHORIZATION, "Bearer " + key.key());
    withKey = InProcessChannelBuilder.forName("auth-real").directExecutor()
        .intercept(MetadataUtils.newAttachHeadersInterceptor(auth)).build();
    withoutKey = InProcessChannelBuilder.forName("auth-bypass").directExecutor().build();
    real = SessionServiceGrpc.newBlockingStub(withKey);
    bypass = SessionServiceGrpc.newBlockingStub(withoutKey);
    String session = real.createSession(CreateSessionRequest.getDefaultInstance()).getSessionId();
    get = GetSessionRequest.newBuilder().setSessionId(session).build();
  }

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    audit.close();
    withKey.shutdownNow();
    withoutKey.shutdownNow();
    authenticated.shutdownNow();
    direct.shutdownNow();
    workers.shutdownNow();
    maker.shutdownNow();
    dev.paddock.runtime.FileTrees.delete(dir);
  }

  /** GetSession through the host's real stack: the key is hashed, looked up, its scope checked. */
  @Benchmark
  public Object getSessionAuthenticated() {
    return real.getSession(get);
  }

  /** The same GetSession with the principal handed over: no key, no lookup, no scope check. */
  @Benchmark
  public Object getSessionWithoutAuthentication() {
    return bypass.getSession(get);
  }
}
