package dev.paddock.runtime.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.ListExecsRequest;
import dev.paddock.ipc.v1.Session;
import dev.paddock.ipc.v1.SessionCloseReason;
import dev.paddock.ipc.v1.SessionState;
import dev.paddock.runtime.testing.FakeJail;
import dev.paddock.runtime.testing.Script;
import dev.paddock.sandbox.SandboxResult;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A session's jail failing by itself, or refusing one exec, as the client sees it. */
class JailFailureTest {
  @TempDir Path temp;
  InProcessHost host;

  @BeforeEach
  void start() throws Exception {
    host = new InProcessHost(temp);
    host.launcher.program("forever", Script.forever());
  }

  @AfterEach
  void stop() throws Exception {
    host.close();
  }

  @Test
  void aFailingJailClosesItsSessionAsSandboxFailedAndItsExecsEndAsInternalError() throws Exception {
    String session = host.newSession(host.alphaKey);
    String other = host.newSession(host.alphaKey);
    CompletableFuture<InProcessHost.Outcome> primary =
        CompletableFuture.supplyAsync(() -> host.exec(host.alphaKey, session, "forever"));
    host.awaitProcess(session).started().get(5, TimeUnit.SECONDS);
    String execId = host.execs(host.alphaKey).listExecs(ListExecsRequest.newBuilder()
        .setSessionId(session).build()).getExecs(0).getExecId();
    Iterator<ExecEvent> attached = host.execs(host.alphaKey).attachExec(AttachExecRequest.newBuilder()
        .setSessionId(session).setExecId(execId).build());

    FakeJail jail = host.launcher.jail(session);
    jail.fail("protocol violation: an unsolicited Census");

    SandboxResult result = jail.lastProcess().awaitResult();
    assertThat(result.status()).isEqualTo(SandboxResult.Status.INTERNAL_ERROR);
    for (InProcessHost.Outcome o : new InProcessHost.Outcome[] {primary.get(5, TimeUnit.SECONDS), InProcessHost.collect(attached)}) {
      assertThat(o.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_INTERNAL_ERROR);
      assertThat(o.result().getReason()).isEqualTo("the session's sandbox failed; the session was closed")
          .doesNotContain("Census");
    }

    Session closed = host.sessions(host.alphaKey).getSession(GetSessionRequest.newBuilder().setSessionId(session).build());
    assertThat(closed.getState()).isEqualTo(SessionState.SESSION_STATE_CLOSED);
    assertThat(closed.getCloseReason()).isEqualTo(SessionCloseReason.SESSION_CLOSE_REASON_SANDBOX_FAILED);
    InProcessHost.Failure f = InProcessHost.fail(() -> host.exec(host.alphaKey, session, "true"));
    assertThat(f.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(f.info().getReason()).isEqualTo("SESSION_CLOSED");
    assertThat(f.info().getMetadataMap()).containsEntry("closeReason", "SANDBOX_FAILED");

    // only that session went
    assertThat(host.exec(host.alphaKey, other, "echo", "fine").out()).isEqualTo("fine\n");
  }

  @Test
  void aReadyJailThatFailedWhileWaitingIsNotHandedOut() {
    String first = host.newSession(host.alphaKey);
    // the tenant's ready jail (made in the background for its next session) fails while it waits
    FakeJail ready = awaitReadyJail(first);
    ready.fail("the jail ended unexpectedly");
    String next = host.newSession(host.alphaKey);
    assertThat(next).as("a dead ready jail is not handed out").isNotEqualTo(ready.name());
    assertThat(host.exec(host.alphaKey, next, "true").result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
  }

  @Test
  void aSpawnTheJailRefusesIsTheHostsFailureAndTheSessionStaysUsable() {
    String session = host.newSession(host.alphaKey);
    host.launcher.jail(session).failNextSpawn("the host could not set up the exec's streams");

    InProcessHost.Failure f = InProcessHost.fail(() -> host.exec(host.alphaKey, session, "true"));
    assertThat(f.code()).isEqualTo(Status.Code.INTERNAL);
    assertThat(f.info().getReason()).isEqualTo("SANDBOX_SETUP_FAILED");
    assertThat(f.info().getMetadataMap()).isEqualTo(Map.of("stage", "exec"));
    assertThat(f.message()).isEqualTo("the host could not set up the exec's streams");

    Session s = host.sessions(host.alphaKey).getSession(GetSessionRequest.newBuilder().setSessionId(session).build());
    assertThat(s.getState()).isEqualTo(SessionState.SESSION_STATE_ACTIVE);
    assertThat(host.exec(host.alphaKey, session, "echo", "again").out()).isEqualTo("again\n");
  }

  @Test
  void anExecStartedWhileTheJailGoesDownIsRefusedAsSessionClosed() {
    String session = host.newSession(host.alphaKey);
    host.launcher.jail(session).fail("the supervisor closed its channel");
    InProcessHost.Failure f = InProcessHost.fail(() -> host.execs(host.alphaKey).startExec(
        ExecRequest.newBuilder().setSessionId(session).addArgv("true").build()));
    assertThat(f.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(f.info().getReason()).isEqualTo("SESSION_CLOSED");
    assertThat(f.info().getMetadataMap()).containsEntry("closeReason", "SANDBOX_FAILED");
  }

  /** The jail started for alpha's next session after {@code taken} (the ready one). */
  private FakeJail awaitReadyJail(String taken) {
    for (int i = 0; i < 500; i++) {
      for (FakeJail j : host.launcher.jails()) {
        if (!j.name().equals(taken) && j.tenantId().equals("alpha")) {
          return j;
        }
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("no ready jail was made");
  }
}
