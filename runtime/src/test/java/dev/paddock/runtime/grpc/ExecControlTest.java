package dev.paddock.runtime.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.Signal;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.ipc.v1.WriteStdinRequest;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.testing.FakeJailProcess;
import dev.paddock.runtime.testing.Script;
import dev.paddock.sandbox.SandboxResult;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AttachExec replay, WriteStdin and SignalExec against fake programs. */
class ExecControlTest {
  /** The replay buffer of these tests, bytes per stream. */
  private static final int REPLAY = 1024;

  @TempDir Path temp;
  InProcessHost host;

  @AfterEach
  void stop() throws Exception {
    host.close();
  }

  @BeforeEach
  void start() throws Exception {
    host = new InProcessHost(temp, InProcessHost.settings(SessionSettings.defaults().clientStallTimeout(), REPLAY));
    host.launcher.program("forever", Script.forever());
    host.launcher.program("digits", io -> {
      io.out("0123456789".getBytes(StandardCharsets.UTF_8));
      io.err("abcdef".getBytes(StandardCharsets.UTF_8));
      return io.exit(3);
    });
  }

  private String startExec(String session, boolean keepStdinOpen, String... argv) {
    return host.execs(host.alphaKey).startExec(ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of(argv)).setKeepStdinOpen(keepStdinOpen).build()).getExecId();
  }

  private InProcessHost.Outcome attach(String session, String execId, long outAt, long errAt) {
    return InProcessHost.collect(host.execs(host.alphaKey).attachExec(AttachExecRequest.newBuilder()
        .setSessionId(session).setExecId(execId).setStdoutOffset(outAt).setStderrOffset(errAt).build()));
  }

  @Test
  void attachReplaysAFinishedExecFromTheGivenOffsets() throws Exception {
    String session = host.newSession(host.alphaKey);
    String execId = host.exec(host.alphaKey, session, "digits").execId();

    InProcessHost.Outcome whole = attach(session, execId, 0, 0);
    assertThat(whole.out()).isEqualTo("0123456789");
    assertThat(whole.err()).isEqualTo("abcdef");
    assertThat(whole.result().getExitCode()).isEqualTo(3);

    InProcessHost.Outcome tail = attach(session, execId, 7, 4);
    assertThat(tail.out()).isEqualTo("789");
    assertThat(tail.firstStdoutOffset()).isEqualTo(7);
    assertThat(tail.err()).isEqualTo("ef");
    assertThat(tail.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(tail.result().getUsage().getStdoutBytes()).isEqualTo(10);

    InProcessHost.Outcome past = attach(session, execId, 10, 6);
    assertThat(past.stdout()).isEmpty();
    assertThat(past.result().getExitCode()).isEqualTo(3);
  }

  @Test
  void anOffsetOlderThanTheReplayBufferResumesAtTheOldestKeptByteAndTheGapShows() throws Exception {
    byte[] data = new byte[4 * REPLAY];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) ('a' + i % 26);
    }
    host.launcher.program("big", io -> {
      io.out(data);
      return io.exit(0);
    });
    String session = host.newSession(host.alphaKey);
    String execId = host.exec(host.alphaKey, session, "big").execId();

    InProcessHost.Outcome o = attach(session, execId, 0, 0);
    assertThat(o.firstStdoutOffset()).as("the gap: bytes 0..3071 are gone").isEqualTo(3 * REPLAY);
    assertThat(o.stdout()).isEqualTo(Arrays.copyOfRange(data, 3 * REPLAY, data.length));
    assertThat(o.result().getUsage().getStdoutBytes()).isEqualTo(data.length);

    InProcessHost.Outcome mid = attach(session, execId, 3 * REPLAY + 100, 0);
    assertThat(mid.firstStdoutOffset()).isEqualTo(3 * REPLAY + 100);
    assertThat(mid.stdout()).hasSize(REPLAY - 100);
  }

  @Test
  void writeStdinFeedsARunningProgramWhoseOutputAnAttachedReaderFollows() throws Exception {
    String session = host.newSession(host.alphaKey);
    String execId = startExec(session, true, "cat");
    Iterator<ExecEvent> attached = host.execs(host.alphaKey).attachExec(AttachExecRequest.newBuilder()
        .setSessionId(session).setExecId(execId).build());

    long total = write(session, execId, "hello ", false);
    assertThat(total).isEqualTo(6);
    total = write(session, execId, "world", true);
    assertThat(total).isEqualTo(11);

    InProcessHost.Outcome o = InProcessHost.collect(attached);
    assertThat(o.out()).isEqualTo("hello world");
    assertThat(o.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
  }

  @Test
  void writeStdinAfterStdinClosedOrTheExecEndedIsAFailedPrecondition() throws Exception {
    String session = host.newSession(host.alphaKey);

    // stdin was not kept open
    String notKept = startExec(session, false, "forever");
    expectStdinError(session, notKept, "STDIN_CLOSED");

    // closed by an earlier WriteStdin
    String kept = startExec(session, true, "forever");
    write(session, kept, "", true);
    expectStdinError(session, kept, "STDIN_CLOSED");

    // the program closed its own stdin
    CompletableFuture<Void> closedItsStdin = new CompletableFuture<>();
    host.launcher.program("deaf", io -> {
      io.closeStdin();
      closedItsStdin.complete(null);
      return Script.forever().run(io);
    });
    String deaf = startExec(session, true, "deaf");
    closedItsStdin.get(5, TimeUnit.SECONDS);
    InProcessHost.Failure f = expectStdinError(session, deaf, "STDIN_CLOSED");
    assertThat(f.message()).isEqualTo("the program closed its stdin");
    expectStdinError(session, deaf, "STDIN_CLOSED");

    // the exec has ended
    String ended = startExec(session, true, "true");
    host.awaitFinished(host.alphaKey, session, ended);
    expectStdinError(session, ended, "EXEC_FINISHED");
  }

  @Test
  void signalExecEndsARunningExecAndIsNotDeliveredToAFinishedOne() throws Exception {
    String session = host.newSession(host.alphaKey);
    String execId = startExec(session, false, "forever");
    FakeJailProcess process = host.awaitProcess(session);

    assertThat(signal(session, execId, Signal.SIGNAL_TERM)).isTrue();
    SandboxResult result = process.awaitResult();
    assertThat(result.status()).isEqualTo(SandboxResult.Status.SIGNALED);
    assertThat(process.signals()).containsExactly(dev.paddock.sandbox.linux.Signal.SIGTERM); // the host's enum
    ExecInfo info = host.awaitFinished(host.alphaKey, session, execId);
    assertThat(info.getResult().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_SIGNALED);
    assertThat(info.getResult().getSignal()).isEqualTo(15);

    assertThat(signal(session, execId, Signal.SIGNAL_KILL)).as("already ended").isFalse();
    assertThat(process.signals()).hasSize(1);

    InProcessHost.Failure none = InProcessHost.fail(() -> signal(session, execId, Signal.SIGNAL_UNSPECIFIED));
    assertThat(none.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void endingsTheFakeReportsReachTheClientAsTheirStatus() throws Exception {
    host.launcher.program("oom", FakeJailProcess.Io::oom);
    host.launcher.program("seccomp", io -> io.violation("ptrace"));
    String session = host.newSession(host.alphaKey);
    assertThat(host.exec(host.alphaKey, session, "oom").result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OOM);
    InProcessHost.Outcome v = host.exec(host.alphaKey, session, "seccomp");
    assertThat(v.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_VIOLATION);
    assertThat(v.result().getViolationSyscall()).isEqualTo("ptrace");
    InProcessHost.Outcome missing = host.exec(host.alphaKey, session, "no-such-program");
    assertThat(missing.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_SETUP_ERROR);
    assertThat(missing.result().getReason()).isEqualTo("the program was not found");
    InProcessHost.Outcome timeout = InProcessHost.collect(host.execs(host.alphaKey).exec(ExecRequest.newBuilder()
        .setSessionId(session).addArgv("forever").setTimeLimit(com.google.protobuf.Duration.newBuilder().setNanos(100_000_000))
        .build()));
    assertThat(timeout.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_TIMEOUT);
  }

  private long write(String session, String execId, String data, boolean close) {
    return host.execs(host.alphaKey).writeStdin(WriteStdinRequest.newBuilder().setSessionId(session).setExecId(execId)
        .setData(ByteString.copyFromUtf8(data)).setClose(close).build()).getStdinBytes();
  }

  private boolean signal(String session, String execId, Signal signal) {
    return host.execs(host.alphaKey).signalExec(SignalExecRequest.newBuilder().setSessionId(session).setExecId(execId)
        .setSignal(signal).build()).getDelivered();
  }

  private InProcessHost.Failure expectStdinError(String session, String execId, String reason) {
    InProcessHost.Failure f = InProcessHost.fail(() -> write(session, execId, "x", false));
    assertThat(f.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(f.info().getReason()).isEqualTo(reason);
    assertThat(f.info().getMetadataMap()).containsEntry("execId", execId);
    return f;
  }
}
