package dev.paddock.runtime.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.QuotaFailure;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.Signal;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.runtime.testing.Script;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tenant's quotas (gamma: 2 open sessions, 2 running execs) refuse with RESOURCE_EXHAUSTED and free up again. */
class QuotaTest {
  @TempDir Path temp;
  InProcessHost host;

  @BeforeEach
  void start() throws Exception {
    host = new InProcessHost(temp);
  }

  @AfterEach
  void stop() throws Exception {
    host.close();
  }

  @Test
  void aThirdOpenSessionIsRefusedUntilOneCloses() {
    String first = host.newSession(host.gammaKey);
    host.newSession(host.gammaKey);

    InProcessHost.Failure f = InProcessHost.fail(() -> host.newSession(host.gammaKey));
    assertThat(f.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(f.info().getReason()).isEqualTo("SESSION_LIMIT_EXCEEDED");
    assertThat(f.info().getMetadataMap()).isEqualTo(Map.of("maxSessions", "2"));
    QuotaFailure.Violation v = f.detail(QuotaFailure.class).getViolations(0);
    assertThat(v.getSubject()).isEqualTo("tenant:gamma");
    assertThat(v.getDescription()).contains("2 open sessions");

    // other tenants are not affected; closing one of gamma's sessions frees its slot
    host.newSession(host.alphaKey);
    host.sessions(host.gammaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(first).build());
    assertThat(host.newSession(host.gammaKey)).startsWith("ses_");
  }

  @Test
  void aThirdRunningExecIsRefusedAcrossSessionsAndFreedWhenAnExecEnds() throws Exception {
    String one = host.newSession(host.gammaKey);
    String two = host.newSession(host.gammaKey);
    String a = startForever(one);
    startForever(two);

    InProcessHost.Failure f = InProcessHost.fail(() -> host.exec(host.gammaKey, one, "true"));
    assertThat(f.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(f.info().getReason()).isEqualTo("EXEC_LIMIT_EXCEEDED");
    assertThat(f.info().getMetadataMap()).isEqualTo(Map.of("maxExecs", "2", "scope", "tenant"));
    assertThat(f.detail(QuotaFailure.class).getViolations(0).getSubject()).isEqualTo("tenant:gamma");
    assertThat(host.launcher.jail(one).processes()).as("nothing was spawned for the refused exec").hasSize(1);

    // ending one exec frees its slot at once, as the client sees it end
    host.execs(host.gammaKey).signalExec(SignalExecRequest.newBuilder().setSessionId(one).setExecId(a)
        .setSignal(Signal.SIGNAL_KILL).build());
    host.launcher.jail(one).processes().get(0).awaitResult();
    host.awaitFinished(host.gammaKey, one, a);
    assertThat(host.exec(host.gammaKey, one, "echo", "admitted").out()).isEqualTo("admitted\n");
  }

  @Test
  void theLastSlotIsUsedAndFreedOverAndOver() {
    String session = host.newSession(host.gammaKey);
    startForever(session);
    // the tenant's second slot, used and freed over and over: each next exec must be admitted
    for (int i = 0; i < 50; i++) {
      InProcessHost.Outcome o = host.exec(host.gammaKey, session, "exit", Integer.toString(i % 3));
      assertThat(o.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
      assertThat(o.result().getExitCode()).isEqualTo(i % 3);
    }
  }

  @Test
  void aRefusedExecHoldsNoSlot() {
    String session = host.newSession(host.gammaKey);
    for (int i = 0; i < 5; i++) {
      InProcessHost.Failure f = InProcessHost.fail(() -> host.exec(host.gammaKey, session, "\u0001bad"));
      assertThat(f.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
    host.launcher.jail(session).failNextSpawn("the host could not set up the exec's streams");
    InProcessHost.Failure spawn = InProcessHost.fail(() -> host.exec(host.gammaKey, session, "true"));
    assertThat(spawn.code()).isNotEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    startForever(session);
    startForever(session);
  }

  private String startForever(String session) {
    host.launcher.program("forever", Script.forever());
    return host.execs(host.gammaKey).startExec(ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("forever")).build()).getExecId();
  }
}
