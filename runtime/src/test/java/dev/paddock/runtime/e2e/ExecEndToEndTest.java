package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.SessionState;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Create, exec, stream, close: over a real TCP port, in real jails. */
class ExecEndToEndTest extends SharedHostTest {
  @Test
  void echoStreamsExactBytesAndExitCodeThenCloseRemovesTheWorkspace() throws Exception {
    String session = host.newSession(host.alphaKey);
    // The session's jail (and with it the workspace tmpfs) lives in the session's cgroup.
    Path cgroup = Path.of("/sys/fs/cgroup/pids").resolve(
        dev.paddock.sandbox.cgroup.CgroupLayout.forDataDir(host.dataDir).session("alpha", session));
    assertThat(Files.readString(cgroup.resolve("cgroup.procs"))).isNotBlank();

    TestHost.Outcome run = host.exec(host.alphaKey, session, "echo", "hello", "paddock");

    assertThat(run.events().get(0).hasStarted()).isTrue();
    assertThat(run.execId()).matches("exe_[0-9a-f]{32}");
    assertThat(run.events().get(run.events().size() - 1).hasResult()).isTrue();
    assertThat(run.out()).isEqualTo("hello paddock\n");
    assertThat(run.stderr()).isEmpty();
    assertThat(run.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(run.result().getExitCode()).isZero();
    assertThat(run.result().getUsage().getStdoutBytes()).isEqualTo(14);

    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    TestHost.awaitGone(cgroup);
    assertThat(cgroup).doesNotExist();
    assertThat(host.sessions(host.alphaKey).getSession(GetSessionRequest.newBuilder().setSessionId(session).build())
        .getState()).isEqualTo(SessionState.SESSION_STATE_CLOSED);
    // closing again is harmless
    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
  }

  @Test
  void stdoutAndStderrStayApartAndInOrderWithTheExitCode() {
    String session = host.newSession(host.alphaKey);
    TestHost.Outcome run = host.exec(host.alphaKey, session, "sh", "-c",
        "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; exit 3");
    assertThat(run.out()).isEqualTo("out1\nout2\nout3\nout4\nout5\n");
    assertThat(run.err()).isEqualTo("err1\nerr2\nerr3\nerr4\nerr5\n");
    assertThat(run.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(run.result().getExitCode()).isEqualTo(3);
  }

  @Test
  void tenMegabytesOfOutputArriveIntact() {
    String session = host.newSession(host.alphaKey);
    int size = 10 * 1024 * 1024;
    TestHost.Outcome run = host.exec(host.alphaKey, session, "python3", "-c",
        "import sys\nsys.stdout.buffer.write(bytes((i * 7 + i // 256) % 256 for i in range(" + size + ")))");
    assertThat(run.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(run.stdout()).hasSize(size);
    byte[] expected = new byte[size];
    for (int i = 0; i < size; i++) {
      expected[i] = (byte) ((i * 7 + i / 256) % 256);
    }
    assertThat(Arrays.equals(run.stdout(), expected)).as("10 MiB stream identical").isTrue();
    assertThat(run.result().getUsage().getStdoutBytes()).isEqualTo(size);
    assertThat(run.result().getOutputTruncated()).isFalse();
  }

  @Test
  void outputStreamsWhileTheProgramRuns() {
    String session = host.newSession(host.alphaKey);
    Iterator<ExecEvent> events = host.execs(host.alphaKey).exec(ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("sh", "-c", "echo first; sleep 2; echo second")).build());
    long firstChunkAt = 0;
    long resultAt = 0;
    while (events.hasNext()) {
      ExecEvent e = events.next();
      if (e.hasOutput() && firstChunkAt == 0) {
        firstChunkAt = System.nanoTime();
      }
      if (e.hasResult()) {
        resultAt = System.nanoTime();
      }
    }
    assertThat((resultAt - firstChunkAt) / 1_000_000).as("ms between first output and the end").isGreaterThan(1500);
  }

  @Test
  void filesPersistAcrossExecsOfOneSessionButNotIntoAnother() {
    String session = host.newSession(host.alphaKey);
    host.exec(host.alphaKey, session, "sh", "-c", "echo kept > note.txt; echo tmp > /tmp/t");
    TestHost.Outcome again = host.exec(host.alphaKey, session, "sh", "-c", "cat note.txt; cat /tmp/t");
    assertThat(again.out()).isEqualTo("kept\ntmp\n");
    String other = host.newSession(host.alphaKey);
    assertThat(host.exec(host.alphaKey, other, "sh", "-c", "ls -A; ls -A /tmp").out()).isEmpty();
  }

  @Test
  void stdinIsDeliveredAndEnvIsSet() {
    String session = host.newSession(host.alphaKey);
    TestHost.Outcome run = host.exec(host.alphaKey, ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("sh", "-c", "read line; echo \"$GREETING $line\""))
        .putEnv("GREETING", "hi")
        .setStdin(com.google.protobuf.ByteString.copyFromUtf8("there\n")).build());
    assertThat(run.out()).isEqualTo("hi there\n");
  }

  @Test
  void cancellingTheCallKillsTheExec() throws Exception {
    String session = host.newSession(host.alphaKey);
    String marker = "3" + System.nanoTime() % 1_000_000_000L;
    io.grpc.Context.CancellableContext ctx = io.grpc.Context.current().withCancellation();
    ctx.run(() -> {
      Iterator<ExecEvent> events = ExecServiceGrpc.newBlockingStub(host.channel(host.alphaKey, null))
          .exec(ExecRequest.newBuilder().setSessionId(session).addAllArgv(List.of("sleep", marker)).build());
      events.next(); // started
    });
    Thread.sleep(300);
    ctx.cancel(null);
    long deadline = System.currentTimeMillis() + 5000;
    while (System.currentTimeMillis() < deadline && processesWith(marker) > 0) {
      Thread.sleep(50);
    }
    assertThat(processesWith(marker)).isZero();
  }

  @Test
  void closingASessionKillsItsRunningExecWithTheReason() throws Exception {
    String session = host.newSession(host.alphaKey);
    java.util.concurrent.CompletableFuture<TestHost.Outcome> running = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> host.exec(host.alphaKey, session, "sh", "-c", "echo up; sleep 60"));
    Thread.sleep(700);
    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    TestHost.Outcome outcome = running.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(outcome.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_KILLED);
    assertThat(outcome.result().getReason()).contains("session closed").contains("CLIENT");
    assertThat(outcome.result().getExitCode()).isZero();
    TestHost.awaitGone(host.dataDir.resolve("workspaces").resolve(session));
    assertThat(host.dataDir.resolve("workspaces").resolve(session)).doesNotExist();
  }

