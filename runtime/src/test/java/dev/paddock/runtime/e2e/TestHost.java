package dev.paddock.runtime.e2e;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RequestInfo;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.OutputStream;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.RuntimeServer;
import dev.paddock.runtime.config.HostConfig;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.tenant.TenantAdmin;
import dev.paddock.runtime.tenant.TenantsFile;
import dev.paddock.sandbox.JailRequirement;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real host on a real loopback TCP port, with tenants "alpha" and "beta", for end-to-end tests. */
final class TestHost implements AutoCloseable {
  final RuntimeServer server;
  final Path dataDir;
  final String alphaKey;
  final String betaKey;
  /** A tenant with small quotas: 2 open sessions, 2 running execs, 1 open browser. */
  final String gammaKey;
  /** A tenant with small kernel budgets: {@link #DELTA_MEMORY} of memory, {@link #DELTA_PROCESSES} processes. */
  final String deltaKey;
  static final long DELTA_MEMORY = 320L << 20;
  static final int DELTA_PROCESSES = 48;
  /** A tenant with rates: {@link #EPSILON_SESSIONS_PER_MINUTE} sessions and {@link #EPSILON_EXECS_PER_MINUTE} execs a minute. */
  final String epsilonKey;
  static final int EPSILON_SESSIONS_PER_MINUTE = 12;
  static final int EPSILON_EXECS_PER_MINUTE = 40;
  /** A tenant whose sessions live at most 30 minutes and whose execs keep 1 KiB of output per stream. */
  final String zetaKey;
  /**
   * A tenant with egress: names under {@link #EGRESS_DOMAIN} allowed on any port, {@code
   * blocked.paddock.test} denied, the secret API_TOKEN bound as an Authorization header for
   * {@code api.paddock.test}. The host resolves those names itself ({@link #EGRESS_NAMES}); only
   * 127.0.0.1 of the special addresses is reachable.
   */
  final String etaKey;
  /**
   * A noisy tenant with every kind of budget an operator would give it: {@link #NOISY_MEMORY} of
   * memory, {@link #NOISY_PROCESSES} processes, {@link #NOISY_CPU_MILLICORES} of CPU, six sessions and
   * {@link #NOISY_EXECS_PER_MINUTE} execs a minute.
   */
  final String noisyKey;
  static final long NOISY_MEMORY = 320L << 20;
  static final int NOISY_PROCESSES = 48;
  static final int NOISY_CPU_MILLICORES = 500;
  static final int NOISY_EXECS_PER_MINUTE = 600;
  static final String EGRESS_DOMAIN = "paddock.test";
  static final int EGRESS_MAX_CONNECTIONS = 4;
  /** Where a test puts the certificate the proxy trusts for its own TLS connections (in the data directory). */
  static final String EGRESS_CA_FILE = "egress-ca.pem";
  static final long EGRESS_BYTES_PER_SECOND = 8L << 20;
  static final java.util.List<String> EGRESS_NAMES = List.of("files.paddock.test=127.0.0.1", "pypi.paddock.test=127.0.0.1",
      "api.paddock.test=127.0.0.1", "blocked.paddock.test=127.0.0.1", "private.paddock.test=10.11.12.13",
      "metadata.paddock.test=169.254.169.254", "secure.paddock.test=127.0.0.1", "login.paddock.test=127.0.0.1");
  private final List<ManagedChannel> channels = new ArrayList<>();

  TestHost(Path temp) throws Exception {
    this(temp, JailRequirement.nsjail(), SessionSettings.defaults());
  }

  /** A host with {@code customize} applied to its configuration. */
  TestHost(Path temp, java.util.function.UnaryOperator<HostConfig> customize) throws Exception {
    this(new Setup(searchable(temp).resolve("data"), JailRequirement.nsjail(), SessionSettings.defaults(), null, customize));
  }

  TestHost(Path temp, Path nsjail, SessionSettings settings) throws Exception {
    this(temp, nsjail, settings, null);
  }

  TestHost(Path temp, Path nsjail, SessionSettings settings, dev.paddock.runtime.config.TlsConfig tls) throws Exception {
    this(new Setup(searchable(temp).resolve("data"), nsjail, settings, tls));
  }

