package dev.paddock.runtime.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.GetExecRequest;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.ListExecsRequest;
import dev.paddock.ipc.v1.ListSessionsRequest;
import dev.paddock.ipc.v1.RefreshSessionRequest;
import dev.paddock.ipc.v1.Signal;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.ipc.v1.WriteStdinRequest;
import dev.paddock.runtime.Ids;
import dev.paddock.runtime.testing.FakeJailProcess;
import dev.paddock.runtime.testing.Script;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Another tenant's session or exec is answered exactly like one that never existed, by every RPC. */
class TenancyTest {
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

  /** Every RPC that names a session (and an exec), as {@code key} calls it. */
  private Map<String, Runnable> calls(String key, String session, String exec) {
    var sessions = host.sessions(key);
    var execs = host.execs(key);
    Map<String, Runnable> calls = new LinkedHashMap<>();
    calls.put("GetSession", () -> sessions.getSession(GetSessionRequest.newBuilder().setSessionId(session).build()));
    calls.put("RefreshSession", () -> sessions.refreshSession(RefreshSessionRequest.newBuilder().setSessionId(session).build()));
    calls.put("CloseSession", () -> sessions.closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build()));
    calls.put("Exec", () -> InProcessHost.collect(execs.exec(ExecRequest.newBuilder().setSessionId(session).addArgv("echo").build())));
    calls.put("StartExec", () -> execs.startExec(ExecRequest.newBuilder().setSessionId(session).addArgv("echo").build()));
    calls.put("ListExecs", () -> execs.listExecs(ListExecsRequest.newBuilder().setSessionId(session).build()));
    calls.put("GetExec", () -> execs.getExec(GetExecRequest.newBuilder().setSessionId(session).setExecId(exec).build()));
    calls.put("AttachExec", () -> InProcessHost.collect(execs.attachExec(AttachExecRequest.newBuilder()
        .setSessionId(session).setExecId(exec).build())));
    calls.put("WriteStdin", () -> execs.writeStdin(WriteStdinRequest.newBuilder().setSessionId(session).setExecId(exec)
        .setData(ByteString.copyFromUtf8("pwned")).build()));
    calls.put("SignalExec", () -> execs.signalExec(SignalExecRequest.newBuilder().setSessionId(session).setExecId(exec)
        .setSignal(Signal.SIGNAL_KILL).build()));
    return calls;
  }

  @Test
  void anotherTenantsSessionAndExecAreIndistinguishableFromOnesThatNeverExisted() throws Exception {
    String session = host.newSession(host.alphaKey);
    String exec = host.execs(host.alphaKey).startExec(ExecRequest.newBuilder().setSessionId(session)
        .addArgv("forever").setKeepStdinOpen(true).build()).getExecId();
    FakeJailProcess alphas = host.awaitProcess(session);
    String ghost = Ids.newId("ses");

    Map<String, Runnable> foreign = calls(host.betaKey, session, exec);
    Map<String, Runnable> missing = calls(host.betaKey, ghost, exec);
    for (String rpc : foreign.keySet()) {
      InProcessHost.Failure theirs = InProcessHost.fail(foreign.get(rpc));
      InProcessHost.Failure nobodys = InProcessHost.fail(missing.get(rpc));
      assertThat(theirs.code()).as(rpc).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(theirs.message()).as(rpc).isEqualTo("session not found");
      assertThat(theirs.info().getReason()).as(rpc).isEqualTo("SESSION_NOT_FOUND");
      assertThat(theirs.info().getMetadataMap()).as(rpc).isEqualTo(Map.of("sessionId", session));
      assertThat(nobodys.info().getMetadataMap()).as(rpc).isEqualTo(Map.of("sessionId", ghost));
      assertThat(List.of(theirs.code(), theirs.message(), theirs.info().getReason()))
          .as(rpc + ": same answer as for a session that never existed")
          .isEqualTo(List.of(nobodys.code(), nobodys.message(), nobodys.info().getReason()));
    }

    // beta's list does not show it, and alpha's session and exec were not touched
    assertThat(host.sessions(host.betaKey).listSessions(ListSessionsRequest.getDefaultInstance()).getSessionsList()).isEmpty();
    assertThat(alphas.result()).isNotDone();
    assertThat(alphas.signals()).isEmpty();
    assertThat(host.launcher.jail(session).processes()).hasSize(1);
    assertThat(host.exec(host.alphaKey, session, "echo", "still", "mine").out()).isEqualTo("still mine\n");
  }

  @Test
  void anExecOfAnotherSessionIsNotFoundInThisOne() {
    String mine = host.newSession(host.alphaKey);
    String other = host.newSession(host.alphaKey);
    String exec = host.exec(host.alphaKey, other, "true").execId();
    String betaSession = host.newSession(host.betaKey);
    for (String[] caller : new String[][] {{host.alphaKey, mine}, {host.betaKey, betaSession}}) {
      Map<String, Runnable> calls = calls(caller[0], caller[1], exec);
      for (String rpc : List.of("GetExec", "AttachExec", "WriteStdin", "SignalExec")) {
        InProcessHost.Failure f = InProcessHost.fail(calls.get(rpc));
        assertThat(f.code()).as(rpc).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(f.info().getReason()).as(rpc).isEqualTo("EXEC_NOT_FOUND");
        assertThat(f.info().getMetadataMap()).as(rpc).isEqualTo(Map.of("execId", exec));
      }
    }
  }
}
