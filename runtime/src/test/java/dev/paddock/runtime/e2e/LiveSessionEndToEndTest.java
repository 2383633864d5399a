package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecState;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.GetExecRequest;
import dev.paddock.ipc.v1.ListExecsRequest;
import dev.paddock.ipc.v1.ListExecsResponse;
import dev.paddock.ipc.v1.Signal;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.ipc.v1.WriteStdinRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** Everyday planner operations on a live session jail, over a real TCP port. */
class LiveSessionEndToEndTest extends SharedHostTest {

  @Test
  void aBackgroundExecTakesStdinLaterIsSignaledAndReplaysItsOutput() throws Exception {
    String session = host.newSession(host.alphaKey);
    var execs = host.execs(host.alphaKey);
    String exec = execs.startExec(ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("sh", "-c", "echo ready; while read line; do echo got:$line; done; echo eof"))
        .setKeepStdinOpen(true).build()).getExecId();
    assertThat(exec).matches("exe_[0-9a-f]{32}");
    // another call in between: the exec keeps running
    assertThat(host.exec(host.alphaKey, session, "echo", "meanwhile").out()).isEqualTo("meanwhile\n");
    ExecInfo running = execs.getExec(GetExecRequest.newBuilder().setSessionId(session).setExecId(exec).build());
    assertThat(running.getState()).isEqualTo(ExecState.EXEC_STATE_RUNNING);
    assertThat(running.getStdinOpen()).isTrue();
    assertThat(running.getLiveProcesses()).isGreaterThanOrEqualTo(1);

    execs.writeStdin(WriteStdinRequest.newBuilder().setSessionId(session).setExecId(exec)
        .setData(ByteString.copyFromUtf8("one\ntwo\n")).build());
    execs.writeStdin(WriteStdinRequest.newBuilder().setSessionId(session).setExecId(exec).setClose(true).build());
    TestHost.Outcome attached = TestHost.collect(execs.attachExec(
        AttachExecRequest.newBuilder().setSessionId(session).setExecId(exec).build()));
    assertThat(attached.out()).isEqualTo("ready\ngot:one\ngot:two\neof\n");
    assertThat(attached.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    // re-attaching to the finished exec replays the same bytes and result
    TestHost.Outcome replay = TestHost.collect(execs.attachExec(
        AttachExecRequest.newBuilder().setSessionId(session).setExecId(exec).build()));
    assertThat(replay.out()).isEqualTo(attached.out());
    assertThat(replay.execId()).isEqualTo(exec);

    String sleeper = execs.startExec(ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("sleep", "300")).build()).getExecId();
    assertThat(execs.signalExec(SignalExecRequest.newBuilder().setSessionId(session).setExecId(sleeper)
        .setSignal(Signal.SIGNAL_TERM).build()).getDelivered()).isTrue();
    TestHost.Outcome ended = TestHost.collect(execs.attachExec(
        AttachExecRequest.newBuilder().setSessionId(session).setExecId(sleeper).build()));
    assertThat(ended.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_SIGNALED);
    assertThat(ended.result().getSignal()).isEqualTo(15);
    assertThat(execs.signalExec(SignalExecRequest.newBuilder().setSessionId(session).setExecId(sleeper)
        .setSignal(Signal.SIGNAL_KILL).build()).getDelivered()).isFalse();