  /**
   * A host on {@code dataDir} exactly as the caller made it (its mode and its parents' untouched;
   * an earlier host's leftovers in it are the new host's to clean). Keys named "test" are issued anew.
   */
  static TestHost onDataDir(Path dataDir) throws Exception {
    return onDataDir(dataDir, c -> c);
  }

  /** The same, with {@code customize} applied to the host's configuration. */
  static TestHost onDataDir(Path dataDir, java.util.function.UnaryOperator<HostConfig> customize) throws Exception {
    return new TestHost(new Setup(dataDir, JailRequirement.nsjail(), SessionSettings.defaults(), null, customize));
  }

  private record Setup(Path dataDir, Path nsjail, SessionSettings settings, dev.paddock.runtime.config.TlsConfig tls,
      java.util.function.UnaryOperator<HostConfig> customize) {
    Setup(Path dataDir, Path nsjail, SessionSettings settings, dev.paddock.runtime.config.TlsConfig tls) {
      this(dataDir, nsjail, settings, tls, c -> c);
    }
  }

  private static Path searchable(Path temp) throws java.io.IOException {
    // JUnit's temp dirs are 0700; the jail must be able to search its way to the workspaces.
    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwx--x--x"));
    return temp;
  }

  private TestHost(Setup setup) throws Exception {
    dataDir = setup.dataDir();
    Path nsjail = setup.nsjail();
    SessionSettings settings = setup.settings();
    dev.paddock.runtime.config.TlsConfig tls = setup.tls();
    TenantAdmin admin = new TenantAdmin(dataDir.resolve("tenants.yaml"), Clock.systemUTC());
    alphaKey = admin.rotateKey("alpha", "test").key();
    betaKey = admin.rotateKey("beta", "test").key();
    gammaKey = admin.rotateKey("gamma", "test").key();
    deltaKey = admin.rotateKey("delta", "test").key();
    epsilonKey = admin.rotateKey("epsilon", "test").key();
    zetaKey = admin.rotateKey("zeta", "test").key();
    etaKey = admin.rotateKey("eta", "test").key();
    noisyKey = admin.rotateKey("noisy", "test").key();
    Path tenantsFile = dataDir.resolve("tenants.yaml");
    TenantsFile.Document doc = TenantsFile.read(tenantsFile);
    for (TenantsFile.TenantEntry t : doc.tenants) {
      if (t.id.equals("gamma")) {
        t.maxSessions = 2;
        t.maxExecs = 2;
        t.browser = new TenantsFile.BrowserEntry();
        t.browser.maxOpen = 1;
      }
      if (t.id.equals("zeta")) {
        t.maxSessionLifetime = "30m";
        t.maxOutputBytes = 1024L;
      }
      if (t.id.equals("epsilon")) {
        t.sessionsPerMinute = EPSILON_SESSIONS_PER_MINUTE;
        t.execsPerMinute = EPSILON_EXECS_PER_MINUTE;
        t.maxSessions = 100;
      }
      if (t.id.equals("eta")) {
        t.browser = new TenantsFile.BrowserEntry();
        t.browser.scripts = true;
        t.egress = new TenantsFile.EgressEntry();
        t.egress.allow = List.of("*." + EGRESS_DOMAIN);
        t.egress.deny = List.of("blocked." + EGRESS_DOMAIN);
        t.egress.maxConnections = EGRESS_MAX_CONNECTIONS;
        t.egress.bytesPerSecond = EGRESS_BYTES_PER_SECOND;
        TenantsFile.SecretHeaderEntry header = new TenantsFile.SecretHeaderEntry();
        header.secret = "API_TOKEN";
        header.host = "api." + EGRESS_DOMAIN;
        header.header = "Authorization";
        header.prefix = "Bearer ";
        TenantsFile.SecretHeaderEntry overTls = new TenantsFile.SecretHeaderEntry();
        overTls.secret = "TLS_TOKEN";
        overTls.host = "secure." + EGRESS_DOMAIN;
        overTls.header = "Authorization";
        overTls.prefix = "Bearer ";
        overTls.scheme = "https";
        t.egress.secretHeaders = List.of(header, overTls);
      }
      if (t.id.equals("noisy")) {
        t.memoryBytes = NOISY_MEMORY;
        t.maxProcesses = NOISY_PROCESSES;
        t.cpuMillicores = NOISY_CPU_MILLICORES;
        t.execsPerMinute = NOISY_EXECS_PER_MINUTE;
        t.maxSessions = 6;
      }
      if (t.id.equals("delta")) {
        t.memoryBytes = DELTA_MEMORY;
        t.maxProcesses = DELTA_PROCESSES;
      }
    }
    TenantsFile.write(tenantsFile, doc);
    server = RuntimeServer.start(setup.customize().apply(config(dataDir, nsjail, settings, tls)), Clock.systemUTC());
  }

