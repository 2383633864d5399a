package dev.paddock.runtime.cli;

import com.google.protobuf.ByteString;
import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ExecStarted;
import dev.paddock.ipc.v1.OutputStream;
import dev.paddock.ipc.v1.Signal;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.ipc.v1.WriteStdinRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code paddock exec}: like {@code docker run}, runs one command in a fresh session and streams its
 * output; exits with the command's exit code, or one of the documented codes below.
 *
 * <p>Two ways to run: without stdin, one {@code Exec} call (cancelling it kills the exec); with
 * stdin forwarded, {@code StartExec} with {@code keep_stdin_open}, then {@code AttachExec} for the
 * output while a thread copies this process's stdin with {@code WriteStdin}.
 */
@Command(name = "exec", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Runs COMMAND in a Paddock sandbox and streams its stdout and stderr to this terminal's.",
        "Creates a session (or uses --session) and closes it afterwards (unless --keep-session or --detach).",
        "Stdin is forwarded when it is a pipe or a file (not a terminal, not /dev/null), or with -i.",
        "Ctrl-C sends SIGINT to a command with forwarded stdin, and closes the session this command created."},
    footerHeading = "%nExit codes:%n",
    footer = {
        "  0-119    the command's own exit code",
        "  120      host or call error (unreachable, bad key, unknown id, bad request)",
        "  121      sandbox setup error (no working jail, program not found): nothing ran",
        "  122      policy violation (forbidden syscall)",
        "  123      out of memory (memory limit hit)",
        "  124      timeout (wall-time limit hit; the whole process tree was killed)",
        "  125      process limit hit (the program failed to fork)",
        "  126      IPC protocol violation (with --ipc: the command broke the channel's framing)",
        "  128+N    killed by signal N (137 = SIGKILL); 130 after Ctrl-C"})
final class ExecCommand extends ClientCommand {
  static final int EXIT_HOST_ERROR = 120;
  static final int EXIT_SETUP_ERROR = 121;
  static final int EXIT_VIOLATION = 122;
  static final int EXIT_OOM = 123;
  static final int EXIT_TIMEOUT = 124;
  static final int EXIT_PIDS = 125;
  static final int EXIT_IPC_VIOLATION = 126;

  /** Largest WriteStdin payload this command sends, in bytes (the host accepts up to 1 MiB). */
  static final int STDIN_CHUNK_BYTES = 64 * 1024;

  @Spec CommandSpec spec;

  @Option(names = "--session", paramLabel = "SESSION", description = "Run in this existing session instead of a new one.")
  String sessionId;

  @Option(names = "--keep-session", description = "Do not close the new session afterwards (its id goes to stderr).")
  boolean keepSession;

  @Mixin SessionCommand.LimitsOptions limits;

  @Option(names = "--time-limit", paramLabel = "DURATION",
      description = "Wall-time limit of the command (30s, 500ms, 1m30s; plain number = seconds). Default: the host's (60s).")
  Duration timeLimit;

  @Option(names = "--cwd", paramLabel = "DIR", defaultValue = "", description = "Working directory, relative to the workspace. Default: the workspace.")
  String cwd;

  @Option(names = {"-e", "--env"}, paramLabel = "NAME=VALUE", description = "Environment variable (repeatable).")
  Map<String, String> env = Map.of();

  @Option(names = "--secret", paramLabel = "VAR=SECRET",
      description = "Put your tenant's secret SECRET (paddock secrets put) into the variable VAR, by reference:"
          + " the host fills in the value and redacts it from the output. Repeatable.")
  Map<String, String> secretEnv = Map.of();

  @Option(names = {"-i", "--interactive"}, description = "Forward stdin even when it is a terminal.")
  boolean interactive;

  @Option(names = "--no-stdin", description = "Never forward stdin: the command reads end-of-file at once.")
  boolean noStdin;

  @Option(names = "--ipc", description = "Give the command the typed IPC channel (fd 3) its agent SDK uses: progress, "
      + "artifacts, workspace files, scratch state. Progress and artifacts are shown on stderr (with --json: as events).")
  boolean ipc;

  @Option(names = "--detach", description = "Start the command in the background, print its exec id and exit 0 "
      + "(with --json: {\"execId\", \"sessionId\"}). The session stays open; stdin is not forwarded.")
  boolean detach;

  @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments (use -- before them).")
  List<String> command;

  @Override
  public Integer call() throws Exception {
    if (interactive && (noStdin || detach)) {
      throw new ParameterException(spec.commandLine(), "-i/--interactive cannot be combined with --no-stdin or --detach");
    }
    if (sessionId != null && limits.any()) {
      throw new ParameterException(spec.commandLine(),
          "--memory, --processes, --cpu, --tmpfs, --allow, --deny and --header-secret set up a new session: not with --session");
    }
    return super.call();
  }