    ListExecsResponse all = execs.listExecs(ListExecsRequest.newBuilder().setSessionId(session).build());
    assertThat(all.getExecsList()).extracting(ExecInfo::getExecId).contains(exec, sleeper);
    assertThat(execs.listExecs(ListExecsRequest.newBuilder().setSessionId(session).setRunningOnly(true).build())
        .getExecsList()).isEmpty();
    ListExecsResponse first = execs.listExecs(ListExecsRequest.newBuilder().setSessionId(session).setPageSize(1).build());
    assertThat(first.getExecsCount()).isEqualTo(1);
    assertThat(first.getNextPageToken()).isNotEmpty();
  }

  @Test
  void closingTheSessionEndsBackgroundExecsAndEverythingTheyDaemonized() throws Exception {
    String marker = "2" + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
    String session = host.newSession(host.alphaKey);
    var execs = host.execs(host.alphaKey);
    // a daemon that leaves the exec's process session, and a plain background child
    TestHost.Outcome spawner = host.exec(host.alphaKey, session, "sh", "-c",
        "setsid sleep " + marker + " < /dev/null > /dev/null 2>&1 & sleep " + marker + " > /dev/null 2>&1 & echo started");
    assertThat(spawner.out()).isEqualTo("started\n");
    String background = execs.startExec(ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("sleep", marker)).build()).getExecId();
    Thread.sleep(300);
    assertThat(ExecEndToEndTest.processesWith(marker)).isEqualTo(3);
    ListExecsResponse list = execs.listExecs(ListExecsRequest.newBuilder().setSessionId(session).build());
    assertThat(list.getDetachedProcesses()).isEqualTo(1);
    assertThat(list.getExecsList()).filteredOn(i -> i.getExecId().equals(spawner.execId()))
        .singleElement().extracting(ExecInfo::getLiveProcesses).isEqualTo(1);

    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    TestHost.Outcome killed = TestHost.collect(execs.attachExec(
        AttachExecRequest.newBuilder().setSessionId(session).setExecId(background).build()));
    assertThat(killed.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_KILLED);
    for (int i = 0; i < 100 && ExecEndToEndTest.processesWith(marker) > 0; i++) {
      Thread.sleep(50);
    }
    assertThat(ExecEndToEndTest.processesWith(marker)).isZero();
  }

  @Test
  void thePidOneSupervisorCannotBeTakenOverOrStoppedFromInside() {
    String session = host.newSession(host.alphaKey);
    // an exec whose main process is the program itself: its descriptors are exactly what init gave it
    host.execs(host.alphaKey).startExec(ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("sleep", "30")).build());
    TestHost.Outcome run = host.exec(host.alphaKey, session, "sh", "-c",
        "kill -9 1 && echo KILLED-1; kill -TERM 1 && echo SIGNALED-1; cat /proc/1/mem > /dev/null 2>&1 || echo no-mem;"
            + " ls /proc/1/root/ > /dev/null 2>&1 || echo no-root; sleep 0.2;"
            + " for p in /proc/[0-9]*; do [ \"$(cat $p/comm)\" = sleep ] && echo fds: $(ls $p/fd); done");
    // stdin, stdout and stderr only: no control channel, no descriptor of the host
    assertThat(run.out()).contains("no-mem").contains("no-root").endsWith("fds: 0 1 2\n");
    // whatever the signals did, the supervisor still serves the session
    assertThat(host.exec(host.alphaKey, session, "echo", "still-here").out()).isEqualTo("still-here\n");
  }

  @Test
  void controlCharactersInTheProgramNameAreRefused() throws Exception {
    String session = host.newSession(host.alphaKey);
    try {
      host.exec(host.alphaKey, ExecRequest.newBuilder().setSessionId(session).addArgv("echo\nEXITED 0").build());
      throw new AssertionError("expected INVALID_ARGUMENT");
    } catch (StatusRuntimeException e) {
      assertThat(TestHost.failure(e).code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
    assertThat(host.exec(host.alphaKey, session, "sh", "-c", "echo a\necho b").out()).isEqualTo("a\nb\n");
  }

  @Test
  void theWorkspaceHasKernelLimitsAndNeverTouchesTheHostDisk() throws Exception {
    long freeBefore = java.nio.file.Files.getFileStore(host.dataDir).getUsableSpace();
    // the defaults: 1 GiB workspace under a 2 GiB session, so filling it is ENOSPC, not an OOM kill
    String session = host.newSession(host.alphaKey);
    TestHost.Outcome fill = host.exec(host.alphaKey, session, "sh", "-c",
        // files under the 256 MiB file-size limit, until the 1 GiB workspace is full
        "for i in 1 2 3 4 5 6; do dd if=/dev/zero of=/workspace/big$i bs=1M count=250 2>&1; done; df -k /workspace | tail -1");
    assertThat(fill.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(fill.out()).contains("No space left on device");
    long freeAfter = java.nio.file.Files.getFileStore(host.dataDir).getUsableSpace();
    assertThat(Math.abs(freeBefore - freeAfter)).as("host disk bytes moved").isLessThan(16L << 20);

    // a session asks for a small workspace with few inodes
    var small = host.sessions(host.alphaKey).createSession(dev.paddock.ipc.v1.CreateSessionRequest.newBuilder()
        .setLimits(dev.paddock.ipc.v1.ResourceLimits.newBuilder().setWorkspaceBytes(8 << 20).setWorkspaceInodes(1000))
        .build());
    assertThat(small.getLimits().getWorkspaceBytes()).isEqualTo(8 << 20);
    TestHost.Outcome files = host.exec(host.alphaKey, small.getSessionId(), "sh", "-c",
        "dd if=/dev/zero of=a bs=1M count=16 2>&1 | grep -c 'No space'; i=0;"
            + " while [ $i -lt 2000 ] && touch f$i 2>/dev/null; do i=$((i+1)); done; echo $i");
    String[] lines = files.out().trim().split("\n");
    assertThat(lines[0]).isEqualTo("1");
    assertThat(Integer.parseInt(lines[1])).isBetween(900, 1000);

    // a workspace larger than the session's memory allows is refused up front
    try {
      host.sessions(host.alphaKey).createSession(dev.paddock.ipc.v1.CreateSessionRequest.newBuilder()
          .setLimits(dev.paddock.ipc.v1.ResourceLimits.newBuilder().setMemoryBytes(256 << 20).setWorkspaceBytes(512 << 20))
          .build());
      throw new AssertionError("expected INVALID_ARGUMENT");
    } catch (StatusRuntimeException e) {
      TestHost.Failure f = TestHost.failure(e);
      assertThat(f.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(f.badRequest().getFieldViolations(0).getField()).isEqualTo("limits.workspace_bytes");
    }
  }
}
