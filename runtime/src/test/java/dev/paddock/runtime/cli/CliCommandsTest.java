package dev.paddock.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RequestInfo;
import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CloseSessionResponse;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.DownloadFileRequest;
import dev.paddock.ipc.v1.DownloadFileResponse;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.ExecStarted;
import dev.paddock.ipc.v1.ExecState;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.FileInfo;
import dev.paddock.ipc.v1.FileServiceGrpc;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.ListExecsRequest;
import dev.paddock.ipc.v1.ListExecsResponse;
import dev.paddock.ipc.v1.ListFilesRequest;
import dev.paddock.ipc.v1.ListFilesResponse;
import dev.paddock.ipc.v1.ListSessionsRequest;
import dev.paddock.ipc.v1.ListSessionsResponse;
import dev.paddock.ipc.v1.OutputChunk;
import dev.paddock.ipc.v1.OutputStream;
import dev.paddock.ipc.v1.Session;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.ipc.v1.SessionState;
import dev.paddock.ipc.v1.Signal;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.ipc.v1.SignalExecResponse;
import dev.paddock.ipc.v1.StatFileRequest;
import dev.paddock.ipc.v1.StatFileResponse;
import dev.paddock.ipc.v1.UploadFileRequest;
import dev.paddock.ipc.v1.UploadFileResponse;
import dev.paddock.ipc.v1.WriteStdinRequest;
import dev.paddock.ipc.v1.WriteStdinResponse;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client commands against a hand-written fake host on a real loopback port: which requests they
 * send (units, paging, chunking, stdin), what they print, and their exit codes. No jail involved.
 */
class CliCommandsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String KEY = "pdk_test";

  private final FakeHost fake = new FakeHost();
  private Server server;

  record Cli(int exit, String out, String err, byte[] outBytes) {
    List<JsonNode> jsonLines() throws Exception {
      List<JsonNode> lines = new ArrayList<>();
      for (String line : out.split("\n")) {
        if (!line.isEmpty()) {
          lines.add(MAPPER.readTree(line));
        }
      }
      return lines;
    }
  }

  @BeforeEach
  void start() throws Exception {
    ServerInterceptor auth = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        fake.authorization.add(headers.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER)));
        return next.startCall(call, headers);
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(fake.sessions, auth))
        .addService(ServerInterceptors.intercept(fake.execs, auth))
        .addService(ServerInterceptors.intercept(fake.files, auth))
        .build().start();
  }

  @AfterEach
  void stop() throws Exception {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private Cli run(String... args) {
    return runWithStdin(new byte[0], args);
  }

  private Cli runWithStdin(byte[] stdin, String... args) {
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    InputStream in = System.in;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      System.setIn(new ByteArrayInputStream(stdin));
      List<String> all = new ArrayList<>(List.of(args));
      int split = all.indexOf("--") >= 0 ? all.indexOf("--") : all.size();
      all.addAll(split, List.of("--server", "127.0.0.1:" + server.getPort(), "--api-key", KEY));
      int exit = PaddockCli.commandLine().execute(all.toArray(String[]::new));
      return new Cli(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), out.toByteArray());
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
      System.setIn(in);
    }
  }

  // ---- sessions ---------------------------------------------------------------------------------

  @Test
  void sessionCreateSendsLimitsInTheirUnitsAndPrintsTheId() {
    Cli cli = run("session", "create", "--memory", "256M", "--processes", "32", "--cpu", "0.5", "--tmpfs", "64MiB",
        "--idle-timeout", "1m30s", "--max-lifetime", "2h", "--label", "team=infra", "--label", "task=t-1", "-e", "TOKEN=x=y");
    assertThat(cli.exit()).isZero();
    assertThat(cli.out()).isEqualTo("s-1\n");
    CreateSessionRequest req = fake.created.get(0);
    assertThat(req.getLimits().getMemoryBytes()).isEqualTo(256L << 20);
    assertThat(req.getLimits().getMaxProcesses()).isEqualTo(32);
    assertThat(req.getLimits().getCpuMillicores()).isEqualTo(500);
    assertThat(req.getLimits().getTmpfsBytes()).isEqualTo(64L << 20);
    assertThat(Durations.fromProto(req.getIdleTimeout())).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.fromProto(req.getMaxLifetime())).isEqualTo(Duration.ofHours(2));
    assertThat(req.getLabelsMap()).isEqualTo(Map.of("team", "infra", "task", "t-1"));
    assertThat(req.getEnvMap()).isEqualTo(Map.of("TOKEN", "x=y"));
    assertThat(fake.authorization).containsOnly("Bearer " + KEY);
  }

  @Test
  void sessionCreateWithoutFlagsLeavesEverythingToTheHost() throws Exception {
    Cli cli = run("session", "create", "--json");
    assertThat(fake.created.get(0)).isEqualTo(CreateSessionRequest.getDefaultInstance());
    List<JsonNode> lines = cli.jsonLines();
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0).get("sessionId").asText()).isEqualTo("s-1");
    assertThat(lines.get(0).get("state").asText()).isEqualTo("SESSION_STATE_ACTIVE");
  }

  @Test
  void sessionListReadsEveryPage() throws Exception {
    Cli json = run("session", "list", "--label", "team=infra", "--json");
    assertThat(json.exit()).isZero();
    assertThat(json.jsonLines()).extracting(n -> n.get("sessionId").asText()).containsExactly("s-a", "s-b", "s-c");
    assertThat(fake.listed).extracting(ListSessionsRequest::getPageToken).containsExactly("", "page-2");
    assertThat(fake.listed.get(0).getLabelSelectorMap()).isEqualTo(Map.of("team", "infra"));

    Cli human = run("session", "list");
    String[] lines = human.out().split("\n");
    assertThat(lines).hasSize(4);
    assertThat(lines[0]).startsWith("SESSION ID").contains("STATE").contains("CREATED").contains("EXPIRES").endsWith("LABELS");
    assertThat(lines[1]).startsWith("s-a").contains("ACTIVE").contains("2027-01-15T08:00:00Z").endsWith("team=infra");
  }

  @Test
  void sessionGetAndClose() {
    Cli get = run("session", "get", "s-1");
    assertThat(get.exit()).isZero();
    assertThat(get.out()).contains("Session:").contains("s-1").contains("memory 512 MiB").contains("cpu 0.5");
    Cli close = run("session", "close", "s-1");
    assertThat(close.exit()).isZero();
    assertThat(close.out()).isEmpty();
    assertThat(fake.closed).containsExactly("s-1");
    assertThat(run("session", "close", "s-1", "--json").out()).isEqualTo("{}\n");
  }

  @Test
  void aRefusedCallPrintsReasonMessageAndRequestIdAndExits120() throws Exception {
    Cli human = run("session", "get", "nope");
    assertThat(human.exit()).isEqualTo(120);
    assertThat(human.err()).isEqualTo("error: SESSION_NOT_FOUND: session not found (request req_42)" + System.lineSeparator());
    assertThat(human.out()).isEmpty();

    Cli json = run("session", "get", "nope", "--json");
    assertThat(json.exit()).isEqualTo(120);
    JsonNode error = json.jsonLines().get(0).get("error");
    assertThat(error.get("code").asText()).isEqualTo("NOT_FOUND");
    assertThat(error.get("reason").asText()).isEqualTo("SESSION_NOT_FOUND");
    assertThat(error.get("requestId").asText()).isEqualTo("req_42");
    assertThat(error.get("metadata").get("sessionId").asText()).isEqualTo("nope");
    assertThat(json.err()).startsWith("error: SESSION_NOT_FOUND");
  }

  @Test
  void noKeyAndNoHostAreErrorsToo() {
    PrintStream stderr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      assertThat(PaddockCli.commandLine().execute("session", "list", "--api-key", "")).isEqualTo(120);
      assertThat(PaddockCli.commandLine().execute("session", "list", "--api-key", "k", "--server", "127.0.0.1:1")).isEqualTo(120);
    } finally {
      System.setErr(stderr);
    }
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("error: no API key").contains("error: UNAVAILABLE: ");
  }

  // ---- exec -------------------------------------------------------------------------------------

  @Test
  void execWithoutStdinIsOneExecCallAndExitsWithTheCommandsCode() {
    fake.execExitCode = 3;
    Cli cli = run("exec", "--no-stdin", "--memory", "1G", "--time-limit", "1.5s", "--", "sh", "-c", "exit 3");
    assertThat(cli.exit()).isEqualTo(3);
    assertThat(cli.out()).isEqualTo("out\n");
    assertThat(cli.err()).isEqualTo("err\n");
    assertThat(fake.created.get(0).getLimits().getMemoryBytes()).isEqualTo(1L << 30);
    ExecRequest req = fake.execs.requests.get(0);
    assertThat(req.getArgvList()).containsExactly("sh", "-c", "exit 3");
    assertThat(req.getKeepStdinOpen()).isFalse();
    assertThat(Durations.fromProto(req.getTimeLimit())).isEqualTo(Duration.ofMillis(1500));
    assertThat(fake.execs.started).isEmpty();
    assertThat(fake.closed).containsExactly("s-1");
  }

  @Test
  void execJsonPrintsEveryEventAsALine() throws Exception {
    Cli cli = run("exec", "--no-stdin", "--json", "--session", "s-9", "--", "true");
    assertThat(cli.exit()).isZero();
    List<JsonNode> lines = cli.jsonLines();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0).get("started").get("execId").asText()).isEqualTo("x-1");
    assertThat(lines.get(1).get("output").get("data").asText()).isEqualTo("b3V0Cg=="); // "out\n"
    assertThat(lines.get(3).get("result").get("exitCode").asInt()).isZero();
    assertThat(fake.created).isEmpty();
    assertThat(fake.closed).isEmpty(); // not this command's session
  }

  @Test
  void execForwardsStdinInChunksAndClosesItAtEof() {
    byte[] input = new byte[150 * 1024 + 7];
    new Random(1).nextBytes(input);
    Cli cli = runWithStdin(input, "exec", "-i", "--", "cat");
    assertThat(cli.exit()).isZero();
    assertThat(fake.execs.started).hasSize(1);
    assertThat(fake.execs.started.get(0).getKeepStdinOpen()).isTrue();
    assertThat(fake.execs.requests).isEmpty(); // no plain Exec call
    assertThat(fake.execs.stdinChunks).allMatch(n -> n <= 64 * 1024);
    assertThat(fake.execs.stdinChunks.get(fake.execs.stdinChunks.size() - 1)).isZero(); // the close
    assertThat(fake.execs.stdin.toByteArray()).isEqualTo(input);
    assertThat(cli.outBytes()).isEqualTo(input); // echoed back by the fake, like cat
    assertThat(fake.closed).containsExactly("s-1");
  }

  @Test
  void execDetachPrintsTheIdsAndKeepsTheSession() throws Exception {
    Cli cli = run("exec", "--detach", "--json", "--", "sleep", "100");
    assertThat(cli.exit()).isZero();
    JsonNode line = cli.jsonLines().get(0);
    assertThat(line.get("execId").asText()).isEqualTo("x-1");
    assertThat(line.get("sessionId").asText()).isEqualTo("s-1");
    assertThat(fake.execs.started.get(0).getKeepStdinOpen()).isFalse();
    assertThat(fake.closed).isEmpty();
    assertThat(cli.err()).contains("session s-1 kept open");
  }

  @Test
  void execMapsOutcomesToTheDocumentedCodes() {
    fake.execResult = ExecResult.newBuilder().setStatus(ExecStatus.EXEC_STATUS_TIMEOUT).setSignal(9)
        .setReason("wall time limit of 1000 ms exceeded").build();
    Cli cli = run("exec", "--no-stdin", "--", "sleep", "5");
    assertThat(cli.exit()).isEqualTo(124);
    assertThat(cli.err()).contains("paddock: TIMEOUT: wall time limit of 1000 ms exceeded");
    fake.execResult = ExecResult.newBuilder().setStatus(ExecStatus.EXEC_STATUS_SIGNALED).setSignal(15).build();
    assertThat(run("exec", "--no-stdin", "--", "x").exit()).isEqualTo(143);
  }

  @Test
  void execUsageMistakesAreParameterErrors() {
    assertThat(run("exec", "-i", "--detach", "--", "cat").exit()).isEqualTo(120);
    assertThat(run("exec", "--session", "s-1", "--memory", "1G", "--", "cat").exit()).isEqualTo(120);
    assertThat(fake.created).isEmpty();
  }

  // ---- ps, kill, attach -------------------------------------------------------------------------

  @Test
  void psListsEveryPageAsATable() {
    Cli cli = run("ps", "--session", "s-1", "--running");
    assertThat(cli.exit()).isZero();
    String[] lines = cli.out().split("\n");
    assertThat(lines[0]).startsWith("EXEC ID").contains("STATE").contains("STATUS/EXIT").contains("STARTED").endsWith("ARGV");
    assertThat(lines[1]).startsWith("x-1").contains("RUNNING").endsWith("sh -c 'sleep 100'");
    assertThat(lines[2]).startsWith("x-2").contains("FINISHED").contains("exit 3");
    assertThat(fake.execs.listed).extracting(ListExecsRequest::getPageToken).containsExactly("", "next");
    assertThat(fake.execs.listed.get(0).getRunningOnly()).isTrue();
  }

  @Test
  void killSendsTheNamedSignal() throws Exception {
    assertThat(run("kill", "--session", "s-1", "x-1").exit()).isZero();
    assertThat(run("kill", "--session", "s-1", "--signal", "sigkill", "x-1").exit()).isZero();
    assertThat(fake.execs.signals).extracting(SignalExecRequest::getSignal).containsExactly(Signal.SIGNAL_TERM, Signal.SIGNAL_KILL);
    fake.execs.delivered = false;
    Cli json = run("kill", "--session", "s-1", "--signal", "INT", "--json", "x-1");
    assertThat(json.jsonLines().get(0).get("delivered").asBoolean()).isFalse();
  }

  @Test
  void attachResumesAtTheOffsetsAndExitsLikeExec() {
    fake.execExitCode = 7;
    Cli cli = run("attach", "--session", "s-1", "--stdout-offset", "10", "--stderr-offset", "1K", "x-1");
    assertThat(cli.exit()).isEqualTo(7);
    assertThat(cli.out()).isEqualTo("out\n");
    AttachExecRequest req = fake.execs.attached.get(0);
    assertThat(req.getStdoutOffset()).isEqualTo(10);
    assertThat(req.getStderrOffset()).isEqualTo(1024);
  }

  // ---- files ------------------------------------------------------------------------------------

  @Test
  void putStreamsOneMebibyteChunksWithTheSizeAnnounced(@TempDir Path dir) throws Exception {
    byte[] content = new byte[(int) (2.5 * 1024 * 1024)];
    new Random(2).nextBytes(content);
    Path local = Files.write(dir.resolve("data.bin"), content);
    Cli cli = run("files", "put", "--session", "s-1", "--mode", "755", "--parents", local.toString(), "out/data.bin");
    assertThat(cli.exit()).isZero();
    assertThat(cli.out()).isEmpty();
    UploadFileRequest header = fake.files.uploads.get(0);
    assertThat(header.getHeader().getSessionId()).isEqualTo("s-1");
    assertThat(header.getHeader().getPath()).isEqualTo("out/data.bin");
    assertThat(header.getHeader().getMode()).isEqualTo(0755);
    assertThat(header.getHeader().getMakeParents()).isTrue();
    assertThat(header.getHeader().getOverwrite()).isFalse();
    assertThat(header.getHeader().getSizeBytes()).isEqualTo(content.length);
    assertThat(fake.files.uploads.subList(1, fake.files.uploads.size()))
        .extracting(r -> r.getData().size()).containsExactly(1 << 20, 1 << 20, 1 << 19);
    assertThat(fake.files.received.toByteArray()).isEqualTo(content);
  }

  @Test
  void putFromStdinHasNoSize() throws Exception {
    Cli cli = runWithStdin("hello".getBytes(StandardCharsets.UTF_8), "files", "put", "--session", "s-1", "--json", "-", "x.txt");
    assertThat(cli.exit()).isZero();
    assertThat(fake.files.uploads.get(0).getHeader().getSizeBytes()).isZero();
    assertThat(fake.files.received.toString(StandardCharsets.UTF_8)).isEqualTo("hello");
    assertThat(cli.jsonLines().get(0).get("file").get("path").asText()).isEqualTo("x.txt");
  }

  @Test
  void getWritesAFileWholeOrToStdout(@TempDir Path dir) throws Exception {
    Cli toStdout = run("files", "get", "--session", "s-1", "notes/a.txt");
    assertThat(toStdout.exit()).isZero();
    assertThat(toStdout.out()).isEqualTo("hello, world\n");

    Cli toDir = run("files", "get", "--session", "s-1", "notes/a.txt", dir.toString(), "--json");
    assertThat(toDir.exit()).isZero();
    assertThat(Files.readString(dir.resolve("a.txt"))).isEqualTo("hello, world\n");
    JsonNode line = toDir.jsonLines().get(0);
    assertThat(line.get("bytesWritten").asText()).isEqualTo("13");
    assertThat(line.get("file").get("path").asText()).isEqualTo("notes/a.txt");
    try (var files = Files.list(dir)) {
      assertThat(files).hasSize(1); // no partial file left
    }

    Cli missing = run("files", "get", "--session", "s-1", "missing", dir.resolve("m").toString());
    assertThat(missing.exit()).isEqualTo(120);
    assertThat(missing.err()).startsWith("error: FILE_NOT_FOUND");
    try (var files = Files.list(dir)) {
      assertThat(files).hasSize(1);
    }
  }

  @Test
  void lsReadsEveryPageAndDepthImpliesRecursive() {
    Cli cli = run("files", "ls", "--session", "s-1", "src", "--depth", "2");
    assertThat(cli.exit()).isZero();
    String[] lines = cli.out().split("\n");
    assertThat(lines).hasSize(4);
    assertThat(lines[0]).startsWith("MODE").endsWith("PATH");
    assertThat(lines[1]).startsWith("drwxr-xr-x").endsWith("src/lib/");
    assertThat(lines[2]).startsWith("-rw-r--r--").contains("13").endsWith("src/main.py");
    assertThat(lines[3]).startsWith("lrwxrwxrwx").endsWith("src/link -> main.py");
    ListFilesRequest first = fake.files.listed.get(0);
    assertThat(first.getRecursive()).isTrue();
    assertThat(first.getDepth()).isEqualTo(2);
    assertThat(fake.files.listed).extracting(ListFilesRequest::getPageToken).containsExactly("", "p2");
  }

  @Test
  void statExitsOneForAMissingPath() throws Exception {
    Cli present = run("files", "stat", "--session", "s-1", "src/main.py");
    assertThat(present.exit()).isZero();
    assertThat(present.out()).contains("Mode:").contains("0644 (-rw-r--r--)");
    Cli missing = run("files", "stat", "--session", "s-1", "nope", "--json");
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.jsonLines().get(0).get("exists").asBoolean()).isFalse();
  }

  // ---- the fake host ----------------------------------------------------------------------------

  /** Answers the paddock.v1 calls the commands make, and records the requests. */
  static final class FakeHost {
    final List<String> authorization = new CopyOnWriteArrayList<>();
    final List<CreateSessionRequest> created = new CopyOnWriteArrayList<>();
    final List<ListSessionsRequest> listed = new CopyOnWriteArrayList<>();
    final List<String> closed = new CopyOnWriteArrayList<>();
    volatile int execExitCode = 0;
    volatile ExecResult execResult;
    final Execs execs = new Execs();
    final FakeFiles files = new FakeFiles();

    static Session session(String id) {
      return Session.newBuilder().setSessionId(id).setState(SessionState.SESSION_STATE_ACTIVE)
          .setCreateTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L))
          .setLimits(dev.paddock.ipc.v1.ResourceLimits.newBuilder().setMemoryBytes(512L << 20).setCpuMillicores(500))
          .putLabels("team", "infra").build();
    }

    static io.grpc.StatusRuntimeException error(Code code, String reason, String message, Map<String, String> metadata) {
      return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage(message)
          .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain("paddock.dev").putAllMetadata(metadata).build()))
          .addDetails(Any.pack(RequestInfo.newBuilder().setRequestId("req_42").build())).build());
    }

    final SessionServiceGrpc.SessionServiceImplBase sessions = new SessionServiceGrpc.SessionServiceImplBase() {
      @Override
      public void createSession(CreateSessionRequest request, StreamObserver<Session> out) {
        created.add(request);
        out.onNext(session("s-" + created.size()));
        out.onCompleted();
      }

      @Override
      public void getSession(GetSessionRequest request, StreamObserver<Session> out) {
        if (request.getSessionId().equals("nope")) {
          out.onError(error(Code.NOT_FOUND, "SESSION_NOT_FOUND", "session not found", Map.of("sessionId", "nope")));
          return;
        }
        out.onNext(session(request.getSessionId()));
        out.onCompleted();
      }

      @Override
      public void listSessions(ListSessionsRequest request, StreamObserver<ListSessionsResponse> out) {
        listed.add(request);
        if (request.getPageToken().isEmpty()) {
          out.onNext(ListSessionsResponse.newBuilder().addSessions(session("s-a")).addSessions(session("s-b"))
              .setNextPageToken("page-2").build());
        } else {
          out.onNext(ListSessionsResponse.newBuilder().addSessions(session("s-c")).build());
        }
        out.onCompleted();
      }

      @Override
      public void closeSession(CloseSessionRequest request, StreamObserver<CloseSessionResponse> out) {
        closed.add(request.getSessionId());
        out.onNext(CloseSessionResponse.getDefaultInstance());
        out.onCompleted();
      }
    };

    final class Execs extends ExecServiceGrpc.ExecServiceImplBase {
      final List<ExecRequest> requests = new CopyOnWriteArrayList<>();
      final List<ExecRequest> started = new CopyOnWriteArrayList<>();
      final List<AttachExecRequest> attached = new CopyOnWriteArrayList<>();
      final List<ListExecsRequest> listed = new CopyOnWriteArrayList<>();
      final List<SignalExecRequest> signals = new CopyOnWriteArrayList<>();
      final List<Integer> stdinChunks = new CopyOnWriteArrayList<>();
      final ByteArrayOutputStream stdin = new ByteArrayOutputStream();
      final CompletableFuture<Void> stdinClosed = new CompletableFuture<>();
      volatile boolean delivered = true;

      private void events(StreamObserver<ExecEvent> out, ByteString stdout) {
        out.onNext(ExecEvent.newBuilder().setStarted(ExecStarted.newBuilder().setExecId("x-1")).build());
        out.onNext(ExecEvent.newBuilder().setOutput(OutputChunk.newBuilder().setStream(OutputStream.OUTPUT_STREAM_STDOUT).setData(stdout)).build());
        out.onNext(ExecEvent.newBuilder().setOutput(OutputChunk.newBuilder().setStream(OutputStream.OUTPUT_STREAM_STDERR)
            .setData(ByteString.copyFromUtf8("err\n"))).build());
        ExecResult result = execResult != null ? execResult
            : ExecResult.newBuilder().setStatus(ExecStatus.EXEC_STATUS_OK).setExitCode(execExitCode).build();
        out.onNext(ExecEvent.newBuilder().setResult(result).build());
        out.onCompleted();
      }

      @Override
      public void exec(ExecRequest request, StreamObserver<ExecEvent> out) {
        requests.add(request);
        events(out, ByteString.copyFromUtf8("out\n"));
      }

      @Override
      public void startExec(ExecRequest request, StreamObserver<ExecStarted> out) {
        started.add(request);
        out.onNext(ExecStarted.newBuilder().setExecId("x-1").build());
        out.onCompleted();
      }

      @Override
      public void writeStdin(WriteStdinRequest request, StreamObserver<WriteStdinResponse> out) {
        synchronized (stdin) {
          stdinChunks.add(request.getData().size());
          stdin.writeBytes(request.getData().toByteArray());
        }
        if (request.getClose()) {
          stdinClosed.complete(null);
        }
        out.onNext(WriteStdinResponse.newBuilder().setStdinBytes(stdin.size()).build());
        out.onCompleted();
      }

      @Override
      public void attachExec(AttachExecRequest request, StreamObserver<ExecEvent> out) {
        attached.add(request);
        if (started.isEmpty()) {
          events(out, ByteString.copyFromUtf8("out\n"));
          return;
        }
        // Like cat: echo stdin once it is closed.
        stdinClosed.orTimeout(20, TimeUnit.SECONDS).whenComplete((v, t) -> {
          out.onNext(ExecEvent.newBuilder().setStarted(ExecStarted.newBuilder().setExecId("x-1")).build());
          byte[] all;
          synchronized (stdin) {
            all = stdin.toByteArray();
          }
          for (int at = 0; at < all.length; at += 65536) {
            out.onNext(ExecEvent.newBuilder().setOutput(OutputChunk.newBuilder().setStream(OutputStream.OUTPUT_STREAM_STDOUT)
                .setData(ByteString.copyFrom(all, at, Math.min(65536, all.length - at))).setOffset(at)).build());
          }
          out.onNext(ExecEvent.newBuilder().setResult(ExecResult.newBuilder().setStatus(ExecStatus.EXEC_STATUS_OK)).build());
          out.onCompleted();
        });
      }

      @Override
      public void signalExec(SignalExecRequest request, StreamObserver<SignalExecResponse> out) {
        signals.add(request);
        out.onNext(SignalExecResponse.newBuilder().setDelivered(delivered).build());
        out.onCompleted();
      }

      @Override
      public void listExecs(ListExecsRequest request, StreamObserver<ListExecsResponse> out) {
        listed.add(request);
        if (request.getPageToken().isEmpty()) {
          out.onNext(ListExecsResponse.newBuilder().addExecs(ExecInfo.newBuilder().setExecId("x-1").setSessionId("s-1")
              .setState(ExecState.EXEC_STATE_RUNNING).addAllArgv(List.of("sh", "-c", "sleep 100"))).setNextPageToken("next").build());
        } else {
          out.onNext(ListExecsResponse.newBuilder().addExecs(ExecInfo.newBuilder().setExecId("x-2").setSessionId("s-1")
              .setState(ExecState.EXEC_STATE_FINISHED).addArgv("false")
              .setResult(ExecResult.newBuilder().setStatus(ExecStatus.EXEC_STATUS_OK).setExitCode(3))).build());
        }
        out.onCompleted();
      }
    }

    static final class FakeFiles extends FileServiceGrpc.FileServiceImplBase {
      final List<UploadFileRequest> uploads = new CopyOnWriteArrayList<>();
      final ByteArrayOutputStream received = new ByteArrayOutputStream();
      final List<ListFilesRequest> listed = new CopyOnWriteArrayList<>();

      static FileInfo file(String path, int mode, long size) {
        return FileInfo.newBuilder().setPath(path).setName(path.substring(path.lastIndexOf('/') + 1)).setMode(mode).setSizeBytes(size)
            .setModifyTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_800_000_000L)).build();
      }

      @Override
      public StreamObserver<UploadFileRequest> uploadFile(StreamObserver<UploadFileResponse> out) {
        return new StreamObserver<>() {
          String path;

          @Override
          public void onNext(UploadFileRequest value) {
            uploads.add(value);
            if (value.hasHeader()) {
              path = value.getHeader().getPath();
            } else {
              synchronized (received) {
                received.writeBytes(value.getData().toByteArray());
              }
            }
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            out.onNext(UploadFileResponse.newBuilder().setFile(file(path, 0644, received.size())).build());
            out.onCompleted();
          }
        };
      }

      @Override
      public void downloadFile(DownloadFileRequest request, StreamObserver<DownloadFileResponse> out) {
        if (!request.getPath().equals("notes/a.txt")) {
          out.onError(error(Code.NOT_FOUND, "FILE_NOT_FOUND", "no such file", Map.of()));
          return;
        }
        out.onNext(DownloadFileResponse.newBuilder().setFile(file("notes/a.txt", 0644, 13)).setData(ByteString.copyFromUtf8("hello, ")).build());
        out.onNext(DownloadFileResponse.newBuilder().setData(ByteString.copyFromUtf8("world\n")).setOffset(7).build());
        out.onCompleted();
      }

      @Override
      public void listFiles(ListFilesRequest request, StreamObserver<ListFilesResponse> out) {
        listed.add(request);
        if (request.getPageToken().isEmpty()) {
          out.onNext(ListFilesResponse.newBuilder().addFiles(file("src/lib", 0755, 4096).toBuilder().setIsDir(true))
              .addFiles(file("src/main.py", 0644, 13)).setNextPageToken("p2").build());
        } else {
          out.onNext(ListFilesResponse.newBuilder().addFiles(file("src/link", 0777, 7).toBuilder().setIsSymlink(true)
              .setSymlinkTarget("main.py")).build());
        }
        out.onCompleted();
      }

      @Override
      public void statFile(StatFileRequest request, StreamObserver<StatFileResponse> out) {
        StatFileResponse.Builder response = StatFileResponse.newBuilder();
        if (request.getPath().equals("src/main.py")) {
          response.setExists(true).setFile(file("src/main.py", 0644, 13));
        }
        out.onNext(response.build());
        out.onCompleted();
      }
    }
  }
}
