package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.paddock.client.CancelledException;
import dev.paddock.client.Command;
import dev.paddock.client.DeadlineExceededException;
import dev.paddock.client.ExecListener;
import dev.paddock.client.ExecOutcome;
import dev.paddock.client.FailedPreconditionException;
import dev.paddock.client.InvalidArgumentException;
import dev.paddock.client.NotFoundException;
import dev.paddock.client.Paddock;
import dev.paddock.client.PermissionDeniedException;
import dev.paddock.client.RunningExec;
import dev.paddock.client.Session;
import dev.paddock.client.SessionBrowser;
import dev.paddock.client.Stream;
import dev.paddock.client.UnauthenticatedException;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.Signal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java client library (module client) against a real host over TCP. */
class ClientEndToEndTest extends SharedHostTest {
  private Paddock paddock(String key) {
    return Paddock.builder().target("127.0.0.1:" + host.port()).apiKey(key).build();
  }

  @Test
  void aSessionRunsCommandsAndClosesWithTheBlock() throws Exception {
    String id;
    try (Paddock paddock = paddock(host.alphaKey); Session session = paddock.createSession()) {
      id = session.id();
      assertThat(id).matches("ses_[0-9a-f]{32}");
      ExecOutcome ok = session.exec("sh", "-c", "echo out; echo err >&2");
      assertThat(ok.ok()).isTrue();
      assertThat(ok.stdoutText()).isEqualTo("out\n");
      assertThat(ok.stderrText()).isEqualTo("err\n");
      assertThat(ok.execId()).startsWith("exe_");

      // A failing command is an outcome, not an exception.
      ExecOutcome failed = session.exec(Command.of("sh", "-c", "exit 3"));
      assertThat(failed.ok()).isFalse();
      assertThat(failed.exitCode()).isEqualTo(3);
      ExecOutcome timedOut = session.exec(Command.of("sleep", "30").timeLimit(Duration.ofMillis(300)));
      assertThat(timedOut.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_TIMEOUT);
      assertThat(timedOut.exitCode()).isEqualTo(-1);

      // Env, cwd and stdin travel; output arrives through the listener as it happens, in order.
      List<String> heard = new ArrayList<>();
      ExecOutcome piped = session.exec(Command.of("sh", "-c", "mkdir -p d && cd d && cat && echo \" $GREETING\"")
          .env("GREETING", "hi").stdin("from stdin".getBytes(StandardCharsets.UTF_8)), new ExecListener() {
            @Override
            public void started(String execId) {
              heard.add("started");
            }

            @Override
            public void stdout(byte[] data) {
              heard.add(new String(data, StandardCharsets.UTF_8));
            }

            @Override
            public void result(dev.paddock.ipc.v1.ExecResult result) {
              heard.add("result " + result.getExitCode());
            }
          });
      assertThat(piped.stdoutText()).isEqualTo("from stdin hi\n");
      assertThat(heard.get(0)).isEqualTo("started");
      assertThat(heard.get(heard.size() - 1)).isEqualTo("result 0");
      assertThat(String.join("", heard.subList(1, heard.size() - 1))).isEqualTo("from stdin hi\n");

      // The events as a blocking iterator.
      try (Stream<ExecEvent> events = session.execEvents(Command.of("echo", "streamed"))) {
        List<ExecEvent.EventCase> kinds = new ArrayList<>();
        for (ExecEvent e : events) {
          kinds.add(e.getEventCase());
        }
        assertThat(kinds).startsWith(ExecEvent.EventCase.STARTED).endsWith(ExecEvent.EventCase.RESULT)
            .contains(ExecEvent.EventCase.OUTPUT);
      }
    }
    // Closed with the try block: the host says so.
    try (Paddock paddock = paddock(host.alphaKey)) {
      assertThat(paddock.session(id).info().getState()).isEqualTo(dev.paddock.ipc.v1.SessionState.SESSION_STATE_CLOSED);
    }
  }

  @Test
  void aBackgroundCommandTakesStdinAndSignals() throws Exception {
    try (Paddock paddock = paddock(host.alphaKey); Session session = paddock.createSession()) {
      RunningExec cat = session.start(Command.of("cat"));
      cat.writeStdin("line one\n".getBytes(StandardCharsets.UTF_8));
      cat.closeStdin();
      ExecOutcome done = cat.await();
      assertThat(done.stdoutText()).isEqualTo("line one\n");
      assertThat(done.ok()).isTrue();

      RunningExec sleeper = session.start(Command.of("sleep", "60"));
      assertThat(sleeper.info().getArgvList()).containsExactly("sleep", "60");
      assertThat(sleeper.signal(Signal.SIGNAL_TERM)).isTrue();
      assertThat(sleeper.await().result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_SIGNALED);
    }
  }

