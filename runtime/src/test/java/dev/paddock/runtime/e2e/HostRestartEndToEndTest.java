package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.tenant.TenantAdmin;
import dev.paddock.sandbox.cgroup.CgroupLayout;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host killed with SIGKILL takes its jails along (each jail's init sees its control channel end
 * and kills everything), and the next host on the same data directory starts, removes what the
 * dead one left and serves. A workspace holding a tree deeper than PATH_MAX hinders neither that
 * nor a normal close.
 */
class HostRestartEndToEndTest {
  /** 50 characters: 200 levels of it make a path of over 10,000, far past PATH_MAX (4096). */
  private static final String LEVEL = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";
  /** Makes the tree one level at a time (cd -P: dash would otherwise chdir to the whole logical path). */
  private static final String DEEP_TREE = "for i in $(seq 200); do mkdir " + LEVEL + " && cd -P " + LEVEL
      + " || exit 1; done; cd /workspace && find . -type d | wc -l";

  @TempDir Path temp;

  @Test
  void aKilledHostTakesItsJailsAlongAndTheNextHostStartsCleanOnTheSameDataDir() throws Exception {
    Path dataDir = temp.resolve("data");
    String key = new TenantAdmin(dataDir.resolve("tenants.yaml"), Clock.systemUTC()).rotateKey("alpha", "test").key();
    String hostRoot = CgroupLayout.forDataDir(dataDir).hostRoot();
    List<String> sessions = new ArrayList<>();
    List<ProcessHandle> jailed;
    int supervisors;
    List<String> oldGroups;
    List<Path> oldScratch;
    try (HostProcess first = HostProcess.start(dataDir, temp.resolve("first-host.log"))) {
      ManagedChannel channel = channel(first.port(), key);
      for (int i = 0; i < 3; i++) {
        String session = SessionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
            .createSession(CreateSessionRequest.getDefaultInstance()).getSessionId();
        sessions.add(session);
        ExecServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
            .startExec(ExecRequest.newBuilder().setSessionId(session).addArgv("sleep").addArgv("1000").build());
      }
      TestHost.Outcome tree = TestHost.collect(ExecServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
          .exec(ExecRequest.newBuilder().setSessionId(sessions.get(0)).addArgv("sh").addArgv("-c").addArgv(DEEP_TREE).build()));
      assertThat(tree.err()).isEmpty();
      assertThat(tree.out()).isEqualTo("201\n");

      ProcessHandle hostJvm = first.process.toHandle();
      assertThat(HostFootprint.await(5_000, () -> sleepers(hostJvm).size() == 3))
          .as("three sleep 1000 below the host JVM").isTrue();
      jailed = HostFootprint.descendants(hostJvm, cmd -> true);
      // three session jails and the tenant's ready jail: nsjail and init each
      supervisors = HostFootprint.jailDescendants(hostJvm).size();
      assertThat(supervisors).isGreaterThanOrEqualTo(6);
      oldGroups = HostFootprint.cgroupDirs(hostRoot);
      for (String session : sessions) {
        assertThat(oldGroups).contains("pids/" + CgroupLayout.forDataDir(dataDir).session("alpha", session));
      }
      assertThat(HostFootprint.cgroupPids(hostRoot)).isNotEmpty();
      oldScratch = list(dataDir.resolve("scratch"));
      assertThat(oldScratch).isNotEmpty();
      channel.shutdownNow();

      long killed = System.nanoTime();
      first.kill();
      boolean allGone = HostFootprint.await(5_000, () -> jailed.stream().noneMatch(HostFootprint::running));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
      System.out.printf("HostRestartEndToEndTest: %d processes below the killed host (%d nsjail/init, 3 sleep);"
          + " all gone %d ms after SIGKILL: %s%n", jailed.size(), supervisors, millis, allGone);
      assertThat(jailed.stream().filter(HostFootprint::running).map(p -> p.pid() + " " + HostFootprint.cmdline(p.pid())))
          .as("processes of the killed host's jails, 5 s after SIGKILL").isEmpty();
      assertThat(HostFootprint.cgroupPids(hostRoot)).as("processes in the killed host's cgroups").isEmpty();
    }

    try (TestHost second = TestHost.onDataDir(dataDir)) {
      List<String> left = new ArrayList<>();
      for (String group : oldGroups) {
        if (!group.endsWith(hostRoot) && Files.exists(HostFootprint.CGROUPS.resolve(group))) {
          left.add(group);
        }
      }
      assertThat(left).as("the dead host's cgroups, after the next start").isEmpty();
      assertThat(oldScratch).as("the dead host's scratch directories, after the next start")
          .allSatisfy(p -> assertThat(p).doesNotExist());
      assertThat(HealthGrpc.newBlockingStub(second.channel(null, null)).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      String session = second.newSession(second.alphaKey);
      TestHost.Outcome run = second.exec(second.alphaKey, session, "sh", "-c", "ls -A /workspace; echo fresh");
      assertThat(run.out()).isEqualTo("fresh\n");
    }
  }

  @Test
  void closingASessionRemovesItsDeepTreeAndLeavesTheDataDirAsItWas() throws Exception {
    try (TestHost host = new TestHost(temp)) {
      ManagedChannel channel = host.channel(host.alphaKey, null);
      // Once: the tenant's ready jail and cgroup parent exist from here on.
      closeSession(channel, createSession(channel));
      HostFootprint before = HostFootprint.settled(host.dataDir, null);
      // The audit log grows by design (records, a checkpoint a second); everything else must not.
      List<Path> dataBefore = walk(host.dataDir).stream().filter(p -> !p.startsWith(host.dataDir.resolve("audit"))).toList();

      String session = createSession(channel);
      TestHost.Outcome tree = TestHost.collect(ExecServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
          .exec(ExecRequest.newBuilder().setSessionId(session).addArgv("sh").addArgv("-c").addArgv(DEEP_TREE).build()));
      assertThat(tree.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
      assertThat(tree.out()).isEqualTo("201\n");
      Path group = HostFootprint.CGROUPS.resolve("pids").resolve(CgroupLayout.forDataDir(host.dataDir).session("alpha", session));
      assertThat(group).exists();
      closeSession(channel, session);

      HostFootprint after = HostFootprint.settled(host.dataDir, before);
      assertThat(group).doesNotExist();
      assertThat(after).isEqualTo(before);
      List<Path> dataAfter = walk(host.dataDir).stream().filter(p -> !p.startsWith(host.dataDir.resolve("audit"))).toList();
      assertThat(dataAfter).hasSameSizeAs(dataBefore);
      assertThat(dataAfter).noneMatch(p -> p.toString().contains(LEVEL));
    }
  }

  private static List<ProcessHandle> sleepers(ProcessHandle parent) {
    return HostFootprint.descendants(parent, cmd -> cmd.trim().equals("sleep 1000"));
  }

  private static ManagedChannel channel(int port, String key) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .intercept(MetadataUtils.newAttachHeadersInterceptor(headers)).build();
  }

  private static String createSession(ManagedChannel channel) {
    return SessionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .createSession(CreateSessionRequest.getDefaultInstance()).getSessionId();
  }

  private static void closeSession(ManagedChannel channel, String session) {
    SessionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
  }

  private static List<Path> list(Path dir) throws Exception {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.toList();
    }
  }

  private static List<Path> walk(Path dir) throws Exception {
    try (Stream<Path> entries = Files.walk(dir)) {
      return entries.toList();
    }
  }
}