  @Override
  int run(Client client) throws Exception {
    Output out = client.out();
    boolean forward = !detach && !noStdin && (interactive || stdinIsRedirected());
    boolean ownSession = sessionId == null;
    String session = ownSession
        ? client.sessions().createSession(limits.applyTo(CreateSessionRequest.newBuilder()).build()).getSessionId()
        : sessionId;
    Interrupt interrupt = new Interrupt(client, session, ownSession && !keepSession);
    boolean leaveOpen = keepSession;
    try {
      ExecRequest.Builder request = ExecRequest.newBuilder().setSessionId(session).addAllArgv(command).setCwd(cwd)
          .putAllEnv(env).setKeepStdinOpen(forward).setIpc(ipc);
      secretEnv.forEach((var, secret) ->
          request.addSecretEnv(dev.paddock.ipc.v1.SecretEnv.newBuilder().setEnv(var).setSecret(secret)));
      if (timeLimit != null) {
        request.setTimeLimit(Durations.toProto(timeLimit));
      }
      if (detach) {
        ExecStarted started = client.execs().startExec(request.build());
        leaveOpen = true;
        if (out.json()) {
          out.json(Output.object().put("execId", started.getExecId()).put("sessionId", session));
        } else {
          out.line(started.getExecId());
        }
        return 0;
      }
      if (!forward) {
        return follow(client.execStreams().exec(request.build()), out);
      }
      ExecStarted started = client.execs().startExec(request.build());
      interrupt.armed(started.getExecId());
      InputStream stdin = System.in;
      Thread pump = new Thread(() -> pumpStdin(client, session, started.getExecId(), stdin), "paddock-stdin");
      pump.setDaemon(true); // a read of a terminal cannot be interrupted; the JVM must not wait for it
      pump.start();
      return follow(client.execStreams().attachExec(AttachExecRequest.newBuilder()
          .setSessionId(session).setExecId(started.getExecId()).build()), out);
    } finally {
      interrupt.disarm();
      if (ownSession && !leaveOpen) {
        closeSession(client, session);
      } else if (ownSession) {
        out.note("session " + session + " kept open");
      }
    }
  }

  /**
   * Copies {@code in} to the exec's stdin in chunks of at most {@value #STDIN_CHUNK_BYTES} bytes,
   * closing it at end of file. Stops quietly once the exec has ended or closed its stdin.
   */
  static void pumpStdin(Client client, String session, String execId, InputStream in) {
    WriteStdinRequest.Builder write = WriteStdinRequest.newBuilder().setSessionId(session).setExecId(execId);
    byte[] buffer = new byte[STDIN_CHUNK_BYTES];
    try {
      while (true) {
        int n;
        try {
          n = in.read(buffer);
        } catch (IOException e) {
          client.out().note("cannot read stdin (" + Client.describe(e) + "): closing the command's stdin");
          n = -1;
        }
        if (n < 0) {
          client.execStreams().writeStdin(write.setData(ByteString.EMPTY).setClose(true).build());
          return;
        }
        if (n > 0) {
          client.execStreams().writeStdin(write.setData(ByteString.copyFrom(buffer, 0, n)).build());
        }
      }
    } catch (dev.paddock.client.PaddockException e) {
      CallError error = CallError.of(e);
      if (!error.reason().equals(ErrorReason.EXEC_FINISHED.name()) && !error.reason().equals(ErrorReason.STDIN_CLOSED.name())) {
        // The output stream still decides the exit code; this only explains missing input.
        client.out().stderr().println(error.human("stdin: "));
      }
    }
  }