  /** The configuration of a test host on {@code dataDir}: loopback, any free port. */
  static HostConfig config(Path dataDir, Path nsjail, SessionSettings settings, dev.paddock.runtime.config.TlsConfig tls) {
    return new HostConfig(new InetSocketAddress("127.0.0.1", 0), dataDir, nsjail,
        99999, 99999, Path.of("/sys/fs/cgroup"), settings, tls)
        .withPythonProtobuf(JailRequirement.projectRoot().resolve(".paddock/tools/python-protobuf"))
        .withEgress(dev.paddock.runtime.egress.EgressSettings.DEFAULTS
            .withFixedNames(dev.paddock.runtime.egress.EgressSettings.parseFixedNames(EGRESS_NAMES))
            .withReachable(List.of(dev.paddock.runtime.egress.AddressRange.parse("127.0.0.1/32")))
            .withUpstreamCa(dataDir.resolve(EGRESS_CA_FILE)))
        .withBrowsers(dev.paddock.runtime.browser.BrowserSettings.DEFAULTS);
  }

  /** Waits up to 10 s for {@code path} to disappear (sessions are cleaned up just after they close). */
  static void awaitGone(Path path) throws InterruptedException {
    for (int i = 0; i < 1000 && Files.exists(path); i++) {
      Thread.sleep(10);
    }
  }

  int port() {
    return server.port();
  }

