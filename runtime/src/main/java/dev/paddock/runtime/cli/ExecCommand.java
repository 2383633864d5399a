package dev.paddock.runtime.cli;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RequestInfo;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.OutputStream;
import dev.paddock.ipc.v1.ResourceLimits;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code paddock exec}: like {@code docker run}, runs one command in a fresh session and streams its
 * output; exits with the command's exit code, or one of the documented codes below.
 */
@Command(name = "exec", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Runs COMMAND in a Paddock sandbox and streams its stdout and stderr to this terminal's.",
        "Creates a session (or uses --session) and closes it afterwards (unless --keep-session)."},
    footerHeading = "%nExit codes:%n",
    footer = {
        "  0-119    the command's own exit code",
        "  120      host or call error (unreachable, bad key, unknown session, bad request)",
        "  121      sandbox setup error (no working jail, program not found): nothing ran",
        "  122      policy violation (forbidden syscall)",
        "  123      out of memory (memory limit hit)",
        "  124      timeout (wall-time limit hit; the whole process tree was killed)",
        "  125      process limit hit (the program failed to fork)",
        "  128+N    killed by signal N (137 = SIGKILL), or killed on request"})
final class ExecCommand implements Callable<Integer> {
  static final int EXIT_HOST_ERROR = 120;
  static final int EXIT_SETUP_ERROR = 121;
  static final int EXIT_VIOLATION = 122;
  static final int EXIT_OOM = 123;
  static final int EXIT_TIMEOUT = 124;
  static final int EXIT_PIDS = 125;

  @Option(names = "--server", defaultValue = "${env:PADDOCK_SERVER:-127.0.0.1:50051}",
      description = "Host address, host:port. Default: $PADDOCK_SERVER, else 127.0.0.1:50051.")
  String server;

  @Option(names = "--api-key", defaultValue = "${env:PADDOCK_API_KEY}", description = "API key. Default: $PADDOCK_API_KEY.")
  String apiKey;

  @Option(names = "--tls-ca", defaultValue = "${env:PADDOCK_TLS_CA}",
      description = "PEM CA certificates to verify the host's TLS certificate: connect with TLS. Default: $PADDOCK_TLS_CA, else plaintext.")
  Path tlsCa;

  @Option(names = "--tls-cert", defaultValue = "${env:PADDOCK_TLS_CERT}", description = "PEM client certificate chain, for a host that requires mutual TLS.")
  Path tlsCert;

  @Option(names = "--tls-key", defaultValue = "${env:PADDOCK_TLS_KEY}", description = "PEM private key (PKCS#8) of --tls-cert.")
  Path tlsKey;

  @Option(names = "--session", description = "Run in this existing session instead of a new one.")
  String sessionId;

  @Option(names = "--keep-session", description = "Do not close the session afterwards (prints its id on stderr).")
  boolean keepSession;

  @Option(names = "--time-limit", description = "Wall-time limit, e.g. 30s, 500ms, 5m. Default: the host's (60s).")
  Duration timeLimit;

  @Option(names = "--memory", description = "Memory limit in bytes for a new session's execs. Default: the host's (512 MiB).")
  long memoryBytes;

  @Option(names = "--cwd", defaultValue = "", description = "Working directory, relative to the workspace.")
  String cwd;

  @Option(names = {"-e", "--env"}, description = "Environment variable NAME=VALUE (repeatable).")
  Map<String, String> env = Map.of();

  @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments (use -- before them).")
  List<String> command;

