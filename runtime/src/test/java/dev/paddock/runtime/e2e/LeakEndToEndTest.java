package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.sandbox.cgroup.CgroupLayout;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thousand sessions come and go over gRPC and leave nothing behind: no jail, process, cgroup,
 * descriptor, mount or scratch directory.
 */
class LeakEndToEndTest {
  private static final int CYCLES = 1000;

  @TempDir Path temp;

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void aThousandCreateExecCloseCyclesLeaveNothingBehind() throws Exception {
    List<String> ids = new ArrayList<>();
    HostFootprint before;
    HostFootprint after;
    String hostRoot;
    Path dataDir;
    try (TestHost host = new TestHost(temp)) {
      dataDir = host.dataDir;
      hostRoot = CgroupLayout.forDataDir(dataDir).hostRoot();
      ManagedChannel channel = host.channel(host.alphaKey, null);
      // Warm up: class loading, the gRPC connection, the tenant's group. From here on the host
      // holds exactly one jail (nsjail and init, one cgroup, one scratch directory): the tenant's
      // ready jail, which the next CreateSession takes and which is then made anew.
      for (int i = 0; i < 3; i++) {
        cycle(channel);
      }
      before = HostFootprint.settled(host.dataDir, null);

      long start = System.nanoTime();
      for (int i = 0; i < CYCLES; i++) {
        ids.add(cycle(channel));
      }
      long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      after = HostFootprint.settled(host.dataDir, before);
      System.out.printf("LeakEndToEndTest: %d cycles in %d ms (%.1f ms each)%n  before %s%n  after  %s%n",
          CYCLES, elapsed, (double) elapsed / CYCLES, before, after);

      assertThat(after).as("the host's footprint after %d cycles (before: %s)", CYCLES, before).isEqualTo(before);
      for (String id : ids) {
        for (String h : HostFootprint.HIERARCHIES) {
          assertThat(HostFootprint.CGROUPS.resolve(h).resolve(CgroupLayout.forDataDir(host.dataDir).session("alpha", id)))
              .doesNotExist();
        }
      }
    }
    // Closed, the host leaves nothing at all: no jail, no cgroup (tenant groups included), no scratch.
    assertThat(HostFootprint.jailDescendants(ProcessHandle.current())).isEmpty();
    assertThat(HostFootprint.cgroupDirs(hostRoot)).isEmpty();
    assertThat(HostFootprint.count(dataDir.resolve("scratch"))).isZero();
  }

  /** Creates a session, runs {@code true} in it, closes it; returns its id. */
  private static String cycle(ManagedChannel channel) {
    String session = SessionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .createSession(CreateSessionRequest.getDefaultInstance()).getSessionId();
    TestHost.Outcome run = TestHost.collect(ExecServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .exec(ExecRequest.newBuilder().setSessionId(session).addArgv("true").build()));
    assertThat(run.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(run.result().getExitCode()).isZero();
    SessionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    return session;
  }
}