  /** A channel sending {@code key} (null: no key) and, if given, an x-request-id. */
  ManagedChannel channel(String key, String requestId) {
    Metadata headers = new Metadata();
    if (key != null) {
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
    }
    if (requestId != null) {
      headers.put(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER), requestId);
    }
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port()).usePlaintext()
        .maxInboundMessageSize(32 * 1024 * 1024)
        .intercept(MetadataUtils.newAttachHeadersInterceptor(headers)).build();
    channels.add(channel);
    return channel;
  }

  SessionServiceGrpc.SessionServiceBlockingStub sessions(String key) {
    return SessionServiceGrpc.newBlockingStub(channel(key, null)).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  ExecServiceGrpc.ExecServiceBlockingStub execs(String key) {
    return ExecServiceGrpc.newBlockingStub(channel(key, null)).withDeadlineAfter(120, TimeUnit.SECONDS);
  }

  /** Puts a fresh random value (starting {@code prefix}) as {@code tenant}'s secret {@code name}; returns it. */
  String putSecret(String tenant, String name, String prefix) throws Exception {
    String value = prefix + java.util.UUID.randomUUID().toString().replace("-", "");
    String admin = new TenantAdmin(dataDir.resolve("tenants.yaml"), Clock.systemUTC())
        .createKey(tenant, "secrets-" + System.nanoTime(), java.util.EnumSet.of(dev.paddock.runtime.tenant.Scope.SECRETS)).key();
    var secrets = dev.paddock.ipc.v1.SecretServiceGrpc.newBlockingStub(channel(admin, null)).withDeadlineAfter(30, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) { // the new key works once the host has read the tenants file again
      try {
        secrets.listSecrets(dev.paddock.ipc.v1.ListSecretsRequest.getDefaultInstance());
        break;
      } catch (io.grpc.StatusRuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
    secrets.putSecret(dev.paddock.ipc.v1.PutSecretRequest.newBuilder().setName(name)
        .setValue(com.google.protobuf.ByteString.copyFromUtf8(value)).build());
    return value;
  }

  String newSession(String key) {
    return sessions(key).createSession(CreateSessionRequest.getDefaultInstance()).getSessionId();
  }

  /**
   * Uploads {@code size} bytes ({@code content} repeated in 1 MiB chunks, or the content itself when
   * shorter) to {@code path} of {@code session} with FileService.UploadFile; null when it worked,
   * the host's refusal when it did not.
   */
  io.grpc.StatusRuntimeException upload(String key, String session, String path, byte[] content, long size)
      throws Exception {
    java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
    var up = dev.paddock.ipc.v1.FileServiceGrpc.newStub(channel(key, null)).uploadFile(new io.grpc.stub.StreamObserver<>() {
      @Override
      public void onNext(dev.paddock.ipc.v1.UploadFileResponse value) {}

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    });
    up.onNext(dev.paddock.ipc.v1.UploadFileRequest.newBuilder().setHeader(dev.paddock.ipc.v1.UploadFileHeader.newBuilder()
        .setSessionId(session).setPath(path).setSizeBytes(size)).build());
    com.google.protobuf.ByteString chunk = com.google.protobuf.ByteString.copyFrom(content);
    try {
      for (long sent = 0; sent < size && !done.isDone(); sent += chunk.size()) {
        up.onNext(dev.paddock.ipc.v1.UploadFileRequest.newBuilder().setData(chunk).build());
      }
      up.onCompleted();
    } catch (RuntimeException e) {
      // the host already refused: its error arrives on the response side
    }
    try {
      done.get(60, TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return (io.grpc.StatusRuntimeException) e.getCause();
    }
  }

  /** Everything one exec streamed. */
  record Outcome(byte[] stdout, byte[] stderr, ExecResult result, String execId, List<ExecEvent> events) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    String err() {
      return new String(stderr, StandardCharsets.UTF_8);
    }
  }

  Outcome exec(String key, ExecRequest request) {
    return collect(execs(key).exec(request));
  }

  Outcome exec(String key, String session, String... argv) {
    return exec(key, ExecRequest.newBuilder().setSessionId(session).addAllArgv(List.of(argv)).build());
  }

  static Outcome collect(Iterator<ExecEvent> events) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ExecResult result = null;
    String execId = null;
    List<ExecEvent> all = new ArrayList<>();
    while (events.hasNext()) {
      ExecEvent e = events.next();
      all.add(e.hasOutput() ? e.toBuilder().setOutput(e.getOutput().toBuilder().clearData()).build() : e);
      if (e.hasStarted()) {
        execId = e.getStarted().getExecId();
      } else if (e.hasOutput()) {
        ByteArrayOutputStream target = e.getOutput().getStream() == OutputStream.OUTPUT_STREAM_STDOUT ? out : err;
        if (e.getOutput().getOffset() != target.size()) {
          throw new AssertionError("chunk offset " + e.getOutput().getOffset() + " but " + target.size() + " bytes received");
        }
        target.writeBytes(e.getOutput().getData().toByteArray());
      } else if (e.hasResult()) {
        result = e.getResult();
      }
    }
    return new Outcome(out.toByteArray(), err.toByteArray(), result, execId, all);
  }

  /** The google.rpc.Status details of a failed call. */
  record Failure(io.grpc.Status.Code code, String message, ErrorInfo info, RequestInfo request, BadRequest badRequest) {}

  static Failure failure(StatusRuntimeException e) throws Exception {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    ErrorInfo info = null;
    RequestInfo request = null;
    BadRequest bad = null;
    if (status != null) {
      for (Any d : status.getDetailsList()) {
        if (d.is(ErrorInfo.class)) {
          info = d.unpack(ErrorInfo.class);
        } else if (d.is(RequestInfo.class)) {
          request = d.unpack(RequestInfo.class);
        } else if (d.is(BadRequest.class)) {
          bad = d.unpack(BadRequest.class);
        }
      }
    }
    return new Failure(e.getStatus().getCode(), e.getStatus().getDescription(), info, request, bad);
  }

  @Override
  public void close() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    server.close();
  }
}