  @Test
  void healthCheckAndReflectionWorkWithoutAKey() {
    HealthCheckResponse health = HealthGrpc.newBlockingStub(host.channel(null, null))
        .check(HealthCheckRequest.getDefaultInstance());
    assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    io.grpc.reflection.v1.ServerReflectionGrpc.ServerReflectionStub reflection =
        io.grpc.reflection.v1.ServerReflectionGrpc.newStub(host.channel(null, null));
    java.util.concurrent.CompletableFuture<List<String>> services = new java.util.concurrent.CompletableFuture<>();
    io.grpc.stub.StreamObserver<io.grpc.reflection.v1.ServerReflectionRequest> requests =
        reflection.serverReflectionInfo(new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(io.grpc.reflection.v1.ServerReflectionResponse r) {
            services.complete(r.getListServicesResponse().getServiceList().stream()
                .map(io.grpc.reflection.v1.ServiceResponse::getName).toList());
          }

          @Override
          public void onError(Throwable t) {
            services.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    assertThat(services.join()).contains("paddock.v1.SessionService", "paddock.v1.ExecService", "paddock.v1.FileService",
        "paddock.v1.BrowserService", "paddock.v1.AuditService", "grpc.health.v1.Health");
  }

  @Test
  void unimplementedCallsSayUnimplementedWithARequestId() throws Exception {
    String session = host.newSession(host.alphaKey);
    try {
      host.sessions(host.alphaKey).updateSessionLabels(
          dev.paddock.ipc.v1.UpdateSessionLabelsRequest.newBuilder().setSessionId(session).build());
      throw new AssertionError("expected UNIMPLEMENTED");
    } catch (StatusRuntimeException e) {
      TestHost.Failure f = TestHost.failure(e);
      assertThat(f.code()).isEqualTo(io.grpc.Status.Code.UNIMPLEMENTED);
      assertThat(f.request().getRequestId()).startsWith("req_");
      assertThat(f.info().getMetadataMap()).containsEntry("method", "UpdateSessionLabels");
    }
  }

  static long processesWith(String marker) throws Exception {
    long count = 0;
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        if (!p.getFileName().toString().chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          if (new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ').contains(marker)) {
            count++;
          }
        } catch (java.io.IOException gone) {
          // exited meanwhile
        }
      }
    }
    return count;
  }
}