  /**
   * Prints an exec's events (output bytes to stdout / stderr, or every event as a JSON line) and
   * returns the exit code its result maps to; 120 if the stream ends without a result.
   */
  static int follow(Iterator<ExecEvent> events, Output out) throws IOException {
    ExecResult result = null;
    String execId = "EXEC";
    while (events.hasNext()) {
      ExecEvent event = events.next();
      if (event.hasStarted()) {
        execId = event.getStarted().getExecId();
      }
      if (out.json()) {
        out.json(event);
      } else if (event.hasOutput()) {
        PrintStream target = event.getOutput().getStream() == OutputStream.OUTPUT_STREAM_STDERR ? out.stderr() : out.stdout();
        event.getOutput().getData().writeTo(target);
        target.flush();
      } else if (event.hasProgress()) {
        var p = event.getProgress();
        out.note("progress" + (p.hasFraction() ? String.format(java.util.Locale.ROOT, " %.0f%%", p.getFraction() * 100) : "")
            + (p.getMessage().isEmpty() ? "" : ": " + p.getMessage()));
      } else if (event.hasArtifact()) {
        var a = event.getArtifact();
        out.note("artifact " + a.getName() + " (" + a.getSizeBytes() + " bytes, " + a.getContentType() + ", sha256 "
            + a.getSha256() + "); download with: paddock artifact --session SESSION " + execId + " " + a.getName());
      } else if (event.hasEgressDenied()) {
        var d = event.getEgressDenied();
        out.note("egress denied (" + d.getReason().name().replace("EGRESS_DENY_REASON_", "") + "): " + d.getDetail());
      }
      if (event.hasResult()) {
        result = event.getResult();
      }
    }
    if (result == null) {
      return out.fail("the host ended the exec's stream without a result");
    }
    return exitCode(result, out);
  }

  /** Maps the typed outcome to this command's exit code, explaining non-OK outcomes on stderr (not in JSON mode). */
  static int exitCode(ExecResult r, Output out) {
    String status = Output.shortName(r.getStatus(), "EXEC_STATUS_");
    int code = switch (r.getStatus()) {
      case EXEC_STATUS_OK -> r.getExitCode();
      case EXEC_STATUS_TIMEOUT -> EXIT_TIMEOUT;
      case EXEC_STATUS_OOM -> EXIT_OOM;
      case EXEC_STATUS_VIOLATION -> EXIT_VIOLATION;
      case EXEC_STATUS_PIDS_EXHAUSTED -> EXIT_PIDS;
      case EXEC_STATUS_SETUP_ERROR -> EXIT_SETUP_ERROR;
      case EXEC_STATUS_IPC_VIOLATION -> EXIT_IPC_VIOLATION;
      case EXEC_STATUS_SIGNALED, EXEC_STATUS_KILLED -> 128 + (r.getSignal() > 0 ? r.getSignal() : 9);
      default -> EXIT_HOST_ERROR;
    };
    if (r.getStatus() != dev.paddock.ipc.v1.ExecStatus.EXEC_STATUS_OK && !out.json()) {
      out.note(status + ": " + r.getReason());
    }
    return code;
  }

  /**
   * True when fd 0 is a pipe or a file, so there is input to forward: not a terminal, and not
   * /dev/null (which gives end-of-file at once, as not forwarding does). Read from
   * /proc/self/fd/0; where that cannot be read, false (use -i to forward).
   */
  static boolean stdinIsRedirected() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
      return !(target.equals("/dev/null") || target.startsWith("/dev/pts/") || target.startsWith("/dev/tty")
          || target.equals("/dev/console"));
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return false;
    }
  }

  private static void closeSession(Client client, String session) {
    try {
      client.sessions().withDeadline(Duration.ofSeconds(10))
          .closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    } catch (dev.paddock.client.PaddockException e) {
      client.out().stderr().println(CallError.of(e).human("could not close session " + session + ": "));
    }
  }

  /**
   * What Ctrl-C (or SIGTERM) does while the command runs, as a JVM shutdown hook: sends SIGINT to a
   * forwarded exec ({@link #armed}), then closes the session if this command created it and would
   * close it anyway. Without stdin forwarding the JVM's exit cancels the Exec call, which kills the
   * exec by itself. The JVM then exits with 130 (128 + SIGINT).
   */
  private static final class Interrupt {
    private final Client client;
    private final String session;
    private final boolean closeSession;
    private final Thread hook = new Thread(this::interrupted, "paddock-interrupt");
    private volatile String execId;

    Interrupt(Client client, String session, boolean closeSession) {
      this.client = client;
      this.session = session;
      this.closeSession = closeSession;
      Runtime.getRuntime().addShutdownHook(hook);
    }

    void armed(String execId) {
      this.execId = execId;
    }

    void disarm() {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }

    private void interrupted() {
      try {
        if (execId != null) {
          client.execStreams().withDeadline(Duration.ofSeconds(3)).signalExec(SignalExecRequest.newBuilder()
              .setSessionId(session).setExecId(execId).setSignal(Signal.SIGNAL_INT).build());
        }
      } catch (dev.paddock.client.PaddockException ignored) {
        // the exec may have ended; the session close below kills it otherwise
      }
      if (closeSession) {
        try {
          client.sessions().withDeadline(Duration.ofSeconds(5))
              .closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
        } catch (dev.paddock.client.PaddockException ignored) {
          // best effort while exiting: the idle timeout reaps it otherwise
        }
      }
    }
  }
}