  @Override
  public Integer call() throws Exception {
    PrintStream err = System.err;
    if (apiKey == null || apiKey.isBlank()) {
      err.println("paddock: no API key: pass --api-key or set PADDOCK_API_KEY");
      return EXIT_HOST_ERROR;
    }
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + apiKey);
    ManagedChannel channel = NettyChannelBuilder.forTarget(server, credentials())
        .intercept(MetadataUtils.newAttachHeadersInterceptor(headers)).build();
    String session = sessionId;
    try {
      SessionServiceGrpc.SessionServiceBlockingStub sessions = SessionServiceGrpc.newBlockingStub(channel);
      if (session == null) {
        CreateSessionRequest.Builder create = CreateSessionRequest.newBuilder();
        if (memoryBytes > 0) {
          create.setLimits(ResourceLimits.newBuilder().setMemoryBytes(memoryBytes));
        }
        session = sessions.createSession(create.build()).getSessionId();
      }
      ExecRequest.Builder req = ExecRequest.newBuilder().setSessionId(session).addAllArgv(command).setCwd(cwd).putAllEnv(env);
      if (timeLimit != null) {
        req.setTimeLimit(com.google.protobuf.Duration.newBuilder()
            .setSeconds(timeLimit.getSeconds()).setNanos(timeLimit.getNano()));
      }
      ExecResult result = null;
      Iterator<ExecEvent> events = ExecServiceGrpc.newBlockingStub(channel).exec(req.build());
      while (events.hasNext()) {
        ExecEvent event = events.next();
        if (event.hasOutput()) {
          PrintStream target = event.getOutput().getStream() == OutputStream.OUTPUT_STREAM_STDERR ? System.err : System.out;
          event.getOutput().getData().writeTo(target);
          target.flush();
        } else if (event.hasResult()) {
          result = event.getResult();
        }
      }
      if (result == null) {
        err.println("paddock: the host ended the exec without a result");
        return EXIT_HOST_ERROR;
      }
      return exitCode(result, err);
    } catch (StatusRuntimeException e) {
      err.println("paddock: " + describe(e));
      return e.getStatus().getCode() == io.grpc.Status.Code.FAILED_PRECONDITION ? EXIT_SETUP_ERROR : EXIT_HOST_ERROR;
    } finally {
      if (session != null && sessionId == null && !keepSession) {
        try {
          SessionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
              .closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
        } catch (StatusRuntimeException e) {
          err.println("paddock: could not close session " + session + ": " + describe(e));
        }
      } else if (session != null && keepSession) {
        err.println("paddock: session " + session + " kept open");
      }
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private ChannelCredentials credentials() throws java.io.IOException {
    if (tlsCa == null) {
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(tlsCa.toFile());
    if (tlsCert != null && tlsKey != null) {
      tls.keyManager(tlsCert.toFile(), tlsKey.toFile());
    }
    return tls.build();
  }

  /** Maps the typed outcome to this command's exit code, explaining non-OK outcomes on stderr. */
  static int exitCode(ExecResult r, PrintStream err) {
    switch (r.getStatus()) {
      case EXEC_STATUS_OK:
        return r.getExitCode();
      case EXEC_STATUS_TIMEOUT:
        err.println("paddock: TIMEOUT: " + r.getReason());
        return EXIT_TIMEOUT;
      case EXEC_STATUS_OOM:
        err.println("paddock: OOM: " + r.getReason());
        return EXIT_OOM;
      case EXEC_STATUS_VIOLATION:
        err.println("paddock: VIOLATION: " + r.getReason());
        return EXIT_VIOLATION;
      case EXEC_STATUS_PIDS_EXHAUSTED:
        err.println("paddock: PIDS_EXHAUSTED: " + r.getReason());
        return EXIT_PIDS;
      case EXEC_STATUS_SETUP_ERROR:
        err.println("paddock: SETUP_ERROR: " + r.getReason());
        return EXIT_SETUP_ERROR;
      case EXEC_STATUS_SIGNALED:
      case EXEC_STATUS_KILLED:
        err.println("paddock: " + r.getStatus().name().substring("EXEC_STATUS_".length()) + ": " + r.getReason());
        return 128 + (r.getSignal() > 0 ? r.getSignal() : 9);
      default:
        err.println("paddock: " + r.getStatus() + ": " + r.getReason());
        return EXIT_HOST_ERROR;
    }
  }

  /** "CODE: message [reason, request id]" from a status with Paddock's details. */
  static String describe(StatusRuntimeException e) {
    StringBuilder b = new StringBuilder(e.getStatus().getCode().name());
    if (e.getStatus().getDescription() != null) {
      b.append(": ").append(e.getStatus().getDescription());
    }
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (Any detail : status.getDetailsList()) {
        try {
          if (detail.is(ErrorInfo.class)) {
            b.append(" [reason ").append(detail.unpack(ErrorInfo.class).getReason()).append("]");
          } else if (detail.is(RequestInfo.class)) {
            b.append(" [request id ").append(detail.unpack(RequestInfo.class).getRequestId()).append("]");
          }
        } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
          // a detail we cannot read adds nothing
        }
      }
    }
    return b.toString();
  }
}