  @Test
  void filesGoInAndComeOut(@TempDir Path temp) throws Exception {
    try (Paddock paddock = paddock(host.alphaKey); Session session = paddock.createSession()) {
      var files = session.files();
      files.write("data/in.csv", "a,b\n1,2\n".getBytes(StandardCharsets.UTF_8));
      byte[] big = new byte[1 << 20];
      new java.util.Random(7).nextBytes(big);
      Path local = temp.resolve("big.bin");
      Files.write(local, big);
      assertThat(files.upload(local, "data/big.bin").getSizeBytes()).isEqualTo(big.length);
      assertThat(session.exec("sh", "-c", "wc -l < data/in.csv").stdoutText().trim()).isEqualTo("2");
      assertThat(files.read("data/big.bin")).isEqualTo(big);
      Path back = temp.resolve("back.csv");
      files.download("data/in.csv", back);
      assertThat(Files.readString(back)).isEqualTo("a,b\n1,2\n");
      assertThat(files.list("data")).extracting(f -> f.getPath()).containsExactlyInAnyOrder("data/big.bin", "data/in.csv");
      files.remove("data/big.bin", false);
      assertThat(files.stat("data/big.bin")).isEmpty();
      assertThat(files.stat("data/in.csv")).isPresent();
      NotFoundException missing = catchThrowableOfType(NotFoundException.class, () -> files.read("nope.txt"));
      assertThat(missing.reason()).isEqualTo("FILE_NOT_FOUND");
      InvalidArgumentException outside = catchThrowableOfType(InvalidArgumentException.class,
          () -> files.write("../../etc/x", new byte[1]));
      assertThat(outside.requestId()).startsWith("req_");
    }
  }

  @Test
  void everyFailureIsATypedExceptionWithTheHostsReasonAndRequestId() throws Exception {
    try (Paddock paddock = paddock(host.alphaKey)) {
      NotFoundException notFound = catchThrowableOfType(NotFoundException.class, () -> paddock.session("ses_nope"));
      assertThat(notFound.reason()).isEqualTo("SESSION_NOT_FOUND");
      assertThat(notFound.requestId()).matches("req_[0-9a-f]{32}");
      assertThat(notFound.metadata()).containsEntry("sessionId", "ses_nope");

      // Another tenant's session is not found either.
      try (Session session = paddock.createSession(); Paddock beta = paddock(host.betaKey)) {
        assertThat(catchThrowableOfType(NotFoundException.class, () -> beta.session(session.id())).reason())
            .isEqualTo("SESSION_NOT_FOUND");
      }
      Session closed = paddock.createSession();
      closed.close();
      FailedPreconditionException gone = catchThrowableOfType(FailedPreconditionException.class,
          () -> closed.exec("true"));
      assertThat(gone.reason()).isEqualTo("SESSION_CLOSED");
      closed.close(); // closing twice is fine

      // A browser action the tenant's policy forbids.
      try (Session session = paddock.createSession(); SessionBrowser browser = session.openBrowser()) {
        PermissionDeniedException script = catchThrowableOfType(PermissionDeniedException.class,
            () -> browser.evaluate("1"));
        assertThat(script.reason()).isEqualTo("PERMISSION_DENIED_POLICY");
        assertThat(browser.navigate("about:blank").getUrl()).isEmpty();
      } catch (InvalidArgumentException refusedUrl) {
        assertThat(refusedUrl.metadata()).isNotNull(); // about:blank is not an http URL: refused as such
      }
    }
    try (Paddock wrongKey = paddock("pdk_0000000000000000_nope")) {
      UnauthenticatedException unknown = catchThrowableOfType(UnauthenticatedException.class, wrongKey::createSession);
      assertThat(unknown.code()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
    }
    // Every call is there on the API's own messages too, with the same typed errors; one attempt is no retry policy.
    try (Paddock plain = Paddock.builder().target("127.0.0.1:" + host.port()).apiKey(host.alphaKey)
        .retries(1, Duration.ofMillis(100), Duration.ofSeconds(1)).build()) {
      var created = plain.calls().sessions().createSession(dev.paddock.ipc.v1.CreateSessionRequest.newBuilder()
          .putLabels("via", "calls").build());
      assertThat(plain.calls().sessions().listSessions(dev.paddock.ipc.v1.ListSessionsRequest.newBuilder()
          .putLabelSelector("via", "calls").build()).getSessionsList()).extracting(s -> s.getSessionId())
          .containsExactly(created.getSessionId());
      plain.calls().sessions().closeSession(dev.paddock.ipc.v1.CloseSessionRequest.newBuilder()
          .setSessionId(created.getSessionId()).build());
      assertThat(catchThrowableOfType(NotFoundException.class, () -> plain.calls().execs().getExec(
          dev.paddock.ipc.v1.GetExecRequest.newBuilder().setSessionId(created.getSessionId()).setExecId("exe_nope").build()))
          .reason()).isEqualTo("EXEC_NOT_FOUND");
    }
    assertThatThrownBy(() -> Paddock.builder().target("127.0.0.1:" + host.port()).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("API key");
  }

  @Test
  void deadlinesAndCancellationEndCallsWithTheirOwnExceptions() throws Exception {
    try (Paddock paddock = Paddock.builder().target("127.0.0.1:" + host.port()).apiKey(host.alphaKey)
        .deadline(Duration.ofMillis(500)).build(); Session session = paddock.createSession()) {
      // stdin the process never reads: the write waits past its deadline.
      RunningExec sleeper = session.start(Command.of("sleep", "60"));
      byte[] lots = new byte[8 << 20];
      DeadlineExceededException late = catchThrowableOfType(DeadlineExceededException.class, () -> {
        for (int i = 0; i < 64; i++) {
          sleeper.writeStdin(lots);
        }
      });
      assertThat(late.reason()).isEqualTo("DEADLINE_EXCEEDED");

      // Closing a stream cancels its call: a follow of the audit log ends at once.
      Stream<dev.paddock.ipc.v1.AuditRecord> audit = paddock.auditRecords(0, true);
      assertThat(audit.hasNext()).isTrue();
      audit.close();
      assertThatThrownBy(() -> {
        while (audit.hasNext()) {
          audit.next();
        }
      }).isInstanceOf(CancelledException.class);
    }
  }
}
