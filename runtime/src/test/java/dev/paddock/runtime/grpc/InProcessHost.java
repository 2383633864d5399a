package dev.paddock.runtime.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RequestInfo;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.ExecState;
import dev.paddock.ipc.v1.GetExecRequest;
import dev.paddock.ipc.v1.OutputStream;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.session.ExecRunner;
import dev.paddock.runtime.session.JailGate;
import dev.paddock.runtime.session.SessionManager;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.tenant.TenantAdmin;
import dev.paddock.runtime.tenant.TenantDirectory;
import dev.paddock.runtime.tenant.TenantsFile;
import dev.paddock.runtime.testing.FakeJailProcess;
import dev.paddock.runtime.testing.FakeLauncher;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A whole host minus the jail, for unit tests: the real {@link SessionManager}, {@link ExecRunner}
 * and tenants file, jails from a {@link FakeLauncher}, and the same service stack as the TCP host
 * ({@link HostServer#services}) on the in-process transport. Tenants: alpha and beta with the
 * default quotas, gamma with 2 sessions and 2 running execs.
 */
final class InProcessHost implements AutoCloseable {
  private static final AtomicInteger SERVERS = new AtomicInteger();

  final FakeLauncher launcher;
  final SessionManager sessions;
  final String alphaKey;
  final String betaKey;
  final String gammaKey;
  private final String name = "paddock-test-" + SERVERS.incrementAndGet();
  private final Server server;
  private final ExecutorService workers = Executors.newCachedThreadPool();
  private final ExecutorService maker = Executors.newSingleThreadExecutor();
  private final List<ManagedChannel> channels = new ArrayList<>();
  /** The host's audit log, in the test's temporary directory. */
  dev.paddock.runtime.audit.AuditTrail audit;

  InProcessHost(Path temp) throws Exception {
    this(temp, SessionSettings.defaults());
  }

  InProcessHost(Path temp, SessionSettings settings) throws Exception {
    Clock clock = Clock.systemUTC();
    Path tenantsFile = temp.resolve("tenants.yaml");
    TenantAdmin admin = new TenantAdmin(tenantsFile, clock);
    alphaKey = admin.rotateKey("alpha", "test").key();
    betaKey = admin.rotateKey("beta", "test").key();
    gammaKey = admin.rotateKey("gamma", "test").key();
    TenantsFile.Document doc = TenantsFile.read(tenantsFile);
    for (TenantsFile.TenantEntry t : doc.tenants) {
      if (t.id.equals("gamma")) {
        t.maxSessions = 2;
        t.maxExecs = 2;
      }
    }
    TenantsFile.write(tenantsFile, doc);
    TenantDirectory tenants = new TenantDirectory(tenantsFile, clock);
    launcher = new FakeLauncher(temp.resolve("workspaces"));
    JailGate gate = new JailGate(launcher, clock);
    gate.probe();
    ExecRunner execs = new ExecRunner(workers, LinuxSyscalls.system(), settings, clock);
    sessions = new SessionManager(gate, launcher, maker, tenants::tenant, settings, execs, clock);
    server = HostServer.services(InProcessServerBuilder.forName(name).directExecutor(), sessions,
        new dev.paddock.runtime.session.WorkspaceService(sessions, 99999, 99999),
        new dev.paddock.runtime.ipc.ArtifactStore(temp.resolve("artifacts")), tenants, tenant -> java.util.List.of(),
        new Denials(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()), workers,
        settings.clientStallTimeout(), new HealthStatusManager(), audit = dev.paddock.runtime.audit.AuditTrail.open(temp, clock),
        dev.paddock.runtime.vault.Vault.openIn(temp, null, clock), t -> dev.paddock.ipc.v1.EgressCounts.getDefaultInstance(), null,
        dev.paddock.runtime.trace.HostTracing.OFF)
        .build().start();
  }

  /** The default settings with another client stall timeout and replay buffer (bytes per stream). */
  static SessionSettings settings(java.time.Duration clientStallTimeout, int replayBytes) {
    SessionSettings d = SessionSettings.defaults();
    return new SessionSettings(d.defaultIdleTimeout(), d.maxIdleTimeout(), d.defaultMaxLifetime(), d.maxLifetime(),
        d.defaultExecTimeout(), d.maxExecTimeout(), d.maxLimits(), d.closedRetention(), d.maxOutputBytes(),
        clientStallTimeout, replayBytes, d.retainedExecs(), d.workspaceBytes(), d.workspaceInodes());
  }

  /** A channel sending {@code key} (null: none) and, if given, an x-request-id. */
  ManagedChannel channel(String key, String requestId) {
    Metadata headers = new Metadata();
    if (key != null) {
      headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + key);
    }
    if (requestId != null) {
      headers.put(RequestIds.HEADER, requestId);
    }
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor()
        .intercept(MetadataUtils.newAttachHeadersInterceptor(headers)).build();
    synchronized (channels) {
      channels.add(channel);
    }
    return channel;
  }

  SessionServiceGrpc.SessionServiceBlockingStub sessions(String key) {
    return SessionServiceGrpc.newBlockingStub(channel(key, null)).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  ExecServiceGrpc.ExecServiceBlockingStub execs(String key) {
    return ExecServiceGrpc.newBlockingStub(channel(key, null)).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  String newSession(String key) {
    return sessions(key).createSession(CreateSessionRequest.getDefaultInstance()).getSessionId();
  }

  /** Runs {@code argv} in {@code session} with a streaming Exec and collects everything it sent. */
  Outcome exec(String key, String session, String... argv) {
    return collect(execs(key).exec(ExecRequest.newBuilder().setSessionId(session).addAllArgv(List.of(argv)).build()));
  }

  /** The newest process spawned in {@code session}'s jail, waiting up to 5 s for the first. */
  FakeJailProcess awaitProcess(String session) throws InterruptedException {
    for (int i = 0; i < 500; i++) {
      if (!launcher.jail(session).processes().isEmpty()) {
        return launcher.jail(session).lastProcess();
      }
      Thread.sleep(10);
    }
    throw new AssertionError("nothing was spawned in " + session);
  }

  /** GetExec until the exec is FINISHED (up to 5 s); returns its last answer. */
  ExecInfo awaitFinished(String key, String session, String execId) throws InterruptedException {
    for (int i = 0; i < 500; i++) {
      ExecInfo info = execs(key).getExec(GetExecRequest.newBuilder().setSessionId(session).setExecId(execId).build());
      if (info.getState() == ExecState.EXEC_STATE_FINISHED) {
        return info;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("exec " + execId + " did not finish");
  }

  /** Everything one Exec or AttachExec call streamed; chunk offsets were checked to be contiguous. */
  record Outcome(String execId, byte[] stdout, byte[] stderr, long firstStdoutOffset, ExecResult result) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    String err() {
      return new String(stderr, StandardCharsets.UTF_8);
    }
  }

  static Outcome collect(Iterator<ExecEvent> events) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    long[] next = {-1, -1};
    long firstOut = -1;
    ExecResult result = null;
    String execId = null;
    while (events.hasNext()) {
      ExecEvent e = events.next();
      if (e.hasStarted()) {
        execId = e.getStarted().getExecId();
      } else if (e.hasOutput()) {
        int i = e.getOutput().getStream() == OutputStream.OUTPUT_STREAM_STDOUT ? 0 : 1;
        long offset = e.getOutput().getOffset();
        if (next[i] >= 0 && offset != next[i]) {
          throw new AssertionError("stream " + i + ": chunk at offset " + offset + ", expected " + next[i]);
        }
        if (i == 0 && firstOut < 0) {
          firstOut = offset;
        }
        next[i] = offset + e.getOutput().getData().size();
        (i == 0 ? out : err).writeBytes(e.getOutput().getData().toByteArray());
      } else if (e.hasResult()) {
        result = e.getResult();
      }
    }
    return new Outcome(execId, out.toByteArray(), err.toByteArray(), firstOut, result);
  }

  /**
   * The {@code google.rpc.Status} of a failed call, read the way a client reads it: ErrorInfo and
   * RequestInfo must be there (every Paddock error carries both); the rest is in {@code details}.
   */
  record Failure(Status.Code code, String message, ErrorInfo info, String requestId, List<Any> details) {
    /** The detail of {@code type}; fails the test when there is none. */
    <T extends Message> T detail(Class<T> type) {
      return unpack(details, type);
    }

    boolean has(Class<? extends Message> type) {
      return details.stream().anyMatch(d -> d.is(type));
    }
  }

  static Failure failure(Throwable e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status == null) {
      throw new AssertionError("no google.rpc.Status in " + e, e);
    }
    if (e instanceof StatusRuntimeException sre && sre.getStatus().getCode().value() != status.getCode()) {
      throw new AssertionError("the status code and the google.rpc.Status disagree: " + e, e);
    }
    List<Any> details = status.getDetailsList();
    return new Failure(Status.fromCodeValue(status.getCode()).getCode(), status.getMessage(),
        unpack(details, ErrorInfo.class), unpack(details, RequestInfo.class).getRequestId(), details);
  }

  private static <T extends Message> T unpack(List<Any> details, Class<T> type) {
    for (Any d : details) {
      if (d.is(type)) {
        try {
          return d.unpack(type);
        } catch (InvalidProtocolBufferException e) {
          throw new AssertionError(e);
        }
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in " + details);
  }

  /** Runs {@code call}, which must fail; returns its status. */
  static Failure fail(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return failure(e);
    }
    throw new AssertionError("the call succeeded");
  }

  @Override
  public void close() throws Exception {
    synchronized (channels) {
      for (ManagedChannel c : channels) {
        c.shutdownNow();
      }
    }
    server.shutdownNow();
    sessions.closeAll();
    maker.shutdown();
    maker.awaitTermination(5, TimeUnit.SECONDS);
    launcher.close();
    workers.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    audit.close();
  }
}
