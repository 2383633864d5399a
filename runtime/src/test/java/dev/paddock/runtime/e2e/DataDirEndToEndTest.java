package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecState;
import dev.paddock.ipc.v1.GetExecRequest;
import dev.paddock.runtime.RuntimeServer;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.sandbox.JailRequirement;
import dev.paddock.sandbox.cgroup.CgroupLayout;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data directory: one host at a time, and any private directory an operator makes will do. */
class DataDirEndToEndTest {
  @TempDir Path temp;

  @Test
  void aSecondHostOnALiveDataDirIsRefusedByTheLockAndLeavesTheFirstHostsJailsAlone() throws Exception {
    try (TestHost host = new TestHost(temp)) {
      String session = host.newSession(host.alphaKey);
      String sleeper = host.execs(host.alphaKey).startExec(ExecRequest.newBuilder().setSessionId(session)
          .addArgv("sleep").addArgv("1000").build()).getExecId();
      Path group = HostFootprint.CGROUPS.resolve("pids").resolve(CgroupLayout.forDataDir(host.dataDir).session("alpha", session));
      // nsjail, init, sleep (StartExec may answer before the sleep is in the group)
      assertThat(HostFootprint.await(5_000, () -> Files.readAllLines(group.resolve("cgroup.procs")).size() == 3)).isTrue();
      List<String> jailBefore = Files.readAllLines(group.resolve("cgroup.procs"));
      Path lock = host.dataDir.resolve("host.lock");

      // In this JVM...
      assertThatThrownBy(() -> RuntimeServer.start(
          TestHost.config(host.dataDir, JailRequirement.nsjail(), SessionSettings.defaults(), null), Clock.systemUTC()))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("another paddock host is serving data directory " + host.dataDir)
          .hasMessageContaining(lock.toString());
      // ... and as an operator would: paddock serve in a second process.
      Path log = temp.resolve("second-host.log");
      Process second = HostProcess.launch(host.dataDir, log);
      assertThat(second.waitFor(60, TimeUnit.SECONDS)).as("the second host gives up").isTrue();
      assertThat(second.exitValue()).isEqualTo(120);
      assertThat(HostProcess.read(log))
          .contains("paddock: cannot start: another paddock host is serving data directory " + host.dataDir)
          .contains(lock.toString()).doesNotContain("\tat ").doesNotContain("paddock serving on");

      // The first host's jail was not touched: same processes, the background exec still runs.
      assertThat(Files.readAllLines(group.resolve("cgroup.procs"))).containsExactlyInAnyOrderElementsOf(jailBefore);
      assertThat(host.execs(host.alphaKey).getExec(GetExecRequest.newBuilder().setSessionId(session).setExecId(sleeper)
          .build()).getState()).isEqualTo(ExecState.EXEC_STATE_RUNNING);
      assertThat(host.exec(host.alphaKey, session, "echo", "still-here").out()).isEqualTo("still-here\n");
      assertThat(health(host)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
  }

  @Test
  void aPrivateTempDirectoryServesAsDataDir() throws Exception {
    Path dataDir = privateTempDirectory("paddock-data-");
    try {
      servesOn(dataDir);
    } finally {
      deleteTree(dataDir);
    }
  }

  @Test
  void aDataDirBelowAPrivateParentServes() throws Exception {
    Path parent = privateTempDirectory("paddock-parent-");
    try {
      servesOn(parent.resolve("nested").resolve("data"));
    } finally {
      deleteTree(parent);
    }
  }

  /** As mktemp -d makes one: mode 0700. */
  private static Path privateTempDirectory(String prefix) throws IOException {
    Path dir = Files.createTempDirectory(prefix);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    return dir;
  }

  private static void servesOn(Path dataDir) throws Exception {
    try (TestHost host = TestHost.onDataDir(dataDir)) {
      assertThat(health(host)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      String session = host.newSession(host.alphaKey);
      TestHost.Outcome run = host.exec(host.alphaKey, session, "sh", "-c", "echo hi > /workspace/f && cat /workspace/f");
      assertThat(run.err()).isEmpty();
      assertThat(run.out()).isEqualTo("hi\n");
    }
  }

  private static HealthCheckResponse.ServingStatus health(TestHost host) {
    return HealthGrpc.newBlockingStub(host.channel(null, null)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus();
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
